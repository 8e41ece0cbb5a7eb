//! `IAddInDefBase`, the platform's side of an object: the add-in uses only `AddError`, to
//! turn a failed call into a BSL exception with the failure's text. It is called from the
//! thread of the failing call, never from background threads, and never after `Done`.

use std::ffi::c_long;

use super::str1c::terminated;

/// `ADDIN_E_FAIL`: an error message.
const ADDIN_E_FAIL: u16 = 1006;
/// `E_FAIL`: a non-zero code makes 1C raise an exception with the text.
const E_FAIL: c_long = 0x8000_4005_u32 as c_long;

/// The platform's `IAddInDefBase` vtable, up to the one method used.
#[repr(C)]
struct ConnectionVtable {
    dtor: usize,
    #[cfg(not(windows))]
    dtor2: usize,
    add_error:
        unsafe extern "system" fn(*mut Connection, u16, *const u16, *const u16, c_long) -> bool,
}

/// The platform's object passed to `Init`, as the add-in sees it: its vptr.
#[repr(C)]
pub(crate) struct Connection {
    vtable: *const ConnectionVtable,
}

impl Connection {
    /// Reports `text` as an exception in the calling BSL code.
    ///
    /// # Safety
    /// `this` is the live object the platform passed to `Init`, and `Done` has not run.
    pub(crate) unsafe fn add_error(this: *mut Connection, text: &str) {
        let (source, description) = (terminated("Integra"), terminated(text));
        // SAFETY: the vtable is the platform's; both strings are NUL-terminated and live
        // through the call (the platform copies them).
        unsafe {
            ((*(*this).vtable).add_error)(
                this,
                ADDIN_E_FAIL,
                source.as_ptr(),
                description.as_ptr(),
                E_FAIL,
            );
        }
    }
}
