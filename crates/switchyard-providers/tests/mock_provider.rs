//! The `mock_response` provider: shapes, streams, error strings, delays.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;
use switchyard_providers::mock::MockProvider;
use switchyard_providers::sse::SseDecoder;
use switchyard_providers::{
    Endpoint, ErrorKind, Provider, ProviderError, ProviderRequest, ProviderResponse,
};
use switchyard_types::{
    ChatChunk, ChatCompletion, EmbeddingResponse, ImageResponse, TextCompletion,
};

fn request(endpoint: Endpoint, body: Value, stream: bool) -> ProviderRequest {
    ProviderRequest {
        endpoint,
        body: Bytes::from(body.to_string()),
        stream,
        timeout: None,
    }
}

async fn complete(req: ProviderRequest) -> Bytes {
    match MockProvider.send(req).await.unwrap() {
        ProviderResponse::Complete(body) => body,
        other => panic!("{other:?}"),
    }
}

/// The stream's items, and the `data` of every event in them.
async fn stream_events(req: ProviderRequest) -> (Vec<Result<Bytes, ProviderError>>, Vec<Vec<u8>>) {
    let ProviderResponse::Stream(stream) = MockProvider.send(req).await.unwrap() else {
        panic!("expected a stream")
    };
    let items: Vec<_> = stream.collect().await;
    let mut decoder = SseDecoder::new(1 << 20);
    let mut data = Vec::new();
    for item in items.iter().flatten() {
        decoder.push(item);
        while let Some(ev) = decoder.next_event().unwrap() {
            data.push(ev.data().unwrap().into_owned());
        }
    }
    assert_eq!(decoder.pending_len(), 0, "only whole events");
    (items, data)
}

#[tokio::test]
async fn chat_completion() {
    let body = serde_json::json!({
        "model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
        "mock_response": "Hello there", "n": 2
    });
    let resp: ChatCompletion =
        serde_json::from_slice(&complete(request(Endpoint::ChatCompletions, body, false)).await)
            .unwrap();
    assert!(resp.id.starts_with("chatcmpl-"));
    assert_eq!(resp.object, "chat.completion");
    assert_eq!(resp.model, "gpt-4o");
    assert!(resp.created > 1_600_000_000);
    assert_eq!(resp.choices.len(), 2);
    assert_eq!(resp.choices[1].index, 1);
    assert_eq!(resp.choices[0].message.role, "assistant");
    assert_eq!(resp.choices[0].message.text(), Some("Hello there"));
    assert_eq!(resp.choices[0].finish_reason.as_deref(), Some("stop"));
    let usage = resp.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (10, 20, 30)
    );
    // Mock-only fields do not leak into the answer.
    assert!(!String::from_utf8_lossy(&serde_json::to_vec(&resp).unwrap()).contains("mock_"));
}

