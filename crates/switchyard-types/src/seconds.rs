//! Seconds that come from outside the process (a request field, a header, the
//! config, an upstream's `Retry-After`) as a [`Duration`], range-checked in one
//! place.
//!
//! `Duration::from_secs_f64` panics on NaN, infinities, negatives and anything
//! past `u64::MAX` seconds, and `Instant + Duration` panics when the sum
//! overflows. Every conversion of such a number goes through here (`clippy.toml`
//! bans the panicking conversions everywhere else), and every `Duration` this
//! module returns is at most [`MAX`]: a year, longer than any timeout, delay,
//! cooldown or `Retry-After` worth honouring, and so far below an `Instant`'s
//! range that `Instant::now() + d` cannot overflow for any `d <= MAX`.
//!
//! Who gets which function:
//! - a client's or the config's value: [`duration_from_secs`], and an
//!   out-of-range value is refused (a 400, a config error) with [`RANGE`] in the
//!   message;
//! - an upstream's value: [`clamped_from_secs`] / [`clamped_from_millis`],
//!   capped, never an error;
//! - a `Duration` built elsewhere (a library caller's) before it is added to an
//!   `Instant`: [`clamp`].

use std::time::Duration;

/// The largest number of seconds accepted: 365 days.
pub const MAX_SECS: u64 = 365 * 24 * 60 * 60;

/// The longest duration accepted: [`MAX_SECS`] seconds.
pub const MAX: Duration = Duration::from_secs(MAX_SECS);

/// The accepted range, as error messages state it.
pub const RANGE: &str = "a number of seconds from 0 to 31536000 (365 days)";

/// `secs` as a duration, or `None` when it is NaN, infinite, negative or above
/// [`MAX_SECS`].
pub fn duration_from_secs(secs: f64) -> Option<Duration> {
    // NaN fails both comparisons; `-0.0 >= 0.0` holds and converts to zero.
    if (0.0..=MAX_SECS as f64).contains(&secs) {
        Some(convert(secs))
    } else {
        None
    }
}

/// `secs` capped at [`MAX`], for values that cannot be refused (an upstream's
/// `Retry-After`): anything above [`MAX_SECS`] (infinity included) is [`MAX`].
/// `None` for NaN and negative numbers, which are no duration at all (a
/// malformed header is ignored, not read as "now").
pub fn clamped_from_secs(secs: f64) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    Some(convert(secs.min(MAX_SECS as f64)))
}

/// Milliseconds forced into range like [`clamped_from_secs`] (`retry-after-ms`).
pub fn clamped_from_millis(millis: f64) -> Option<Duration> {
    clamped_from_secs(millis / 1000.0)
}

/// `d`, or [`MAX`] when longer.
pub fn clamp(d: Duration) -> Duration {
    d.min(MAX)
}

/// The one conversion from float seconds; `secs` is within `0..=MAX_SECS`.
#[allow(clippy::disallowed_methods)] // the range is checked by every caller above
fn convert(secs: f64) -> Duration {
    debug_assert!((0.0..=MAX_SECS as f64).contains(&secs));
    Duration::from_secs_f64(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maximum_is_a_year_and_the_range_message_says_so() {
        assert_eq!(MAX, Duration::from_secs(31_536_000));
        assert!(RANGE.contains(&MAX_SECS.to_string()));
    }

    #[test]
    fn in_range_values_convert_exactly() {
        assert_eq!(duration_from_secs(0.0), Some(Duration::ZERO));
        assert_eq!(duration_from_secs(-0.0), Some(Duration::ZERO));
        assert_eq!(duration_from_secs(2.5), Some(Duration::from_millis(2500)));
        assert_eq!(duration_from_secs(MAX_SECS as f64), Some(MAX));
    }

    #[test]
    fn out_of_range_values_are_refused() {
        for secs in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1e-9,
            -1.0,
            MAX_SECS as f64 + 0.5,
            1e19,
            1e20,
            f64::MAX,
        ] {
            assert_eq!(duration_from_secs(secs), None, "{secs}");
        }
    }

    #[test]
    fn upstream_values_are_clamped_not_refused() {
        assert_eq!(clamped_from_secs(1e30), Some(MAX));
        assert_eq!(clamped_from_secs(f64::INFINITY), Some(MAX));
        assert_eq!(clamped_from_secs(-0.0), Some(Duration::ZERO));
        assert_eq!(clamped_from_secs(-5.0), None);
        assert_eq!(clamped_from_secs(f64::NEG_INFINITY), None);
        assert_eq!(clamped_from_secs(f64::NAN), None);
        assert_eq!(clamped_from_secs(7.0), Some(Duration::from_secs(7)));
        assert_eq!(clamped_from_millis(1e30), Some(MAX));
        assert_eq!(
            clamped_from_millis(1500.0),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(clamped_from_millis(f64::NAN), None);
    }

    #[test]
    fn clamp_caps_at_the_maximum() {
        assert_eq!(clamp(Duration::MAX), MAX);
        assert_eq!(clamp(Duration::from_secs(3)), Duration::from_secs(3));
    }

    #[test]
    fn the_maximum_added_to_now_does_not_overflow() {
        let now = std::time::Instant::now();
        assert!(now.checked_add(MAX).is_some());
    }
}
