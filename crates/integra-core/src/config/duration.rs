//! Durations in configuration: `"30s"`, `"500ms"`, `"7d"`, `"1h 30m"`, or a bare number of
//! milliseconds. Written back as the human form.

use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

/// Serializes a duration as its human form (`"1m 30s"`).
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_duration(*d))
}

/// Deserializes a duration from a human string or a number of milliseconds.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(DurationVisitor)
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a duration such as \"30s\", \"500ms\", \"7d\", or a number of milliseconds")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration::from_millis(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        u64::try_from(v)
            .map(Duration::from_millis)
            .map_err(|_| E::custom(format!("a duration cannot be negative, got {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        // Not `from_secs_f64`: it panics on a value too large for a `Duration`.
        Duration::try_from_secs_f64(v / 1000.0).map_err(|_| {
            E::custom(format!(
                "a duration must be a non-negative number of milliseconds that fits, got {v}"
            ))
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        humantime::parse_duration(v.trim())
            .map_err(|e| E::custom(format!("'{v}' is not a duration ({e}); write e.g. \"30s\"")))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde::{Deserialize, Serialize};

    #[derive(Deserialize, Serialize, Debug)]
    struct Holder {
        #[serde(with = "super")]
        d: Duration,
    }

    fn parse(json: &str) -> Result<Duration, String> {
        serde_json::from_str::<Holder>(json)
            .map(|h| h.d)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_human_strings_and_milliseconds() {
        assert_eq!(parse(r#"{"d":"30s"}"#), Ok(Duration::from_secs(30)));
        assert_eq!(parse(r#"{"d":"1h 30m"}"#), Ok(Duration::from_secs(5400)));
        assert_eq!(parse(r#"{"d":"7d"}"#), Ok(Duration::from_secs(7 * 86400)));
        assert_eq!(parse(r#"{"d":250}"#), Ok(Duration::from_millis(250)));
        let h = Holder {
            d: Duration::from_secs(90),
        };
        assert_eq!(
            serde_json::to_string(&h).unwrap_or_default(),
            r#"{"d":"1m 30s"}"#
        );
    }

    #[test]
    fn rejects_nonsense_with_a_hint() {
        let err = parse(r#"{"d":"soon"}"#).unwrap_err();
        assert!(err.contains("'soon' is not a duration"), "{err}");
        assert!(parse(r#"{"d":-5}"#).unwrap_err().contains("negative"));
        assert!(parse(r#"{"d":-0.5}"#).unwrap_err().contains("non-negative"));
    }

    /// Found by the `configuration` fuzz target: a fractional number of milliseconds too
    /// large for a `Duration` panicked.
    #[test]
    fn refuses_a_number_too_large_for_a_duration() {
        let err = parse(r#"{"d":5555555555555555555555555.5}"#).unwrap_err();
        assert!(err.contains("that fits"), "{err}");
        assert_eq!(parse(r#"{"d":1.5}"#), Ok(Duration::from_micros(1500)));
    }
}
