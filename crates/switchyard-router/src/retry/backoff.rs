//! How long to wait before a retry (LiteLLM's `_calculate_retry_after`).

use std::time::Duration;

use rand::Rng;
use switchyard_types::seconds;

const INITIAL: f64 = 0.5;
const CAP: f64 = 8.0;
/// A provider's `Retry-After` is obeyed only up to this; longer asks fall back to backoff
/// (so what is returned is bounded whatever the upstream sent).
const MAX_OBEYED_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The sleep before retry number `retry` (0 for the first retry).
///
/// A provider `Retry-After` of (0, 60] seconds is obeyed as is. Otherwise
/// 0.5 s × 2^retry, capped at 8 s, times a jitter in (0.75, 1], and never
/// less than `min_backoff` (`retry_after` in the config).
pub(crate) fn backoff<R: Rng + ?Sized>(
    retry: u32,
    provider_retry_after: Option<Duration>,
    min_backoff: Duration,
    rng: &mut R,
) -> Duration {
    if let Some(asked) =
        provider_retry_after.filter(|d| !d.is_zero() && *d <= MAX_OBEYED_RETRY_AFTER)
    {
        return asked;
    }
    let base = (INITIAL * 2f64.powi(retry.min(16) as i32)).min(CAP);
    let jitter = 1.0 - 0.25 * rng.random::<f64>();
    // Within (0, 8] seconds; `min_backoff` is clamped too (a library caller may pass any
    // `Duration`), so the result is at most a year and can be added to an `Instant`.
    let computed = seconds::clamped_from_secs(base * jitter).unwrap_or_default();
    computed.max(seconds::clamp(min_backoff))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn exponential_with_jitter_capped_at_eight_seconds() {
        let mut rng = StdRng::seed_from_u64(1);
        for (retry, base) in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)] {
            for _ in 0..50 {
                let d = backoff(retry, None, Duration::ZERO, &mut rng).as_secs_f64();
                assert!(
                    d > base * 0.75 - 1e-9 && d <= base + 1e-9,
                    "retry {retry}: {d}"
                );
            }
        }
    }

    #[test]
    fn provider_retry_after_is_obeyed_within_sixty_seconds() {
        let mut rng = StdRng::seed_from_u64(2);
        assert_eq!(
            backoff(0, Some(Duration::from_secs(7)), Duration::ZERO, &mut rng),
            Duration::from_secs(7)
        );
        let ignored = backoff(0, Some(Duration::from_secs(600)), Duration::ZERO, &mut rng);
        assert!(ignored <= Duration::from_millis(500));
        let zero = backoff(0, Some(Duration::ZERO), Duration::ZERO, &mut rng);
        assert!(zero > Duration::from_millis(300));
    }

    #[test]
    fn retry_after_setting_is_a_floor() {
        let mut rng = StdRng::seed_from_u64(3);
        assert_eq!(
            backoff(0, None, Duration::from_secs(5), &mut rng),
            Duration::from_secs(5)
        );
    }
}
