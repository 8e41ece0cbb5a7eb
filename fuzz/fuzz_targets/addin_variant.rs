//! Fuzz target `addin_variant`: see `integra_fuzz::addin_variant`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| integra_fuzz::addin_variant(data));
