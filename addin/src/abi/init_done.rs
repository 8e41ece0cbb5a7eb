//! `IInitDoneBase`, the object's base at offset 0: `Init` (the platform's connection),
//! `setMemManager` (its allocator), `GetInfo` (the technology version) and `Done`. Init and
//! setMemManager may come in either order, so neither allocates.

use std::ffi::{c_long, c_void};

use super::connection::Connection;
use super::guard::guard;
use super::memory::MemoryManager;
use super::object::{INIT_DONE, Object, destructor};

/// The vtable, in slot order (two destructor slots in the Itanium C++ ABI, one in MSVC's).
#[repr(C)]
pub(crate) struct Vtable {
    dtor: unsafe extern "system" fn(*mut c_void),
    #[cfg(not(windows))]
    dtor2: unsafe extern "system" fn(*mut c_void),
    init: unsafe extern "system" fn(*mut c_void, *mut c_void) -> bool,
    set_mem_manager: unsafe extern "system" fn(*mut c_void, *mut c_void) -> bool,
    get_info: unsafe extern "system" fn(*mut c_void) -> c_long,
    done: unsafe extern "system" fn(*mut c_void),
}

#[cfg(not(windows))]
const _: () = assert!(std::mem::size_of::<Vtable>() == 6 * std::mem::size_of::<usize>());
#[cfg(windows)]
const _: () = assert!(std::mem::size_of::<Vtable>() == 5 * std::mem::size_of::<usize>());

pub(crate) static VTABLE: Vtable = Vtable {
    dtor: destructor,
    #[cfg(not(windows))]
    dtor2: destructor,
    init,
    set_mem_manager,
    get_info,
    done,
};

/// The version of the add-in technology supported (2.0).
const TECHNOLOGY_VERSION: c_long = 2000;

unsafe extern "system" fn init(this: *mut c_void, connection: *mut c_void) -> bool {
    guard(|| {
        // SAFETY: the platform calls with this base of a live object.
        let state = unsafe { Object::state(this, INIT_DONE) };
        state.set_connection(connection.cast::<Connection>());
        true
    })
}

unsafe extern "system" fn set_mem_manager(this: *mut c_void, memory: *mut c_void) -> bool {
    guard(|| {
        // SAFETY: the platform calls with this base of a live object.
        let state = unsafe { Object::state(this, INIT_DONE) };
        state.set_memory(memory.cast::<MemoryManager>());
        !memory.is_null()
    })
}

unsafe extern "system" fn get_info(_this: *mut c_void) -> c_long {
    guard(|| TECHNOLOGY_VERSION)
}

unsafe extern "system" fn done(this: *mut c_void) {
    guard(|| {
        // SAFETY: the platform calls with this base of a live object.
        let state = unsafe { Object::state(this, INIT_DONE) };
        state.finish();
    });
}
