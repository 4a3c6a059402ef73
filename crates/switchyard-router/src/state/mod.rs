//! Where all mutable routing state lives: in-flight counts, per-minute usage
//! windows and cooldown flags.
//!
//! Callers only see [`StateStore`], so a shared (Redis) store can replace the
//! in-memory one without touching them.

mod memory;

use std::fmt;
use std::time::Duration;

use futures::future::{BoxFuture, Either, Ready};

pub use memory::MemoryStore;

/// What a store call returns: an answer already there (the in-memory store,
/// without allocating a future per call on the request path) or one still to
/// come (a remote store).
pub type StoreFuture<'a, T> = Either<Ready<T>, BoxFuture<'a, T>>;

/// A store answer that is already known.
pub fn answered<'a, T>(value: T) -> StoreFuture<'a, T> {
    Either::Left(futures::future::ready(value))
}

/// A store answer still to come.
pub fn answer_later<'a, T>(future: impl Future<Output = T> + Send + 'a) -> StoreFuture<'a, T> {
    Either::Right(Box::pin(future))
}

/// A state store could not be read or written.
#[derive(Debug, Clone, thiserror::Error)]
#[error("state store: {0}")]
pub struct StateError(pub String);

/// Shared routing state. Object-safe: the router holds `Arc<dyn StateStore>`.
///
/// Keys are deployment ids (or `{deployment_id}:suffix` strings); the store
/// does not interpret them.
pub trait StateStore: Send + Sync + fmt::Debug {
    /// Adds one in-flight request to a deployment; returns the new count.
    fn incr_in_flight(&self, deployment_id: &str) -> StoreFuture<'_, Result<u64, StateError>>;

    /// Removes one in-flight request. Must not block: it runs from `Drop`.
    fn decr_in_flight(&self, deployment_id: &str);

    /// Current in-flight counts, in the order asked.
    fn in_flight(&self, deployment_ids: &[&str]) -> StoreFuture<'_, Result<Vec<u64>, StateError>>;

    /// Adds `by` (negative to give back an over-estimate) to the counter `key`
    /// for the UTC minute `window`; returns the new value, never below zero.
    fn incr_window(
        &self,
        key: &str,
        window: u64,
        by: i64,
    ) -> StoreFuture<'_, Result<u64, StateError>>;

    /// Counters for the minute `window`, in the order asked (0 when unset).
    fn get_windows(
        &self,
        keys: &[&str],
        window: u64,
    ) -> StoreFuture<'_, Result<Vec<u64>, StateError>>;

    /// Marks a deployment as cooling down for `ttl`. A later deadline wins over an earlier one.
    fn set_cooldown(
        &self,
        deployment_id: &str,
        ttl: Duration,
    ) -> StoreFuture<'_, Result<(), StateError>>;

    /// Records a latency sample for a deployment, keeping the newest `max_samples`
    /// and dropping samples older than `ttl`.
    fn push_latency(
        &self,
        deployment_id: &str,
        seconds: f64,
        max_samples: usize,
        ttl: Duration,
    ) -> StoreFuture<'_, Result<(), StateError>>;

    /// Latency samples per deployment (oldest first), in the order asked.
    fn latencies(
        &self,
        deployment_ids: &[&str],
    ) -> StoreFuture<'_, Result<Vec<Vec<f64>>, StateError>>;

    /// Remaining cooldown per deployment, in the order asked (`None`: not cooling).
    fn cooldowns(
        &self,
        deployment_ids: &[&str],
    ) -> StoreFuture<'_, Result<Vec<Option<Duration>>, StateError>>;
}

/// The current UTC minute, the window key for rpm/tpm counters.
pub fn current_minute() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 60)
        .unwrap_or(0)
}
