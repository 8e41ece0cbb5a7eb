//! Input limits: the largest inputs Integra accepts, whichever door they come through (the
//! Rust API, the C ABI, the 1C add-in, the HTTP receiver, the sources). They are defined
//! here, in one table, so the code and the documentation name the same numbers.
//!
//! Each limit is checked where the input enters, before anything is parsed or written, and
//! an input over it is refused with an error naming the input, the limit and the value
//! (`limits::checks`): [`Error::TooLarge`](crate::Error::TooLarge) for sizes and counts,
//! [`Error::InvalidArgument`](crate::Error::InvalidArgument) for text arguments (`must be 1
//! to 1024 characters`). Nothing is written then. This module is below the error type (whose
//! texts it bounds); the checks, which make errors, are above it.
//!
//! Messages are JSON of at most [`MAX_MESSAGE_BYTES`], nested at most [`MAX_JSON_DEPTH`]
//! levels deep. Arrays and strings inside a message have no limit of their own beyond the
//! message's size: a flow's schema bounds them (`maxItems`, `maxLength`) where a flow
//! needs tighter ones. The HTTP receiver has its own, configurable limits on bodies and
//! headers per listener (`ListenerLimits`), within these.
//!
//! The recursive code that walks JSON (the OpenAPI document checks, the translation to JSON
//! Schema, the validator) only ever sees values that passed the depth limit, so deep input
//! cannot exhaust the stack.

pub(crate) mod checks;

/// Largest message, in bytes: a registered source, a formed payload, an incoming body, an
/// instance to validate. 64 MiB.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Deepest nesting of arrays and objects in a JSON input: the JSON parser's own limit (it
/// refuses the 128th level).
pub const MAX_JSON_DEPTH: usize = 127;

/// Largest file Integra reads as text: a configuration file, or a schema's `file`. 64 MiB.
pub const MAX_FILE_BYTES: usize = 64 << 20;

/// Most items one call takes or returns: messages in a batch registration, items claimed
/// to form, incoming messages claimed, items dispatched at once.
pub const MAX_BATCH: usize = 100_000;

/// Most messages one listing returns.
pub const MAX_LIST: usize = 10_000;

/// Longest object or ordering key, in characters.
pub const MAX_KEY_CHARS: usize = 1024;

/// Longest sender's message id of an incoming message, in characters.
pub const MAX_MESSAGE_ID_CHARS: usize = 200;

/// Longest part of an external-ID mapping (system, object type, key, id), in characters.
pub const MAX_ID_CHARS: usize = 1024;

/// Longest exchange channel name, in characters (as the SSL's).
pub const MAX_CHANNEL_CHARS: usize = 150;

/// Longest piece of an input an error quotes, in characters: a longer input is quoted by
/// its beginning and its size ([`quoted`]).
pub const MAX_QUOTED_CHARS: usize = 120;

/// Longest explanation an error shows whole, in characters: a longer one (a reason built
/// around a long input) keeps its beginning and its end, where the explanation usually is
/// ([`elided`]).
pub const MAX_REASON_CHARS: usize = 600;

/// Most problems a configuration error lists; it counts the rest.
pub const MAX_LISTED_PROBLEMS: usize = 20;

/// Longest error text a front door hands out (a C error message, the add-in's `LastError`,
/// an HTTP answer's reason), in bytes ([`bounded_error_text`]).
pub const MAX_ERROR_BYTES: usize = 4096;

/// Longest line the C library's and the add-in's log writes, in bytes, its end included: a
/// longer message is cut (`…`), keeping the line's time, level, target and key-values.
pub const MAX_LOG_LINE_BYTES: usize = 8 << 10;

/// Most bytes of schema violations one HTTP answer lists (the receiver's JSON answer to a
/// body that breaks its flow's schema): the rest are counted, not listed.
pub const MAX_VIOLATIONS_BYTES: usize = 64 << 10;

/// `text` as an error quotes it: whole when it has at most [`MAX_QUOTED_CHARS`] characters,
/// otherwise its first [`MAX_QUOTED_CHARS`] characters followed by `…` and its size, so an
/// error about a 5 MB argument stays a line long.
pub fn quoted(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => {
            std::borrow::Cow::Owned(format!("{}… ({} bytes in all)", &text[..end], text.len()))
        }
    }
}

