//! One log record as one line of the log file:
//!
//! ```text
//! 2026-05-01T10:00:00.123Z WARN  integra_core::dispatch: delivery is dead after 1 attempts: … flow=ORDERS subscriber=shop message=0196… attempt=1
//! ```
//!
//! The time in UTC (RFC 3339, milliseconds), the level padded to five characters, the target
//! (the module that logged), the message, then each key-value as ` key=value`, the value in
//! double quotes (with `\"` and `\\`) when it is empty or holds a space, a quote or `=`.
//! Control characters (a line break in a subscriber's error text, say) are written as escapes
//! (`\n`, `\r`, `\t`, `\u{1b}`), so a record is always one line. A line is at most
//! [`MAX_LOG_LINE_BYTES`]: each value is quoted within
//! [`MAX_QUOTED_CHARS`](crate::limits::MAX_QUOTED_CHARS) characters, the target cut to 128
//! bytes, and the message cut (`…`) to what is left.

use std::fmt::Write as _;

use log::Record;
use log::kv::{Key, Value, VisitSource};

use crate::limits::{MAX_LOG_LINE_BYTES, cut_to, quoted};
use crate::time::Timestamp;

/// The longest target written, in bytes (Integra's are module paths, far shorter).
const MAX_TARGET_BYTES: usize = 128;

/// The line for `record`, logged at `now`, its `\n` included.
pub(super) fn format(record: &Record<'_>, now: Timestamp) -> String {
    let mut pairs = Pairs(String::new());
    // A source that fails part-way leaves the pairs it gave.
    let _ = record.key_values().visit(&mut pairs);
    let mut pairs = pairs.0;
    cut_to(&mut pairs, MAX_LOG_LINE_BYTES / 2);
    let mut target = escaped(record.target());
    cut_to(&mut target, MAX_TARGET_BYTES);
    let mut line = format!("{now} {:<5} {target}: ", record.level());
    let mut message = escaped(&record.args().to_string());
    let room = MAX_LOG_LINE_BYTES.saturating_sub(line.len() + pairs.len() + 1);
    cut_to(&mut message, room);
    line.push_str(&message);
    line.push_str(&pairs);
    line.push('\n');
    line
}

/// The key-values as ` key=value` text.
struct Pairs(String);

impl<'kvs> VisitSource<'kvs> for Pairs {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let key = escaped(&quoted(key.as_str()));
        let value = value.to_string();
        let value = quoted(&value);
        let _ = if needs_quotes(&value) {
            write!(
                self.0,
                " {key}=\"{}\"",
                escaped(&value.replace('\\', "\\\\").replace('"', "\\\""))
            )
        } else {
            write!(self.0, " {key}={value}")
        };
        Ok(())
    }
}

/// Whether a value is written in quotes, to be read back as one value.
fn needs_quotes(value: &str) -> bool {
    value.is_empty()
        || value
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '=' || escape(c).is_some())
}

/// `text` with every character that would break the line written as an escape.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match escape(c) {
            Some(escape) => out.push_str(&escape),
            None => out.push(c),
        }
    }
    out
}

/// The escape for a character that would break a line or the terminal showing it: control
/// characters, and the Unicode line and paragraph separators.
fn escape(c: char) -> Option<String> {
    match c {
        '\n' => Some("\\n".to_owned()),
        '\r' => Some("\\r".to_owned()),
        '\t' => Some("\\t".to_owned()),
        c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
            Some(c.escape_unicode().to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line for a record at the epoch's first second plus 5 ms.
    fn line(record: &Record<'_>) -> String {
        format(record, Timestamp::from_millis(1_005))
    }

    #[test]
    fn a_record_is_one_line_with_time_level_target_message_and_key_values() {
        let pairs: [(&str, Value<'_>); 4] = [
            ("flow", Value::from("ORDERS")),
            ("subscriber", Value::from("shop")),
            ("attempt", Value::from(3u32)),
            ("reason", Value::from("a \"b\"=c\nd")),
        ];
        let record = Record::builder()
            .level(log::Level::Warn)
            .target("integra_core::dispatch")
            .args(format_args!("delivery is dead:\nrefused\r\u{1b}[31m"))
            .key_values(&pairs)
            .build();
        assert_eq!(
            line(&record),
            "1970-01-01T00:00:01.005Z WARN  integra_core::dispatch: delivery is dead:\\nrefused\\r\\u{1b}[31m \
             flow=ORDERS subscriber=shop attempt=3 reason=\"a \\\"b\\\"=c\\nd\"\n"
        );
        let empty: [(&str, &str); 1] = [("error", "")];
        let record = Record::builder()
            .level(log::Level::Info)
            .target("t")
            .args(format_args!("m"))
            .key_values(&empty)
            .build();
        assert_eq!(
            line(&record),
            "1970-01-01T00:00:01.005Z INFO  t: m error=\"\"\n"
        );
    }

    #[test]
    fn a_long_record_is_cut_to_the_line_limit_keeping_its_key_values() {
        let message = "ж".repeat(MAX_LOG_LINE_BYTES);
        let value = "v".repeat(10_000);
        let pairs: [(&str, &str); 2] = [("flow", "ORDERS"), ("long", &value)];
        let target = "t".repeat(1000);
        let cut_target = format!(" {}…: ", "t".repeat(MAX_TARGET_BYTES - 3));
        let text = line(
            &Record::builder()
                .level(log::Level::Error)
                .target(&target)
                .args(format_args!("{message}"))
                .key_values(&pairs)
                .build(),
        );
        assert!(text.len() <= MAX_LOG_LINE_BYTES, "{}", text.len());
        assert_eq!(text.matches('\n').count(), 1);
        assert!(text.contains(&cut_target), "{text}");
        assert!(text.contains("ж… flow=ORDERS long=\"vvv"), "{text}");
        assert!(text.ends_with("(10000 bytes in all)\"\n"), "{text}");
    }
}
