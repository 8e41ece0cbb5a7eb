//! `ILanguageExtenderBase`, the object's base at one pointer: how BSL sees the object.
//! Names, counts and lookups come from the tables in `methods`; lookups match either
//! language in any case. Every name returned is allocated through the platform's memory
//! manager, fresh for each call (the platform frees it). Any number the platform passes may
//! be out of range, and is checked.

use std::ffi::{c_long, c_void};

use super::guard::guard;
use super::memory::{MemoryManager, Reservation};
use super::object::{LANG_EXTENDER, Object, State, destructor};
use super::str1c::{from_terminated, terminated};
use super::variant::{TVariant, read, write};
use integra_core::json_api::Reserve;

use crate::methods::{METHODS, PROPERTIES, find, method_names, property_names};
use crate::value::Value;

/// The name of the one class, as BSL writes it after `AddIn.Integra.`.
pub(crate) const EXTENSION: &str = "Engine";

/// The vtable, in slot order.
#[repr(C)]
pub(crate) struct Vtable {
    dtor: unsafe extern "system" fn(*mut c_void),
    #[cfg(not(windows))]
    dtor2: unsafe extern "system" fn(*mut c_void),
    register_extension_as: unsafe extern "system" fn(*mut c_void, *mut *mut u16) -> bool,
    get_n_props: unsafe extern "system" fn(*mut c_void) -> c_long,
    find_prop: unsafe extern "system" fn(*mut c_void, *const u16) -> c_long,
    get_prop_name: unsafe extern "system" fn(*mut c_void, c_long, c_long) -> *const u16,
    get_prop_val: unsafe extern "system" fn(*mut c_void, c_long, *mut TVariant) -> bool,
    set_prop_val: unsafe extern "system" fn(*mut c_void, c_long, *mut TVariant) -> bool,
    is_prop_readable: unsafe extern "system" fn(*mut c_void, c_long) -> bool,
    is_prop_writable: unsafe extern "system" fn(*mut c_void, c_long) -> bool,
    get_n_methods: unsafe extern "system" fn(*mut c_void) -> c_long,
    find_method: unsafe extern "system" fn(*mut c_void, *const u16) -> c_long,
    get_method_name: unsafe extern "system" fn(*mut c_void, c_long, c_long) -> *const u16,
    get_n_params: unsafe extern "system" fn(*mut c_void, c_long) -> c_long,
    get_param_def_value:
        unsafe extern "system" fn(*mut c_void, c_long, c_long, *mut TVariant) -> bool,
    has_ret_val: unsafe extern "system" fn(*mut c_void, c_long) -> bool,
    call_as_proc: unsafe extern "system" fn(*mut c_void, c_long, *mut TVariant, c_long) -> bool,
    call_as_func: unsafe extern "system" fn(
        *mut c_void,
        c_long,
        *mut TVariant,
        *mut TVariant,
        c_long,
    ) -> bool,
}

#[cfg(not(windows))]
const _: () = assert!(std::mem::size_of::<Vtable>() == 18 * std::mem::size_of::<usize>());
#[cfg(windows)]
const _: () = assert!(std::mem::size_of::<Vtable>() == 17 * std::mem::size_of::<usize>());

pub(crate) static VTABLE: Vtable = Vtable {
    dtor: destructor,
    #[cfg(not(windows))]
    dtor2: destructor,
    register_extension_as,
    get_n_props,
    find_prop,
    get_prop_name,
    get_prop_val,
    set_prop_val,
    is_prop_readable,
    is_prop_writable,
    get_n_methods,
    find_method,
    get_method_name,
    get_n_params,
    get_param_def_value,
    has_ret_val,
    call_as_proc,
    call_as_func,
};

/// The object's state, for the platform's `this`.
///
/// # Safety
/// `this` is this base of a live object.
unsafe fn state<'a>(this: *mut c_void) -> &'a State {
    // SAFETY: as the caller promised.
    unsafe { Object::state(this, LANG_EXTENDER) }
}

/// `num` as an index into a table of `len` entries.
fn index(num: c_long, len: usize) -> Option<usize> {
    usize::try_from(num).ok().filter(|i| *i < len)
}

