//! Retry timing: exponential backoff with jitter, at least `Retry-After`; a shared pause after a
//! 429; and a slow-down as `X-mp-rate-limit-percentage-used` nears 100.

use std::time::{Duration, Instant};

use super::settings::SendTuning;

/// A pause every worker honours (after a 429 with `Retry-After`) and a delay before each
/// request (as the feed's rate limit fills).
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    /// No request starts before this.
    pub(crate) pause_until: Option<Instant>,
    /// Wait this long before each request.
    pub(crate) delay: Duration,
}

impl Throttle {
    /// Extends the shared pause to at least `wait` from now.
    pub(crate) fn pause_for(&mut self, wait: Duration) {
        let until = Instant::now() + wait;
        if self.pause_until.is_none_or(|current| current < until) {
            self.pause_until = Some(until);
        }
    }
}

/// The wait before retry number `attempt` (1 after the first failure): the base doubled per
/// retry and capped at `backoff_max`, of which half is fixed and half random (`jitter` in
/// 0..1), and never less than the feed's `Retry-After`.
pub(crate) fn backoff_delay(
    tuning: &SendTuning,
    attempt: u32,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let full = tuning
        .backoff_base
        .saturating_mul(1 << exponent)
        .min(tuning.backoff_max);
    let half = full / 2;
    let jittered = half + half.mul_f64(jitter.clamp(0.0, 1.0));
    jittered.max(retry_after.unwrap_or_default())
}

/// The delay before each request for a rate limit `percent` used: none below
/// `slow_down_from_percent`, growing linearly to `slow_down_max` at 100 %.
pub(crate) fn slow_down_delay(tuning: &SendTuning, percent: u32) -> Duration {
    let from = u32::from(tuning.slow_down_from_percent.min(99));
    if percent < from {
        return Duration::ZERO;
    }
    let share = f64::from(percent.min(100) - from) / f64::from(100 - from);
    tuning.slow_down_max.mul_f64(share)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let tuning = SendTuning {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(1000),
            ..SendTuning::default()
        };
        assert_eq!(
            backoff_delay(&tuning, 1, None, 0.0),
            Duration::from_millis(50)
        );
        assert_eq!(
            backoff_delay(&tuning, 1, None, 1.0),
            Duration::from_millis(100)
        );
        assert_eq!(
            backoff_delay(&tuning, 3, None, 1.0),
            Duration::from_millis(400)
        );
        assert_eq!(
            backoff_delay(&tuning, 30, None, 1.0),
            Duration::from_millis(1000)
        );
        assert_eq!(
            backoff_delay(&tuning, 30, None, 0.0),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn retry_after_is_a_floor() {
        let tuning = SendTuning {
            backoff_base: Duration::from_millis(10),
            ..SendTuning::default()
        };
        let wait = backoff_delay(&tuning, 1, Some(Duration::from_secs(3)), 1.0);
        assert_eq!(wait, Duration::from_secs(3));
    }

    #[test]
    fn slow_down_grows_as_the_limit_fills() {
        let tuning = SendTuning {
            slow_down_from_percent: 80,
            slow_down_max: Duration::from_millis(1000),
            ..SendTuning::default()
        };
        assert_eq!(slow_down_delay(&tuning, 50), Duration::ZERO);
        assert_eq!(slow_down_delay(&tuning, 79), Duration::ZERO);
        assert_eq!(slow_down_delay(&tuning, 80), Duration::ZERO);
        assert_eq!(slow_down_delay(&tuning, 90), Duration::from_millis(500));
        assert_eq!(slow_down_delay(&tuning, 100), Duration::from_millis(1000));
        assert_eq!(slow_down_delay(&tuning, 250), Duration::from_millis(1000));
    }

    #[test]
    fn a_pause_only_grows() {
        let mut throttle = Throttle::default();
        throttle.pause_for(Duration::from_secs(5));
        let first = throttle.pause_until.unwrap();
        throttle.pause_for(Duration::from_secs(1));
        assert_eq!(throttle.pause_until, Some(first));
    }
}
