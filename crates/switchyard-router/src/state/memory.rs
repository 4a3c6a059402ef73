//! The embedded state store: plain maps behind short-held mutexes.
//!
//! No lock is held across an `.await`: every method does its work and
//! returns a ready future.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

// Keys are deployment ids from the config, never chosen by clients: a fast
// non-keyed hash is safe here and cheaper than SipHash on every call.
use rustc_hash::FxHashMap as HashMap;
use tokio::time::Instant;

use super::{StateError, StateStore, StoreFuture, answered};

/// In-memory [`StateStore`]: the default, and all a single instance needs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    in_flight: Mutex<HashMap<String, u64>>,
    windows: Mutex<HashMap<String, Windows>>,
    cooldowns: Mutex<HashMap<String, Instant>>,
    latencies: Mutex<HashMap<String, VecDeque<(Instant, f64)>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

/// A counter's two newest windows (readers ask for the current and the previous
/// minute only), so a write never scans other keys or allocates for a known key.
#[derive(Debug, Default, Clone, Copy)]
struct Windows([(u64, u64); 2]);

impl Windows {
    fn get(&self, window: u64) -> u64 {
        self.0
            .iter()
            .find(|(w, _)| *w == window)
            .map_or(0, |(_, n)| *n)
    }

    fn add(&mut self, window: u64, by: i64) -> u64 {
        let slot = match self.0.iter().position(|(w, _)| *w == window) {
            Some(i) => i,
            None => {
                // Replace the older window, unless this one is older still.
                let older = if self.0[0].0 <= self.0[1].0 { 0 } else { 1 };
                if self.0[older].0 > window {
                    return 0u64.saturating_add_signed(by);
                }
                self.0[older] = (window, 0);
                older
            }
        };
        let n = &mut self.0[slot].1;
        *n = n.saturating_add_signed(by);
        *n
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these short critical sections cannot leave a
    // map half-updated, so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl StateStore for MemoryStore {
    fn incr_in_flight(&self, deployment_id: &str) -> StoreFuture<'_, Result<u64, StateError>> {
        let mut map = lock(&self.in_flight);
        let n = match map.get_mut(deployment_id) {
            Some(n) => n,
            None => map.entry(deployment_id.to_owned()).or_insert(0),
        };
        *n += 1;
        answered(Ok(*n))
    }

    fn decr_in_flight(&self, deployment_id: &str) {
        let mut map = lock(&self.in_flight);
        if let Some(n) = map.get_mut(deployment_id) {
            *n = n.saturating_sub(1);
        }
    }

