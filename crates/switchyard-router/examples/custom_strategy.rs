//! A custom routing strategy plugged into a `Router`: always the deployment
//! with the highest `weight` (LiteLLM's `CustomRoutingStrategyBase`, in Rust).
//! Runs offline: the deployments answer with `mock_response`.
//!
//! `cargo run -p switchyard-router --example custom_strategy`

use std::sync::Arc;

use rand::RngCore;
use switchyard_router::strategy::{
    CandidateSnapshot, CustomStrategy, RequestSnapshot, RoutingStrategy,
};
use switchyard_router::{Router, SetupError, config};
use switchyard_types::RequestBody;

/// Picks the candidate with the highest weight (the first of equals). A
/// strategy only sees the eligible candidates and must not do IO.
#[derive(Debug)]
struct HighestWeight;

impl CustomStrategy for HighestWeight {
    fn pick(
        &self,
        candidates: &[CandidateSnapshot],
        _request: &RequestSnapshot,
        _rng: &mut dyn RngCore,
    ) -> Option<usize> {
        let weight = |i: usize| candidates[i].weight.unwrap_or(0.0);
        (0..candidates.len()).reduce(|best, i| if weight(i) > weight(best) { i } else { best })
    }

    /// Shown in the proxy's `x-switchyard-route` header as `; strategy=highest-weight`.
    fn name(&self) -> &str {
        "highest-weight"
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let yaml = r#"
model_list:
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o, mock_response: "from the light one", weight: 1 }
    model_info: { id: light }
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o, mock_response: "from the heavy one", weight: 5 }
    model_info: { id: heavy }
"#;
    let loaded = config::load_str(yaml, &|_| None)?;
    let router = Router::builder()
        .config(loaded.config)
        .routing_strategy(RoutingStrategy::Custom(Arc::new(HighestWeight)))
        .build()
        .map_err(SetupError::from)?;

    for _ in 0..3 {
        let body = RequestBody::from_slice(
            br#"{"model":"gpt-4o","messages":[{"role":"user","content":"Hey"}]}"#,
        )?;
        let answer = router.chat_completion(body).await?;
        // Weighted shuffle would send one in six calls to `light`; this strategy never does.
        assert_eq!(answer.deployment.id, "heavy");
        println!("routed to {}", answer.deployment.id);
    }
    Ok(())
}
