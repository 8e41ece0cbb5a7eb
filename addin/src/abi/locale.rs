//! `LocaleBase`, the object's base at two pointers: `SetLocale`. The locale is kept, never
//! applied: `setlocale` in a 1C server process would change it for every session.

use std::ffi::c_void;

use super::guard::guard;
use super::object::{LOCALE, Object, destructor};
use super::str1c::from_terminated;

/// The vtable, in slot order.
#[repr(C)]
pub(crate) struct Vtable {
    dtor: unsafe extern "system" fn(*mut c_void),
    #[cfg(not(windows))]
    dtor2: unsafe extern "system" fn(*mut c_void),
    set_locale: unsafe extern "system" fn(*mut c_void, *const u16),
}

#[cfg(not(windows))]
const _: () = assert!(std::mem::size_of::<Vtable>() == 3 * std::mem::size_of::<usize>());

pub(crate) static VTABLE: Vtable = Vtable {
    dtor: destructor,
    #[cfg(not(windows))]
    dtor2: destructor,
    set_locale,
};

unsafe extern "system" fn set_locale(this: *mut c_void, locale: *const u16) {
    guard(|| {
        // SAFETY: the platform calls with this base of a live object and a NUL-terminated
        // (or NULL) string.
        let (state, locale) = unsafe { (Object::state(this, LOCALE), from_terminated(locale)) };
        state.set_locale(0, locale.unwrap_or_default());
    });
}
