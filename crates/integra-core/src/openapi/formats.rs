//! The checks OpenAPI 3.0 adds to JSON Schema draft 7, or where its meaning differs: the `uuid`
//! and `byte` string formats, the numeric formats `int32`, `int64`, `float` and `double`,
//! `integer` as JSON Schema Wright draft 00 defines it, a `pattern` the regex crate runs
//! ([`super::pattern`]), and the refusal of read-only or write-only properties in the
//! direction that forbids them.

use jsonschema::paths::Location;
use jsonschema::{Keyword, ValidationError};
use serde_json::{Map, Number, Value};

use super::translate::{FORBIDDEN, INTEGER, NUMBER_FORMAT, PATTERN};
use crate::limits::quoted;

/// `uuid`: 8-4-4-4-12 hexadecimal digits.
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `byte`: base64 (RFC 4648 standard alphabet, padded).
pub(crate) fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return false;
    }
    let padding = b.iter().rev().take_while(|c| **c == b'=').count();
    padding <= 2
        && b[..b.len() - padding]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// Adds Integra's formats and keywords to validator options.
pub(crate) fn register(
    options: jsonschema::ValidationOptions<'static>,
) -> jsonschema::ValidationOptions<'static> {
    options
        .with_format("uuid", is_uuid)
        .with_format("byte", is_base64)
        .with_keyword(FORBIDDEN, forbidden_factory)
        .with_keyword(NUMBER_FORMAT, number_format_factory)
        .with_keyword(INTEGER, integer_factory)
        .with_keyword(PATTERN, pattern_factory)
}

/// A `pattern` on the regex crate: `{"regex": <as compiled>, "pattern": <as written>}`.
struct Pattern {
    regex: regex::Regex,
    written: String,
}

impl<'i> Keyword<'i> for Pattern {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(ValidationError::custom(format!(
                "{} does not match \"{}\"",
                quoted(&instance.to_string()),
                quoted(&self.written)
            )))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        instance.as_str().is_none_or(|s| self.regex.is_match(s))
    }
}

fn pattern_factory<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default();
    let regex = regex::Regex::new(text("regex")).map_err(|e| {
        ValidationError::custom(format!(
            "'{}' is not a valid regular expression: {}",
            quoted(text("pattern")),
            quoted(&e.to_string())
        ))
    })?;
    Ok(Box::new(Pattern {
        regex,
        written: text("pattern").to_owned(),
    }))
}

/// 2^63: one past the largest int64, and minus the smallest.
const TWO_TO_THE_63: f64 = 9_223_372_036_854_775_808.0;
/// 2^64: one past the largest unsigned 64-bit integer.
const TWO_TO_THE_64: f64 = 18_446_744_073_709_551_616.0;
/// 2^63 - 1024: the largest double below 2^63.
const LARGEST_DOUBLE_IN_INT64: f64 = 9_223_372_036_854_774_784.0;

/// OpenAPI 3.0's `integer` (JSON Schema Wright draft 00): "a JSON number without a fraction or
/// exponent part", so `1.0` and `1e2` are not integers (draft 7 would take them). The parser
/// reads such a number as a 64-bit integer whenever it fits, so a number it holds as a double
/// had a fraction or an exponent; except `-0`, which it reads as the double -0.0, and numbers
/// beyond the 64-bit range, of which it keeps only the double, whose text is gone: those count
/// as integers (they are integral), and `format: int64` is what bounds the latter.
fn is_integer(n: &Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64().is_some_and(|v| {
            v <= -TWO_TO_THE_63 || v >= TWO_TO_THE_64 || v == 0.0 && v.is_sign_negative()
        })
}

/// The draft 00 `integer` beside draft 7's `type: integer`, which refuses every non-number and
/// fraction itself: this refuses the integral doubles draft 7 lets through.
struct Integer;

impl<'i> Keyword<'i> for Integer {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(ValidationError::custom(format!(
                "{instance} is not of type \"integer\""
            )))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        instance.as_number().is_none_or(is_integer)
    }
}

fn integer_factory<'a>(
    _parent: &'a Map<String, Value>,
    _value: &'a Value,
    _path: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    Ok(Box::new(Integer))
}

/// A property that must not be present in this direction.
struct Forbidden {
    message: String,
}

impl<'i> Keyword<'i> for Forbidden {
    fn validate(&self, _instance: &'i Value) -> Result<(), ValidationError<'i>> {
        Err(ValidationError::custom(self.message.clone()))
    }

    fn is_valid(&self, _instance: &'i Value) -> bool {
        false
    }
}

fn forbidden_factory<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let message = match value.as_str() {
        Some("write-only") => "is write-only: it must not appear in an outgoing message",
        _ => "is read-only: it must not appear in an incoming message",
    };
    Ok(Box::new(Forbidden {
        message: message.to_owned(),
    }))
}

/// A numeric `format`: the value must fit the named type.
#[derive(Clone, Copy)]
enum NumberFormat {
    Int32,
    Int64,
    Float,
    Double,
}