/// An error's explanation as it is shown: whole when it has at most [`MAX_REASON_CHARS`]
/// characters, otherwise its first and last half of that many with the size of what was
/// cut between them.
pub fn elided(text: &str) -> std::borrow::Cow<'_, str> {
    let count = text.chars().count();
    if count <= MAX_REASON_CHARS {
        return std::borrow::Cow::Borrowed(text);
    }
    let half = MAX_REASON_CHARS / 2;
    let head_end = text.char_indices().nth(half).map_or(text.len(), |(i, _)| i);
    let tail_start = text
        .char_indices()
        .nth(count - half)
        .map_or(text.len(), |(i, _)| i);
    std::borrow::Cow::Owned(format!(
        "{} … ({} bytes cut) … {}",
        &text[..head_end],
        tail_start - head_end,
        &text[tail_start..]
    ))
}

/// An error's text cut to at most [`MAX_ERROR_BYTES`] bytes (on a character boundary, ending
/// in `…`): the last bound on what a front door hands out, behind [`quoted`].
pub fn bounded_error_text(mut text: String) -> String {
    cut_to(&mut text, MAX_ERROR_BYTES);
    text
}

/// Cuts `text` to at most `max_bytes` bytes, on a character boundary, ending in `…` when it
/// was cut (`max_bytes` below the ellipsis's 3 bytes leaves it empty).
pub(crate) fn cut_to(text: &mut String, max_bytes: usize) {
    if text.len() > max_bytes {
        let ellipsis = "…";
        let Some(mut end) = max_bytes.checked_sub(ellipsis.len()) else {
            text.clear();
            return;
        };
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str(ellipsis);
    }
}

/// Reads the text file at `path`, refusing one larger than [`MAX_FILE_BYTES`] (a device
/// such as `/dev/zero` named by mistake ends there too, instead of filling memory).
///
/// # Errors
/// The reason, in words: the I/O error, or the limit.
pub(crate) fn read_text_file(path: &std::path::Path) -> std::result::Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!(
            "it is larger than {MAX_FILE_BYTES} bytes, the limit"
        ));
    }
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())
}

fn depth_reason(line: usize, column: usize) -> String {
    format!("nested deeper than {MAX_JSON_DEPTH} levels, the limit, at line {line} column {column}")
}

/// The parser's message for `e`, naming the depth limit when that is what was hit.
pub(crate) fn json_error_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with("recursion limit exceeded") {
        depth_reason(e.line(), e.column())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_as_text_stops_at_the_limit() {
        let err = read_text_file(std::path::Path::new("/dev/zero")).unwrap_err();
        assert_eq!(err, "it is larger than 67108864 bytes, the limit");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.json");
        std::fs::write(&file, "{}").unwrap();
        assert_eq!(read_text_file(&file).unwrap(), "{}");
        std::fs::write(&file, b"\xff").unwrap();
        assert_eq!(read_text_file(&file).unwrap_err(), "it is not UTF-8 text");
    }

    #[test]
    fn quoted_inputs_and_error_texts_are_bounded() {
        assert_eq!(quoted("ORDERS"), "ORDERS");
        let exact = "я".repeat(MAX_QUOTED_CHARS);
        assert_eq!(quoted(&exact), exact.as_str());
        let long = "я".repeat(5_000_000);
        let q = quoted(&long);
        assert!(q.starts_with(&"я".repeat(MAX_QUOTED_CHARS)));
        assert!(q.ends_with("… (10000000 bytes in all)"), "{q}");
        assert!(q.chars().count() < MAX_QUOTED_CHARS + 30);
        assert_eq!(elided("short"), "short");
        let reason = format!("'{}' must start with '/'", "x".repeat(5_000_000));
        let e = elided(&reason);
        assert!(
            e.starts_with("'xxx") && e.ends_with("xxx' must start with '/'"),
            "{e}"
        );
        assert!(e.contains("bytes cut") && e.chars().count() < MAX_REASON_CHARS + 40);
        assert_eq!(bounded_error_text("short".into()), "short");
        let cut = bounded_error_text("ж".repeat(MAX_ERROR_BYTES));
        assert!(
            cut.len() <= MAX_ERROR_BYTES && cut.ends_with('…'),
            "{}",
            cut.len()
        );
    }
}
