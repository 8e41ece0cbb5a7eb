//! The C ABI through its header: the committed header is what cbindgen generates now, it
//! compiles alone as C11 and C++17 with every warning an error (with and without the
//! optional features' declarations), a C program runs the whole cycle through it against a
//! real HTTP subscriber, and another runs the message exchange between two bases.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::Receiver;
use crate::support::brokers::free_port;

/// The repository root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where cargo put the libraries of this build: `target/<profile>/deps`, next to this test
/// (a plain `cargo test` leaves the cdylib there and copies it up only for `cargo build`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().to_owned()
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{command:?} failed:\n{text}");
    text
}

#[test]
fn the_committed_header_is_what_cbindgen_generates() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/integra.h"));
    let committed = std::fs::read_to_string(root().join("include/integra.h")).unwrap();
    assert!(
        committed == generated,
        "include/integra.h is stale: regenerate it with `INTEGRA_UPDATE_HEADER=1 cargo build` and commit it"
    );
}

#[test]
fn the_header_compiles_alone_as_c11_and_as_cpp17() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("twice.c");
    // Included twice: the include guard must hold.
    std::fs::write(&source, "#include \"integra.h\"\n#include \"integra.h\"\nint main(void) { return integra_version() == 0; }\n").unwrap();
    let include = root().join("include");
    let languages = [("gcc", "-std=c11"), ("g++", "-std=c++17")];
    for ((compiler, std), feature) in languages
        .into_iter()
        .flat_map(|l| [(l, None), (l, Some("-DINTEGRA_FEATURE_RECEIVER"))])
    {
        let mut command = Command::new(compiler);
        command.args(feature);
        command
            .args([
                std,
                "-Wall",
                "-Wextra",
                "-Wpedantic",
                "-Werror",
                "-fsyntax-only",
                "-I",
            ])
            .arg(&include);
        if compiler == "g++" {
            command.args(["-x", "c++"]);
        }
        run(command.arg(&source));
    }
}

/// Compiles the C program `source` (relative to the root) against the header and the
/// library cargo built, into `dir`, with `defines` (`-D…`).
fn compile(source: &str, dir: &Path, defines: &[&str]) -> PathBuf {
    let program = dir.join("program");
    let libs = target_dir();
    run(Command::new("gcc")
        .args(defines)
        .args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
            "-I",
        ])
        .arg(root().join("include"))
        .arg(root().join(source))
        .arg("-o")
        .arg(&program)
        .arg(format!("-L{}", libs.display()))
        .arg(format!("-Wl,-rpath,{}", libs.display()))
        .arg("-lintegra"));
    program
}

#[test]
fn the_c_quick_start_in_the_readme_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let example = std::fs::read_to_string(root().join("examples/c/quickstart.c")).unwrap();
    assert!(
        readme.contains(&example),
        "the README's C quick start differs from examples/c/quickstart.c"
    );
    let shop = Receiver::ok();
    let dir = tempfile::tempdir().unwrap();
    let program = compile("examples/c/quickstart.c", dir.path(), &[]);
    let output = run(Command::new(&program)
        .arg(dir.path().join("integra.db"))
        .arg(shop.url()));
    assert!(output.contains(r#""status":"sent""#), "{output}");
    assert_eq!(shop.received()[0].body, r#"{"number": "A-1"}"#);
}

#[test]
fn a_c_program_runs_the_whole_cycle_through_the_header() {
    let shop = Receiver::ok();
    let dir = tempfile::tempdir().unwrap();
    let program = compile("tests/c/scenario.c", dir.path(), &[]);
    let output = run(Command::new(&program)
        .arg(dir.path().join("integra.db"))
        .arg(shop.url()));
    assert!(output.contains("scenario passed"), "{output}");
    let requests = shop.received();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].body, r#"{"number": "A-1", "sum": 10}"#);
}

#[test]
fn a_c_program_runs_the_message_exchange_between_two_bases() {
    let dir = tempfile::tempdir().unwrap();
    let program = compile(
        "tests/c/exchange.c",
        dir.path(),
        &["-DINTEGRA_FEATURE_RECEIVER"],
    );
    let output = run(Command::new(&program)
        .arg(dir.path())
        .arg(free_port().to_string())
        .arg(free_port().to_string()));
    assert!(output.contains("exchange passed"), "{output}");
}
