//! Strings Integra hands to C, and the version.

use std::ffi::c_char;

use crate::handle::free_string;
use crate::panic::guard;

/// Frees a string Integra returned (NULL is ignored).
///
/// # Safety
/// `s` is NULL or a string an Integra function returned, not freed before and not used
/// again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_string_free(s: *mut c_char) {
    // SAFETY: the caller's contract.
    guard(|| unsafe { free_string(s) });
}

/// Integra's version, e.g. `"0.1.0"`: a static string, never freed.
#[unsafe(no_mangle)]
pub extern "C" fn integra_version() -> *const c_char {
    guard(|| VERSION.as_ptr().cast())
}

/// The version, NUL-terminated.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
