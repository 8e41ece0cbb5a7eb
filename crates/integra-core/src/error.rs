//! The crate's error type: every failure of a public operation, each naming what was wrong.

use crate::config::{ConfigError, Direction};
use crate::store::StoreError;

/// Result of Integra's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The rule a payload for a JSON-RPC 2.0 subscriber must follow: it is the call's `params`,
/// a Structured value.
pub(crate) const JSONRPC_PARAMS_RULE: &str =
    "a JSON-RPC 2.0 call's params must be an object or an array";

/// Why an operation failed. Nothing was written when an operation returns an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No flow has this code.
    #[error("unknown flow '{q_flow}'", q_flow = crate::limits::quoted(.flow))]
    UnknownFlow {
        /// The code asked for.
        flow: String,
    },
    /// The flow is switched off.
    #[error("flow '{q_flow}' is inactive", q_flow = crate::limits::quoted(.flow))]
    FlowInactive {
        /// The flow.
        flow: String,
    },
    /// The flow goes the other way, e.g. registering on an incoming flow.
    #[error(
        "flow '{q_flow}' is {direction}, so it cannot be used to {operation}",
        direction = .direction.as_str(),
        q_flow = crate::limits::quoted(.flow),
    )]
    WrongDirection {
        /// The flow.
        flow: String,
        /// Its direction.
        direction: Direction,
        /// What was attempted.
        operation: &'static str,
    },
    /// A JSON argument does not parse.
    #[error(
        "{e_what} is not valid JSON: {e_reason}",
        e_what = crate::limits::elided(.what),
        e_reason = crate::limits::elided(.reason),
    )]
    InvalidJson {
        /// Which argument.
        what: String,
        /// The parser's message, with line and column.
        reason: String,
    },
    /// An input is larger than its limit ([`crate::limits`]); nothing was parsed or
    /// written.
    #[error(
        "{e_what} is {size} {unit}, over the limit of {limit} {unit}",
        e_what = crate::limits::elided(.what),
    )]
    TooLarge {
        /// Which input, e.g. `the source of message 3 for flow 'ORDERS'`.
        what: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
        /// What is counted: `bytes` or `items`.
        unit: &'static str,
    },
    /// An argument is out of its allowed range or form.
    #[error("invalid {name}: {e_reason}", e_reason = crate::limits::elided(.reason))]
    InvalidArgument {
        /// The argument.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A payload a JSON-RPC 2.0 subscriber of its flow cannot be sent: it is the call's
    /// `params`, which must be an object or an array. Nothing was written.
    #[error(
        "{e_what} is {found}, which cannot be sent to subscriber '{subscriber}' of flow '{q_flow}': {}",
        JSONRPC_PARAMS_RULE,
        q_flow = crate::limits::quoted(.flow),
        e_what = crate::limits::elided(.what),
    )]
    NotJsonRpcParams {
        /// Which payload, e.g. `the source of message 0 for flow 'ORDERS'`.
        what: String,
        /// The flow.
        flow: String,
        /// The JSON-RPC subscriber.
        subscriber: String,
        /// What the payload is instead: `a number`, `a string`, `a boolean`, `null`.
        found: &'static str,
    },
    /// No outgoing message has this id.
    #[error("no message has id '{q_id}'", q_id = crate::limits::quoted(.id))]
    MessageNotFound {
        /// The id asked for.
        id: String,
    },
    /// No incoming message has this id.
    #[error("no incoming message has id '{q_id}'", q_id = crate::limits::quoted(.id))]
    IncomingNotFound {
        /// The id asked for.
        id: String,
    },
    /// The record is not in a status that allows the operation.
    #[error(
        "{what} '{q_id}' is {status}, so it cannot be {operation}",
        q_id = crate::limits::quoted(.id),
    )]
    WrongStatus {
        /// `message` or `incoming message`.
        what: &'static str,
        /// Its id.
        id: String,
        /// Its current status.
        status: String,
        /// The refused operation, in the past tense (`completed`, `cancelled`).
        operation: &'static str,
    },
    /// The flow's former is not the one the operation needs.
    #[error(
        "flow '{q_flow}' is formed by {former}, not {expected}",
        q_flow = crate::limits::quoted(.flow),
    )]
    WrongFormer {
        /// The flow.
        flow: String,
        /// Its configured former.
        former: &'static str,
        /// The former the operation is for.
        expected: &'static str,
    },
    /// The incoming flow is not processed by a Rust handler.
    #[error(
        "flow '{q_flow}' is processed externally (with next_incoming); set its processor to 'handler' to register a Rust handler",
        q_flow = crate::limits::quoted(.flow),
    )]
    WrongProcessor {
        /// The flow.
        flow: String,
    },
    /// The external id already belongs to another local key.
    #[error(
        "external id '{q_external_id}' of system '{q_system}', type '{q_object_type}' is already mapped to local key '{q_taken_by}'",
        q_external_id = crate::limits::quoted(.external_id),
        q_object_type = crate::limits::quoted(.object_type),
        q_system = crate::limits::quoted(.system),
        q_taken_by = crate::limits::quoted(.taken_by),
    )]
    ExternalIdTaken {
        /// The external system.
        system: String,
        /// The object type.
        object_type: String,
        /// The external id.
        external_id: String,
        /// The local key it belongs to.
        taken_by: String,
    },
    /// A schema cannot be used: unknown, not fetched, or without the component asked for.
    #[error(
        "schema '{q_schema}': {e_reason}",
        q_schema = crate::limits::quoted(.schema),
        e_reason = crate::limits::elided(.reason),
    )]
    Schema {
        /// The schema's code.
        schema: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A message breaks its flow's schema; nothing was stored.
    #[error(
        "{e_what} breaks its schema: {}",
        crate::openapi::summary(.violations),
        e_what = crate::limits::elided(.what),
    )]
    Invalid {
        /// Which message, e.g. `incoming message 'a7f3' for flow 'ORDERS'`.
        what: String,
        /// Every violation found.
        violations: Vec<crate::openapi::Violation>,
    },
    /// No listener has this code.
    #[error("no listener has code '{q_code}'", q_code = crate::limits::quoted(.code))]
    UnknownListener {
        /// The code asked for.
        code: String,
    },
    /// A listener's address cannot be bound.
    #[error(
        "listener '{q_listener}' cannot listen on {address}: {source}",
        q_listener = crate::limits::quoted(.listener),
    )]
    Listen {
        /// The listener.
        listener: String,
        /// Its configured address.
        address: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// No exchange endpoint has this code.
    #[error("no exchange endpoint has code '{q_code}'", q_code = crate::limits::quoted(.code))]
    UnknownEndpoint {
        /// The code asked for.
        code: String,
    },
    /// The exchange endpoint is blocked: it receives nothing.
    #[error("exchange endpoint '{q_code}' is blocked", q_code = crate::limits::quoted(.code))]
    EndpointBlocked {
        /// The endpoint.
        code: String,
    },
    /// Connecting an exchange endpoint failed at one of its checks; nothing was created.
    #[error(
        "connecting the endpoint failed: {check}: {e_reason}",
        e_reason = crate::limits::elided(.reason),
    )]
    Connect {
        /// Which check failed, e.g. `recipient → this base`.
        check: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// A front-door handle was used before it opened a database.
    #[error("the engine is not open: call Open first")]
    NotOpen,
    /// A server (receivers, sources) started with other settings is already running on
    /// this engine.
    #[error(
        "the server is already running on this database with other listeners or sources; stop it first to serve these"
    )]
    ServerRunning,
    /// The background dispatcher is already running on this engine.
    #[error("the dispatcher is already running")]
    DispatcherRunning,
    /// A front door could not have memory for the call's result (the 1C platform refused
    /// it), so the call wrote nothing: it was refused before writing, or the work it had
    /// claimed was given back. Retryable.
    #[error("no memory could be had for the result, so nothing was written")]
    NoRoomForResult,
    /// The log file the open settings name cannot be written (its directory or the file
    /// refuses it); nothing was opened.
    #[error("cannot open the log file '{file}': {reason}")]
    LogFile {
        /// The file, as the settings name it.
        file: String,
        /// Why, in the system's words.
        reason: String,
    },
    /// An operating-system resource (a thread) could not be had.
    #[error("cannot start {e_what}: {source}", e_what = crate::limits::elided(.what))]
    Spawn {
        /// What was being started.
        what: &'static str,
        /// The system's error.
        source: std::io::Error,
    },
}

