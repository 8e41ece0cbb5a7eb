//! `pattern` as ECMA 262 means it, for Rust's regex engines.
//!
//! OpenAPI 3.0's `pattern` is an ECMA 262 regular expression, where `\d`, `\w` and `\b` speak of
//! ASCII digits and word characters (`[A-Za-z0-9_]`) and `\s` of ECMA's own whitespace. The
//! `jsonschema` crate translates `\d`, `\w` and `\s` for Rust's engines, which read them with
//! Unicode, but not `\b` / `\B`, and nothing at all in a pattern with a look-around or a
//! back-reference, which it hands to fancy-regex as written. [`engine`] says how each pattern
//! is compiled instead:
//!
//! * with neither `\b`, `\B`, a look-around nor a back-reference: by the crate, as written;
//! * with a look-around or a back-reference (which only fancy-regex, a backtracking engine,
//!   runs): by the crate, rewritten: `\b` / `\B` become look-arounds on ASCII word
//!   characters, and the class escapes explicit classes, in and out of brackets;
//! * otherwise (`\b` / `\B` in a pattern the regex crate can run): by Integra's own keyword on
//!   the regex crate, which keeps linear time (fancy-regex gives up on long values),
//!   rewritten alike but with the regex crate's ASCII word boundaries, `(?-u:\b)`, which
//!   fancy-regex refuses.
//!
//! Either rewrite also reads `[\b]` as a backspace and `\cX` as a control character.

use std::fmt::Write;

/// ECMA's word characters, `\w`.
const WORD: &[(u32, u32)] = &[(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)];
/// ECMA's digits, `\d`.
const DIGIT: &[(u32, u32)] = &[(0x30, 0x39)];
/// ECMA's whitespace and line terminators, `\s`.
const SPACE: &[(u32, u32)] = &[
    (0x09, 0x0D),
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
];
/// The largest Unicode code point.
const LAST: u32 = 0x10_FFFF;

/// How a `pattern` is compiled (see the module's documentation).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Engine {
    /// By the crate, as written.
    AsWritten,
    /// By the crate (fancy-regex), rewritten.
    Rewritten(String),
    /// By Integra's keyword on the regex crate, rewritten.
    Linear(String),
}

/// How `pattern` is compiled, and from what.
pub(crate) fn engine(pattern: &str) -> Engine {
    let fancy = Rewrite::run(pattern, false);
    if fancy.backtracking {
        Engine::Rewritten(fancy.out)
    } else if fancy.boundary {
        Engine::Linear(Rewrite::run(pattern, true).out)
    } else {
        Engine::AsWritten
    }
}

/// Whether `pattern` is an ECMA 262 regular expression that compiles.
pub(crate) fn is_usable(pattern: &str) -> bool {
    let crate_compiles = |p: &str| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(&serde_json::json!({"pattern": p}))
            .is_ok()
    };
    let is_ecma = || {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&serde_json::json!({"format": "regex"}))
            .is_ok_and(|v| v.is_valid(&serde_json::json!(pattern)))
    };
    match engine(pattern) {
        Engine::AsWritten => crate_compiles(pattern),
        Engine::Rewritten(rewritten) => is_ecma() && crate_compiles(&rewritten),
        Engine::Linear(rewritten) => is_ecma() && regex::Regex::new(&rewritten).is_ok(),
    }
}

/// One pass over a pattern.
struct Rewrite {
    chars: Vec<char>,
    at: usize,
    out: String,
    /// Word boundaries as the regex crate's ASCII ones rather than as look-arounds.
    ascii_boundaries: bool,
    /// Whether the pattern has a look-around or a back-reference.
    backtracking: bool,
    /// Whether it has a `\b` or `\B` (in brackets too), which the crate reads otherwise.
    boundary: bool,
}

/// An item of a bracketed class.
enum Item {
    /// A character or an escape standing for one, as written.
    Char(String),
    /// A class escape (`\d`, `\W` …), as ranges: it cannot end a range.
    Set(String),
    /// A `-`.
    Hyphen,
}

