//! The C ABI through its header (the C library's own test checks that the committed header is
//! what cbindgen generates now): it compiles alone as C11 and C++17 with every warning an
//! error (with and without the optional features' declarations), a C program runs the whole cycle through it against a
//! real HTTP subscriber, another runs the message exchange between two bases, and a program
//! generated from the header calls every function it declares with valid, NULL and bad
//! arguments under AddressSanitizer and UBSan (the sweep, `c_abi/sweep.rs`). A C program's
//! log file is checked in `c_abi/logs.rs`.

mod logs;
mod sweep;

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
/// library cargo built, into `dir`, with `flags` (`-D…`, sanitizers).
fn compile(source: impl AsRef<Path>, dir: &Path, flags: &[&str]) -> PathBuf {
    let program = dir.join("program");
    let libs = target_dir();
    run(Command::new("gcc")
        .args(flags)
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
        // An RPATH, searched before LD_LIBRARY_PATH (a RUNPATH is searched after it): cargo
        // test lists target/<profile> there, where a `cargo build` with other features leaves
        // a libintegra.so of its own.
        .arg("-Wl,--disable-new-dtags")
        .arg("-lintegra"));
    program
}

/// The shell commands of the README's C quick start: its first `sh` block.
fn c_quick_start_commands(readme: &str) -> &str {
    let section = &readme[readme.find("## C quick start").unwrap()..];
    let block = &section[section.find("```sh\n").unwrap() + "```sh\n".len()..];
    &block[..block.find("```").unwrap()]
}

/// Issue 22: the C quick start builds and runs exactly as the README says. Its commands run
/// in a directory laid out as the repository (`include`, `examples`, and `target/release`
/// holding the library this test run built, as `cargo build --release` would), with no
/// `LD_LIBRARY_PATH`: the program finds the library by the rpath the README gives.
#[test]
fn the_c_quick_start_builds_and_runs_as_the_readme_says() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let example = std::fs::read_to_string(root().join("examples/c/quickstart.c")).unwrap();
    assert!(
        readme.contains(&example),
        "the README's C quick start differs from examples/c/quickstart.c"
    );
    let commands = c_quick_start_commands(&readme);
    let (build, rest) = commands.split_once('\n').unwrap();
    // This test's build made the library already (with every feature, into its own
    // directory, which stands in for target/release below).
    assert_eq!(
        build.split('#').next().unwrap().trim(),
        "cargo build --release -p integra-c"
    );
    let readme_url = "http://127.0.0.1:8080";
    assert!(rest.contains(readme_url), "{rest}");

    let shop = Receiver::ok();
    let repository = tempfile::tempdir().unwrap();
    let layout = repository.path();
    std::fs::create_dir(layout.join("target")).unwrap();
    for (link, to) in [
        ("include", root().join("include")),
        ("examples", root().join("examples")),
        ("target/release", target_dir()),
    ] {
        std::os::unix::fs::symlink(to, layout.join(link)).unwrap();
    }
    let output = run(Command::new("sh")
        .args(["-e", "-c", &rest.replace(readme_url, shop.url())])
        .current_dir(layout)
        .env_remove("LD_LIBRARY_PATH"));
    assert!(output.contains(r#""status":"sent""#), "{output}");
    assert_eq!(shop.received()[0].body, r#"{"number": "A-1"}"#);
}

#[test]
fn a_c_program_runs_the_whole_cycle_through_the_header() {
    let shop = Receiver::ok();
    let dir = tempfile::tempdir().unwrap();
    let program = compile("tests/c/scenario.c", dir.path(), &[]);
    let output = run(Command::new(&program)
        .arg(crate::support::database(dir.path()))
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

/// Issue 22: eight sessions, each with its handle, register 200 messages each, opening the
/// database with the configuration before each (as the BSL wrapper did), while a ninth
/// keeps opening it with the configuration too and a tenth keeps changing another flow: all
/// 1,600 registrations succeed (a few in each run failed with "the configuration changed 5
/// times while this call ran"), and each is queued once.
#[test]
fn registrations_of_eight_sessions_go_on_while_others_reload_and_change_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let program = compile("tests/c/sessions.c", dir.path(), &["-pthread"]);
    let database = crate::support::database(dir.path());
    let output = run(Command::new(&program).arg(&database));
    assert!(
        output.contains("sessions passed: 1600 registered"),
        "{output}"
    );
    let engine = integra::Engine::open(&database, integra::EngineOptions::default()).unwrap();
    let queued: u64 = engine.counts().unwrap().messages.values().sum();
    assert_eq!(queued, 1600);
}

/// Issue 16: each thread reads the last error of its own calls. Eight threads share one
/// handle, each failing a call that names itself and then making one that succeeds, 2,500
/// times: every failure's text is read back by its own thread, every success leaves it
/// empty (with one last error per handle, up to 3 in 20,000 read an empty text).
#[test]
fn eight_threads_on_one_handle_each_read_their_own_last_error() {
    let dir = tempfile::tempdir().unwrap();
    let program = compile("tests/c/last_error.c", dir.path(), &["-pthread"]);
    let output = run(Command::new(&program).arg(crate::support::database(dir.path())));
    assert!(
        output.contains("last_error passed: 20000 failures read"),
        "{output}"
    );
}

/// Issue 10: the C ABI never crashes its caller on any input. The sweep calls every function
/// `include/integra.h` declares: with valid arguments, with each pointer NULL, with text that
/// is not UTF-8 or not JSON or nested too deep, with negative and huge numbers, and on
/// engines never opened, closed and NULL (`tests/c/sweep.h` has the checks).
#[test]
fn every_c_function_survives_null_bad_and_closed_arguments_under_sanitizers() {
    let header = std::fs::read_to_string(root().join("include/integra.h")).unwrap();
    let sweep = sweep::generate(&header);
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("sweep.c");
    std::fs::write(&source, format!("#include \"sweep.h\"\n\n{}", sweep.code)).unwrap();
    let include = root().join("tests/c");
    let mut flags = vec![
        "-g",
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=all",
        "-fno-omit-frame-pointer",
        "-I",
        include.to_str().unwrap(),
    ];
    flags.extend(sweep.defines.iter().map(String::as_str));
    let program = compile(&source, dir.path(), &flags);
    let output = run(Command::new(&program)
        .arg(crate::support::database(dir.path()))
        .env("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"));
    let expected = format!("sweep passed: {} calls", sweep.calls);
    assert!(output.contains(&expected), "{output}");
    assert!(
        sweep.functions > 40,
        "only {} functions swept",
        sweep.functions
    );
}

/// A function with a parameter the sweep cannot pass stops the sweep, naming the type: a new
/// function is swept or noticed, never skipped.
#[test]
#[should_panic(expected = "cannot pass `float`")]
fn the_sweep_refuses_a_parameter_type_it_does_not_know() {
    sweep::generate(
        "enum integra_status integra_engine_frob(struct integra_engine *engine,\n    float speed);\n",
    );
}
