//! Fuzz target `configuration`: see `integra_fuzz::configuration`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| integra_fuzz::configuration(data));
