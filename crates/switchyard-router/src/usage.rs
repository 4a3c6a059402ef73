//! rpm/tpm accounting per deployment per UTC minute (LiteLLM's model),
//! through the `StateStore` so several instances can share it.
//!
//! A call reserves one request and its estimated tokens when it is sent; the
//! estimate is then replaced by the upstream's reported `usage` when known.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::state::{StateStore, current_minute};

/// A deployment's counter keys in the store (hash-tagged for Redis Cluster), built
/// once with the deployment rather than formatted on every call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UsageKeys {
    /// Requests this minute.
    pub(crate) rpm: String,
    /// Tokens this minute.
    pub(crate) tpm: String,
}

impl UsageKeys {
    pub(crate) fn new(deployment_id: &str) -> Self {
        Self {
            rpm: format!("{{{deployment_id}}}:rpm"),
            tpm: format!("{{{deployment_id}}}:tpm"),
        }
    }
}

/// Time until the current UTC minute ends: when rpm/tpm windows turn.
pub(crate) fn until_window_turns() -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_secs(60) - Duration::from_nanos((now.as_nanos() % 60_000_000_000) as u64)
}

/// Current `(rpm_used, tpm_used)` per deployment, in the order asked. A store
/// error reads as zero usage: limits fail open rather than stopping traffic.
pub(crate) async fn read(store: &dyn StateStore, deployments: &[&UsageKeys]) -> Vec<(u64, u64)> {
    let refs: Vec<&str> = deployments
        .iter()
        .flat_map(|k| [k.rpm.as_str(), k.tpm.as_str()])
        .collect();
    match store.get_windows(&refs, current_minute()).await {
        Ok(values) => values
            .chunks(2)
            .map(|c| (c[0], c.get(1).copied().unwrap_or(0)))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read rpm/tpm usage; treating it as zero");
            vec![(0, 0); deployments.len()]
        }
    }
}

/// Counts one request and its estimated tokens against a deployment.
pub(crate) async fn reserve(store: &dyn StateStore, keys: &UsageKeys, tokens: u64) {
    let window = current_minute();
    let results = [
        store.incr_window(&keys.rpm, window, 1).await,
        store
            .incr_window(&keys.tpm, window, i64::try_from(tokens).unwrap_or(i64::MAX))
            .await,
    ];
    for r in results {
        if let Err(e) = r {
            tracing::warn!(error = %e, key = keys.rpm, "cannot record usage");
        }
    }
}

/// Replaces a reservation's token estimate with the real count.
pub(crate) async fn reconcile(
    store: &dyn StateStore,
    keys: &UsageKeys,
    reserved: u64,
    actual: u64,
) {
    let delta = actual as i64 - reserved as i64;
    if delta == 0 {
        return;
    }
    if let Err(e) = store.incr_window(&keys.tpm, current_minute(), delta).await {
        tracing::warn!(error = %e, key = keys.tpm, "cannot reconcile token usage");
    }
}

/// The token counts an OpenAI-shaped JSON answer reports (a body or one stream event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reported {
    /// `total_tokens`, else prompt + completion.
    pub(crate) total: u64,
    pub(crate) completion: Option<u64>,
}

/// The `"usage"` key, searched for in every answer (built once: `memmem::find`
/// builds a searcher per call, dearer than the search on a small body).
pub(crate) static USAGE_KEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"usage\""));

/// Reads `usage` once; `None` when the answer carries none.
pub(crate) fn reported(json: &[u8]) -> Option<Reported> {
    USAGE_KEY.find(json)?;
    #[derive(serde::Deserialize)]
    struct Usage {
        total_tokens: Option<u64>,
        prompt_tokens: Option<u64>,
        completion_tokens: Option<u64>,
    }
    #[derive(serde::Deserialize)]
    struct WithUsage {
        usage: Option<Usage>,
    }
    let usage = serde_json::from_slice::<WithUsage>(json).ok()?.usage?;
    let total = usage
        .total_tokens
        .or_else(|| Some(usage.prompt_tokens? + usage.completion_tokens.unwrap_or(0)))?;
    Some(Reported {
        total,
        completion: usage.completion_tokens,
    })
}

/// `usage.total_tokens` of an OpenAI-shaped JSON answer.
pub(crate) fn total_tokens(json: &[u8]) -> Option<u64> {
    reported(json).map(|r| r.total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryStore;

    #[tokio::test]
    async fn reserve_then_reconcile_to_the_real_count() {
        let store = MemoryStore::new();
        let (d, other) = (UsageKeys::new("d"), UsageKeys::new("other"));
        assert_eq!(d.rpm, "{d}:rpm");
        reserve(&store, &d, 100).await;
        reserve(&store, &d, 50).await;
        assert_eq!(read(&store, &[&d, &other]).await, vec![(2, 150), (0, 0)]);
        reconcile(&store, &d, 100, 40).await;
        assert_eq!(read(&store, &[&d]).await, vec![(2, 90)]);
    }

    #[test]
    fn usage_is_read_from_bodies_and_stream_events() {
        let body = br#"{"id":"x","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}"#;
        assert_eq!(total_tokens(body), Some(12));
        assert_eq!(reported(body).and_then(|r| r.completion), Some(5));
        assert_eq!(total_tokens(br#"{"usage":{"prompt_tokens":3}}"#), Some(3));
        assert_eq!(total_tokens(br#"{"choices":[]}"#), None);
        assert_eq!(total_tokens(br#"{"usage":null}"#), None);
    }

    #[test]
    fn the_window_turns_within_a_minute() {
        let left = until_window_turns();
        assert!(left > Duration::ZERO && left <= Duration::from_secs(60));
    }
}