impl Rewrite {
    fn run(pattern: &str, ascii_boundaries: bool) -> Rewrite {
        let mut rewrite = Rewrite {
            chars: pattern.chars().collect(),
            at: 0,
            out: String::with_capacity(pattern.len() * 2),
            ascii_boundaries,
            backtracking: false,
            boundary: false,
        };
        rewrite.pattern();
        rewrite
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn pattern(&mut self) {
        while let Some(c) = self.peek(0) {
            match c {
                '\\' => self.escape(),
                '[' => self.class(),
                '(' if self.peek(1) == Some('?')
                    && (matches!(self.peek(2), Some('=' | '!'))
                        || self.peek(2) == Some('<')
                            && matches!(self.peek(3), Some('=' | '!'))) =>
                {
                    self.backtracking = true;
                    self.out.push(c);
                    self.at += 1;
                }
                c => {
                    self.out.push(c);
                    self.at += 1;
                }
            }
        }
    }

    /// An escape outside brackets.
    fn escape(&mut self) {
        let Some(c) = self.peek(1) else {
            self.out.push('\\');
            self.at += 1;
            return;
        };
        self.at += 2;
        let word = class(WORD, false);
        match c {
            'b' | 'B' if self.ascii_boundaries => {
                self.boundary = true;
                let _ = write!(self.out, "(?-u:\\{c})");
            }
            'b' => {
                self.boundary = true;
                let _ = write!(self.out, "(?:(?<={word})(?!{word})|(?<!{word})(?={word}))");
            }
            'B' => {
                self.boundary = true;
                let _ = write!(self.out, "(?:(?<={word})(?={word})|(?<!{word})(?!{word}))");
            }
            'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                self.out.push_str(&class(set(c), c.is_ascii_uppercase()));
            }
            'c' if let Some(control) = self.control() => self.out.push_str(&control),
            c => {
                if c.is_ascii_digit() && c != '0' || c == 'k' && self.peek(0) == Some('<') {
                    self.backtracking = true;
                }
                self.out.push('\\');
                self.out.push(c);
            }
        }
    }

    /// After `\c`: the control character its letter names, as an escape.
    fn control(&mut self) -> Option<String> {
        let letter = self.peek(0).filter(char::is_ascii_alphabetic)?;
        self.at += 1;
        Some(format!("\\u{{{:X}}}", u32::from(letter) % 32))
    }

    /// A bracketed class, from its `[` to its `]`.
    fn class(&mut self) {
        let start = self.at;
        self.at += 1;
        let negated = self.peek(0) == Some('^');
        if negated {
            self.at += 1;
        }
        let mut items = Vec::new();
        loop {
            match self.peek(0) {
                None => {
                    // Unclosed: left as written, for the compiler to refuse.
                    self.out.extend(&self.chars[start..]);
                    return;
                }
                Some(']') => {
                    self.at += 1;
                    break;
                }
                Some('-') => {
                    self.at += 1;
                    items.push(Item::Hyphen);
                }
                Some('\\') => items.push(self.class_escape()),
                Some(c) => {
                    self.at += 1;
                    items.push(Item::Char(literal(c)));
                }
            }
        }
        if items.is_empty() {
            // `[]` and `[^]`: as written.
            self.out.extend(&self.chars[start..self.at]);
            return;
        }
        self.out.push('[');
        if negated {
            self.out.push('^');
        }
        let mut i = 0;
        while i < items.len() {
            match (&items[i], items.get(i + 1), items.get(i + 2)) {
                (Item::Char(from), Some(Item::Hyphen), Some(Item::Char(to))) => {
                    let _ = write!(self.out, "{from}-{to}");
                    i += 3;
                }
                (Item::Char(text) | Item::Set(text), _, _) => {
                    self.out.push_str(text);
                    i += 1;
                }
                // A hyphen that makes no range (Annex B: beside a class escape, it is itself).
                (Item::Hyphen, _, _) => {
                    self.out.push_str("\\-");
                    i += 1;
                }
            }
        }
        self.out.push(']');
    }

