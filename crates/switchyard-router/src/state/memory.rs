//! The embedded state store: plain maps behind short-held mutexes.
//!
//! No lock is held across an `.await`: every method does its work and
//! returns a ready future.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, ready};
use tokio::time::Instant;

use super::{StateError, StateStore};

/// In-memory [`StateStore`]: the default, and all a single instance needs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    in_flight: Mutex<HashMap<String, u64>>,
    // Only the current and previous minute are kept; older windows are dropped on write.
    windows: Mutex<HashMap<(String, u64), u64>>,
    cooldowns: Mutex<HashMap<String, Instant>>,
    latencies: Mutex<HashMap<String, VecDeque<(Instant, f64)>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these short critical sections cannot leave a
    // map half-updated, so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl StateStore for MemoryStore {
    fn incr_in_flight(&self, deployment_id: &str) -> BoxFuture<'_, Result<u64, StateError>> {
        let mut map = lock(&self.in_flight);
        let n = map.entry(deployment_id.to_owned()).or_insert(0);
        *n += 1;
        ready(Ok(*n)).boxed()
    }

    fn decr_in_flight(&self, deployment_id: &str) {
        let mut map = lock(&self.in_flight);
        if let Some(n) = map.get_mut(deployment_id) {
            *n = n.saturating_sub(1);
        }
    }

    fn in_flight(&self, deployment_ids: &[&str]) -> BoxFuture<'_, Result<Vec<u64>, StateError>> {
        let map = lock(&self.in_flight);
        let out = deployment_ids
            .iter()
            .map(|id| map.get(*id).copied().unwrap_or(0))
            .collect();
        ready(Ok(out)).boxed()
    }

    fn incr_window(
        &self,
        key: &str,
        window: u64,
        by: i64,
    ) -> BoxFuture<'_, Result<u64, StateError>> {
        let mut map = lock(&self.windows);
        map.retain(|(_, w), _| *w + 1 >= window);
        let n = map.entry((key.to_owned(), window)).or_insert(0);
        *n = n.saturating_add_signed(by);
        ready(Ok(*n)).boxed()
    }

    fn get_windows(
        &self,
        keys: &[&str],
        window: u64,
    ) -> BoxFuture<'_, Result<Vec<u64>, StateError>> {
        let map = lock(&self.windows);
        let out = keys
            .iter()
            .map(|k| map.get(&((*k).to_owned(), window)).copied().unwrap_or(0))
            .collect();
        ready(Ok(out)).boxed()
    }

    fn push_latency(
        &self,
        deployment_id: &str,
        seconds: f64,
        max_samples: usize,
        ttl: Duration,
    ) -> BoxFuture<'_, Result<(), StateError>> {
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
        ready(Ok(())).boxed()
    }

    fn latencies(
        &self,
        deployment_ids: &[&str],
    ) -> BoxFuture<'_, Result<Vec<Vec<f64>>, StateError>> {
        let map = lock(&self.latencies);
        let out = deployment_ids
            .iter()
            .map(|id| {
                map.get(*id)
                    .map(|s| s.iter().map(|(_, v)| *v).collect())
                    .unwrap_or_default()
            })
            .collect();
        ready(Ok(out)).boxed()
    }

    fn set_cooldown(
        &self,
        deployment_id: &str,
        ttl: Duration,
    ) -> BoxFuture<'_, Result<(), StateError>> {
        let until = Instant::now() + ttl;
        let mut map = lock(&self.cooldowns);
        let entry = map.entry(deployment_id.to_owned()).or_insert(until);
        if *entry < until {
            *entry = until;
        }
        ready(Ok(())).boxed()
    }

    fn cooldowns(
        &self,
        deployment_ids: &[&str],
    ) -> BoxFuture<'_, Result<Vec<Option<Duration>>, StateError>> {
        let now = Instant::now();
        let map = lock(&self.cooldowns);
        let out = deployment_ids
            .iter()
            .map(|id| {
                map.get(*id)
                    .and_then(|until| until.checked_duration_since(now))
                    .filter(|d| !d.is_zero())
            })
            .collect();
        ready(Ok(out)).boxed()
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
