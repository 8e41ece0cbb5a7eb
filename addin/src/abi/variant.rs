//! `tVariant`, the value 1C passes in and out of every call: a union of payloads, the
//! array size and the type code. Its layout differs by target (64 bytes on Linux x86_64,
//! 48 on Windows) and is checked at compile time. The type code stays a `u16` and the
//! Boolean a byte: an enum or a Rust `bool` read from platform memory would be undefined
//! behaviour for values we do not expect.

use std::ffi::{c_char, c_int, c_void};

use super::memory::{MemoryManager, Reservation};
use super::str1c::{from_parts_strict, terminated};
use crate::value::Value;

pub(crate) const VTYPE_EMPTY: u16 = 0;
const VTYPE_I2: u16 = 2;
const VTYPE_I4: u16 = 3;
const VTYPE_R4: u16 = 4;
const VTYPE_R8: u16 = 5;
const VTYPE_DATE: u16 = 6;
const VTYPE_TM: u16 = 7;
const VTYPE_PSTR: u16 = 8;
const VTYPE_ERROR: u16 = 10;
const VTYPE_BOOL: u16 = 11;
const VTYPE_I1: u16 = 13;
const VTYPE_UI1: u16 = 14;
const VTYPE_UI2: u16 = 15;
const VTYPE_UI4: u16 = 16;
const VTYPE_I8: u16 = 17;
const VTYPE_UI8: u16 = 18;
const VTYPE_INT: u16 = 19;
const VTYPE_UINT: u16 = 20;
const VTYPE_PWSTR: u16 = 22;
const VTYPE_BLOB: u16 = 23;
/// The type bits; the rest are flags (vector, array, by reference).
const VTYPE_TYPEMASK: u16 = 0x0fff;

