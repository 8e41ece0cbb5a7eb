//! Everything `unsafe` in the add-in: the C++ face of the object (its four vtables, one
//! file per interface), the platform's interfaces it calls (`memory`, `connection`),
//! `tVariant`, UTF-16 strings, and the five exported functions 1C looks up.
//!
//! The layout facts come from `native-api.md`: vtables start with two destructor slots in
//! the Itanium C++ ABI (Linux) and one in MSVC's (Windows); `long` is `c_long`; strings are
//! UTF-16 on every OS; everything handed to the platform is allocated with its memory
//! manager. Every entry point runs inside [`guard::guard`], so no panic unwinds into the
//! platform. Vtables are `static`s whose sizes are asserted at compile time.

mod connection;
mod guard;
mod init_done;
mod lang_extender;
mod locale;
mod memory;
mod object;
mod str1c;
mod user_language;
mod variant;

#[cfg(feature = "fuzzing")]
pub use variant::{HostVariant, decode};

use std::ffi::{c_int, c_long, c_void};
use std::sync::atomic::{AtomicI32, Ordering};

use guard::guard;
use object::Object;
use str1c::from_terminated;

/// `GetClassNames`' answer: the one class, NUL-terminated UTF-16 (static, never freed).
static CLASS_NAMES: [u16; 7] = [
    b'E' as u16,
    b'n' as u16,
    b'g' as u16,
    b'i' as u16,
    b'n' as u16,
    b'e' as u16,
    0,
];

/// `eAppCapabilities3`, the highest level this add-in knows.
const CAPABILITIES: c_int = 3;
/// `eCanAttachAny`: in the platform's process or an isolated one.
const ATTACH_ANY: c_int = 3;

/// What the platform said it can do (kept for diagnostics; the add-in needs nothing more
/// than `AddError`).
static PLATFORM_CAPABILITIES: AtomicI32 = AtomicI32::new(0);

/// The classes this library provides, separated by `|`.
#[unsafe(no_mangle)]
pub extern "C" fn GetClassNames() -> *const u16 {
    guard(|| CLASS_NAMES.as_ptr())
}

/// Creates an object of class `name` into `*object`; non-zero on success.
///
/// # Safety
/// `name` is NULL or NUL-terminated UTF-16; `object` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetClassObject(name: *const u16, object: *mut *mut c_void) -> c_long {
    guard(|| {
        // SAFETY: as the platform promises.
        let name = unsafe { from_terminated(name) }.unwrap_or_default();
        // SAFETY: checked for NULL first.
        if object.is_null() || !unsafe { object.read() }.is_null() {
            return 0;
        }
        if !name.eq_ignore_ascii_case(lang_extender::EXTENSION) {
            return 0;
        }
        // SAFETY: `object` is writable.
        unsafe { object.write(Object::create().cast()) };
        // Not the pointer: it would be truncated to a 32-bit `long` on Windows.
        1
    })
}

/// Destroys an object made by `GetClassObject` and clears `*object`; 0 on success.
///
/// # Safety
/// `object` is NULL or points to NULL or to an object from `GetClassObject`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DestroyObject(object: *mut *mut c_void) -> c_long {
    guard(|| {
        // SAFETY: checked for NULL first.
        if object.is_null() || unsafe { object.read() }.is_null() {
            return -1;
        }
        // SAFETY: the platform passes the object `GetClassObject` made, and gives it up.
        unsafe {
            Object::destroy(object.read().cast());
            object.write(std::ptr::null_mut());
        }
        0
    })
}

/// The platform's capability level in, ours out.
#[unsafe(no_mangle)]
pub extern "C" fn SetPlatformCapabilities(capabilities: c_int) -> c_int {
    guard(|| {
        PLATFORM_CAPABILITIES.store(capabilities, Ordering::Relaxed);
        CAPABILITIES
    })
}

/// Where the add-in may be attached: anywhere.
#[unsafe(no_mangle)]
pub extern "C" fn GetAttachType() -> c_int {
    guard(|| ATTACH_ANY)
}
