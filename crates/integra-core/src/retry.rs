//! Retry timing: the [`RetryPolicy`] and the pure functions that turn an attempt count into
//! the next attempt time or a verdict of Dead.
//!
//! Attempts are counted when work is claimed, before it runs, so work that crashes its
//! process still uses up its attempts and cannot loop forever. The delay before attempt
//! `n + 1` after `n` failed attempts is `initial_delay × multiplier^(n-1)`, capped at
//! `max_delay`, then spread by `± jitter` (a fraction) so that many failures do not retry in
//! lockstep. A `Retry-After` from the far side lengthens the delay, never shortens it. A
//! handler that knows its failure will not pass says so ([`HandlerError::Permanent`]): the
//! work then ends at once, whatever attempts are left.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::duration;
use crate::time::Timestamp;

/// Why a Rust former, incoming handler or channel handler failed, and whether trying again
/// may help. A `String` (or `&str`) converts into [`HandlerError::Retry`], so a handler may
/// return `Err(format!(…))` as well.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandlerError {
    /// It may pass on a later attempt (a lock, a service that is down): retried per the
    /// policy, then Dead (quarantined, for an exchange message) when no attempts are left.
    #[error("{0}")]
    Retry(String),
    /// It will not pass however often it is tried (the document is gone, the data is
    /// refused): Dead (quarantined) at once, with this reason.
    #[error("{0}")]
    Permanent(String),
}

impl HandlerError {
    /// A failure worth another attempt.
    pub fn retry(reason: impl Into<String>) -> Self {
        HandlerError::Retry(reason.into())
    }

    /// A failure no further attempt can mend.
    pub fn permanent(reason: impl Into<String>) -> Self {
        HandlerError::Permanent(reason.into())
    }

    /// Why it failed, for the history.
    pub fn reason(&self) -> &str {
        match self {
            HandlerError::Retry(reason) | HandlerError::Permanent(reason) => reason,
        }
    }
}

impl From<String> for HandlerError {
    fn from(reason: String) -> Self {
        HandlerError::Retry(reason)
    }
}

impl From<&str> for HandlerError {
    fn from(reason: &str) -> Self {
        HandlerError::Retry(reason.to_owned())
    }
}

/// How often and how patiently failed work is retried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (at least 1). Default 10.
    pub max_attempts: u32,
    /// Delay after the first failure. Default 1 s.
    #[serde(with = "duration")]
    pub initial_delay: Duration,
    /// Factor applied to the delay after each further failure (at least 1). Default 2.
    pub multiplier: f64,
    /// The longest delay between attempts. Default 1 h.
    #[serde(with = "duration")]
    pub max_delay: Duration,
    /// Random spread of each delay, as a fraction in `[0, 1]`: 0.2 means ±20 %. Default 0.2.
    pub jitter: f64,
}

impl RetryPolicy {
    /// The policy of subscribers and flows that name none: 10 attempts, 1 s doubling up to
    /// 1 h, ±20 % jitter.
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        max_attempts: 10,
        initial_delay: Duration::from_secs(1),
        multiplier: 2.0,
        max_delay: Duration::from_secs(3600),
        jitter: 0.2,
    };
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::DEFAULT
    }
}

/// What happens after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextAttempt {
    /// Try again at this time.
    At(Timestamp),
    /// No attempts are left.
    Dead,
}

