//! `UserLanguageBase`, the object's base at three pointers (platforms since 8.3.21):
//! `SetUserInterfaceLanguageCode`. Kept, not applied. Without this fourth vptr a newer
//! platform would call a data word of the object as a vtable.

use std::ffi::c_void;

use super::guard::guard;
use super::object::{Object, USER_LANGUAGE, destructor};
use super::str1c::from_terminated;

/// The vtable, in slot order.
#[repr(C)]
pub(crate) struct Vtable {
    dtor: unsafe extern "system" fn(*mut c_void),
    #[cfg(not(windows))]
    dtor2: unsafe extern "system" fn(*mut c_void),
    set_user_interface_language_code: unsafe extern "system" fn(*mut c_void, *const u16),
}

#[cfg(not(windows))]
const _: () = assert!(std::mem::size_of::<Vtable>() == 3 * std::mem::size_of::<usize>());

pub(crate) static VTABLE: Vtable = Vtable {
    dtor: destructor,
    #[cfg(not(windows))]
    dtor2: destructor,
    set_user_interface_language_code,
};

unsafe extern "system" fn set_user_interface_language_code(this: *mut c_void, code: *const u16) {
    guard(|| {
        // SAFETY: the platform calls with this base of a live object and a NUL-terminated
        // (or NULL) string.
        let (state, code) = unsafe { (Object::state(this, USER_LANGUAGE), from_terminated(code)) };
        state.set_locale(1, code.unwrap_or_default());
    });
}
