//! Goal G12, one `RegisterMessage` call as a native caller sees it: builds and runs the C
//! program `benches/native/register_c.c` (the C ABI, `libintegra.so`) and the C++ program
//! `benches/native/register_addin.cpp` (the add-in's Native API, `libintegra_addin.so`,
//! driven as the 1C platform drives it), and reads back the latency each one measured.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One call's latency as the caller saw it, over many calls.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct CallLatency {
    /// How many calls were timed (warm-up calls excluded).
    pub calls: usize,
    /// The median call, in microseconds (nearest rank).
    pub p50_us: f64,
    /// The 99th percentile call, in microseconds (nearest rank).
    pub p99_us: f64,
    /// The slowest call, in microseconds.
    pub max_us: f64,
    /// Calls per second of time spent inside the calls: `calls` / the sum of their times.
    pub per_second: f64,
}

/// Registers `calls` (after `warmup`) 1 KB messages one at a time through the C ABI from a
/// C program compiled here with gcc against include/integra.h and the libintegra.so cargo
/// built next to this benchmark, on a fresh database in `dir`.
pub fn c_abi_register(dir: &Path, calls: usize, warmup: usize) -> Result<CallLatency, String> {
    let libs = library_dir()?;
    library(&libs, "libintegra.so", "integra-c")?;
    let program = dir.join("register_c");
    let mut gcc = Command::new("gcc");
    gcc.args(["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(root().join("include"))
        .arg(root().join("benches/native/register_c.c"))
        .arg("-o")
        .arg(&program)
        .arg(format!("-L{}", libs.display()))
        .arg(format!("-Wl,-rpath,{}", libs.display()))
        .arg("-lintegra");
    compile(gcc, "gcc", "benches/native/register_c.c")?;
    let database = fresh_database(dir, "register-c.db")?;
    let mut command = Command::new(&program);
    command
        .arg(&database)
        .arg(calls.to_string())
        .arg(warmup.to_string());
    measure(command, &program, calls)
}

/// The same through the add-in's Native API, from a C++ program compiled here with g++ that
/// loads libintegra_addin.so as the 1C platform does.
pub fn addin_register(dir: &Path, calls: usize, warmup: usize) -> Result<CallLatency, String> {
    let libs = library_dir()?;
    let addin = library(&libs, "libintegra_addin.so", "integra-addin")?;
    let program = dir.join("register_addin");
    let mut gxx = Command::new("g++");
    gxx.args(["-std=c++17", "-O2", "-Wall", "-Wextra", "-I"])
        .arg(root().join("include"))
        .arg("-I")
        .arg(root().join("addin/tests/host"))
        .arg(root().join("benches/native/register_addin.cpp"))
        .arg("-o")
        .arg(&program)
        .args(["-ldl", "-pthread"]);
    compile(gxx, "g++", "benches/native/register_addin.cpp")?;
    let database = fresh_database(dir, "register-addin.db")?;
    let mut command = Command::new(&program);
    command
        .arg(&addin)
        .arg(&database)
        .arg(calls.to_string())
        .arg(warmup.to_string());
    measure(command, &program, calls)
}

/// The repository root (the benchmark belongs to the root package).
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where cargo put the libraries of this build: `target/<profile>/deps`, the directory of
/// the running benchmark.
fn library_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find the benchmark's own executable: {e}"))?;
    exe.parent().map(Path::to_path_buf).ok_or_else(|| {
        format!(
            "the benchmark's executable {} has no directory",
            exe.display()
        )
    })
}

/// The path of library `file` in `libs`, or an error saying how to build package `package`.
fn library(libs: &Path, file: &str, package: &str) -> Result<PathBuf, String> {
    let path = libs.join(file);
    if path.is_file() {
        return Ok(path);
    }
    // `libs` is target/<profile>/deps: name the profile in the advice.
    let profile = libs
        .parent()
        .and_then(Path::file_name)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let flag = if profile == "debug" { "" } else { " --release" };
    Err(format!(
        "{} is missing: build it with `cargo build{flag} --all-features -p {package}`, then run the benchmark again",
        path.display()
    ))
}

/// Runs a compiler; its stderr is the error when it fails.
fn compile(mut command: Command, compiler: &str, source: &str) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {compiler} to compile {source}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{compiler} failed to compile {source} ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// `dir/name`, with no database (nor its WAL and shared-memory files) left there.
fn fresh_database(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let database = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.join(format!("{name}{suffix}"));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot remove {}: {e}", file.display())),
        }
    }
    Ok(database)
}

/// Runs a measuring program and reads the JSON line it printed.
fn measure(mut command: Command, program: &Path, calls: usize) -> Result<CallLatency, String> {
    let output: Output = command
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}):\n{}{stdout}",
            program.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| format!("{} printed nothing", program.display()))?;
    let latency: CallLatency = serde_json::from_str(line).map_err(|e| {
        format!(
            "{} printed \"{line}\", not the expected JSON line: {e}",
            program.display()
        )
    })?;
    if latency.calls != calls {
        return Err(format!(
            "{} timed {} calls, not the {calls} asked for",
            program.display(),
            latency.calls
        ));
    }
    Ok(latency)
}
