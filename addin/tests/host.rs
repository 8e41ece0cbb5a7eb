//! The add-in, loaded by a C++ host that plays the 1C platform (`tests/host/host.cpp`,
//! compiled here with g++ against `include/integra_native_api.h`): the attach phase, every
//! name in both languages and any case, the whole cycle against a real HTTP subscriber (the
//! tests' own, `integra-http-stub`), every kind of bad input, calls after `Done`, a log file
//! (a dead delivery written there, the file closed after the last object), several sessions
//! on several threads, and no platform memory leaked or freed twice; and a sweep of every
//! method, property and lookup with every kind of wrong input. Both run under
//! AddressSanitizer with UBSan, and under valgrind's memcheck.
#![expect(
    clippy::expect_used,
    reason = "a test that meets the unexpected should stop right there, loudly"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use integra_http_stub::Receiver;

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The add-in library cargo built for this test run: in `target/<profile>/deps`, next to
/// this test (a plain `cargo test` copies it up to `target/<profile>` only after `cargo build`).
fn library() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let dir = exe.parent().expect("tests run from target/<profile>/deps");
    dir.join("libintegra_addin.so")
}

/// Builds the host into `dir`, with sanitizers or plain (for valgrind).
fn build_host(dir: &Path, sanitized: bool) -> PathBuf {
    let out = dir.join(if sanitized { "host-asan" } else { "host" });
    let mut command = Command::new("g++");
    command
        .args(["-std=c++17", "-g", "-O1", "-Wall", "-Wextra", "-I"])
        .arg(root().join("include"))
        .arg(root().join("addin/tests/host/host.cpp"))
        .arg("-o")
        .arg(&out)
        .args(["-ldl", "-pthread"]);
    if sanitized {
        // The add-in's vtables have no RTTI prefix (1C never uses it), so UBSan's vptr
        // check is off; everything else is on.
        command.args([
            "-fsanitize=address,undefined",
            "-fno-sanitize=vptr",
            "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=undefined",
        ]);
    }
    let output = command.output().expect("g++ runs");
    assert!(
        output.status.success(),
        "g++ failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("the host runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the host failed ({}):\n{text}",
        output.status
    );
    assert!(text.contains("host: all checks passed"), "{text}");
    text
}

/// The host built with sanitizers, to run on `dir` against the subscriber at `url`.
fn under_sanitizers(dir: &Path, url: &str) -> Command {
    let mut command = Command::new(build_host(dir, true));
    command
        .arg(library())
        .arg(dir)
        .arg(url)
        .env(
            "ASAN_OPTIONS",
            "detect_leaks=1:abort_on_error=0:halt_on_error=1",
        )
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
    command
}

/// The plain host under valgrind's memcheck, to run on `dir` against the subscriber at `url`.
fn under_valgrind(dir: &Path, url: &str) -> Command {
    let mut command = Command::new("valgrind");
    command
        .args([
            "--quiet",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--error-exitcode=99",
        ])
        .arg(build_host(dir, false))
        .arg(library())
        .arg(dir)
        .arg(url);
    command
}

#[test]
fn the_host_runs_clean_under_address_and_undefined_behaviour_sanitizers() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let shop = Receiver::ok();
    run(&mut under_sanitizers(dir.path(), shop.url()));
}

#[test]
fn the_host_runs_clean_under_valgrind_memcheck() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let shop = Receiver::ok();
    run(&mut under_valgrind(dir.path(), shop.url()));
}

/// Issue 17: the cycle through the Native API as 1C calls it, on the PostgreSQL store: the
/// database the open settings name is a URL (a schema of its own on the tests' server,
/// which `scripts/postgres.sh start` provides when none answers).
#[test]
fn the_host_runs_its_cycle_on_postgresql_under_sanitizers() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let started = Command::new(root().join("scripts/postgres.sh"))
        .arg("start")
        .output()
        .expect("scripts/postgres.sh runs");
    assert!(started.status.success(), "{started:?}");
    let name: String = dir
        .path()
        .file_name()
        .expect("a named directory")
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    // Named as the integration suite's schemas are, so its next run drops it.
    let database = std::env::var("INTEGRA_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let database = format!(
        "{database}{}schema=it_host{name}",
        if database.contains('?') { '&' } else { '?' }
    );
    let shop = Receiver::ok();
    run(under_sanitizers(dir.path(), shop.url())
        .arg("cycle")
        .arg(database));
}

/// No subscriber: the sweep sends nothing.
const NOWHERE: &str = "http://127.0.0.1:9";

/// Issue 10: every method (enumerated through the Native API), with no engine open and with
/// each wrong value in each position; calls with frames the platform never builds; lookups,
/// defaults and properties out of range: each returns, and each failed call says why through
/// `AddError` and `LastError` (the host's `sweep` mode).
#[test]
fn every_method_survives_every_kind_of_wrong_input_under_sanitizers() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let mut command = under_sanitizers(dir.path(), NOWHERE);
    let output = run(command.arg("sweep"));
    assert!(output.contains("host: the sweep made"), "{output}");
}

