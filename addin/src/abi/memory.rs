//! `IMemoryManager`, the platform's allocator: everything the add-in returns to 1C (names,
//! the extension name, string and binary results) is allocated through it, because the
//! platform frees it with `FreeMemory`. Rust's allocator must never be used for those.

use std::cell::Cell;
use std::ffi::{c_ulong, c_void};

/// The platform's `IMemoryManager` vtable: destructor slot(s), then the two methods.
#[repr(C)]
struct MemoryManagerVtable {
    dtor: usize,
    #[cfg(not(windows))]
    dtor2: usize,
    alloc_memory: unsafe extern "system" fn(*mut MemoryManager, *mut *mut c_void, c_ulong) -> bool,
    free_memory: unsafe extern "system" fn(*mut MemoryManager, *mut *mut c_void),
}

/// The platform's memory manager object, as the add-in sees it: its vptr.
#[repr(C)]
pub(crate) struct MemoryManager {
    vtable: *const MemoryManagerVtable,
}

impl MemoryManager {
    /// `bytes` bytes from the platform; `None` when it refused.
    ///
    /// # Safety
    /// `this` is the live memory manager the platform passed to `setMemManager`.
    unsafe fn alloc(this: *mut MemoryManager, bytes: usize) -> Option<*mut c_void> {
        let mut memory: *mut c_void = std::ptr::null_mut();
        let bytes = c_ulong::try_from(bytes.max(1)).ok()?;
        // SAFETY: the vtable is the platform's, per the contract.
        let allocated = unsafe { ((*(*this).vtable).alloc_memory)(this, &raw mut memory, bytes) };
        (allocated && !memory.is_null()).then_some(memory)
    }

    /// A NUL-terminated UTF-16 copy of `units` (which include the NUL) in platform memory.
    ///
    /// # Safety
    /// As [`MemoryManager::alloc`].
    pub(crate) unsafe fn alloc_utf16(this: *mut MemoryManager, units: &[u16]) -> Option<*mut u16> {
        // SAFETY: as the caller promised.
        let memory = unsafe { Self::alloc(this, std::mem::size_of_val(units)) }?.cast::<u16>();
        // SAFETY: `memory` holds `units.len()` units, freshly allocated, not overlapping.
        unsafe { std::ptr::copy_nonoverlapping(units.as_ptr(), memory, units.len()) };
        Some(memory)
    }

    /// Gives `memory` back to the platform.
    ///
    /// # Safety
    /// As [`MemoryManager::alloc`]; `memory` came from this manager and is not used after.
    unsafe fn free(this: *mut MemoryManager, memory: *mut c_void) {
        let mut memory = memory;
        // SAFETY: the vtable is the platform's, per the contract.
        unsafe { ((*(*this).vtable).free_memory)(this, &raw mut memory) };
    }

    /// A copy of `bytes` in platform memory.
    ///
    /// # Safety
    /// As [`MemoryManager::alloc`].
    pub(crate) unsafe fn alloc_bytes(this: *mut MemoryManager, bytes: &[u8]) -> Option<*mut u8> {
        // SAFETY: as the caller promised.
        let memory = unsafe { Self::alloc(this, bytes.len()) }?.cast::<u8>();
        // SAFETY: `memory` holds `bytes.len()` bytes, freshly allocated, not overlapping.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), memory, bytes.len()) };
        Some(memory)
    }
}

#[cfg(all(target_pointer_width = "64", not(windows)))]
const _: () = assert!(std::mem::size_of::<MemoryManagerVtable>() == 4 * 8);
#[cfg(all(target_pointer_width = "64", windows))]
const _: () = assert!(std::mem::size_of::<MemoryManagerVtable>() == 3 * 8);

/// Platform memory secured for a call's text result before the call wrote anything: the
/// result goes there when it fits; a block not handed over is given back when the
/// reservation is dropped.
pub(crate) struct Reservation {
    memory: Option<*mut MemoryManager>,
    /// The block and how many UTF-16 units it holds.
    block: Cell<Option<(*mut u16, usize)>>,
}

impl Reservation {
    /// A reservation from `memory` (none when the object has no memory manager: then
    /// nothing can be reserved).
    pub(crate) fn new(memory: Option<*mut MemoryManager>) -> Self {
        Reservation {
            memory,
            block: Cell::new(None),
        }
    }

    /// Secures room for a text of `units` UTF-16 units and its terminator, in place of any
    /// block reserved before; false when the platform refuses.
    pub(crate) fn reserve(&self, units: usize) -> bool {
        self.release();
        let (Some(memory), Some(units)) = (self.memory, units.checked_add(1)) else {
            return false;
        };
        let Some(bytes) = units.checked_mul(size_of::<u16>()) else {
            return false;
        };
        // SAFETY: `memory` is the object's live memory manager (the object is in a call).
        match unsafe { MemoryManager::alloc(memory, bytes) } {
            Some(block) => {
                self.block.set(Some((block.cast(), units)));
                true
            }
            None => false,
        }
    }

    /// The reserved block for `units` (a terminated text's units), when it holds them; the
    /// caller then owns it and hands it to the platform.
    pub(crate) fn take(&self, units: usize) -> Option<*mut u16> {
        match self.block.get() {
            Some((block, room)) if units <= room => {
                self.block.set(None);
                Some(block)
            }
            _ => None,
        }
    }

    fn release(&self) {
        if let (Some(memory), Some((block, _))) = (self.memory, self.block.take()) {
            // SAFETY: `block` came from `memory`, which is live while the call runs.
            unsafe { MemoryManager::free(memory, block.cast()) };
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.release();
    }
}
