//! The fuzz corpora (`fuzz/corpus/<target>/`, kept by `scripts/fuzz.sh`) replayed through the
//! fuzz targets' own bodies (`fuzz/src/targets.rs`) on the stable toolchain, so every input
//! that once crashed a target stays fixed without cargo fuzz.

use std::path::Path;

#[path = "../../fuzz/src/targets.rs"]
mod targets;

/// Runs every file of `fuzz/corpus/<name>/` through target `name`.
fn replay(name: &str) {
    let (_, target) = targets::TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", dir.display());
    let failed: Vec<_> = files
        .iter()
        .filter(|file| {
            let data = std::fs::read(file).unwrap();
            std::panic::catch_unwind(|| target(&data)).is_err()
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(failed.is_empty(), "inputs that fail: {failed:#?}");
}

#[test]
fn every_target_has_a_corpus_and_every_corpus_a_target() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut folders: Vec<String> = std::fs::read_dir(corpus)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut names: Vec<&str> = targets::TARGETS.iter().map(|(name, _)| *name).collect();
    names.sort();
    assert_eq!(folders, names);
}

#[test]
fn openapi_document() {
    replay("openapi_document");
}

#[test]
fn payload_validation() {
    replay("payload_validation");
}

#[test]
fn configuration() {
    replay("configuration");
}

#[test]
fn receiver_request() {
    replay("receiver_request");
}

#[test]
fn addin_variant() {
    replay("addin_variant");
}