/// What kind of failure an [`Error`] is, for front doors that report a code (the C ABI's
/// status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument is out of range or malformed (not JSON, a bad id, an empty body).
    InvalidArgument,
    /// A message breaks its flow's schema.
    Invalid,
    /// The configuration is invalid.
    Config,
    /// The front-door handle is not open.
    NotOpen,
    /// No flow, message, incoming message or listener has the id given.
    NotFound,
    /// The operation does not fit the object's state: its status, direction, former,
    /// processor; an inactive flow; something already running; an id taken.
    WrongState,
    /// The database is busy (another process holds it): try again.
    Busy,
    /// Anything else: the database failed, a schema cannot be had, a thread or a socket
    /// could not be had.
    Failed,
}

impl Error {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidJson { .. }
            | Error::InvalidArgument { .. }
            | Error::TooLarge { .. }
            | Error::NotJsonRpcParams { .. } => ErrorKind::InvalidArgument,
            Error::Invalid { .. } => ErrorKind::Invalid,
            Error::Config(_) => ErrorKind::Config,
            Error::NotOpen => ErrorKind::NotOpen,
            Error::UnknownFlow { .. }
            | Error::MessageNotFound { .. }
            | Error::IncomingNotFound { .. }
            | Error::UnknownListener { .. }
            | Error::UnknownEndpoint { .. } => ErrorKind::NotFound,
            Error::FlowInactive { .. }
            | Error::WrongDirection { .. }
            | Error::WrongStatus { .. }
            | Error::WrongFormer { .. }
            | Error::WrongProcessor { .. }
            | Error::ExternalIdTaken { .. }
            | Error::ServerRunning
            | Error::EndpointBlocked { .. }
            | Error::DispatcherRunning => ErrorKind::WrongState,
            Error::NoRoomForResult => ErrorKind::Failed,
            e if e.is_retryable() => ErrorKind::Busy,
            Error::Store(_)
            | Error::Schema { .. }
            | Error::Listen { .. }
            | Error::Spawn { .. }
            | Error::LogFile { .. }
            | Error::Connect { .. } => ErrorKind::Failed,
        }
    }

    /// True when the same call may succeed later (the database was busy, say); false when
    /// the input must change first.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Store(e) => e.is_retryable(),
            Error::Spawn { .. } | Error::NoRoomForResult => true,
            _ => false,
        }
    }

    pub(crate) fn invalid_json(what: impl Into<String>, e: &serde_json::Error) -> Self {
        Error::InvalidJson {
            what: what.into(),
            reason: crate::limits::json_error_reason(e),
        }
    }
}
