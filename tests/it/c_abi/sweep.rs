//! The C ABI sweep's generator: it parses the function declarations cbindgen writes into
//! `include/integra.h` and writes the C function `sweep()` that calls every one of them,
//! once with valid arguments and once for each way an argument can be wrong (the checks each
//! call must pass are in `tests/c/sweep.h`). A parameter of a type the generator does not
//! know stops it with a panic naming the type, so a new function is either swept or noticed.

use std::fmt::Write as _;

/// What the sweep passes for a parameter, by its C type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `struct integra_engine *`: a live, never opened, closed or NULL engine.
    Engine,
    /// `const char *`: text in, NUL-terminated UTF-8.
    Text,
    /// `char *`: a string Integra returned, given back to be freed.
    Returned,
    /// `char **`: an out-string.
    OutText,
    /// `bool *`, `uint64_t *`: another out-parameter.
    OutValue,
    /// `int64_t`.
    Integer,
    /// `bool`.
    Flag,
}

impl Kind {
    fn of(ty: &str) -> Option<Kind> {
        Some(match ty {
            "struct integra_engine *" | "const struct integra_engine *" => Kind::Engine,
            "const char *" => Kind::Text,
            "char *" => Kind::Returned,
            "char **" => Kind::OutText,
            "bool *" | "uint64_t *" => Kind::OutValue,
            "int64_t" => Kind::Integer,
            "bool" => Kind::Flag,
            _ => return None,
        })
    }

    fn is_pointer(self) -> bool {
        !matches!(self, Kind::Integer | Kind::Flag)
    }
}

/// One parameter of a declaration.
#[derive(Debug)]
struct Param {
    name: String,
    ty: String,
    kind: Kind,
    /// The function's documentation says it may be NULL.
    optional: bool,
}

/// One function the header declares.
#[derive(Debug)]
pub(super) struct Function {
    name: String,
    returns: String,
    params: Vec<Param>,
}

/// What the sweep generates from a header: the C code and how many calls it makes.
pub(super) struct Sweep {
    /// The `-D` flags that declare every function (`#if defined(…)` in the header).
    pub(super) defines: Vec<String>,
    /// `declared()` and `sweep()`, to be compiled after `#include "sweep.h"`.
    pub(super) code: String,
    /// The functions swept.
    pub(super) functions: usize,
    /// The calls `sweep()` makes.
    pub(super) calls: usize,
}

/// A type and a name, `const char *flow` → (`const char *`, `flow`).
fn split_declarator(text: &str) -> (String, String) {
    let text = text.trim();
    let at = text
        .rfind(|c: char| c.is_whitespace() || c == '*')
        .map_or(0, |i| i + 1);
    let (ty, name) = text.split_at(at);
    let ty = ty.split_whitespace().collect::<Vec<_>>().join(" ");
    (
        ty.replace(" *", "*").replace('*', " *").replace("* ", "*"),
        name.to_owned(),
    )
}

/// Every function declared in `header` (in every `#if` branch), with its documentation.
pub(super) fn declarations(header: &str) -> Vec<Function> {
    let (mut functions, mut doc, mut pending) = (Vec::new(), String::new(), String::new());
    for line in header.lines() {
        if let Some(comment) = line.strip_prefix("//") {
            doc.push_str(comment.trim());
            doc.push(' ');
        } else if !pending.is_empty() || (line.contains('(') && !line.starts_with(['#', ' '])) {
            pending.push_str(line.trim());
            pending.push(' ');
            if line.trim_end().ends_with(");") {
                functions.push(parse(&pending, &doc));
                pending.clear();
                doc.clear();
            }
        } else {
            doc.clear();
        }
    }
    functions
}

/// One declaration, `returns name(params);`, documented by `doc`.
fn parse(declaration: &str, doc: &str) -> Function {
    let (head, params) = declaration
        .split_once('(')
        .unwrap_or_else(|| panic!("not a declaration: {declaration}"));
    let (returns, name) = split_declarator(head);
    let params = params.trim().trim_end_matches(';').trim_end_matches(')');
    let params = if params.trim() == "void" {
        Vec::new()
    } else {
        params
            .split(',')
            .map(|p| parameter(&name, p, doc))
            .collect()
    };
    Function {
        name,
        returns,
        params,
    }
}