#[tokio::test]
async fn default_text_tool_calls_and_object_response() {
    let body = serde_json::json!({"model": "m", "mock_response": null,
        "mock_tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]});
    let resp: ChatCompletion =
        serde_json::from_slice(&complete(request(Endpoint::ChatCompletions, body, false)).await)
            .unwrap();
    assert_eq!(
        resp.choices[0].message.text(),
        Some("This is a mock request")
    );
    assert_eq!(
        resp.choices[0].message.extra["tool_calls"][0]["id"],
        "call_1"
    );

    let body = serde_json::json!({"model": "m", "mock_response": {"choices": [{"index": 0,
        "message": {"role": "assistant", "content": "from object"}, "finish_reason": "length"}]}});
    let resp: ChatCompletion =
        serde_json::from_slice(&complete(request(Endpoint::ChatCompletions, body, false)).await)
            .unwrap();
    assert_eq!(resp.model, "m");
    assert_eq!(resp.choices[0].finish_reason.as_deref(), Some("length"));
}

#[tokio::test]
async fn chat_stream() {
    let body = serde_json::json!({"model": "gpt-4o", "mock_response": "Hello world",
        "stream": true, "stream_options": {"include_usage": true}});
    let (items, data) = stream_events(request(Endpoint::ChatCompletions, body, true)).await;
    assert_eq!(items.len(), 1, "all ready events leave together");
    let chunks: Vec<ChatChunk> = data
        .iter()
        .map(|d| serde_json::from_slice(d).unwrap())
        .collect();
    assert_eq!(
        chunks[0].choices[0].delta.role.as_deref(),
        Some("assistant")
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.content.clone())
        .collect();
    assert_eq!(text, "Hello world");
    assert!(
        chunks
            .iter()
            .all(|c| c.object == "chat.completion.chunk" && c.id == chunks[0].id)
    );
    let stop = &chunks[chunks.len() - 2];
    assert_eq!(stop.choices[0].finish_reason.as_deref(), Some("stop"));
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert_eq!(last.usage.unwrap().total_tokens, 30);
    assert!(!data.iter().any(|d| d == b"[DONE]"));
}

#[tokio::test]
async fn text_completion_plain_and_streamed() {
    let body = serde_json::json!({"model": "gpt-3.5-turbo-instruct", "prompt": "x", "mock_response": "abc def"});
    let resp: TextCompletion = serde_json::from_slice(
        &complete(request(Endpoint::Completions, body.clone(), false)).await,
    )
    .unwrap();
    assert_eq!(resp.object, "text_completion");
    assert_eq!(resp.choices[0].text, "abc def");

    let (_, data) = stream_events(request(Endpoint::Completions, body, true)).await;
    let chunks: Vec<TextCompletion> = data
        .iter()
        .map(|d| serde_json::from_slice(d).unwrap())
        .collect();
    let text: String = chunks.iter().map(|c| c.choices[0].text.as_str()).collect();
    assert_eq!(text, "abc def");
    assert_eq!(
        chunks.last().unwrap().choices[0].finish_reason.as_deref(),
        Some("stop")
    );
}

#[tokio::test]
async fn embeddings_and_images() {
    let body = serde_json::json!({"model": "text-embedding-3-small", "input": ["a", "b"], "mock_response": [0.5, 0.25]});
    let resp: EmbeddingResponse =
        serde_json::from_slice(&complete(request(Endpoint::Embeddings, body, false)).await)
            .unwrap();
    assert_eq!(resp.data.len(), 2);
    assert_eq!(resp.data[1].embedding, serde_json::json!([0.5, 0.25]));

    let body =
        serde_json::json!({"model": "text-embedding-3-small", "input": "a", "mock_response": "x"});
    let resp: EmbeddingResponse =
        serde_json::from_slice(&complete(request(Endpoint::Embeddings, body, false)).await)
            .unwrap();
    assert_eq!(resp.data[0].embedding.as_array().unwrap().len(), 1536);

    let body = serde_json::json!({"model": "dall-e-3", "prompt": "cat", "mock_response": "https://img/cat.png"});
    let resp: ImageResponse =
        serde_json::from_slice(&complete(request(Endpoint::ImageGenerations, body, false)).await)
            .unwrap();
    assert_eq!(resp.data[0].url.as_deref(), Some("https://img/cat.png"));
}

#[tokio::test]
async fn error_strings_raise_classified_errors() {
    let cases = [
        ("litellm.RateLimitError", ErrorKind::RateLimit, 429),
        (
            "litellm.ContextWindowExceededError",
            ErrorKind::ContextWindowExceeded,
            400,
        ),
        (
            "litellm.InternalServerError",
            ErrorKind::InternalServer,
            500,
        ),
        (
            "Exception: content_filter_policy",
            ErrorKind::ContentPolicyViolation,
            400,
        ),
        (
            "Exception: mock_streaming_error",
            ErrorKind::InternalServer,
            529,
        ),
    ];
    for (text, kind, status) in cases {
        for stream in [false, true] {
            let body = serde_json::json!({"model": "m", "mock_response": text});
            let result = MockProvider
                .send(request(Endpoint::ChatCompletions, body, stream))
                .await;
            if stream && text.contains("mock_streaming_error") {
                // Committed first, then broken.
                let items = stream_items(result.unwrap()).await;
                assert!(items[0].is_ok());
                let err = items[1].as_ref().unwrap_err();
                assert_eq!((err.kind, err.status), (kind, Some(status)));
                continue;
            }
            let err = result.unwrap_err();
            assert_eq!(
                (err.kind, err.status, err.provider),
                (kind, Some(status), "mock"),
                "{text}"
            );
        }
    }
}

async fn stream_items(resp: ProviderResponse) -> Vec<Result<Bytes, ProviderError>> {
    let ProviderResponse::Stream(stream) = resp else {
        panic!("expected a stream")
    };
    stream.collect().await
}

#[tokio::test]
async fn invalid_body_is_bad_request() {
    let req = ProviderRequest {
        endpoint: Endpoint::ChatCompletions,
        body: Bytes::from_static(b"not json"),
        stream: false,
        timeout: None,
    };
    assert_eq!(
        MockProvider.send(req).await.unwrap_err().kind,
        ErrorKind::BadRequest
    );
}

#[tokio::test(start_paused = true)]
async fn mock_delay_waits_in_paused_time() {
    let body = serde_json::json!({"model": "m", "mock_response": "x", "mock_delay": 1.5});
    let start = tokio::time::Instant::now();
    complete(request(Endpoint::ChatCompletions, body, false)).await;
    assert_eq!(start.elapsed(), Duration::from_millis(1500));
}

#[tokio::test(start_paused = true)]
async fn mock_delay_longer_than_timeout_is_a_timeout() {
    let body = serde_json::json!({"model": "m", "mock_response": "x", "mock_delay": "10"});
    let mut req = request(Endpoint::ChatCompletions, body, true);
    req.timeout = Some(Duration::from_secs(2));
    let start = tokio::time::Instant::now();
    let err = MockProvider.send(req).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn mock_timeout_waits_for_the_timeout_then_fails() {
    let body = serde_json::json!({"model": "m", "mock_timeout": true, "timeout": 3});
    let start = tokio::time::Instant::now();
    let err = MockProvider
        .send(request(Endpoint::ChatCompletions, body, false))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(start.elapsed(), Duration::from_secs(3));

    // Without any timeout, LiteLLM answers normally.
    let body = serde_json::json!({"model": "m", "mock_timeout": true});
    complete(request(Endpoint::ChatCompletions, body, false)).await;
}