impl RetryPolicy {
    /// Checks the policy's numbers; the message names the field at fault.
    pub(crate) fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.max_attempts == 0 {
            out.push(("max_attempts", "must be at least 1".to_owned()));
        }
        if !(self.multiplier.is_finite() && self.multiplier >= 1.0) {
            out.push((
                "multiplier",
                format!("must be a number ≥ 1, got {}", self.multiplier),
            ));
        }
        if !(self.jitter.is_finite() && (0.0..=1.0).contains(&self.jitter)) {
            out.push((
                "jitter",
                format!("must be between 0 and 1, got {}", self.jitter),
            ));
        }
        if self.initial_delay > self.max_delay {
            out.push((
                "initial_delay",
                format!(
                    "{} is longer than max_delay {}",
                    humantime::format_duration(self.initial_delay),
                    humantime::format_duration(self.max_delay)
                ),
            ));
        }
        out
    }

    /// The delay after `failed_attempts` failures (1 for the first), before jitter.
    pub fn base_delay(&self, failed_attempts: u32) -> Duration {
        let exponent = failed_attempts.saturating_sub(1).min(1024);
        let factor = self
            .multiplier
            .powi(i32::try_from(exponent).unwrap_or(i32::MAX));
        let secs = self.initial_delay.as_secs_f64() * factor;
        let max = self.max_delay.as_secs_f64();
        if !secs.is_finite() || secs >= max {
            self.max_delay
        } else {
            Duration::from_secs_f64(secs)
        }
    }

    /// The delay after `failed_attempts` failures, spread by jitter. `sample` is a random
    /// number in `[0, 1)`; 0.5 gives the base delay exactly.
    pub fn delay(&self, failed_attempts: u32, sample: f64) -> Duration {
        let base = self.base_delay(failed_attempts).as_secs_f64();
        let spread = 1.0 + self.jitter * (2.0 * sample.clamp(0.0, 1.0) - 1.0);
        Duration::from_secs_f64((base * spread).max(0.0))
    }

    /// Decides what follows the failure of attempt number `attempts` (counted from 1).
    ///
    /// `retry_after` is a delay the far side asked for; the next attempt is never earlier.
    pub fn next_attempt(
        &self,
        attempts: u32,
        now: Timestamp,
        sample: f64,
        retry_after: Option<Duration>,
    ) -> NextAttempt {
        if attempts >= self.max_attempts {
            return NextAttempt::Dead;
        }
        let delay = self.delay(attempts, sample);
        let delay = retry_after.map_or(delay, |asked| asked.max(delay));
        NextAttempt::At(now.plus(delay))
    }

    /// The status that follows `failure` on attempt number `attempts`: `dead` at once when it
    /// is permanent, else as [`RetryPolicy::status_after_failure`].
    pub(crate) fn status_after<S>(
        &self,
        failure: &HandlerError,
        attempts: u32,
        now: Timestamp,
        retrying: S,
        dead: S,
    ) -> (S, Option<Timestamp>) {
        match failure {
            HandlerError::Permanent(_) => (dead, None),
            HandlerError::Retry(_) => {
                self.status_after_failure(attempts, now, None, retrying, dead)
            }
        }
    }

    /// The status that follows failed attempt number `attempts`: `retrying` with the time of
    /// the next attempt (with random jitter), or `dead` when no attempts are left.
    pub(crate) fn status_after_failure<S>(
        &self,
        attempts: u32,
        now: Timestamp,
        retry_after: Option<Duration>,
        retrying: S,
        dead: S,
    ) -> (S, Option<Timestamp>) {
        match self.next_attempt(attempts, now, fastrand::f64(), retry_after) {
            NextAttempt::At(t) => (retrying, Some(t)),
            NextAttempt::Dead => (dead, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            initial_delay: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(10),
            jitter: 0.0,
        }
    }

    #[test]
    fn delays_grow_exponentially_up_to_the_cap() {
        let p = policy();
        let secs: Vec<u64> = (1..=6).map(|n| p.base_delay(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10]);
        assert_eq!(p.base_delay(u32::MAX), Duration::from_secs(10));
    }

    #[test]
    fn jitter_spreads_around_the_base() {
        let p = RetryPolicy {
            jitter: 0.5,
            ..policy()
        };
        assert_eq!(p.delay(3, 0.5), Duration::from_secs(4));
        assert_eq!(p.delay(3, 0.0), Duration::from_secs(2));
        assert!(p.delay(3, 0.999) > Duration::from_millis(5990));
    }

    #[test]
    fn last_attempt_is_dead_and_retry_after_only_lengthens() {
        let p = policy();
        let now = Timestamp::from_millis(0);
        assert_eq!(
            p.next_attempt(1, now, 0.5, None),
            NextAttempt::At(Timestamp::from_millis(1000))
        );
        assert_eq!(
            p.next_attempt(1, now, 0.5, Some(Duration::from_secs(30))),
            NextAttempt::At(Timestamp::from_millis(30_000))
        );
        assert_eq!(
            p.next_attempt(2, now, 0.5, Some(Duration::from_millis(10))),
            NextAttempt::At(Timestamp::from_millis(2000))
        );
        assert_eq!(p.next_attempt(5, now, 0.5, None), NextAttempt::Dead);
    }

    #[test]
    fn problems_name_the_field() {
        let p = RetryPolicy {
            max_attempts: 0,
            multiplier: 0.5,
            jitter: 2.0,
            initial_delay: Duration::from_secs(20),
            ..policy()
        };
        let fields: Vec<_> = p.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            ["max_attempts", "multiplier", "jitter", "initial_delay"]
        );
        assert!(policy().problems().is_empty());
    }

    #[test]
    fn a_permanent_failure_ends_at_once_and_a_retryable_one_follows_the_policy() {
        let now = Timestamp::from_millis(0);
        let p = policy();
        let permanent = HandlerError::permanent("gone");
        assert_eq!(
            p.status_after(&permanent, 1, now, "retry", "dead"),
            ("dead", None)
        );
        let retry = HandlerError::from("busy");
        let (status, next) = p.status_after(&retry, 1, now, "retry", "dead");
        assert_eq!((status, next.is_some()), ("retry", true));
        assert_eq!(
            p.status_after(&retry, 5, now, "retry", "dead"),
            ("dead", None)
        );
    }
}
