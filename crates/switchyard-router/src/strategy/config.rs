//! `router_settings.routing_strategy` and `routing_strategy_args`, read as
//! LiteLLM 1.106 reads them.
//!
//! Names are LiteLLM's (`VALID_ROUTING_STRATEGIES`); no name means
//! `simple-shuffle`. `provider-budget-routing` and `lar1` are valid LiteLLM
//! names Switchyard does not implement: they map to `simple-shuffle` and the
//! caller warns. Args are validated like LiteLLM's pydantic `RoutingArgs`
//! (numbers, or strings that parse as numbers); keys a strategy does not read
//! are ignored, as pydantic ignores them ([`known_args`] lists the read ones
//! so the caller can warn about the rest).

use std::time::Duration;

use serde_json::{Map, Value};
use switchyard_types::seconds;

use super::RoutingStrategy;

/// Every name LiteLLM accepts for `routing_strategy`.
pub const STRATEGY_NAMES: &[&str] = &[
    "simple-shuffle",
    "least-busy",
    "usage-based-routing",
    "usage-based-routing-v2",
    "latency-based-routing",
    "cost-based-routing",
    "provider-budget-routing",
    "lar1",
];

/// The `routing_strategy_args` keys the strategy `name` reads (empty for an
/// unknown name or a strategy that reads none).
pub fn known_args(name: &str) -> &'static [&'static str] {
    match name {
        // `RoutingArgs` in lowest_tpm_rpm.py / lowest_tpm_rpm_v2.py: the usage keys' TTL.
        "usage-based-routing" | "usage-based-routing-v2" => &["ttl"],
        // `RoutingArgs` in lowest_latency.py.
        "latency-based-routing" => &["ttl", "lowest_latency_buffer", "max_latency_list_size"],
        _ => &[],
    }
}

/// `routing_strategy_args` of `latency-based-routing` (`RoutingArgs` in
/// LiteLLM's `router_strategy/lowest_latency.py`). The strategy reads only the
/// buffer; the caller keeps the samples with `ttl` and `max_latency_list_size`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyArgs {
    /// How long a deployment's samples are kept after its last update (LiteLLM: 1 hour).
    pub ttl: Duration,
    /// Pick among candidates within `(1 + buffer) ×` the best latency (LiteLLM: 0).
    pub lowest_latency_buffer: f64,
    /// How many samples per deployment are averaged (LiteLLM: 10).
    pub max_latency_list_size: usize,
}

impl Default for LatencyArgs {
    fn default() -> Self {
        LatencyArgs {
            ttl: Duration::from_secs(60 * 60),
            lowest_latency_buffer: 0.0,
            max_latency_list_size: 10,
        }
    }
}

impl LatencyArgs {
    /// Reads the args LiteLLM's latency strategy knows, defaults for the rest.
    pub fn from_args(args: &Map<String, Value>) -> Result<LatencyArgs, String> {
        let mut out = LatencyArgs::default();
        if let Some(v) = args.get("ttl") {
            out.ttl = ttl(v)?;
        }
        if let Some(v) = args.get("lowest_latency_buffer") {
            let buffer = number("lowest_latency_buffer", v)?;
            if buffer < 0.0 {
                return Err(format!(
                    "routing_strategy_args.lowest_latency_buffer must be at least 0, got {buffer}"
                ));
            }
            out.lowest_latency_buffer = buffer;
        }
        if let Some(v) = args.get("max_latency_list_size") {
            let size = number("max_latency_list_size", v)?;
            if size.fract() != 0.0 || size < 1.0 || size > u32::MAX as f64 {
                return Err(format!(
                    "routing_strategy_args.max_latency_list_size must be a whole number of at least 1, got {v}"
                ));
            }
            out.max_latency_list_size = size as usize;
        }
        Ok(out)
    }
}

/// A number, or a string that parses as one (pydantic's lax mode).
fn number(key: &str, value: &Value) -> Result<f64, String> {
    let n = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    n.filter(|n| n.is_finite())
        .ok_or_else(|| format!("routing_strategy_args.{key} must be a number, got {value}"))
}

/// `ttl` in seconds, within [`seconds::RANGE`].
fn ttl(value: &Value) -> Result<Duration, String> {
    let secs = number("ttl", value)?;
    seconds::duration_from_secs(secs).ok_or_else(|| {
        format!(
            "routing_strategy_args.ttl must be {}, got {value}",
            seconds::RANGE
        )
    })
}

impl RoutingStrategy {
    /// The strategy `router_settings.routing_strategy` names (`simple-shuffle`
    /// when `None`), with its `routing_strategy_args`.
    ///
    /// An unknown name or a malformed arg is an error. `provider-budget-routing`
    /// and `lar1` (valid in LiteLLM, not implemented here) give
    /// [`RoutingStrategy::SimpleShuffle`]: the caller warns.
    pub fn from_config(
        name: Option<&str>,
        args: &Map<String, Value>,
    ) -> Result<RoutingStrategy, String> {
        let name = name.unwrap_or("simple-shuffle");
        Ok(match name {
            "simple-shuffle" | "provider-budget-routing" | "lar1" => RoutingStrategy::SimpleShuffle,
            "least-busy" => RoutingStrategy::LeastBusy,
            "usage-based-routing" | "usage-based-routing-v2" => {
                if let Some(v) = args.get("ttl") {
                    ttl(v)?;
                }
                if name == "usage-based-routing" {
                    RoutingStrategy::UsageBased
                } else {
                    RoutingStrategy::UsageBasedV2
                }
            }
            "latency-based-routing" => RoutingStrategy::LatencyBased {
                lowest_latency_buffer: LatencyArgs::from_args(args)?.lowest_latency_buffer,
            },
            "cost-based-routing" => RoutingStrategy::CostBased,
            other => {
                return Err(format!(
                    "unknown routing strategy {other:?}; valid: {}",
                    STRATEGY_NAMES.join(", ")
                ));
            }
        })
    }
}
