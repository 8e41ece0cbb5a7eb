//! Fuzz target `openapi_document`: see `integra_fuzz::openapi_document`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| integra_fuzz::openapi_document(data));
