//! The C library's build script (package `integra-c`, `crates/integra-c`; it sits here, beside
//! the `include/` it writes to). Generates `integra.h`, the header of the C ABI, into
//! `OUT_DIR` with cbindgen (configured by the crate's `cbindgen.toml`). The committed copy in
//! `include/` is checked against it by a test; with `INTEGRA_UPDATE_HEADER=1` this also
//! refreshes that copy.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=INTEGRA_UPDATE_HEADER");
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let config = match cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")) {
        Ok(config) => config,
        Err(e) => {
            println!("cargo:warning=cbindgen.toml: {e}");
            return;
        }
    };
    let header = out_dir.join("integra.h");
    match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(&header);
            if std::env::var_os("INTEGRA_UPDATE_HEADER").is_some() {
                bindings.write_to_file(crate_dir.join("../../include/integra.h"));
            }
        }
        Err(e) => println!("cargo:warning=cbindgen could not generate integra.h: {e}"),
    }
}
