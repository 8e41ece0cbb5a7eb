//! The only place raw pointers from C are turned into Rust values, and Rust values into
//! pointers C owns: the engine handle (a `Box`), string arguments (borrowed, checked for
//! NULL and UTF-8), out-parameters (refused when NULL before the call does anything, written
//! only on success) and returned strings (a `CString` C frees with `integra_string_free`).
//!
//! Every call on an engine goes through [`call`], which runs inside the panic guard, clears
//! and records the calling thread's last error on that engine, and turns a failure into its
//! status.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char};
use std::ptr::NonNull;
use std::sync::{PoisonError, RwLock};

use integra_core::Error;
use integra_core::json_api::Handle;

use crate::panic::guard;
use crate::status::IntegraStatus;

/// An engine handle as C holds it: `integra_engine*`.
pub struct IntegraEngine {
    pub(crate) handle: RwLock<Handle>,
}

thread_local! {
    /// What the last call of this thread on each engine (by its address) said was wrong,
    /// for the engines whose last call here failed: a call that succeeds removes its entry,
    /// so the map holds no more than the handles this thread saw fail, each text bounded.
    /// Another thread's calls never touch it.
    static LAST_ERRORS: RefCell<HashMap<usize, String>> = RefCell::new(HashMap::new());
}

/// Why a call failed: its status and what to say.
pub(crate) struct Failure {
    status: IntegraStatus,
    message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            status: IntegraStatus::from(&e),
            message: e.to_string(),
        }
    }
}

impl Failure {
    fn null(name: &str) -> Self {
        Failure {
            status: IntegraStatus::NullParameter,
            message: format!("{name} is NULL"),
        }
    }
}

/// A new engine handle, owned by C until [`free_engine`].
pub(crate) fn new_engine() -> *mut IntegraEngine {
    Box::into_raw(Box::new(IntegraEngine {
        handle: RwLock::new(Handle::new()),
    }))
}

/// Drops an engine handle made by [`new_engine`]; NULL is ignored.
///
/// # Safety
/// `engine` is NULL or came from [`new_engine`] and is not used again.
pub(crate) unsafe fn free_engine(engine: *mut IntegraEngine) {
    if !engine.is_null() {
        // SAFETY: the caller passes a pointer from `Box::into_raw` that it gives up.
        let engine = unsafe { Box::from_raw(engine) };
        engine.set_error(String::new());
        drop(engine);
    }
}

impl IntegraEngine {
    /// This engine's key in the calling thread's last errors.
    fn key(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    /// Records what the calling thread's last call on this engine said was wrong (empty:
    /// nothing).
    fn set_error(&self, message: String) {
        LAST_ERRORS.with_borrow_mut(|errors| {
            if message.is_empty() {
                errors.remove(&self.key());
            } else {
                errors.insert(self.key(), message);
            }
        });
    }

    /// What the calling thread's last call on this engine said was wrong; empty when it
    /// succeeded (or there was none).
    pub(crate) fn last_error(&self) -> String {
        LAST_ERRORS.with_borrow(|errors| errors.get(&self.key()).cloned().unwrap_or_default())
    }

    /// Runs `body` with the handle for reading (every call but open and close).
    pub(crate) fn read<T>(&self, body: impl FnOnce(&Handle) -> T) -> T {
        body(&self.handle.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs `body` with the handle for writing (open and close).
    pub(crate) fn write<T>(&self, body: impl FnOnce(&mut Handle) -> T) -> T {
        body(&mut self.handle.write().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Runs one call on `engine` inside the panic guard: clears its last error, runs `body`,
/// and records a failure's message. A NULL engine is `INTEGRA_STATUS_NULL_PARAMETER`.
///
/// # Safety
/// `engine` is NULL or a live handle from `integra_engine_new`.
pub(crate) unsafe fn call(
    engine: *const IntegraEngine,
    body: impl FnOnce(&IntegraEngine) -> Result<(), Failure>,
) -> IntegraStatus {
    guard(|| {
        // SAFETY: the caller passes NULL or a live handle.
        let Some(engine) = (unsafe { engine.as_ref() }) else {
            return IntegraStatus::NullParameter;
        };
        engine.set_error(String::new());
        match body(engine) {
            Ok(()) => IntegraStatus::Ok,
            Err(failure) => {
                engine.set_error(integra_core::limits::bounded_error_text(failure.message));
                failure.status
            }
        }
    })
}

/// A string argument, borrowed for the call.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string that outlives the call.
pub(crate) unsafe fn text<'a>(text: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if text.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL, and NUL-terminated per the contract.
    unsafe { CStr::from_ptr(text) }
        .to_str()
        .map_err(|e| Failure {
            status: IntegraStatus::InvalidArgument,
            message: format!("{name} is not UTF-8: {e}"),
        })
}

/// A string argument that may be NULL, meaning empty.
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn optional_text<'a>(t: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if t.is_null() {
        Ok("")
    } else {
        // SAFETY: as the caller promised.
        unsafe { text(t, name) }
    }
}

/// An out-parameter, checked for NULL before the call does any work (so a NULL one is
/// refused with nothing done) and written only when the call succeeds. Made only by [`out`]
/// and [`optional_out`], whose callers promise it is writable for the call, and used within
/// it.
pub(crate) struct Out<T>(NonNull<T>);

/// The required out-parameter `out`; NULL is `INTEGRA_STATUS_NULL_PARAMETER`.
///
/// # Safety
/// `out` is NULL or valid for a write of `T` until the call returns.
pub(crate) unsafe fn out<T>(out: *mut T, name: &str) -> Result<Out<T>, Failure> {
    NonNull::new(out)
        .map(Out)
        .ok_or_else(|| Failure::null(name))
}

/// An out-parameter the caller may leave NULL: `None` then.
///
/// # Safety
/// As [`out`].
pub(crate) unsafe fn optional_out<T>(out: *mut T) -> Option<Out<T>> {
    NonNull::new(out).map(Out)
}

impl<T> Out<T> {
    /// Writes `value`, at the end of a call that succeeded.
    pub(crate) fn put(self, value: T) -> Result<(), Failure> {
        // SAFETY: non-NULL, and writable until the call returns, as [`out`] requires.
        unsafe { self.0.as_ptr().write(value) };
        Ok(())
    }
}

impl Out<*mut c_char> {
    /// Writes a new string C owns.
    pub(crate) fn put_string(self, value: String) -> Result<(), Failure> {
        self.put(owned_string(value))
    }
}

/// A string C owns (free with `integra_string_free`). A NUL inside (never in Integra's
/// JSON, which escapes it) becomes U+FFFD.
pub(crate) fn owned_string(value: String) -> *mut c_char {
    let value = CString::new(value).unwrap_or_else(|e| {
        let text = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\u{fffd}");
        CString::new(text).unwrap_or_default()
    });
    value.into_raw()
}

/// Frees a string made by [`owned_string`]; NULL is ignored.
///
/// # Safety
/// `s` is NULL or came from Integra and is not used again.
pub(crate) unsafe fn free_string(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: the pointer came from `CString::into_raw`, and the caller gives it up.
        drop(unsafe { CString::from_raw(s) });
    }
}
