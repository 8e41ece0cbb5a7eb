//! A check of the BSL a 1C developer is given (`examples/bsl/*.bsl` and the README's `bsl`
//! blocks), since no 1C platform runs here: every call on the component names a method of
//! [`METHODS`] with as many arguments as it takes (none of its required ones left out), a
//! procedure is never used for its value, every property read is one of [`PROPERTIES`];
//! every call of a shipped module names one of its exports with a fitting argument count;
//! and the modules stand alone: what a chain of calls starts from is a shipped module, a
//! variable or parameter of its own, or a global of the platform (never the SSL's
//! `ОбщегоНазначения`, say).
//!
//! The component is the value of a variable named `Движок` or `Компонента`, or the result of
//! a function `Движок()`, as in the examples. BSL identifiers are case-insensitive.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::methods::{METHODS, PROPERTIES, find, method_names, property_names};

/// The names a component is held under.
const COMPONENT: &[&str] = &["движок", "компонента"];

/// Globals of the platform the examples may start a chain from.
const PLATFORM: &[&str] = &[
    "константы",
    "метаданные",
    "символы",
    "фоновыезадания",
    "регламентныезадания",
    "уровеньжурналарегистрации",
    "типвнешнейкомпоненты",
    "типподключениявнешнейкомпоненты",
    "форматдатыjson",
    "справочники",
    "документы",
];

/// Words before a call that make it an expression whose value is used.
const VALUE_CONTEXT: &[&str] = &[
    "возврат",
    "если",
    "иначеесли",
    "пока",
    "из",
    "и",
    "или",
    "не",
    "вызватьисключение",
];

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Punct(char),
    Text,
}

/// One source: its name (for messages) and its code.
struct Source {
    name: String,
    code: String,
}

/// The tokens of BSL `code`: words (identifiers, keywords, numbers), punctuation, and string
/// and date literals; comments and preprocessor lines (`#Область`, `&НаСервере`) left out.
fn tokens(code: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    let mut line_start = true;
    while let Some(c) = chars.next() {
        if c == '\n' {
            line_start = true;
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        let first_on_line = std::mem::replace(&mut line_start, false);
        if (c == '#' || c == '&') && first_on_line || c == '/' && chars.peek() == Some(&'/') {
            for c in chars.by_ref() {
                if c == '\n' {
                    line_start = true;
                    break;
                }
            }
        } else if c == '"' || c == '\'' {
            // `""` inside a string is a quote; a string goes on over lines starting with `|`.
            while let Some(d) = chars.next() {
                if d == c && chars.peek() != Some(&c) {
                    break;
                }
                if d == c {
                    chars.next();
                }
            }
            out.push(Token::Text);
        } else if c.is_alphanumeric() || c == '_' {
            let mut word = c.to_lowercase().collect::<String>();
            while let Some(&d) = chars.peek() {
                if !(d.is_alphanumeric() || d == '_') {
                    break;
                }
                word.extend(d.to_lowercase());
                chars.next();
            }
            out.push(Token::Word(word));
        } else {
            out.push(Token::Punct(c));
        }
    }
    out
}

fn word(t: Option<&Token>) -> Option<&str> {
    match t {
        Some(Token::Word(w)) => Some(w),
        _ => None,
    }
}

fn is(t: Option<&Token>, p: char) -> bool {
    t == Some(&Token::Punct(p))
}

/// The arguments of the call whose `(` is at `open`: for each, whether it is left out; and
/// the index after its `)`.
fn arguments(tokens: &[Token], open: usize) -> (Vec<bool>, usize) {
    let mut depth = 0;
    let mut args = Vec::new();
    let mut empty = true;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t {
            Token::Punct('(' | '[') => {
                depth += 1;
                if depth > 1 {
                    empty = false;
                }
            }
            Token::Punct(')' | ']') => {
                depth -= 1;
                if depth == 0 {
                    if !(args.is_empty() && empty) {
                        args.push(empty);
                    }
                    return (args, i + 1);
                }
                empty = false;
            }
            Token::Punct(',') if depth == 1 => {
                args.push(empty);
                empty = true;
            }
            _ => empty = false,
        }
    }
    (args, tokens.len())
}

