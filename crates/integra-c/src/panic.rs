//! The one guard every exported function runs inside: a panic is caught at the boundary and
//! turned into the function's failure value ([`PanicDefault`]), never unwound into C (which
//! would abort the process) and never aborting.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::status::IntegraStatus;

/// What an exported function returns when the code under it panicked.
pub(crate) trait PanicDefault {
    fn on_panic() -> Self;
}

impl PanicDefault for IntegraStatus {
    fn on_panic() -> Self {
        IntegraStatus::Panic
    }
}

impl<T> PanicDefault for *mut T {
    fn on_panic() -> Self {
        std::ptr::null_mut()
    }
}

impl<T> PanicDefault for *const T {
    fn on_panic() -> Self {
        std::ptr::null()
    }
}

impl PanicDefault for () {
    fn on_panic() -> Self {}
}

/// Runs `body`, returning its failure value if it panics.
pub(crate) fn guard<R: PanicDefault>(body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| R::on_panic())
}