fn parameter(function: &str, text: &str, doc: &str) -> Param {
    let (ty, name) = split_declarator(text);
    let kind = Kind::of(&ty).unwrap_or_else(|| {
        panic!(
            "the C ABI sweep cannot pass `{ty}` (parameter `{name}` of {function}): \
             teach tests/it/c_abi/sweep.rs what a valid and a bad `{ty}` are"
        )
    });
    let optional = [" may be NULL", " (may be NULL", " (NULL"]
        .iter()
        .any(|after| doc.contains(&format!("`{name}`{after}")));
    Param {
        name,
        ty,
        kind,
        optional,
    }
}

/// One call the sweep makes.
struct Case {
    /// What it tests, for the failure message.
    label: String,
    /// The engine it runs on (`LIVE`, `NEVER_OPENED`, `CLOSED`, `ABSENT`).
    fixture: &'static str,
    /// The argument that differs from the valid call: its index and C expression.
    changed: Option<(usize, String)>,
    /// The status it must return (`ANY`, or an `INTEGRA_STATUS_…`).
    expect: &'static str,
}

/// A valid argument for `param` (number `i`), or the out-parameter local it points to.
fn valid(param: &Param, i: usize) -> String {
    match param.kind {
        Kind::Engine => "engine".to_owned(),
        Kind::Text if param.name.ends_with("_json") => r#""{}""#.to_owned(),
        Kind::Text => r#""x""#.to_owned(),
        Kind::Returned => "NULL".to_owned(),
        Kind::OutText => format!("&out{i}"),
        Kind::OutValue => format!("&out{i}.value"),
        Kind::Integer => "1".to_owned(),
        Kind::Flag => "false".to_owned(),
    }
}

/// The calls for `f`: valid; on each kind of engine; each pointer NULL; bad text; bad
/// numbers. A destructor (a `void` function of one pointer) is called with NULL only: the
/// header leaves anything else (a foreign or freed pointer) undefined.
fn cases(f: &Function) -> Vec<Case> {
    let case = |label: String, fixture, changed, expect| Case {
        label: format!("{}: {label}", f.name),
        fixture,
        changed,
        expect,
    };
    if f.returns == "void" {
        assert!(
            f.params.len() == 1 && f.params[0].kind.is_pointer(),
            "the C ABI sweep knows only destructors among void functions, not {}",
            f.name
        );
        let null = Some((0, "NULL".to_owned()));
        return vec![case("NULL".into(), "ABSENT", null, "ANY")];
    }
    let on_null = if f.returns.contains('*') {
        "NULL"
    } else {
        "INTEGRA_STATUS_NULL_PARAMETER"
    };
    let mut all = vec![case("valid arguments".into(), "LIVE", None, "ANY")];
    for (i, p) in f.params.iter().enumerate() {
        let with = |label: &str, fixture, value: &str, expect| {
            let label = format!("{} {label}", p.name);
            case(label, fixture, Some((i, value.to_owned())), expect)
        };
        match p.kind {
            Kind::Engine => all.extend([
                case("never opened".into(), "NEVER_OPENED", None, "ANY"),
                case("closed".into(), "CLOSED", None, "ANY"),
                with("NULL", "ABSENT", "NULL", on_null),
            ]),
            Kind::Returned => panic!("{}: only a destructor takes `{}`", f.name, p.ty),
            _ if p.kind.is_pointer() => {
                let expect = if p.optional { "ANY" } else { on_null };
                all.push(with("NULL", "LIVE", "NULL", expect));
            }
            _ => {}
        }
        let invalid = "INTEGRA_STATUS_INVALID_ARGUMENT";
        match p.kind {
            Kind::Text => all.extend([
                with("not UTF-8", "LIVE", "NOT_UTF8", invalid),
                with("not JSON", "LIVE", "NOT_JSON", "ANY"),
                with("nested too deep", "LIVE", "DEEP", "ANY"),
            ]),
            Kind::Integer => all.extend([
                with("INT64_MIN", "LIVE", "INT64_MIN", invalid),
                with("-1", "LIVE", "-1", invalid),
                with("0", "LIVE", "0", "ANY"),
                with("INT64_MAX", "LIVE", "INT64_MAX", "ANY"),
            ]),
            Kind::Flag => all.push(with("true", "LIVE", "true", "ANY")),
            _ => {}
        }
    }
    all
}