    fn in_flight(&self, deployment_ids: &[&str]) -> StoreFuture<'_, Result<Vec<u64>, StateError>> {
        let map = lock(&self.in_flight);
        let out = deployment_ids
            .iter()
            .map(|id| map.get(*id).copied().unwrap_or(0))
            .collect();
        answered(Ok(out))
    }

    fn incr_window(
        &self,
        key: &str,
        window: u64,
        by: i64,
    ) -> StoreFuture<'_, Result<u64, StateError>> {
        let mut map = lock(&self.windows);
        let counter = match map.get_mut(key) {
            Some(counter) => counter,
            None => map.entry(key.to_owned()).or_default(),
        };
        answered(Ok(counter.add(window, by)))
    }

    fn get_windows(
        &self,
        keys: &[&str],
        window: u64,
    ) -> StoreFuture<'_, Result<Vec<u64>, StateError>> {
        let map = lock(&self.windows);
        let out = keys
            .iter()
            .map(|k| map.get(*k).map_or(0, |c| c.get(window)))
            .collect();
        answered(Ok(out))
    }

    fn push_latency(
        &self,
        deployment_id: &str,
        seconds: f64,
        max_samples: usize,
        ttl: Duration,
    ) -> StoreFuture<'_, Result<(), StateError>> {
        let now = Instant::now();
        let mut map = lock(&self.latencies);
        let samples = map.entry(deployment_id.to_owned()).or_default();
        samples.push_back((now, seconds));
        while samples.len() > max_samples.max(1)
            || samples
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > ttl)
        {
            samples.pop_front();
        }
        answered(Ok(()))
    }

    fn latencies(
        &self,
        deployment_ids: &[&str],
    ) -> StoreFuture<'_, Result<Vec<Vec<f64>>, StateError>> {
        let map = lock(&self.latencies);
        let out = deployment_ids
            .iter()
            .map(|id| {
                map.get(*id)
                    .map(|s| s.iter().map(|(_, v)| *v).collect())
                    .unwrap_or_default()
            })
            .collect();
        answered(Ok(out))
    }

    fn set_cooldown(
        &self,
        deployment_id: &str,
        ttl: Duration,
    ) -> StoreFuture<'_, Result<(), StateError>> {
        // A store's caller may pass any `Duration`: clamped to a year, the sum cannot overflow.
        let until = Instant::now() + switchyard_types::seconds::clamp(ttl);
        let mut map = lock(&self.cooldowns);
        let entry = map.entry(deployment_id.to_owned()).or_insert(until);
        if *entry < until {
            *entry = until;
        }
        answered(Ok(()))
    }

    fn cooldowns(
        &self,
        deployment_ids: &[&str],
    ) -> StoreFuture<'_, Result<Vec<Option<Duration>>, StateError>> {
        let map = lock(&self.cooldowns);
        if map.is_empty() {
            // Nothing is cooling down (the usual case): no clock read needed.
            return answered(Ok(vec![None; deployment_ids.len()]));
        }
        let now = Instant::now();
        let out = deployment_ids
            .iter()
            .map(|id| {
                map.get(*id)
                    .and_then(|until| until.checked_duration_since(now))
                    .filter(|d| !d.is_zero())
            })
            .collect();
        answered(Ok(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_flight_counts_up_and_down_and_never_below_zero() {
        let s = MemoryStore::new();
        assert_eq!(s.incr_in_flight("a").await.unwrap(), 1);
        assert_eq!(s.incr_in_flight("a").await.unwrap(), 2);
        s.decr_in_flight("a");
        s.decr_in_flight("b");
        assert_eq!(s.in_flight(&["a", "b"]).await.unwrap(), vec![1, 0]);
        s.decr_in_flight("a");
        s.decr_in_flight("a");
        assert_eq!(s.in_flight(&["a"]).await.unwrap(), vec![0]);
    }

    #[tokio::test]
    async fn windows_are_per_minute_and_old_ones_are_dropped() {
        let s = MemoryStore::new();
        assert_eq!(s.incr_window("a:rpm", 10, 1).await.unwrap(), 1);
        assert_eq!(s.incr_window("a:rpm", 10, 2).await.unwrap(), 3);
        assert_eq!(s.incr_window("a:rpm", 11, 1).await.unwrap(), 1);
        assert_eq!(
            s.get_windows(&["a:rpm", "b:rpm"], 10).await.unwrap(),
            vec![3, 0]
        );
        s.incr_window("a:rpm", 12, 1).await.unwrap();
        assert_eq!(s.get_windows(&["a:rpm"], 10).await.unwrap(), vec![0]);
    }

    #[tokio::test(start_paused = true)]
    async fn latency_samples_keep_the_newest_within_ttl() {
        let s = MemoryStore::new();
        for v in [1.0, 2.0, 3.0] {
            s.push_latency("a", v, 2, Duration::from_secs(60))
                .await
                .unwrap();
        }
        assert_eq!(
            s.latencies(&["a", "b"]).await.unwrap(),
            vec![vec![2.0, 3.0], vec![]]
        );
        tokio::time::advance(Duration::from_secs(61)).await;
        s.push_latency("a", 9.0, 2, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(s.latencies(&["a"]).await.unwrap(), vec![vec![9.0]]);
    }

    #[tokio::test]
    async fn negative_window_deltas_give_back_and_stop_at_zero() {
        let s = MemoryStore::new();
        s.incr_window("a:tpm", 5, 100).await.unwrap();
        assert_eq!(s.incr_window("a:tpm", 5, -30).await.unwrap(), 70);
        assert_eq!(s.incr_window("a:tpm", 5, -500).await.unwrap(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn cooldowns_expire_and_later_deadlines_win() {
        let s = MemoryStore::new();
        s.set_cooldown("a", Duration::from_secs(5)).await.unwrap();
        s.set_cooldown("a", Duration::from_secs(2)).await.unwrap();
        tokio::time::advance(Duration::from_secs(3)).await;
        let left = s.cooldowns(&["a", "b"]).await.unwrap();
        assert_eq!(left, vec![Some(Duration::from_secs(2)), None]);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(s.cooldowns(&["a"]).await.unwrap(), vec![None]);
    }
}
