//! The add-in object as the platform's C++ sees it: four vtable pointers, one per base
//! class of `IComponentBase` (`IInitDoneBase` at offset 0, `ILanguageExtenderBase` at one
//! pointer, `LocaleBase` at two, `UserLanguageBase` at three), then our state. The
//! platform calls each base's methods with `this` pointing at that base's vptr, so every
//! trampoline first recovers the object from the sub-object it was given.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Mutex, PoisonError};

use super::connection::Connection;
use super::memory::MemoryManager;
use super::{init_done, lang_extender, locale, user_language};
use crate::component::Component;

/// An add-in object.
#[repr(C)]
pub(crate) struct Object {
    init_done: &'static init_done::Vtable,
    lang_extender: &'static lang_extender::Vtable,
    locale: &'static locale::Vtable,
    user_language: &'static user_language::Vtable,
    pub(crate) state: State,
}

/// What an object holds besides its vtables.
pub(crate) struct State {
    pub(crate) component: Component,
    /// The platform's allocator, from `setMemManager`.
    memory: AtomicPtr<MemoryManager>,
    /// The platform's side of this object, from `Init`; cleared by `Done`.
    connection: AtomicPtr<Connection>,
    /// Set by `Done`: the object answers nothing more.
    done: AtomicBool,
    /// What `SetLocale` and `SetUserInterfaceLanguageCode` said (only kept: changing the
    /// process locale would change it for every session of the server).
    pub(crate) locale: Mutex<(String, String)>,
}

/// Which base a sub-object pointer is: its index among the four vptrs.
pub(crate) const INIT_DONE: usize = 0;
pub(crate) const LANG_EXTENDER: usize = 1;
pub(crate) const LOCALE: usize = 2;
pub(crate) const USER_LANGUAGE: usize = 3;

impl Object {
    /// A new object, owned by the caller as a raw pointer until [`Object::destroy`].
    pub(crate) fn create() -> *mut Object {
        Box::into_raw(Box::new(Object {
            init_done: &init_done::VTABLE,
            lang_extender: &lang_extender::VTABLE,
            locale: &locale::VTABLE,
            user_language: &user_language::VTABLE,
            state: State {
                component: Component::default(),
                memory: AtomicPtr::new(std::ptr::null_mut()),
                connection: AtomicPtr::new(std::ptr::null_mut()),
                done: AtomicBool::new(false),
                locale: Mutex::new((String::new(), String::new())),
            },
        }))
    }

    /// Drops an object made by [`Object::create`]: when it was the last one on its
    /// database, the engine's background threads stop before this returns.
    ///
    /// # Safety
    /// `object` came from [`Object::create`] and is not used again.
    pub(crate) unsafe fn destroy(object: *mut Object) {
        // SAFETY: the pointer came from `Box::into_raw`, and the caller gives it up.
        drop(unsafe { Box::from_raw(object) });
    }

    /// The state of the object whose sub-object `base` is at `this`.
    ///
    /// # Safety
    /// `this` is the address of sub-object `base` of a live object.
    pub(crate) unsafe fn state<'a>(this: *mut c_void, base: usize) -> &'a State {
        let offset = base * std::mem::size_of::<usize>();
        // SAFETY: sub-object `base` sits `offset` bytes into the object, per the contract.
        let object = unsafe { this.cast::<u8>().sub(offset).cast::<Object>() };
        // SAFETY: the object is live per the contract; it is only read through shared
        // references, and its mutable parts are atomics and mutexes.
        unsafe { &(*object).state }
    }
}

impl State {
    pub(crate) fn set_memory(&self, memory: *mut MemoryManager) {
        self.memory.store(memory, Ordering::Release);
    }

    /// The platform's allocator, unless the object is done or has none yet.
    pub(crate) fn memory(&self) -> Option<*mut MemoryManager> {
        let memory = self.memory.load(Ordering::Acquire);
        (!memory.is_null() && !self.is_done()).then_some(memory)
    }

    pub(crate) fn set_connection(&self, connection: *mut Connection) {
        self.connection.store(connection, Ordering::Release);
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// `Done`: the platform's pointers are forgotten and the engine handle let go.
    pub(crate) fn finish(&self) {
        self.done.store(true, Ordering::Release);
        self.connection
            .store(std::ptr::null_mut(), Ordering::Release);
        self.component.close();
    }

    /// Reports a failed call's `text` to the calling BSL code as an exception, and keeps it
    /// as `LastError`: a call refused before it reached its method (a malformed frame, no
    /// memory for the result) says why both ways, as a method's own failure does.
    pub(crate) fn report(&self, text: &str) {
        self.component.set_last_error(text.to_owned());
        let connection = self.connection.load(Ordering::Acquire);
        if !connection.is_null() && !self.is_done() {
            // SAFETY: the platform's object from `Init`, valid until `Done`, which has
            // not run.
            unsafe { Connection::add_error(connection, text) };
        }
    }

    pub(crate) fn set_locale(&self, which: usize, value: String) {
        let mut locale = self.locale.lock().unwrap_or_else(PoisonError::into_inner);
        if which == 0 {
            locale.0 = value;
        } else {
            locale.1 = value;
        }
    }
}

/// The destructor slots of our vtables. The platform deletes objects through
/// `DestroyObject`, never through these; they exist so a slot the platform might read
/// holds a function, not NULL.
pub(crate) unsafe extern "system" fn destructor(_this: *mut c_void) {}