    /// An escape inside brackets.
    fn class_escape(&mut self) -> Item {
        let Some(c) = self.peek(1) else {
            self.at += 1;
            return Item::Char("\\\\".into());
        };
        self.at += 2;
        match c {
            'd' | 'D' | 'w' | 'W' | 's' | 'S' => Item::Set(ranges(set(c), c.is_ascii_uppercase())),
            'b' => {
                self.boundary = true;
                Item::Char("\\u{8}".into())
            }
            'c' if let Some(control) = self.control() => Item::Char(control),
            c => {
                // The rest of a multi-character escape belongs to it, so that a range
                // (`\x41-\x5A`) is seen whole.
                let rest = match c {
                    'x' => self.hex(2),
                    'u' if self.peek(0) == Some('{') => self.braced(),
                    'u' => self.hex(4),
                    _ => 0,
                };
                let mut text = format!("\\{c}");
                text.extend(&self.chars[self.at..self.at + rest]);
                self.at += rest;
                Item::Char(text)
            }
        }
    }

    /// `n` when the next `n` characters are hexadecimal digits, else 0.
    fn hex(&self, n: usize) -> usize {
        if (0..n).all(|i| self.peek(i).is_some_and(|c| c.is_ascii_hexdigit())) {
            n
        } else {
            0
        }
    }

    /// The length of a `{…}` that follows, if it closes; else 0.
    fn braced(&self) -> usize {
        let mut n = 1;
        while let Some(c) = self.peek(n) {
            n += 1;
            if c == '}' {
                return n;
            }
        }
        0
    }
}

/// The character ranges a class escape letter names.
fn set(letter: char) -> &'static [(u32, u32)] {
    match letter.to_ascii_lowercase() {
        'd' => DIGIT,
        'w' => WORD,
        _ => SPACE,
    }
}

/// A character inside brackets, escaped where Rust's classes give it a meaning ECMA's do
/// not (nesting, `&&`, `~~`).
fn literal(c: char) -> String {
    match c {
        '[' | '&' | '~' => format!("\\{c}"),
        c => c.to_string(),
    }
}

/// `set` as a bracketed class, or its complement.
fn class(set: &[(u32, u32)], negated: bool) -> String {
    let body = ranges(set, false);
    if negated {
        format!("[^{body}]")
    } else {
        format!("[{body}]")
    }
}