/// The same sweep under valgrind's memcheck, with long strings of 4096 units rather than a
/// megabyte (memcheck runs the add-in some fifty times slower).
#[test]
fn every_method_survives_every_kind_of_wrong_input_under_valgrind() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let mut command = under_valgrind(dir.path(), NOWHERE);
    let output = run(command.args(["sweep", "4096"]));
    assert!(output.contains("host: the sweep made"), "{output}");
}

#[test]
fn the_library_exports_five_symbols_and_needs_only_system_libraries() {
    let exports = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(library())
        .output()
        .expect("nm runs");
    let mut names: Vec<String> = String::from_utf8_lossy(&exports.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "DestroyObject",
            "GetAttachType",
            "GetClassNames",
            "GetClassObject",
            "SetPlatformCapabilities"
        ]
    );
    let dynamic = Command::new("readelf")
        .arg("-d")
        .arg(library())
        .output()
        .expect("readelf runs");
    let needed: Vec<String> = String::from_utf8_lossy(&dynamic.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| {
            l.split('[')
                .nth(1)
                .map(|n| n.trim_end_matches(']').to_owned())
        })
        .collect();
    let system = [
        "libc.so.6",
        "libm.so.6",
        "libgcc_s.so.1",
        "ld-linux-x86-64.so.2",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
    ];
    for library in &needed {
        assert!(
            system.contains(&library.as_str()),
            "the add-in needs {library}, not a system library"
        );
    }
}

#[test]
fn the_package_holds_the_library_and_a_manifest_naming_it() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let output = Command::new(root().join("scripts/package-addin.sh"))
        .arg("--library")
        .arg(library())
        .arg("--out")
        .arg(dir.path())
        .output()
        .expect("the script runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let zip = dir.path().join("Integra.zip");
    let listing = Command::new("unzip")
        .arg("-Z1")
        .arg(&zip)
        .output()
        .expect("unzip runs");
    let mut files: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    files.sort();
    assert_eq!(files, ["MANIFEST.XML", "libIntegra_Linux_x86_64.so"]);
    let manifest = Command::new("unzip")
        .arg("-p")
        .arg(&zip)
        .arg("MANIFEST.XML")
        .output()
        .expect("unzip runs");
    let manifest = String::from_utf8_lossy(&manifest.stdout);
    assert!(
        manifest.contains(r#"<component os="Linux" path="libIntegra_Linux_x86_64.so" type="native" arch="x86_64"/>"#),
        "{manifest}"
    );
}

/// The highest glibc symbol version `library` asks for, as `(major, minor)`.
fn highest_glibc(library: &Path) -> (u32, u32) {
    let symbols = Command::new("objdump")
        .arg("-T")
        .arg(library)
        .output()
        .expect("objdump runs");
    assert!(symbols.status.success(), "objdump -T {}", library.display());
    String::from_utf8_lossy(&symbols.stdout)
        .split_whitespace()
        // `GLIBC_2.2.5`, or `(GLIBC_2.2.5)` for a symbol of a hidden version.
        .filter_map(|word| word.trim_matches(['(', ')']).strip_prefix("GLIBC_"))
        .filter_map(|version| {
            let mut parts = version.split('.');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })
        .max()
        .expect("the library asks for glibc symbols")
}

/// The packaged libraries load on glibc 2.17 (RHEL 7, Astra Linux 1.7 and every newer
/// distribution): the package script links them against glibc 2.17's symbols, and no symbol
/// they ask for is newer (issue 22). Built here with the quick profile: the floor is the
/// link target's, whatever the optimisation.
#[test]
fn the_packaged_libraries_need_glibc_2_17_at_most() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let output = Command::new(root().join("scripts/package-addin.sh"))
        .args(["--profile", "dev", "--out"])
        .arg(dir.path())
        // Its own build directory: this test's cargo holds the one it was built in.
        .env("CARGO_TARGET_DIR", root().join("target/package-check"))
        .output()
        .expect("the script runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir(&unpacked).expect("a directory");
    let unzip = Command::new("unzip")
        .arg("-q")
        .arg(dir.path().join("Integra.zip"))
        .arg("-d")
        .arg(&unpacked)
        .status();
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(dir.path().join("integra-c-linux-x86_64.tar.gz"))
        .arg("-C")
        .arg(&unpacked)
        .status();
    assert!(unzip.expect("unzip runs").success() && untar.expect("tar runs").success());
    for library in ["libIntegra_Linux_x86_64.so", "lib/libintegra.so"] {
        let highest = highest_glibc(&unpacked.join(library));
        assert!(
            highest <= (2, 17),
            "{library} asks for GLIBC_{}.{}",
            highest.0,
            highest.1
        );
    }
}
