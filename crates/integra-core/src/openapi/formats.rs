//! The checks OpenAPI 3.0 adds to JSON Schema draft 7: the `uuid` and `byte` string formats,
//! the numeric formats `int32`, `int64`, `float` and `double`, and the refusal of read-only
//! or write-only properties in the direction that forbids them.

use jsonschema::paths::Location;
use jsonschema::{Keyword, ValidationError};
use serde_json::{Map, Value};

use super::translate::{FORBIDDEN, NUMBER_FORMAT};

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
    fn fits(self, n: &serde_json::Number) -> bool {
        match self {
            NumberFormat::Int32 => {
                n.as_i64().is_some_and(|v| i32::try_from(v).is_ok())
                    || integral_in(n, f64::from(i32::MIN), f64::from(i32::MAX))
            }
            NumberFormat::Int64 => {
                n.as_i64().is_some()
                    || integral_in(n, -9.223_372_036_854_776e18, 9.223_372_036_854_775e18)
            }
            NumberFormat::Float => n.as_f64().is_some_and(|v| v.abs() <= f64::from(f32::MAX)),
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
fn integral_in(n: &serde_json::Number, min: f64, max: f64) -> bool {
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
}