/// A table length as the platform's count.
fn count(len: usize) -> c_long {
    c_long::try_from(len).unwrap_or(c_long::MAX)
}

/// `text` in platform memory, NUL-terminated; NULL when there is no memory manager.
fn platform_string(state: &State, text: &str) -> *mut u16 {
    let Some(memory) = state.memory() else {
        return std::ptr::null_mut();
    };
    // SAFETY: the platform's live memory manager (the object is not done).
    unsafe { MemoryManager::alloc_utf16(memory, &terminated(text)) }.unwrap_or(std::ptr::null_mut())
}

/// Writes `value` to `out` for the platform; false (with the reason reported) when it
/// cannot.
fn give(state: &State, out: *mut TVariant, value: &Value, reserved: Option<&Reservation>) -> bool {
    let Some(memory) = state.memory() else {
        return false;
    };
    if out.is_null() {
        return false;
    }
    // SAFETY: `out` is the platform's writable variant; the memory manager is live.
    match unsafe { write(out, value, memory, reserved) } {
        Ok(()) => true,
        Err(reason) => {
            state.report(reason);
            false
        }
    }
}

unsafe extern "system" fn register_extension_as(this: *mut c_void, name: *mut *mut u16) -> bool {
    guard(|| {
        // SAFETY: the platform calls with this base of a live object.
        let state = unsafe { state(this) };
        let extension = platform_string(state, EXTENSION);
        if name.is_null() || extension.is_null() {
            return false;
        }
        // SAFETY: `name` is the platform's writable out-parameter.
        unsafe { name.write(extension) };
        true
    })
}

unsafe extern "system" fn get_n_props(_this: *mut c_void) -> c_long {
    guard(|| count(PROPERTIES.len()))
}

unsafe extern "system" fn find_prop(_this: *mut c_void, name: *const u16) -> c_long {
    guard(|| {
        // SAFETY: the platform passes a NUL-terminated name.
        let name = unsafe { from_terminated(name) }.unwrap_or_default();
        find(PROPERTIES, property_names, &name).map_or(-1, count)
    })
}

unsafe extern "system" fn get_prop_name(
    this: *mut c_void,
    num: c_long,
    alias: c_long,
) -> *const u16 {
    guard(|| {
        // SAFETY: the platform calls with this base of a live object.
        let state = unsafe { state(this) };
        match (index(num, PROPERTIES.len()), usize::try_from(alias)) {
            (Some(i), Ok(alias @ 0..=1)) => {
                platform_string(state, property_names(&PROPERTIES[i])[alias]).cast_const()
            }
            _ => std::ptr::null(),
        }
    })
}

unsafe extern "system" fn get_prop_val(this: *mut c_void, num: c_long, out: *mut TVariant) -> bool {
    guard(|| {
        // SAFETY: the platform calls with this base of a live object.
        let state = unsafe { state(this) };
        let value = index(num, PROPERTIES.len()).and_then(|i| state.component.property(i));
        value.is_some_and(|v| give(state, out, &v, None))
    })
}

unsafe extern "system" fn set_prop_val(
    _this: *mut c_void,
    _num: c_long,
    _value: *mut TVariant,
) -> bool {
    guard(|| false)
}

unsafe extern "system" fn is_prop_readable(_this: *mut c_void, num: c_long) -> bool {
    guard(|| index(num, PROPERTIES.len()).is_some())
}

unsafe extern "system" fn is_prop_writable(_this: *mut c_void, _num: c_long) -> bool {
    guard(|| false)
}

unsafe extern "system" fn get_n_methods(_this: *mut c_void) -> c_long {
    guard(|| count(METHODS.len()))
}

unsafe extern "system" fn find_method(_this: *mut c_void, name: *const u16) -> c_long {
    guard(|| {
        // SAFETY: the platform passes a NUL-terminated name.
        let name = unsafe { from_terminated(name) }.unwrap_or_default();
        find(METHODS, method_names, &name).map_or(-1, count)
    })
}

