//! The upstream client through a forward proxy, against a tiny proxy and a
//! tiny upstream on 127.0.0.1.
//!
//! The proxy rules are built with `ProxyRules::from_vars`, never by setting
//! the process environment: the tests of this binary share it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use bytes::Bytes;
use http::HeaderMap;
use secrecy::SecretString;
use switchyard_providers::client::{HttpClient, HttpClientOptions, ProxyRules, build_http_client};
use switchyard_providers::{
    Endpoint, ErrorKind, ProviderError, ProviderRequest, ProviderResponse, ProviderSpec,
    build_provider,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------- upstream

/// What the upstream saw: the request target and the headers.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: HeaderMap,
}

type UpstreamLog = Arc<Mutex<Vec<Seen>>>;

const ANSWER: &str = r#"{"id":"chatcmpl-upstream","object":"chat.completion"}"#;

/// An upstream answering every request with [`ANSWER`]; returns its base URL.
async fn upstream() -> (String, UpstreamLog) {
    let log = UpstreamLog::default();
    let app = axum::Router::new()
        .fallback(|State(log): State<UpstreamLog>, req: Request| async move {
            log.lock().unwrap().push(Seen {
                path: req.uri().path().to_owned(),
                headers: req.headers().clone(),
            });
            ANSWER
        })
        .with_state(log.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), log)
}

// ---------------------------------------------------------------- proxy

/// How the test proxy answers once it has recorded a request head.
#[derive(Clone, Copy)]
enum Mode {
    /// Forward a plain-HTTP request to the host of its absolute URI and
    /// relay the bytes both ways (a forward proxy).
    Forward,
    /// Answer 502 and close (a proxy that refuses a CONNECT).
    Refuse,
    /// Keep the connection open and never answer.
    Silent,
    /// Answer 200 with [`ANSWER`] itself (an upstream whose name only the proxy knows).
    Answer,
}

