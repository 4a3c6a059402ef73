//! The seeds' Python quick start, in Rust: a router over a model list built in
//! code, one plain and one streamed call. Runs offline: the deployments answer
//! with `mock_response`.
//!
//! `cargo run -p switchyard-router --example quickstart`

use futures::StreamExt;
use serde_json::json;
use switchyard_router::Router;
use switchyard_types::{ChatChunk, ChatCompletion, RequestBody};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two deployments behind one model name: the router spreads load by weight.
    let router = Router::from_model_list(json!([
        {
            "model_name": "gpt-4o",
            "litellm_params": {
                "model": "azure/gpt-4o-eu",
                "api_base": "https://example-eu.openai.azure.com",
                "mock_response": "Hello from the EU deployment",
                "weight": 3
            }
        },
        {
            "model_name": "gpt-4o",
            "litellm_params": {
                "model": "openai/gpt-4o",
                "mock_response": "Hello from OpenAI",
                "weight": 1
            }
        }
    ]))?;

    let request = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hey, how's it going?"}]});
    let answer = router
        .chat_completion(RequestBody::from_serialize(&request)?)
        .await?;
    let deployment = answer.deployment.id.clone();
    let completion: ChatCompletion = answer.json()?;
    println!(
        "[{deployment}] {}",
        completion.choices[0].message.text().unwrap_or_default()
    );

    let mut streamed = request.clone();
    streamed["stream"] = json!(true);
    let mut events = router
        .chat_completion(RequestBody::from_serialize(&streamed)?)
        .await?
        .into_stream();
    print!("streamed: ");
    while let Some(bytes) = events.next().await {
        for event in std::str::from_utf8(&bytes?)?.split("\n\n") {
            let Some(data) = event.strip_prefix("data: ") else {
                continue;
            };
            let chunk: ChatChunk = serde_json::from_str(data)?;
            print!(
                "{}",
                chunk
                    .choices
                    .first()
                    .and_then(|c| c.delta.content.as_deref())
                    .unwrap_or("")
            );
        }
    }
    println!();
    Ok(())
}