/// `set` (sorted, disjoint), or its complement, as the items of a bracketed class.
fn ranges(set: &[(u32, u32)], complement: bool) -> String {
    let mut spans = Vec::new();
    if complement {
        let mut next = 0;
        for &(from, to) in set {
            if from > next {
                spans.push((next, from - 1));
            }
            next = to + 1;
        }
        if next <= LAST {
            spans.push((next, LAST));
        }
    } else {
        spans.extend_from_slice(set);
    }
    let mut out = String::new();
    for (from, to) in spans {
        if from == to {
            let _ = write!(out, "\\u{{{from:X}}}");
        } else {
            let _ = write!(out, "\\u{{{from:X}}}-\\u{{{to:X}}}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `text` matches `pattern`, compiled as validation compiles it.
    fn matches(pattern: &str, text: &str) -> bool {
        assert!(is_usable(pattern), "{pattern}");
        let through_the_crate = |p: &str| {
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft7)
                .build(&serde_json::json!({"pattern": p}))
                .unwrap_or_else(|e| panic!("{pattern} → {p}: {e}"))
                .is_valid(&serde_json::json!(text))
        };
        match engine(pattern) {
            Engine::AsWritten => through_the_crate(pattern),
            Engine::Rewritten(p) => through_the_crate(&p),
            Engine::Linear(p) => regex::Regex::new(&p).unwrap().is_match(text),
        }
    }

    #[test]
    fn each_pattern_goes_to_the_engine_that_reads_it_as_ecma_does() {
        for pattern in [
            r"^\d{10}$",
            r"[\w.-]+@[\w.-]+",
            r"^[А-Я]{2}-\d{6}$",
            r"a\\b",
        ] {
            assert_eq!(engine(pattern), Engine::AsWritten, "{pattern}");
        }
        assert_eq!(
            engine(r"^\w\b"),
            Engine::Linear(r"^[\u{30}-\u{39}\u{41}-\u{5A}\u{5F}\u{61}-\u{7A}](?-u:\b)".into())
        );
        assert!(matches!(engine(r"(?=a)\b"), Engine::Rewritten(_)));
        assert!(matches!(engine(r"(a)\1\b"), Engine::Rewritten(_)));
        for unusable in [r"\b(", r"(?=a)\b(", r"(?i)\b"] {
            assert!(!is_usable(unusable), "{unusable}");
        }
    }

    /// Issue 15: `\b` follows ECMA's ASCII word characters, as `\w` does.
    #[test]
    fn word_boundaries_are_ascii() {
        for look_around in ["", "(?=.?)"] {
            let m = |pattern: &str, text: &str| matches(&format!("{look_around}{pattern}"), text);
            assert!(m(r"^[a-z]+\b", "caé"));
            assert!(!m(r"^[a-z]+\b", "c1"));
            assert!(!m(r"é\b", "é"));
            assert!(m(r"é\b", "éa"));
            assert!(m(r"^.\B.$", "жж"));
            assert!(!m(r"^.\B.$", "aж"));
            assert!(m(r"\bfoo\b", "a foo."));
            assert!(m(r"^[\b]$", "\u{8}"));
            assert!(m(r"^\cJ\b", "\na"));
        }
    }

    /// A word boundary on a long value stays in linear time, where fancy-regex would give up.
    #[test]
    fn word_boundaries_on_long_values() {
        let long = format!("{}foo", "ab ".repeat(700_000));
        assert!(matches(r"\bfoo\b", &long));
        assert!(!matches(r"^[a-z ]+\b$", &format!("{long}é")));
    }

    #[test]
    fn class_escapes_keep_their_ecma_meaning_beside_look_arounds() {
        assert!(!matches(r"^(?=.*\d)", "a١"));
        assert!(matches(r"^(?=.*\d)", "a1"));
        assert!(matches(r"^(?!\s)[\w\s]+$", "a b\u{a0}c"));
        assert!(!matches(r"^(?!\s)[\w\s]+$", "aé"));
        assert!(matches(r"^(?=x)[^\W\d]$", "x"));
        assert!(!matches(r"(?=.)^[^\W\d]$", "1"));
        assert!(!matches(r"(?=.)^\S$", "\u{2028}"));
        assert!(matches(r"(?=.)^\S$", "\u{85}"));
        assert!(matches(r"(?=.)^(a)\1$", "aa"));
    }

    #[test]
    fn classes_keep_their_ecma_meaning() {
        for (text, expected) in [("a-b", true), ("a-", false), ("a`b", false)] {
            assert_eq!(matches(r"^[\w-]+\b$", text), expected, "{text}");
            assert_eq!(matches(r"^[-\w]+\b$", text), expected, "{text}");
        }
        assert!(matches(r"^[\x41-\x43]\b", "B"));
        assert!(!matches(r"^[\x41-\x43]\b", "D"));
        assert!(matches(r"^[\u0041-\u0043]+\b", "AB"));
        assert!(matches(r"^[&&~~[]+\b", "&~[a"));
        assert!(matches(r"^[^\d\s]\b", "x"));
        assert!(!matches(r"^[^\d\s]\b", "1"));
        // A class escape cannot bound a range; the crate holds such a pattern invalid.
        assert!(!is_usable(r"^[\w-z]+\b$"));
    }
}
