//! `integra_status`: what every fallible C function returns. The numbers are part of the ABI:
//! they are never reused or renumbered, and new ones are added at the end.

use integra_core::{Error, ErrorKind};

/// The outcome of a call. On anything but `INTEGRA_STATUS_OK`, the engine's last error
/// (`integra_engine_last_error`) says what was wrong, and out-parameters are not written.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegraStatus {
    /// Success.
    Ok = 0,
    /// A required pointer was NULL.
    NullParameter = 1,
    /// An argument is out of range or malformed: not UTF-8, not JSON, a bad id.
    InvalidArgument = 2,
    /// A message breaks its flow's schema.
    Invalid = 3,
    /// The configuration is invalid.
    Config = 4,
    /// The engine is not open: call `integra_engine_open` first.
    NotOpen = 5,
    /// No flow, message, incoming message or listener has the id given.
    NotFound = 6,
    /// The operation does not fit the object's state (its status, an inactive flow,
    /// something already running).
    WrongState = 7,
    /// The database is busy: the same call may succeed later.
    Busy = 8,
    /// Anything else: see the last error.
    Failed = 9,
    /// Integra panicked (a bug); the call did nothing it could not undo.
    Panic = 99,
}

impl From<&Error> for IntegraStatus {
    fn from(e: &Error) -> Self {
        match e.kind() {
            ErrorKind::InvalidArgument => IntegraStatus::InvalidArgument,
            ErrorKind::Invalid => IntegraStatus::Invalid,
            ErrorKind::Config => IntegraStatus::Config,
            ErrorKind::NotOpen => IntegraStatus::NotOpen,
            ErrorKind::NotFound => IntegraStatus::NotFound,
            ErrorKind::WrongState => IntegraStatus::WrongState,
            ErrorKind::Busy => IntegraStatus::Busy,
            _ => IntegraStatus::Failed,
        }
    }
}
