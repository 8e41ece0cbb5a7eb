//! The checks of input against the limits: an input over one is refused with an error that
//! names it, the limit and the value.

use std::fmt;

use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::{MAX_BATCH, MAX_LIST, MAX_MESSAGE_BYTES};
use crate::error::{Error, Result};

/// Refuses a batch of `n` items over [`MAX_BATCH`]; `what` names the batch.
///
/// # Errors
/// [`Error::TooLarge`].
pub(crate) fn check_batch(what: impl FnOnce() -> String, n: usize) -> Result<()> {
    if n > MAX_BATCH {
        return Err(Error::TooLarge {
            what: what(),
            size: n,
            limit: MAX_BATCH,
            unit: "items",
        });
    }
    Ok(())
}

/// Refuses a listing's `limit` over [`MAX_LIST`].
///
/// # Errors
/// [`Error::InvalidArgument`] naming the limit.
pub(crate) fn check_list_limit(limit: usize) -> Result<()> {
    if limit > MAX_LIST {
        return Err(Error::InvalidArgument {
            name: "limit",
            reason: format!("must be at most {MAX_LIST}, got {limit}"),
        });
    }
    Ok(())
}

/// Refuses a message text over [`MAX_MESSAGE_BYTES`]; `what` names it.
///
/// # Errors
/// [`Error::TooLarge`].
pub(crate) fn check_message_size(what: impl FnOnce() -> String, text: &str) -> Result<()> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(Error::TooLarge {
            what: what(),
            size: text.len(),
            limit: MAX_MESSAGE_BYTES,
            unit: "bytes",
        });
    }
    Ok(())
}

/// Parses a message's JSON text: refused when larger than [`MAX_MESSAGE_BYTES`] or nested
/// deeper than [`MAX_JSON_DEPTH`]. `what` names the text in the error.
///
/// # Errors
/// [`Error::TooLarge`]; [`Error::InvalidJson`] with the parser's position.
pub(crate) fn parse_message<T: DeserializeOwned>(
    what: impl Fn() -> String,
    text: &str,
) -> Result<T> {
    check_message_size(&what, text)?;
    serde_json::from_str(text).map_err(|e| Error::invalid_json(what(), &e))
}

/// Checks that a message's text is JSON within the limits, without building it.
///
/// # Errors
/// As [`parse_message`].
pub(crate) fn check_message(what: impl Fn() -> String, text: &str) -> Result<()> {
    parse_message::<Skipped>(what, text).map(|_| ())
}

/// Any JSON value, read and dropped. Unlike `serde::de::IgnoredAny`, which the parser skips
/// without counting how deep it goes, it is read through `deserialize_any`, so the parser's
/// depth limit applies.
struct Skipped;

impl<'de> Deserialize<'de> for Skipped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(Skipped)
    }
}

impl<'de> Visitor<'de> for Skipped {
    type Value = Skipped;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_i64<E>(self, _: i64) -> std::result::Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_u64<E>(self, _: u64) -> std::result::Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_f64<E>(self, _: f64) -> std::result::Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_str<E>(self, _: &str) -> std::result::Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_unit<E>(self) -> std::result::Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> std::result::Result<Skipped, A::Error> {
        while items.next_element::<Skipped>()?.is_some() {}
        Ok(Skipped)
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut entries: A,
    ) -> std::result::Result<Skipped, A::Error> {
        while entries.next_entry::<IgnoredAny, Skipped>()?.is_some() {}
        Ok(Skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_JSON_DEPTH;

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn the_depth_limit_is_the_parsers_and_is_named() {
        let ok: Result<serde_json::Value> = parse_message(|| "x".into(), &nested(MAX_JSON_DEPTH));
        assert!(ok.is_ok(), "{ok:?}");
        assert!(check_message(|| "x".into(), &nested(MAX_JSON_DEPTH)).is_ok());
        for depth in [MAX_JSON_DEPTH + 1, 100_000] {
            let err = parse_message::<serde_json::Value>(|| "the source".into(), &nested(depth))
                .unwrap_err()
                .to_string();
            let expected = "the source is not valid JSON: nested deeper than 127 levels, the limit, at line 1 column 128";
            assert_eq!(err, expected);
            let err = check_message(|| "the source".into(), &nested(depth)).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
        // Brackets in strings do not count.
        let text = format!(r#"{{"a": "{}", "b": ["\\\"["]}}"#, "[".repeat(500));
        assert!(check_message(|| "x".into(), &text).is_ok());
    }

    #[test]
    fn sizes_and_counts_over_their_limits_name_limit_and_value() {
        let big = " ".repeat(MAX_MESSAGE_BYTES + 1);
        let err = parse_message::<serde::de::IgnoredAny>(|| "the payload".into(), &big)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "the payload is 67108865 bytes, over the limit of 67108864 bytes"
        );
        assert!(check_batch(|| "the batch".into(), MAX_BATCH).is_ok());
        let err = check_batch(|| "the batch".into(), MAX_BATCH + 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the batch is 100001 items, over the limit of 100000 items"
        );
        assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
    }
}
