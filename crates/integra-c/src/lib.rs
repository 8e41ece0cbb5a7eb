//! # Integra's C library
//!
//! `libintegra.so`, declared in `include/integra.h`, which the build script (`build.rs` at the
//! repository root) generates from these modules with cbindgen. The calls are the operations
//! of `integra_core`'s JSON front door, with C types. Their conventions:
//!
//! * Every symbol starts with `integra_`. `integra_engine` is opaque: made by
//!   `integra_engine_new`, freed by `integra_engine_free` (NULL-safe).
//! * Every fallible function returns an `integra_status`; on failure
//!   `integra_engine_last_error` says what was wrong, and out-parameters are not written.
//!   A NULL where a pointer is required is `INTEGRA_STATUS_NULL_PARAMETER`, refused before
//!   the call does anything (`tests/it/c_abi.rs` sweeps every function for this).
//! * Strings are NUL-terminated UTF-8 both ways; complex values are JSON. Returned strings
//!   belong to the caller, who frees them with `integra_string_free`.
//! * Nothing unwinds into C: every function runs inside one panic guard and reports a
//!   panic as `INTEGRA_STATUS_PANIC`.
//! * Every function may be called from any thread, on one handle from several at once. The
//!   last error belongs to the thread: `integra_engine_last_error` tells what this thread's
//!   last call on the handle said, whatever other threads do with it meanwhile.
//! * The library installs no logger but its own: a log file named in the open settings
//!   (`integra_engine_open`), one per process.

mod engine;
mod handle;
#[cfg(feature = "receiver")]
mod message_exchange;
mod panic;
mod status;
mod string;

pub use handle::IntegraEngine;
pub use status::IntegraStatus;

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn the_committed_header_is_what_cbindgen_generates() {
        let generated = include_str!(concat!(env!("OUT_DIR"), "/integra.h"));
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../include/integra.h");
        let committed = std::fs::read_to_string(committed).unwrap();
        assert!(
            committed == generated,
            "include/integra.h is stale: regenerate it with `INTEGRA_UPDATE_HEADER=1 cargo build -p integra-c` and commit it"
        );
    }
}
