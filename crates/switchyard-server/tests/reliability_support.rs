//! Helpers shared by the `reliability_*` tests and `chaos.rs` (included with
//! `#[path = "reliability_support.rs"] mod support;`). Built on its own too, as
//! a test target without tests.
//!
//! The route header these tests read (proposed in issue 4's tests, adopted by the router):
//! `x-switchyard-route: <model_group>/<deployment_id>:<outcome>` items joined by `", "`,
//! oldest attempt first, where `<outcome>` is `ok` or the HTTP status of that attempt's
//! error class (`500`, `429`, `408` for a timeout, `500` for a connection error...).
//! The list ends with `; strategy=<name>`, the routing strategy that chose them.
//! Example: `gpt-a/a1:500, gpt-a/a2:500, gpt-b/b1:ok; strategy=simple-shuffle`.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use switchyard_testkit::{MockUpstream, ProxyHarness};

/// A finished, non-streamed answer from the proxy.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
    pub elapsed: Duration,
}

impl Answer {
    /// A header as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// `error.message` ("" when absent).
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }

    /// The strategy named at the end of `x-switchyard-route` ("" when absent).
    pub fn route_strategy(&self) -> &str {
        self.header("x-switchyard-route")
            .rsplit_once("; strategy=")
            .map_or("", |(_, name)| name)
    }

    /// The parsed `x-switchyard-route` header.
    pub fn route(&self) -> Vec<RouteItem> {
        route(&self.headers)
    }

    /// The route header as `group/id:outcome` strings.
    pub fn route_strings(&self) -> Vec<String> {
        self.route().iter().map(RouteItem::to_string).collect()
    }

    /// `x-litellm-attempted-retries`, `x-litellm-attempted-fallbacks`.
    pub fn retries_fallbacks(&self) -> (String, String) {
        (
            self.header("x-litellm-attempted-retries").to_owned(),
            self.header("x-litellm-attempted-fallbacks").to_owned(),
        )
    }
}

/// One attempt listed in `x-switchyard-route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteItem {
    pub group: String,
    pub deployment: String,
    /// `ok` or an HTTP status.
    pub outcome: String,
}

impl std::fmt::Display for RouteItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}:{}", self.group, self.deployment, self.outcome)
    }
}

/// Parses `x-switchyard-route` (empty when absent).
///
/// # Panics
/// On an item that does not read `group/deployment:outcome`.
pub fn route(headers: &HeaderMap) -> Vec<RouteItem> {
    let Some(value) = headers
        .get("x-switchyard-route")
        .and_then(|v| v.to_str().ok())
    else {
        return Vec::new();
    };
    let (value, strategy) = value
        .rsplit_once("; strategy=")
        .unwrap_or_else(|| panic!("route header without '; strategy=': {value:?}"));
    assert!(!strategy.is_empty(), "route header names no strategy");
    value
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (left, outcome) = item
                .rsplit_once(':')
                .unwrap_or_else(|| panic!("route item without ':outcome': {item:?} in {value:?}"));
            let (group, deployment) = left.rsplit_once('/').unwrap_or_else(|| {
                panic!("route item without 'group/deployment': {item:?} in {value:?}")
            });
            assert!(
                outcome == "ok" || outcome.parse::<u16>().is_ok(),
                "route outcome is neither ok nor a status: {item:?}"
            );
            RouteItem {
                group: group.to_owned(),
                deployment: deployment.to_owned(),
                outcome: outcome.to_owned(),
            }
        })
        .collect()
}

/// A one-message chat request for `model`.
pub fn hello(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

/// Like [`hello`], streamed.
pub fn hello_stream(model: &str) -> Value {
    json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "hi"}]})
}

/// `POST /v1/chat/completions` and read the whole answer.
pub async fn chat(proxy: &ProxyHarness, body: Value) -> Answer {
    chat_with(proxy, body, &[]).await
}

/// [`chat`] with extra request headers (e.g. `x-switchyard-timeout`).
pub async fn chat_with(proxy: &ProxyHarness, body: Value, headers: &[(&str, &str)]) -> Answer {
    let started = Instant::now();
    let mut req = proxy
        .client()
        .post(proxy.url_for("/v1/chat/completions"))
        // A proxy that hangs fails the test instead of stalling it.
        .timeout(Duration::from_secs(30))
        .json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("the proxy answers");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("the proxy sends a whole body");
    let elapsed = started.elapsed();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        body,
        elapsed,
    }
}