unsafe extern "system" fn get_method_name(
    this: *mut c_void,
    num: c_long,
    alias: c_long,
) -> *const u16 {
    guard(|| {
        // SAFETY: the platform calls with this base of a live object.
        let state = unsafe { state(this) };
        match (index(num, METHODS.len()), usize::try_from(alias)) {
            (Some(i), Ok(alias @ 0..=1)) => {
                platform_string(state, method_names(&METHODS[i])[alias]).cast_const()
            }
            _ => std::ptr::null(),
        }
    })
}

unsafe extern "system" fn get_n_params(_this: *mut c_void, method: c_long) -> c_long {
    guard(|| index(method, METHODS.len()).map_or(0, |i| count(METHODS[i].params.len())))
}

unsafe extern "system" fn get_param_def_value(
    this: *mut c_void,
    method: c_long,
    param: c_long,
    out: *mut TVariant,
) -> bool {
    guard(|| {
        // SAFETY: the platform calls with this base of a live object.
        let state = unsafe { state(this) };
        let default = index(method, METHODS.len())
            .and_then(|m| METHODS[m].params.get(usize::try_from(param).ok()?))
            .and_then(|p| p.default);
        default.is_some_and(|d| give(state, out, &d(), None))
    })
}

unsafe extern "system" fn has_ret_val(_this: *mut c_void, method: c_long) -> bool {
    guard(|| index(method, METHODS.len()).is_some_and(|i| METHODS[i].returns))
}

/// The values of the platform's `count` parameters.
///
/// # Safety
/// `params` is NULL or points to `count` initialised variants.
unsafe fn arguments(params: *const TVariant, count: c_long) -> Result<Vec<Value>, String> {
    let count = usize::try_from(count).map_err(|_| format!("{count} parameters"))?;
    if count == 0 {
        return Ok(Vec::new());
    }
    if params.is_null() {
        return Err(format!("{count} parameters announced, none passed"));
    }
    // SAFETY: `count` variants at `params` per the contract.
    Ok((0..count).map(|i| unsafe { read(params.add(i)) }).collect())
}

/// Runs method `method` for the platform, returning its value: a failure is reported to
/// the calling BSL code and is `None`.
///
/// # Safety
/// `params` is NULL or points to `count` initialised variants.
unsafe fn run(
    state: &State,
    method: c_long,
    params: *const TVariant,
    count: c_long,
    reserve: Reserve<'_>,
) -> Option<Value> {
    if state.is_done() {
        return None;
    }
    // SAFETY: as the caller promised.
    let outcome = unsafe { arguments(params, count) }.and_then(|values| {
        let index = usize::try_from(method).unwrap_or(usize::MAX);
        state.component.call(index, &values, reserve)
    });
    match outcome {
        Ok(value) => Some(value),
        Err(text) => {
            state.report(&text);
            None
        }
    }
}

unsafe extern "system" fn call_as_proc(
    this: *mut c_void,
    method: c_long,
    params: *mut TVariant,
    count: c_long,
) -> bool {
    guard(|| {
        // SAFETY: the platform calls with this base of a live object and `count` params.
        // A procedure hands no result over: nothing need be reserved.
        unsafe { run(state(this), method, params, count, &|_| true) }.is_some()
    })
}

unsafe extern "system" fn call_as_func(
    this: *mut c_void,
    method: c_long,
    ret: *mut TVariant,
    params: *mut TVariant,
    count: c_long,
) -> bool {
    guard(|| {
        // SAFETY: the platform calls with this base of a live object and `count` params.
        let state = unsafe { state(this) };
        if ret.is_null() {
            // Refused before the method runs: its work would be done and its result lost.
            state.report("CallAsFunc was given no variant for the result");
            return false;
        }
        // Memory the method secures for its result before it writes (see
        // `json_api::Reserve`), given back unless the result goes there.
        let reservation = Reservation::new(state.memory());
        let reserve = |units| reservation.reserve(units);
        // SAFETY: as above.
        match unsafe { run(state, method, params, count, &reserve) } {
            Some(value) => give(state, ret, &value, Some(&reservation)),
            None => false,
        }
    })
}