/// Where the chain of calls that reaches `at` starts (`Модуль.Функция().Метод(`).
fn chain_start(tokens: &[Token], mut at: usize) -> usize {
    while at >= 2 && is(tokens.get(at - 1), '.') {
        at -= 2;
        if is(tokens.get(at), ')') {
            let mut depth = 0;
            while at > 0 {
                match tokens[at] {
                    Token::Punct(')') => depth += 1,
                    Token::Punct('(') => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                at -= 1;
            }
            at = at.saturating_sub(1);
        }
    }
    at
}

/// Whether the value of the expression starting at `start` is used.
fn value_used(tokens: &[Token], start: usize) -> bool {
    let Some(before) = start.checked_sub(1).map(|i| &tokens[i]) else {
        return false;
    };
    match before {
        Token::Punct(c) => "=(,+-*/<>[".contains(*c),
        Token::Word(w) => VALUE_CONTEXT.contains(&w.as_str()),
        Token::Text => false,
    }
}

/// A shipped module's exports: name → (required parameters, all parameters).
type Exports = HashMap<String, (usize, usize)>;

/// The exported procedures and functions of `tokens`.
fn exports(tokens: &[Token]) -> Exports {
    let mut out = Exports::new();
    for (i, t) in tokens.iter().enumerate() {
        if !matches!(word(Some(t)), Some("процедура" | "функция")) {
            continue;
        }
        let (Some(name), true) = (word(tokens.get(i + 1)), is(tokens.get(i + 2), '(')) else {
            continue;
        };
        let (_, after) = arguments(tokens, i + 2);
        if word(tokens.get(after)) != Some("экспорт") {
            continue;
        }
        let params = parameters(tokens, i + 2);
        let required = params.iter().filter(|(_, default)| !default).count();
        out.insert(name.to_owned(), (required, params.len()));
    }
    out
}

/// The parameters of the declaration whose `(` is at `open`: name, and whether it has a
/// default.
fn parameters(tokens: &[Token], open: usize) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut i = open + 1;
    while i < tokens.len() && !is(tokens.get(i), ')') {
        if word(tokens.get(i)) == Some("знач") {
            i += 1;
        }
        let name = word(tokens.get(i)).unwrap_or_default().to_owned();
        let default = is(tokens.get(i + 1), '=');
        while i < tokens.len() && !is(tokens.get(i), ',') && !is(tokens.get(i), ')') {
            i += 1;
        }
        out.push((name, default));
        if is(tokens.get(i), ',') {
            i += 1;
        }
    }
    out
}

/// The names a source gives values to: variables assigned, loop variables, parameters.
fn own_names(tokens: &[Token]) -> HashSet<String> {
    let mut out = HashSet::new();
    for (i, t) in tokens.iter().enumerate() {
        let Some(w) = word(Some(t)) else { continue };
        if is(tokens.get(i + 1), '=') || word(tokens.get(i + 1)) == Some("из") {
            out.insert(w.to_owned());
        }
        if matches!(w, "процедура" | "функция") && is(tokens.get(i + 2), '(') {
            out.extend(parameters(tokens, i + 2).into_iter().map(|(name, _)| name));
        }
    }
    out
}

/// Every problem in `source`, given the shipped modules' exports.
fn problems(source: &Source, modules: &HashMap<String, Exports>) -> Vec<String> {
    let tokens = tokens(&source.code);
    let own = own_names(&tokens);
    let mut out = Vec::new();
    for i in 0..tokens.len() {
        let Some(receiver) =
            word(tokens.get(i)).filter(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
        else {
            continue;
        };
        let at = |what: &str| format!("{}: {what}", source.name);
        let (dot, called) = if is(tokens.get(i + 1), '(') && is(tokens.get(i + 2), ')') {
            (i + 3, true)
        } else {
            (i + 1, false)
        };
        if !is(tokens.get(dot), '.') || is(tokens.get(i.wrapping_sub(1)), '.') && !called {
            continue;
        }
        let Some(member) = word(tokens.get(dot + 1)) else {
            continue;
        };
        let member_called = is(tokens.get(dot + 2), '(');
        if COMPONENT.contains(&receiver) {
            if member_called {
                let (args, _) = arguments(&tokens, dot + 2);
                let used = value_used(&tokens, chain_start(&tokens, i));
                out.extend(component_call(member, &args, used).map(|e| at(&e)));
            } else if find(PROPERTIES, property_names, member).is_none() {
                out.push(at(&format!("the component has no property {member}")));
            }
            continue;
        }
        if is(tokens.get(i.wrapping_sub(1)), '.') || called {
            continue;
        }
        if let Some(exports) = modules.get(receiver) {
            let (args, _) = arguments(&tokens, dot + 2);
            match exports.get(member) {
                Some(_) if !member_called => {}
                Some(&(required, all)) if (required..=all).contains(&args.len()) => {}
                Some(&(required, all)) => out.push(at(&format!(
                    "{receiver}.{member} takes {required} to {all} arguments, given {}",
                    args.len()
                ))),
                None => out.push(at(&format!("{receiver} exports no {member}"))),
            }
        } else if !own.contains(receiver) && !PLATFORM.contains(&receiver) {
            out.push(at(&format!(
                "{receiver}.{member}: {receiver} is neither a module shipped here, a variable of this module, nor a global of the platform"
            )));
        }
    }
    out
}

/// What is wrong with calling the component's method `name` with `args` (each: left out or
/// not), its value `used` or not.
fn component_call(name: &str, args: &[bool], used: bool) -> Option<String> {
    let Some(m) = find(METHODS, method_names, name).map(|i| &METHODS[i]) else {
        return Some(format!("the component has no method {name}"));
    };
    if args.len() > m.params.len() {
        return Some(format!(
            "{} takes {} parameters, given {}",
            m.name,
            m.params.len(),
            args.len()
        ));
    }
    let left_out = m
        .params
        .iter()
        .enumerate()
        .find(|(i, p)| p.default.is_none() && args.get(*i).is_none_or(|&empty| empty));
    if let Some((_, p)) = left_out {
        return Some(format!("{} needs its parameter {}", m.name, p.name));
    }
    if used && !m.returns {
        return Some(format!("{} returns nothing, but its value is used", m.name));
    }
    None
}

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The examples' `.bsl` files and the `bsl` blocks of the README and the examples' README.
fn sources() -> Vec<Source> {
    let mut out = Vec::new();
    let dir = root().join("examples/bsl");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "bsl") {
            out.push(Source {
                name: path.file_name().unwrap().to_string_lossy().into_owned(),
                code: std::fs::read_to_string(&path).unwrap(),
            });
        }
    }
    for readme in ["README.md", "examples/bsl/README.md"] {
        let text = std::fs::read_to_string(root().join(readme)).unwrap();
        for (n, block) in text.split("```bsl\n").skip(1).enumerate() {
            out.push(Source {
                name: format!("{readme}, bsl block {}", n + 1),
                code: block.split("```").next().unwrap_or_default().to_owned(),
            });
        }
    }
    out
}

