//! Recent activity, for the 1C subsystem's windowed gauges: per (flow, operation, outcome),
//! one bucket per second over the last five minutes, each with the count, the summed and the
//! longest duration. `pde_*_duration_seconds` read averages and maxima of the last five
//! minutes from it, `pde_messages_per_minute` the counts of the last minute.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::time::Timestamp;

/// Seconds kept.
const WINDOW: usize = 300;
/// The window of the per-minute counts, in seconds.
const MINUTE: i64 = 60;

/// What the 1C dashboards call the operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Operation {
    /// Forming a payload.
    Formation,
    /// Sending a delivery.
    Send,
    /// Processing an incoming message.
    Incoming,
}

impl Operation {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Operation::Formation => "formation",
            Operation::Send => "send",
            Operation::Incoming => "incoming",
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    /// The second this bucket holds (Unix seconds); older contents are stale.
    second: i64,
    count: u64,
    /// Summed and longest duration of the timed ones.
    timed: u64,
    sum: f64,
    max: f64,
}

/// The buckets of one (flow, operation, succeeded).
struct Series {
    buckets: Vec<Bucket>,
}

impl Series {
    fn new() -> Self {
        Series {
            buckets: vec![Bucket::default(); WINDOW],
        }
    }

    fn add(&mut self, second: i64, took: Option<Duration>) {
        let slot = usize::try_from(second.rem_euclid(WINDOW as i64)).unwrap_or(0);
        let bucket = &mut self.buckets[slot];
        if bucket.second != second {
            *bucket = Bucket {
                second,
                ..Bucket::default()
            };
        }
        bucket.count += 1;
        if let Some(took) = took {
            let seconds = took.as_secs_f64();
            bucket.timed += 1;
            bucket.sum += seconds;
            bucket.max = bucket.max.max(seconds);
        }
    }

    /// Buckets of the last `seconds` before `now`.
    fn live(&self, now: i64, seconds: i64) -> impl Iterator<Item = &Bucket> {
        self.buckets
            .iter()
            .filter(move |b| b.count > 0 && b.second > now - seconds && b.second <= now)
    }
}

/// Durations of one (flow, operation) over the window: (average, maximum), when any.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Durations {
    pub(crate) avg: f64,
    pub(crate) max: f64,
}

/// Recent activity of this process.
#[derive(Default)]
pub(crate) struct Recent {
    series: Mutex<HashMap<(String, Operation, bool), Series>>,
}

impl Recent {
    /// Records one operation on `flow` at `now`, whether it `succeeded`, and how long it
    /// took when that is known.
    pub(crate) fn record(
        &self,
        flow: &str,
        operation: Operation,
        succeeded: bool,
        took: Option<Duration>,
        now: Timestamp,
    ) {
        let second = now.as_millis().div_euclid(1000);
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        series
            .entry((flow.to_owned(), operation, succeeded))
            .or_insert_with(Series::new)
            .add(second, took);
    }

    /// Per (flow, operation, succeeded): the count of the last minute.
    pub(crate) fn per_minute(&self, now: Timestamp) -> Vec<(String, Operation, bool, u64)> {
        let second = now.as_millis().div_euclid(1000);
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<_> = series
            .iter()
            .map(|((flow, op, ok), s)| {
                let n = s.live(second, MINUTE).map(|b| b.count).sum();
                (flow.clone(), *op, *ok, n)
            })
            .collect();
        out.sort_by(|a, b| (&a.0, a.1.as_str(), a.2).cmp(&(&b.0, b.1.as_str(), b.2)));
        out
    }

    /// Per (flow, operation): average and longest duration over the window.
    pub(crate) fn durations(&self, now: Timestamp) -> Vec<(String, Operation, Durations)> {
        let second = now.as_millis().div_euclid(1000);
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let mut totals: HashMap<(String, Operation), (u64, f64, f64)> = HashMap::new();
        for ((flow, op, _), s) in series.iter() {
            let total = totals.entry((flow.clone(), *op)).or_default();
            for b in s.live(second, WINDOW as i64) {
                total.0 += b.timed;
                total.1 += b.sum;
                total.2 = total.2.max(b.max);
            }
        }
        let mut out: Vec<_> = totals
            .into_iter()
            .filter(|(_, (n, _, _))| *n > 0)
            .map(|((flow, op), (n, sum, max))| {
                let avg = sum / n as f64;
                (flow, op, Durations { avg, max })
            })
            .collect();
        out.sort_by(|a, b| (&a.0, a.1.as_str()).cmp(&(&b.0, b.1.as_str())));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_millis(seconds * 1000 + 250)
    }

    #[test]
    fn windows_count_the_last_minute_and_time_the_last_five() {
        let r = Recent::default();
        r.record(
            "F",
            Operation::Send,
            true,
            Some(Duration::from_millis(100)),
            at(1000),
        );
        r.record(
            "F",
            Operation::Send,
            true,
            Some(Duration::from_millis(300)),
            at(1030),
        );
        r.record("F", Operation::Send, false, None, at(1030));
        assert_eq!(
            r.per_minute(at(1050)),
            [
                ("F".to_owned(), Operation::Send, false, 1),
                ("F".to_owned(), Operation::Send, true, 2)
            ]
        );
        // A minute later the first is out of the per-minute count, still in the durations.
        assert_eq!(r.per_minute(at(1075))[1].3, 1);
        let d = r.durations(at(1075));
        assert_eq!(d.len(), 1);
        assert!((d[0].2.avg - 0.2).abs() < 1e-9 && (d[0].2.max - 0.3).abs() < 1e-9);
        // Five minutes on, nothing is left, and a bucket reused for a new second is reset.
        assert!(r.durations(at(1400)).is_empty());
        r.record(
            "F",
            Operation::Send,
            true,
            Some(Duration::from_millis(50)),
            at(1300),
        );
        let d = r.durations(at(1340));
        assert!((d[0].2.max - 0.05).abs() < 1e-9, "{d:?}");
    }
}