/// The `data:` payloads of an SSE body (`[DONE]` included).
pub fn sse_payloads(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").unwrap_or(e).to_owned())
        .collect()
}

/// The concatenated `delta.content` of a chat stream.
pub fn stream_content(text: &str) -> String {
    sse_payloads(text)
        .iter()
        .filter(|p| p.as_str() != "[DONE]")
        .filter_map(|p| serde_json::from_str::<Value>(p).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// Asserts the OpenAI error shape with `code` = the status as a string.
pub fn assert_openai_error(answer: &Answer) {
    let err = &answer.body["error"];
    assert!(
        err["message"].is_string(),
        "no error.message: {}",
        answer.text
    );
    assert!(err["type"].is_string(), "no error.type: {}", answer.text);
    assert!(
        err.get("param").is_some(),
        "no error.param: {}",
        answer.text
    );
    assert_eq!(
        err["code"],
        answer.status.to_string(),
        "error.code is the status: {}",
        answer.text
    );
}

/// One deployment of a `model_list`, with an explicit id and an upstream model
/// `m-{id}` (so a mock's log tells which deployment called it), plus `extra`
/// `litellm_params` written as YAML flow-map entries (e.g. `"timeout: 0.3, order: 1"`).
pub fn dep(group: &str, id: &str, mock: &MockUpstream, extra: &str) -> String {
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(", {extra}")
    };
    format!(
        "  - model_name: {group}\n    litellm_params: {{ model: openai/m-{id}, api_base: {url}, api_key: sk-test{extra} }}\n    model_info: {{ id: {id} }}\n",
        url = mock.url()
    )
}

/// `model_list:` followed by these deployments, then `rest` (settings sections).
pub fn config(deployments: &[String], rest: &str) -> String {
    format!("model_list:\n{}{rest}", deployments.concat())
}

/// Deployment ids (`m-{id}` → `id`) of the calls a mock received, in order.
pub fn called_ids(mock: &MockUpstream) -> Vec<String> {
    mock.calls()
        .iter()
        .map(|c| {
            let model = c.json()["model"].as_str().unwrap_or("").to_owned();
            model.strip_prefix("m-").unwrap_or(&model).to_owned()
        })
        .collect()
}

/// Starts the proxy, failing the test with the loader's message if the config is refused.
pub async fn start(yaml: &str) -> ProxyHarness {
    ProxyHarness::start(yaml)
        .await
        .unwrap_or_else(|e| panic!("the proxy starts: {e:#}\n--- config ---\n{yaml}"))
}

/// The router's in-flight counters for every deployment of these groups.
pub async fn router_in_flight(proxy: &ProxyHarness, groups: &[&str]) -> Vec<u64> {
    let router = proxy.state().router();
    let ids: Vec<String> = groups
        .iter()
        .flat_map(|g| router.deployments(g).iter().map(|d| d.id.clone()))
        .collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    router
        .state_store()
        .in_flight(&refs)
        .await
        .expect("the memory store answers")
}

/// Waits (up to 5 s) until every router in-flight counter of these groups is 0.
pub async fn assert_router_in_flight_returns_to_zero(proxy: &ProxyHarness, groups: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let counts = router_in_flight(proxy, groups).await;
        if counts.iter().all(|c| *c == 0) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "router in-flight counters stay above 0: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (up to 5 s) for a condition polled every 10 ms.
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends `hello(model)` until `mock` has received a call (at most `max` requests),
/// returning that request's answer: the way to make a random pick land on one deployment.
pub async fn until_it_hits(
    proxy: &ProxyHarness,
    model: &str,
    mock: &MockUpstream,
    max: usize,
) -> Answer {
    let before = mock.call_count();
    for _ in 0..max {
        let answer = chat(proxy, hello(model)).await;
        if mock.call_count() > before {
            return answer;
        }
    }
    panic!("{max} requests to {model} and none reached the mock");
}