/// The modules shipped: each `.bsl` file named as a common module (no dot in its name).
fn modules(sources: &[Source]) -> HashMap<String, Exports> {
    sources
        .iter()
        .filter_map(|s| {
            let module = s.name.strip_suffix(".bsl")?;
            (!module.contains('.')).then(|| (module.to_lowercase(), exports(&tokens(&s.code))))
        })
        .collect()
}

/// Issue 22: the examples called the SSL (`ОбщегоНазначения.*`), which the README did not
/// mention; every call on the component and on the shipped modules is now checked here.
#[test]
fn the_bsl_examples_call_only_what_exists_with_fitting_arguments() {
    let sources = sources();
    let modules = modules(&sources);
    assert!(
        modules.contains_key("интеграсервер"),
        "{:?}",
        modules.keys()
    );
    let found: Vec<String> = sources.iter().flat_map(|s| problems(s, &modules)).collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
    let calls = sources
        .iter()
        .map(|s| {
            tokens(&s.code)
                .windows(2)
                .filter(|w| word(w.first()).is_some_and(|r| COMPONENT.contains(&r)))
                .count()
        })
        .sum::<usize>();
    assert!(calls > 30, "only {calls} uses of the component found");
}

#[test]
fn the_check_finds_wrong_names_counts_uses_and_foreign_modules() {
    let source = |code: &str| Source {
        name: "test.bsl".to_owned(),
        code: code.to_owned(),
    };
    let shipped = HashMap::from([(
        "модуль".to_owned(),
        Exports::from([("функция".to_owned(), (1, 2))]),
    )]);
    let code = r#"
        // Движок.Несуществующий() in a comment is not code.
        Движок.Отправитьь(1, 2);
        Движок().Отправить(1, 2, 3);
        Движок.Отправить(, 2);
        Х = Движок.ПодтвердитьВходящее("a");
        Если Движок.ЗапуститьОтправку() Тогда КонецЕсли;
        Модуль.Функция();
        Модуль.Нет(1);
        Модуль.Функция(1, "a, b");
        ОбщегоНазначения.СсылкаСуществует(Х);
        Движок.ПоследняяОшибка;
        Движок.Цвет;
    "#;
    let found = problems(&source(code), &shipped);
    assert_eq!(
        found,
        [
            "test.bsl: the component has no method отправитьь",
            "test.bsl: Dispatch takes 2 parameters, given 3",
            "test.bsl: Dispatch needs its parameter max",
            "test.bsl: AckIncoming returns nothing, but its value is used",
            "test.bsl: модуль.функция takes 1 to 2 arguments, given 0",
            "test.bsl: модуль exports no нет",
            "test.bsl: общегоназначения.ссылкасуществует: общегоназначения is neither a module shipped here, a variable of this module, nor a global of the platform",
            "test.bsl: the component has no property цвет",
        ]
    );
}
