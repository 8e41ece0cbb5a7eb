//! Counting and summarising what was measured: rates, latency percentiles (nearest rank),
//! and the median of repeated measurements.

use std::time::Duration;

/// Events per second.
pub fn rate(events: u64, elapsed: Duration) -> f64 {
    events as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// The median of `values` (0 when empty).
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Latency samples of repeated operations.
#[derive(Clone, Debug, Default)]
pub struct Latencies {
    samples: Vec<Duration>,
    elapsed: Duration,
    sorted: bool,
}

impl Latencies {
    /// Adds one sample.
    pub fn push(&mut self, d: Duration) {
        self.samples.push(d);
        self.sorted = false;
    }

    /// The samples, in the order taken (until a percentile sorts them).
    pub fn samples(&self) -> &[Duration] {
        &self.samples
    }

    /// How many samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// How many samples are longer than `limit`.
    pub fn over(&self, limit: Duration) -> usize {
        self.samples.iter().filter(|d| **d > limit).count()
    }

    /// Records how long the whole measurement took (for the rate).
    pub fn finish(&mut self, elapsed: Duration) {
        self.elapsed = elapsed;
    }

    /// Operations per second over the whole measurement.
    pub fn per_second(&self) -> f64 {
        rate(self.samples.len() as u64, self.elapsed)
    }

    /// The `p`-th percentile (0–100), nearest rank.
    pub fn percentile(&mut self, p: f64) -> Duration {
        if self.samples.is_empty() {
            return Duration::ZERO;
        }
        if !self.sorted {
            self.samples.sort_unstable();
            self.sorted = true;
        }
        let rank = ((p / 100.0) * self.samples.len() as f64).ceil() as usize;
        self.samples[rank.clamp(1, self.samples.len()) - 1]
    }

    /// The `p`-th percentile in milliseconds.
    pub fn ms(&mut self, p: f64) -> f64 {
        self.percentile(p).as_secs_f64() * 1e3
    }

    /// The `p`-th percentile in microseconds.
    pub fn us(&mut self, p: f64) -> f64 {
        self.percentile(p).as_secs_f64() * 1e6
    }
}