/// A forward proxy that records the head (request line and headers) of the
/// first request on each connection.
struct TestProxy {
    addr: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl TestProxy {
    async fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let log = heads.clone();
        tokio::spawn(async move {
            loop {
                let (sock, _) = listener.accept().await.unwrap();
                tokio::spawn(serve(sock, mode, log.clone()));
            }
        });
        Self { addr, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

async fn serve(mut client: TcpStream, mode: Mode, heads: Arc<Mutex<Vec<String>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        let n = client.read(&mut chunk).await.unwrap();
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8(buf[..end].to_vec()).unwrap();
    heads.lock().unwrap().push(head.clone());
    match mode {
        Mode::Refuse => {
            let _ = client
                .write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
        }
        Mode::Silent => tokio::time::sleep(Duration::from_secs(60)).await,
        Mode::Answer => {
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{ANSWER}",
                ANSWER.len()
            );
            let _ = client.write_all(answer.as_bytes()).await;
        }
        Mode::Forward => {
            // "POST http://127.0.0.1:PORT/path HTTP/1.1": connect to PORT and
            // pass everything through unchanged (the upstream, hyper, accepts
            // the absolute form too).
            let target: http::Uri = head.split(' ').nth(1).unwrap().parse().unwrap();
            let mut upstream = TcpStream::connect(target.authority().unwrap().as_str())
                .await
                .unwrap();
            upstream.write_all(&buf).await.unwrap();
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        }
    }
}

// ---------------------------------------------------------------- helpers

/// Proxy rules as if `vars` were the whole environment.
fn rules(vars: &[(&str, String)]) -> ProxyRules {
    let vars = vars.to_vec();
    ProxyRules::from_vars(move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
}

fn client(proxy: ProxyRules) -> HttpClient {
    build_http_client(&HttpClientOptions {
        proxy,
        ..HttpClientOptions::default()
    })
}

/// One chat completion through the OpenAI dialect, as the router sends it.
async fn chat(client: &HttpClient, api_base: &str) -> Result<ProviderResponse, ProviderError> {
    let spec = ProviderSpec {
        model: "openai/gpt-4o".into(),
        api_base: Some(api_base.into()),
        api_key: Some(SecretString::from("sk-upstream-key")),
        api_version: None,
    };
    let built = build_provider(&spec, client).unwrap();
    built
        .provider
        .send(ProviderRequest {
            endpoint: Endpoint::ChatCompletions,
            body: Bytes::from_static(br#"{"model":"gpt-4o","messages":[]}"#),
            stream: false,
            timeout: Some(Duration::from_secs(10)),
        })
        .await
}

fn assert_upstream_answer(resp: ProviderResponse) {
    match resp {
        ProviderResponse::Complete(body) => assert_eq!(&body[..], ANSWER.as_bytes()),
        other => panic!("expected the upstream's answer, got {other:?}"),
    }
}

/// The header lines of a recorded head, lower-cased names, in order.
fn header_lines(head: &str) -> Vec<String> {
    head.lines()
        .skip(1)
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            format!("{}: {}", name.to_ascii_lowercase(), value.trim())
        })
        .collect()
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn http_upstream_goes_through_the_proxy_in_absolute_form_with_credentials() {
    let (base, upstream_log) = upstream().await;
    let proxy = TestProxy::start(Mode::Forward).await;
    // `%40` is an `@` in the password: it is percent-decoded before encoding.
    let client = client(rules(&[(
        "HTTP_PROXY",
        format!("http://user:p%40ss@{}", proxy.addr),
    )]));

    let resp = chat(&client, &format!("{base}/v1")).await.unwrap();
    assert_upstream_answer(resp);

    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    let request_line = heads[0].lines().next().unwrap();
    assert_eq!(
        request_line,
        format!("POST {base}/v1/chat/completions HTTP/1.1")
    );
    let headers = header_lines(&heads[0]);
    // base64("user:p@ss")
    assert!(
        headers.contains(&"proxy-authorization: Basic dXNlcjpwQHNz".to_owned()),
        "{headers:?}"
    );
    // The upstream got the request (through the proxy) with its own key.
    let seen = upstream_log.lock().unwrap()[0].clone();
    assert_eq!(seen.path, "/v1/chat/completions");
    assert_eq!(seen.headers["authorization"], "Bearer sk-upstream-key");
}

#[tokio::test]
async fn proxy_without_credentials_gets_no_proxy_authorization() {
    let (base, _log) = upstream().await;
    let proxy = TestProxy::start(Mode::Forward).await;
    // Without a scheme, as curl accepts it; ALL_PROXY covers http:// too.
    let client = client(rules(&[("all_proxy", proxy.addr.clone())]));

    assert_upstream_answer(chat(&client, &format!("{base}/v1")).await.unwrap());

    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(heads[0].starts_with(&format!("POST {base}/v1/chat/completions HTTP/1.1\r\n")));
    assert!(
        !heads[0]
            .to_ascii_lowercase()
            .contains("proxy-authorization"),
        "{heads:?}"
    );
}

#[tokio::test]
async fn https_upstream_is_tunnelled_with_connect_and_credentials() {
    let proxy = TestProxy::start(Mode::Refuse).await;
    let client = client(rules(&[(
        "HTTPS_PROXY",
        format!("http://user:secret@{}", proxy.addr),
    )]));

    // The host does not resolve: only the proxy may look it up.
    let err = chat(&client, "https://api.upstream.invalid/v1")
        .await
        .unwrap_err();

    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert_eq!(
        heads[0].lines().next().unwrap(),
        "CONNECT api.upstream.invalid:443 HTTP/1.1"
    );
    let headers = header_lines(&heads[0]);
    // base64("user:secret")
    assert!(
        headers.contains(&"proxy-authorization: Basic dXNlcjpzZWNyZXQ=".to_owned()),
        "{headers:?}"
    );
    assert_eq!(err.kind, ErrorKind::ApiConnection, "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("through the proxy {}", proxy.addr)),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");
}

#[tokio::test]
async fn a_silent_proxy_is_bounded_by_the_connect_timeout() {
    let proxy = TestProxy::start(Mode::Silent).await;
    let client = build_http_client(&HttpClientOptions {
        connect_timeout: Duration::from_millis(300),
        proxy: rules(&[("HTTPS_PROXY", format!("http://{}", proxy.addr))]),
        ..HttpClientOptions::default()
    });

    let started = Instant::now();
    let err = chat(&client, "https://api.upstream.invalid/v1")
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{err:?}");
    assert_eq!(err.kind, ErrorKind::Timeout, "{err:?}");
    assert_eq!(proxy.heads().len(), 1, "the CONNECT was sent");
}

#[tokio::test]
async fn no_proxy_match_goes_direct() {
    let (base, upstream_log) = upstream().await;
    let proxy = TestProxy::start(Mode::Forward).await;
    let client = client(rules(&[
        ("HTTP_PROXY", format!("http://user:secret@{}", proxy.addr)),
        ("NO_PROXY", "localhost, 127.0.0.0/8".to_owned()),
    ]));

    assert_upstream_answer(chat(&client, &format!("{base}/v1")).await.unwrap());

    assert!(proxy.heads().is_empty(), "{:?}", proxy.heads());
    let seen = upstream_log.lock().unwrap()[0].clone();
    assert!(
        seen.headers.get("proxy-authorization").is_none(),
        "the proxy's credentials must not reach an upstream called directly"
    );
}

#[tokio::test]
async fn no_proxy_configured_goes_direct() {
    let (base, upstream_log) = upstream().await;
    // A listener that would record anything sent to it; nothing names it.
    let proxy = TestProxy::start(Mode::Forward).await;
    let rules = rules(&[]);
    assert!(!rules.is_enabled());
    let client = client(rules);

    assert_upstream_answer(chat(&client, &format!("{base}/v1")).await.unwrap());

    assert!(proxy.heads().is_empty());
    assert_eq!(upstream_log.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn https_proxy_only_leaves_http_upstreams_direct() {
    let (base, upstream_log) = upstream().await;
    let proxy = TestProxy::start(Mode::Refuse).await;
    let client = client(rules(&[("HTTPS_PROXY", format!("http://{}", proxy.addr))]));

    assert_upstream_answer(chat(&client, &format!("{base}/v1")).await.unwrap());

    assert!(proxy.heads().is_empty());
    assert_eq!(upstream_log.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn socks_proxy_is_reported_and_calls_go_direct() {
    let (base, upstream_log) = upstream().await;
    let proxy = TestProxy::start(Mode::Refuse).await;
    let rules = rules(&[("ALL_PROXY", format!("socks5h://user:secret@{}", proxy.addr))]);
    assert!(!rules.is_enabled());
    assert_eq!(rules.ignored().len(), 1);
    assert_eq!(rules.ignored()[0].var, "ALL_PROXY");
    assert!(!format!("{rules:?}").contains("secret"));
    let client = client(rules);

    assert_upstream_answer(chat(&client, &format!("{base}/v1")).await.unwrap());

    assert!(proxy.heads().is_empty());
    assert_eq!(upstream_log.lock().unwrap().len(), 1);
}

/// RFC 3986 host names, as httpx reads them: a docker-compose service name whose last
/// label looks numeric (`nomic-embed-v1.5`) is a name, not a bad IPv4 address. Only the
/// proxy knows the name here, so nothing is resolved: the request line carries the
/// absolute URL and the `Host` header the name and port.
#[tokio::test]
async fn a_host_name_with_a_numeric_last_label_reaches_the_upstream() {
    let proxy = TestProxy::start(Mode::Answer).await;
    let client = client(rules(&[("HTTP_PROXY", format!("http://{}", proxy.addr))]));

    let resp = chat(&client, "http://Nomic-Embed-v1.5:8080/v1/")
        .await
        .unwrap();
    assert_upstream_answer(resp);

    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert_eq!(
        heads[0].lines().next().unwrap(),
        "POST http://nomic-embed-v1.5:8080/v1/chat/completions HTTP/1.1"
    );
    let headers = header_lines(&heads[0]);
    assert_eq!(headers[0], "host: nomic-embed-v1.5:8080", "{headers:?}");
}

/// Over TLS such a name cannot be verified (rustls, like the certificate rules, takes no
/// all-numeric last label as a DNS name): a connection error at call time, not a config error.
#[tokio::test]
async fn tls_to_a_host_name_with_a_numeric_last_label_is_a_connection_error() {
    let proxy = TestProxy::start(Mode::Refuse).await;
    let client = client(rules(&[("HTTPS_PROXY", format!("http://{}", proxy.addr))]));

    let err = chat(&client, "https://vllm-0.9/v1").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ApiConnection, "{err:?}");
    assert!(err.to_string().contains("invalid dns name"), "{err}");
}
