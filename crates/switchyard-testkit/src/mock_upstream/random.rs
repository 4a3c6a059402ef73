//! [`Reply::random`](super::Reply::random): a weighted, seeded choice among
//! replies, made per call so chaos tests are reproducible.
//!
//! The choice for a mock's `n`-th call (its 1-based serial) is a pure function
//! of `(seed, n)`: the same seed gives the same sequence of outcomes whatever
//! the timing, and concurrency only changes which request meets which outcome.

use super::reply::Reply;

/// The choices of a random reply, with their weights.
#[derive(Debug)]
pub(crate) struct RandomReply {
    seed: u64,
    /// `(cumulative weight, reply)`, ascending; the last cumulative weight is the total.
    choices: Vec<(u64, Reply)>,
}

impl RandomReply {
    /// # Panics
    /// If there is no choice or every weight is 0: a test asking for that is wrong.
    pub(crate) fn new(seed: u64, choices: Vec<(u32, Reply)>) -> Self {
        let mut total = 0u64;
        let choices: Vec<(u64, Reply)> = choices
            .into_iter()
            .filter(|(w, _)| *w > 0)
            .map(|(w, reply)| {
                total += u64::from(w);
                (total, reply)
            })
            .collect();
        assert!(
            total > 0,
            "Reply::random needs at least one choice with a weight above 0"
        );
        Self { seed, choices }
    }

    /// Index of the choice for the call with this serial.
    pub(crate) fn index_for(&self, serial: u64) -> usize {
        let total = self.choices.last().map_or(1, |(c, _)| *c);
        let roll = splitmix64(self.seed ^ splitmix64(serial)) % total;
        self.choices
            .iter()
            .position(|(cumulative, _)| roll < *cumulative)
            .expect("roll < total, the last cumulative weight")
    }

    /// The reply for the call with this serial.
    pub(crate) fn pick(&self, serial: u64) -> &Reply {
        &self.choices[self.index_for(serial)].1
    }
}

/// SplitMix64: a tiny, well-mixed hash; good enough to spread outcomes, and stable.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::RandomReply;
    use crate::{MockUpstream, Reply};

    fn weights() -> Vec<(u32, Reply)> {
        vec![
            (70, Reply::ok()),
            (20, Reply::error(500, "boom")),
            (10, Reply::error(429, "slow down")),
            (0, Reply::error(418, "never chosen")),
        ]
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence_and_weights_are_respected() {
        let a = RandomReply::new(7, weights());
        let b = RandomReply::new(7, weights());
        let c = RandomReply::new(8, weights());
        let seq = |r: &RandomReply| (1..=2000).map(|s| r.index_for(s)).collect::<Vec<_>>();
        assert_eq!(seq(&a), seq(&b), "deterministic per (seed, call index)");
        assert_ne!(seq(&a), seq(&c), "another seed, another sequence");
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for i in seq(&a) {
            *counts.entry(i).or_default() += 1;
        }
        assert_eq!(counts.len(), 3, "a 0 weight is never chosen: {counts:?}");
        let share = |i: usize| counts[&i] as f64 / 2000.0;
        assert!((share(0) - 0.7).abs() < 0.05, "{counts:?}");
        assert!((share(1) - 0.2).abs() < 0.05, "{counts:?}");
        assert!((share(2) - 0.1).abs() < 0.05, "{counts:?}");
    }

    #[test]
    #[should_panic(expected = "at least one choice")]
    fn no_choice_is_a_test_bug() {
        let _ = RandomReply::new(1, vec![(0, Reply::ok())]);
    }

    /// One client per process: building one loads the TLS roots, which is slow.
    fn client() -> reqwest::Client {
        static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
        CLIENT
            .get_or_init(|| reqwest::Client::builder().no_proxy().build().unwrap())
            .clone()
    }

    /// Status of each of `n` sequential calls.
    async fn statuses(mock: &MockUpstream, n: usize) -> Vec<u16> {
        let mut out = Vec::new();
        for _ in 0..n {
            let resp = client()
                .post(format!("{}/chat/completions", mock.url()))
                .json(&json!({"model": "m", "messages": []}))
                .send()
                .await
                .unwrap();
            out.push(resp.status().as_u16());
            let _ = resp.bytes().await;
        }
        out
    }

    #[tokio::test]
    async fn a_random_default_replays_identically_on_another_mock_and_logs_completions() {
        let reply = Reply::random(42, weights());
        let first = MockUpstream::start().await;
        first.set_default(reply.clone());
        let second = MockUpstream::start().await;
        second.set_default(reply);
        let a = statuses(&first, 60).await;
        let b = statuses(&second, 60).await;
        assert_eq!(a, b, "same seed, same outcome per call index");
        assert!(a.contains(&200) && a.contains(&500), "{a:?}");
        // Every response was sent in full: one completion per call, with its serial and status.
        let completions = first.completions();
        assert_eq!(completions.len(), 60);
        for (i, c) in completions.iter().enumerate() {
            assert_eq!(c.serial, i as u64 + 1);
            assert_eq!(c.status, a[i]);
        }
        assert_eq!(
            first.completed_with_status(200),
            a.iter().filter(|s| **s == 200).count()
        );
    }

    #[tokio::test]
    async fn a_random_reply_can_be_scripted_and_modifiers_on_it_apply_to_the_choice() {
        let mock = MockUpstream::start().await;
        mock.push(
            Reply::random(3, vec![(1, Reply::error(503, "busy"))])
                .header("retry-after", "2")
                .delay(Duration::from_millis(50)),
        );
        let started = std::time::Instant::now();
        let resp = client()
            .post(format!("{}/chat/completions", mock.url()))
            .json(&json!({"model": "m", "messages": []}))
            .send()
            .await
            .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()["retry-after"], "2");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["message"], "busy");
        // The script is used up: the default (ok) follows.
        assert_eq!(statuses(&mock, 1).await, vec![200]);
    }

    #[tokio::test]
    async fn drops_and_timeouts_among_the_choices_are_not_completions() {
        let mock = MockUpstream::start().await;
        mock.push(Reply::ok().drop_after(0));
        mock.push(Reply::ok().delay(Duration::from_secs(5)));
        mock.push(Reply::ok());
        let c = client();
        let url = format!("{}/chat/completions", mock.url());
        let body = json!({"model": "m", "messages": []});
        assert!(c.post(&url).json(&body).send().await.is_err(), "a drop");
        let timed_out = c
            .post(&url)
            .json(&body)
            .timeout(Duration::from_millis(100))
            .send()
            .await;
        assert!(timed_out.is_err(), "a client timeout");
        assert_eq!(statuses(&mock, 1).await, vec![200]);
        assert!(
            mock.wait_until(Duration::from_secs(5), |m| m.in_flight() == 0)
                .await
        );
        let completions = mock.completions();
        assert_eq!(completions.len(), 1, "{completions:?}");
        assert_eq!(completions[0].serial, 3);
        assert_eq!(completions[0].status, 200);
    }
}