impl NumberFormat {
    fn fits(self, n: &Number) -> bool {
        match self {
            NumberFormat::Int32 => {
                n.as_i64().is_some_and(|v| i32::try_from(v).is_ok())
                    || integral_in(n, f64::from(i32::MIN), f64::from(i32::MAX))
            }
            // Every int64 written as an integer is read as one. A double of magnitude 2^63
            // may be an integer just past the range rounded (-9223372036854775809 reads as
            // -2^63), so a double fits only strictly inside the range.
            NumberFormat::Int64 => {
                n.as_i64().is_some()
                    || integral_in(n, -LARGEST_DOUBLE_IN_INT64, LARGEST_DOUBLE_IN_INT64)
            }
            // A number fits when rounding it to the nearest float keeps it finite, as
            // 3.4028235e38, the largest float's shortest form, does.
            #[expect(
                clippy::cast_possible_truncation,
                reason = "the rounding to a float is the check"
            )]
            NumberFormat::Float => n.as_f64().is_some_and(|v| (v as f32).is_finite()),
            NumberFormat::Double => n.as_f64().is_some_and(f64::is_finite),
        }
    }

    const fn describe(self) -> &'static str {
        match self {
            NumberFormat::Int32 => "an int32 (from -2147483648 to 2147483647)",
            NumberFormat::Int64 => "an int64 (from -9223372036854775808 to 9223372036854775807)",
            NumberFormat::Float => "a float (at most 3.4028235e38 in magnitude)",
            NumberFormat::Double => "a finite double",
        }
    }
}

/// A number written with a fraction part of zero (`5.0`) within `[min, max]`.
fn integral_in(n: &Number, min: f64, max: f64) -> bool {
    n.as_i64().is_none()
        && n.as_u64().is_none()
        && n.as_f64()
            .is_some_and(|v| v.fract() == 0.0 && v >= min && v <= max)
}

impl<'i> Keyword<'i> for NumberFormat {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(ValidationError::custom(format!(
                "{instance} is not {}",
                self.describe()
            )))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        instance.as_number().is_none_or(|n| self.fits(n))
    }
}

fn number_format_factory<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let format = match value.as_str() {
        Some("int32") => NumberFormat::Int32,
        Some("int64") => NumberFormat::Int64,
        Some("float") => NumberFormat::Float,
        _ => NumberFormat::Double,
    };
    Ok(Box::new(format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_and_base64() {
        assert!(is_uuid("0190f3a2-7b1c-7d4e-9f00-1234567890ab"));
        assert!(is_uuid("0190F3A2-7B1C-7D4E-9F00-1234567890AB"));
        assert!(!is_uuid("0190f3a27b1c7d4e9f001234567890ab"));
        assert!(!is_uuid("0190f3a2-7b1c-7d4e-9f00-1234567890ag"));
        assert!(is_base64("aGVsbG8="));
        assert!(is_base64(""));
        assert!(!is_base64("aGVsbG8"));
        assert!(!is_base64("aGV$bG8="));
        assert!(!is_base64("a==="));
    }

    #[test]
    fn number_formats_check_ranges() {
        let n = |v: Value| v.as_number().cloned().unwrap();
        assert!(NumberFormat::Int32.fits(&n(serde_json::json!(2_147_483_647))));
        assert!(!NumberFormat::Int32.fits(&n(serde_json::json!(2_147_483_648_i64))));
        assert!(NumberFormat::Int32.fits(&n(serde_json::json!(-5.0))));
        assert!(NumberFormat::Int64.fits(&n(serde_json::json!(i64::MIN))));
        assert!(!NumberFormat::Int64.fits(&n(serde_json::json!(u64::MAX))));
        assert!(!NumberFormat::Int64.fits(&n(serde_json::json!(1e30))));
        assert!(NumberFormat::Float.fits(&n(serde_json::json!(1.5e38))));
        assert!(!NumberFormat::Float.fits(&n(serde_json::json!(1e39))));
        assert!(NumberFormat::Double.fits(&n(serde_json::json!(1e300))));
    }

    /// Issue 15: int64's bounds hold exactly, whatever a double rounds to; the largest float
    /// fits a float; `integer` is a number without a fraction or exponent part.
    #[test]
    fn integers_and_their_bounds_are_read_from_the_text() {
        let n = |text: &str| serde_json::from_str::<Number>(text).unwrap();
        for (text, fits) in [
            ("-9223372036854775808", true),
            ("9223372036854775807", true),
            ("-9223372036854775809", false),
            ("9223372036854775808", false),
            ("-9223372036854775808.0", false),
            ("4.5e18", true),
        ] {
            assert_eq!(NumberFormat::Int64.fits(&n(text)), fits, "{text}");
        }
        for (text, fits) in [
            ("3.4028235e38", true),
            ("-3.4028235e38", true),
            ("3.4028236e38", false),
        ] {
            assert_eq!(NumberFormat::Float.fits(&n(text)), fits, "{text}");
        }
        for (text, integer) in [
            ("1", true),
            ("-0", true),
            ("18446744073709551615", true),
            ("123456789012345678901234567890", true),
            ("1.0", false),
            ("1e2", false),
            ("1E2", false),
            ("0.0", false),
            ("9.3e18", false),
        ] {
            assert_eq!(is_integer(&n(text)), integer, "{text}");
        }
    }
}
