//! Fuzz target `receiver_request`: see `integra_fuzz::receiver_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| integra_fuzz::receiver_request(data));
