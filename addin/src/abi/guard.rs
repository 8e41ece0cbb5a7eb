//! The one guard every entry point from 1C runs inside: a panic is caught at the boundary
//! and becomes the entry's failure value (false, −1, NULL, 0), never an unwind into the
//! platform, which would abort the 1C server process with every session in it.

use std::ffi::c_long;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What an entry point returns when the code under it panicked.
pub(crate) trait Failure {
    fn failure() -> Self;
}

impl Failure for bool {
    fn failure() -> Self {
        false
    }
}

impl Failure for c_long {
    fn failure() -> Self {
        -1
    }
}

impl Failure for std::ffi::c_int {
    fn failure() -> Self {
        0
    }
}

impl<T> Failure for *const T {
    fn failure() -> Self {
        std::ptr::null()
    }
}

impl Failure for () {
    fn failure() -> Self {}
}

/// Runs `body`, returning the failure value if it panics.
pub(crate) fn guard<R: Failure>(body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| R::failure())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_failure_value() {
        assert!(!guard(|| -> bool { panic!("a bug") }));
        assert_eq!(guard(|| -> c_long { panic!("a bug") }), -1);
        assert!(guard(|| -> *const u16 { panic!("a bug") }).is_null());
        assert!(guard(|| true));
    }
}
