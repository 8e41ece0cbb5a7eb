//! Validation cost (goal G17): parsing and validating an order through Integra
//! (`validate_for_flow`, the flow's OpenAPI component), against `serde_json` parsing plus
//! `jsonschema` validation of the same payload with a precompiled, equivalent JSON Schema.
//! The two are interleaved, so that noise on a shared machine hits both alike.

use std::hint::black_box;
use std::time::Instant;

use integra::Engine;
use serde::Serialize;
use serde_json::Value;

use crate::order::order;
use crate::scenarios::BenchError;

/// Validation of one payload size.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Validation {
    /// The payload, bytes.
    pub bytes: usize,
    /// `serde_json` parse + `jsonschema` `is_valid`, µs.
    pub raw_us: f64,
    /// Integra's parse + validate, µs.
    pub integra_us: f64,
    /// Integra ÷ raw.
    pub ratio: f64,
}

/// Nanoseconds per call: the median of `rounds` rounds of `iterations` calls.
fn per_call(rounds: usize, iterations: usize, mut f: impl FnMut()) -> f64 {
    let per_call: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                f();
            }
            start.elapsed().as_nanos() as f64 / iterations as f64
        })
        .collect();
    crate::stats::median(per_call)
}

/// Measures an order of `lines` tabular rows on `flow` of `engine` (which validates
/// against the order component) and against `raw`.
pub fn measure(
    engine: &Engine,
    flow: &str,
    raw: &jsonschema::Validator,
    lines: usize,
    quick: bool,
) -> Result<Validation, BenchError> {
    let text = order(lines);
    let value: Value = serde_json::from_str(&text)?;
    if !raw.is_valid(&value) {
        return Err("the raw schema rejects the sample".into());
    }
    if !engine.validate_for_flow(flow, &text)?.is_empty() {
        return Err("Integra rejects the sample".into());
    }
    let iterations = if quick {
        20
    } else {
        (2_000_000 / text.len()).max(50)
    };
    let rounds = if quick { 3 } else { 7 };
    let (mut raw_ns, mut integra_ns) = (0.0, 0.0);
    for _ in 0..3 {
        raw_ns += per_call(rounds, iterations, || {
            let v: Value = serde_json::from_str(black_box(&text)).unwrap_or_default();
            black_box(raw.is_valid(&v));
        });
        integra_ns += per_call(rounds, iterations, || {
            black_box(
                engine
                    .validate_for_flow(flow, black_box(&text))
                    .map(|v| v.len())
                    .ok(),
            );
        });
    }
    Ok(Validation {
        bytes: text.len(),
        raw_us: raw_ns / 3000.0,
        integra_us: integra_ns / 3000.0,
        ratio: integra_ns / raw_ns,
    })
}
