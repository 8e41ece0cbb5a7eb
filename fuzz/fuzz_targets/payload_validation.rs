//! Fuzz target `payload_validation`: see `integra_fuzz::payload_validation`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| integra_fuzz::payload_validation(data));
