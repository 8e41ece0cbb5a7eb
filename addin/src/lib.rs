//! Integra as a 1C:Enterprise external component (Native API): BSL loads the library with
//! `ПодключитьВнешнююКомпоненту(Путь, "Integra", ТипВнешнейКомпоненты.Native)` and creates
//! `Новый("AddIn.Integra.Engine")`, then calls the engine in its own process.
//!
//! Layout: `abi` holds every `unsafe` line (the C++ vtables, `tVariant`, the platform's
//! memory manager and connection, the exported functions); `component` is the object's
//! safe state; `methods` is the one table of methods and properties.
//!
//! What the 1C server does to a library, and how the add-in copes:
//! * It is loaded once per server process, and objects are created from many sessions on
//!   many threads. Objects that open the same database share one engine; each object's
//!   calls are serialised by its own lock, different objects run at once.
//! * Nothing is delivered back by `ExternalEvent` (the server does not process it): the
//!   API is pull-based with timeouts.
//! * A failure is reported with `AddError` (a BSL exception with the text) and kept in the
//!   `LastError` property; nothing unwinds into the platform.
//! * Background threads (dispatcher, receivers, sources) belong to the engine and stop
//!   when the last object on its database is done, before `Done` or `DestroyObject`
//!   returns; nothing touches the platform's interfaces after `Done`.
//! * The server process has no logger for the add-in's Rust code: `Open`'s settings may
//!   name a log file, one per process, written with no thread of its own and closed when
//!   the last object that named it is done (`integra_core::json_api`'s `log_file`).

mod abi;
#[cfg(test)]
mod bsl_examples;
mod component;
mod methods;
mod value;

pub use methods::reference;

/// The `tVariant` decoder behind a safe entry, for the fuzz targets in `fuzz/` only (feature
/// `fuzzing`; not part of the add-in's interface).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::abi::{HostVariant, decode};
    pub use crate::value::Value;
}