/// The C block that makes call `case` of `f`.
fn render(f: &Function, case: &Case) -> String {
    let mut c = String::from("    {\n");
    let takes_engine = f.params.iter().any(|p| p.kind == Kind::Engine);
    if takes_engine {
        let _ = writeln!(
            c,
            "        integra_engine *engine = engine_for({});",
            case.fixture
        );
    }
    let mut args = Vec::new();
    let mut checks = String::new();
    for (i, p) in f.params.iter().enumerate() {
        if let Some((at, value)) = &case.changed
            && *at == i
        {
            args.push(value.clone());
            continue;
        }
        args.push(valid(p, i));
        let label = &case.label;
        match p.kind {
            Kind::OutText => {
                let _ = writeln!(c, "        char *out{i} = NULL;");
                let _ = writeln!(
                    checks,
                    "        check_out_string(status, out{i}, \"{label}\");"
                );
            }
            Kind::OutValue => {
                let ty = p.ty.trim_end_matches(" *");
                let _ = writeln!(
                    c,
                    "        union {{ {ty} value; unsigned char bytes[sizeof({ty})]; }} out{i};\n        \
                     memset(&out{i}, UNWRITTEN, sizeof out{i});"
                );
                let _ = writeln!(
                    checks,
                    "        check_out_value(status, &out{i}, sizeof out{i}, \"{label}\");"
                );
            }
            _ => {}
        }
    }
    let call = format!("{}({})", f.name, args.join(", "));
    let engine = if takes_engine { "engine" } else { "NULL" };
    let label = &case.label;
    match f.returns.as_str() {
        "void" => {
            let _ = writeln!(c, "        {call};\n        calls++;");
        }
        "enum integra_status" => {
            let _ = writeln!(c, "        integra_status status = {call};");
            let _ = writeln!(
                c,
                "        check_status({engine}, status, {}, \"{label}\");",
                case.expect
            );
        }
        pointer => {
            let _ = writeln!(c, "        {pointer}result = {call};");
            let null = case.expect == "NULL";
            let _ = writeln!(c, "        check_pointer(result, {null}, \"{label}\");");
            match pointer {
                "char *" => c.push_str("        integra_string_free(result);\n"),
                "struct integra_engine *" => c.push_str("        integra_engine_free(result);\n"),
                "const char *" => {}
                other => panic!(
                    "the C ABI sweep cannot dispose of `{other}` from {}",
                    f.name
                ),
            }
        }
    }
    c.push_str(&checks);
    if takes_engine {
        c.push_str("        release(engine);\n");
    }
    c.push_str("    }\n");
    c
}

/// The sweep of every function in `header`.
pub(super) fn generate(header: &str) -> Sweep {
    let functions = declarations(header);
    let statuses: Vec<&str> = header
        .lines()
        .filter_map(|l| l.trim().strip_prefix("INTEGRA_STATUS_"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut code = String::from("static bool declared(int status) {\n    switch (status) {\n");
    for status in &statuses {
        let _ = writeln!(code, "    case INTEGRA_STATUS_{status}:");
    }
    code.push_str("        return true;\n    default:\n        return false;\n    }\n}\n\n");
    code.push_str("static void sweep(void) {\n");
    let mut calls = 0;
    for f in &functions {
        for case in cases(f) {
            code.push_str(&render(f, &case));
            calls += 1;
        }
    }
    code.push_str("}\n");
    let mut defines: Vec<String> = header
        .lines()
        .filter(|l| l.starts_with("#if"))
        .flat_map(|l| l.split("defined(").skip(1))
        .filter_map(|d| d.split(')').next())
        .map(|d| format!("-D{d}"))
        .collect();
    defines.sort();
    defines.dedup();
    Sweep {
        defines,
        code,
        functions: functions.len(),
        calls,
    }
}