/// C's `struct tm` as 1C lays it out.
#[repr(C)]
#[derive(Clone, Copy)]
struct Tm {
    sec: c_int,
    min: c_int,
    hour: c_int,
    mday: c_int,
    mon: c_int,
    year: c_int,
    wday: c_int,
    yday: c_int,
    isdst: c_int,
    #[cfg(not(windows))]
    gmtoff: std::ffi::c_long,
    #[cfg(not(windows))]
    zone: *const c_char,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Bytes {
    ptr: *mut c_char,
    len: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Units {
    ptr: *mut u16,
    len: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
union Payload {
    i8: i8,
    i16: i16,
    i32: i32,
    i64: i64,
    int: c_int,
    uint: std::ffi::c_uint,
    u8: u8,
    u16: u16,
    u32: u32,
    u64: u64,
    f32: f32,
    f64: f64,
    tm: Tm,
    bytes: Bytes,
    units: Units,
    iid: [u8; 16],
    ptr: *mut c_void,
}

/// 1C's `tVariant`.
#[repr(C)]
pub(crate) struct TVariant {
    payload: Payload,
    elements: u32,
    pub(crate) vt: u16,
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
const _: () = {
    assert!(std::mem::size_of::<TVariant>() == 64);
    assert!(std::mem::offset_of!(TVariant, elements) == 56);
    assert!(std::mem::offset_of!(TVariant, vt) == 60);
    assert!(std::mem::size_of::<Tm>() == 56);
};
#[cfg(windows)]
const _: () = {
    assert!(std::mem::size_of::<TVariant>() == 48);
    assert!(std::mem::offset_of!(TVariant, elements) == 40);
    assert!(std::mem::offset_of!(TVariant, vt) == 44);
};

/// Reads a value the platform passed.
///
/// # Safety
/// `v` points to a `tVariant` the platform initialised; its string and blob payloads are
/// valid for their lengths.
pub(crate) unsafe fn read(v: *const TVariant) -> Value {
    // SAFETY: `v` is valid per the contract.
    let v = unsafe { &*v };
    if v.vt & !VTYPE_TYPEMASK != 0 {
        return Value::Unsupported(v.vt);
    }
    let p = &v.payload;
    // SAFETY: each arm reads the union member the type code says is there.
    unsafe {
        match v.vt {
            VTYPE_EMPTY | 1 => Value::Empty,
            VTYPE_BOOL => Value::Bool(p.u8 != 0),
            VTYPE_I1 => Value::Number(f64::from(p.i8)),
            VTYPE_I2 => Value::Number(f64::from(p.i16)),
            VTYPE_I4 | VTYPE_ERROR => Value::Number(f64::from(p.i32)),
            VTYPE_INT => Value::Number(f64::from(p.int)),
            VTYPE_UI1 => Value::Number(f64::from(p.u8)),
            VTYPE_UI2 => Value::Number(f64::from(p.u16)),
            VTYPE_UI4 => Value::Number(f64::from(p.u32)),
            VTYPE_UINT => Value::Number(f64::from(p.uint)),
            VTYPE_I8 => Value::Number(p.i64 as f64),
            VTYPE_UI8 => Value::Number(p.u64 as f64),
            VTYPE_R4 => Value::Number(f64::from(p.f32)),
            VTYPE_R8 => Value::Number(p.f64),
            VTYPE_PWSTR => match from_parts_strict(p.units.ptr, p.units.len as usize) {
                Ok(text) => Value::Str(text),
                Err(at) => Value::Malformed(format!(
                    "it holds an unpaired UTF-16 surrogate at unit {at}"
                )),
            },
            VTYPE_PSTR => match std::str::from_utf8(bytes(p.bytes.ptr.cast(), p.bytes.len)) {
                Ok(text) => Value::Str(text.to_owned()),
                Err(e) => {
                    Value::Malformed(format!("it is not UTF-8 from byte {}", e.valid_up_to()))
                }
            },
            VTYPE_BLOB => Value::Blob(bytes(p.bytes.ptr.cast(), p.bytes.len).to_vec()),
            VTYPE_DATE | VTYPE_TM => Value::Date,
            other => Value::Unsupported(other),
        }
    }
}

/// A `tVariant` as a 1C host fills it, described without raw pointers: the fuzz targets'
/// way into `read` (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
#[derive(Clone, Debug, Default)]
pub struct HostVariant<'a> {
    /// The type code, flag bits included.
    pub vt: u16,
    /// The array size field.
    pub elements: u32,
    /// The first 16 bytes of the payload, in memory order: where numbers and the Boolean are.
    pub scalar: [u8; 16],
    /// What a `VTYPE_PWSTR` points to; its length is the one the host claims.
    pub units: &'a [u16],
    /// What a `VTYPE_PSTR` or `VTYPE_BLOB` points to; its length is the one the host claims.
    pub bytes: &'a [u8],
    /// Whether the pointer is NULL (the length stays what the slice says).
    pub null: bool,
}

/// Lays `host` out as a `tVariant`, pointers into its slices, and reads it as a call
/// argument is read.
#[cfg(feature = "fuzzing")]
pub fn decode(host: &HostVariant<'_>) -> Value {
    let zero = Tm {
        sec: 0,
        min: 0,
        hour: 0,
        mday: 0,
        mon: 0,
        year: 0,
        wday: 0,
        yday: 0,
        isdst: 0,
        #[cfg(not(windows))]
        gmtoff: 0,
        #[cfg(not(windows))]
        zone: std::ptr::null(),
    };
    let mut payload = Payload { tm: zero };
    payload.iid = host.scalar;
    let claimed = |len: usize| u32::try_from(len).unwrap_or(u32::MAX);
    match host.vt {
        VTYPE_PWSTR => {
            payload.units = Units {
                ptr: host.units.as_ptr().cast_mut(),
                len: claimed(host.units.len()),
            }
        }
        VTYPE_PSTR | VTYPE_BLOB => {
            payload.bytes = Bytes {
                ptr: host.bytes.as_ptr().cast::<c_char>().cast_mut(),
                len: claimed(host.bytes.len()),
            }
        }
        _ => {}
    }
    if host.null && matches!(host.vt, VTYPE_PWSTR | VTYPE_PSTR | VTYPE_BLOB) {
        payload.ptr = std::ptr::null_mut();
    }
    let variant = TVariant {
        payload,
        elements: host.elements,
        vt: host.vt,
    };
    // SAFETY: the payload is initialised in full; a string or blob pointer is NULL or
    // points into a slice that outlives the call, with the slice's length (a slice longer
    // than `u32::MAX` is claimed shorter, never longer). The decoder only reads.
    unsafe { read(&variant) }
}

/// `len` bytes at `ptr` (NULL is empty).
///
/// # Safety
/// `ptr` is NULL or valid for `len` bytes.
unsafe fn bytes<'a>(ptr: *const u8, len: u32) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: valid for `len` bytes per the contract.
    unsafe { std::slice::from_raw_parts(ptr, len as usize) }
}

/// Writes `value` for the platform to read: strings and blobs in platform memory (the
/// platform frees them; a string goes into the `reserved` block when it fits). Numbers that
/// are whole and fit go as `VTYPE_I4`, others as `VTYPE_R8` (1C maps no 64-bit integer
/// type).
///
/// # Errors
/// When the platform refuses memory.
///
/// # Safety
/// `v` is writable; `memory` is the platform's live memory manager.
pub(crate) unsafe fn write(
    v: *mut TVariant,
    value: &Value,
    memory: *mut MemoryManager,
    reserved: Option<&Reservation>,
) -> Result<(), &'static str> {
    // SAFETY: `v` is writable per the contract.
    let v = unsafe { &mut *v };
    v.elements = 0;
    match value {
        Value::Empty | Value::Date | Value::Unsupported(_) | Value::Malformed(_) => {
            v.vt = VTYPE_EMPTY
        }
        Value::Bool(b) => {
            v.payload.u8 = u8::from(*b);
            v.vt = VTYPE_BOOL;
        }
        Value::Number(n)
            if n.fract() == 0.0 && *n >= f64::from(i32::MIN) && *n <= f64::from(i32::MAX) =>
        {
            v.payload.i32 = *n as i32;
            v.vt = VTYPE_I4;
        }
        Value::Number(n) => {
            v.payload.f64 = *n;
            v.vt = VTYPE_R8;
        }
        Value::Str(s) => {
            let units = terminated(s);
            let len =
                u32::try_from(units.len() - 1).map_err(|_| "the string is too long for 1C")?;
            let ptr = match reserved.and_then(|r| r.take(units.len())) {
                Some(block) => {
                    // SAFETY: the block holds at least `units.len()` units, and is ours.
                    unsafe { std::ptr::copy_nonoverlapping(units.as_ptr(), block, units.len()) };
                    block
                }
                // SAFETY: the memory manager is live per the contract.
                None => unsafe { MemoryManager::alloc_utf16(memory, &units) }
                    .ok_or("the platform refused memory for the result")?,
            };
            v.payload.units = Units { ptr, len };
            v.vt = VTYPE_PWSTR;
        }
        Value::Blob(b) => {
            let len = u32::try_from(b.len()).map_err(|_| "the data is too long for 1C")?;
            // SAFETY: the memory manager is live per the contract.
            let ptr = unsafe { MemoryManager::alloc_bytes(memory, b) }
                .ok_or("the platform refused memory for the result")?;
            v.payload.bytes = Bytes {
                ptr: ptr.cast(),
                len,
            };
            v.vt = VTYPE_BLOB;
        }
    }
    Ok(())
}
