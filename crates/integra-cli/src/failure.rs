//! What went wrong, and the exit code that tells a script (the BSD `sysexits` codes where one
//! fits):
//!
//! | code | meaning |
//! |---:|---|
//! | 0 | done |
//! | 1 | done, and the answer is "no": not found, problems found, a file that does not validate, a question declined |
//! | 2 | the command line is wrong (clap's usage errors too) |
//! | 65 | bad input: a malformed argument, a configuration that cannot be loaded |
//! | 69 | the database cannot be reached |
//! | 70 | the database or Integra failed |
//! | 75 | the database is busy: try again |
//! | 78 | the key for the database's secrets is missing or wrong |

use std::process::ExitCode;

use integra_core::config::ConfigError;
use integra_core::{Error, ErrorKind, SecretsError, StoreError};

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// No `--db` and no `INTEGRA_DB`.
    #[error("no database: give --db PATH|URL or set INTEGRA_DB")]
    NoDatabase,
    /// An argument that does not parse.
    #[error("{what}: {reason}")]
    Usage { what: String, reason: String },
    /// A configuration file with problems.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// What Integra said.
    #[error(transparent)]
    Integra(#[from] Error),
    /// The secrets key could not be had.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// The answer is "no" (not found, problems found), already reported.
    #[error("{0}")]
    No(String),
    /// Ctrl-C could not be caught.
    #[error("cannot watch for Ctrl-C: {0}")]
    Signal(#[from] ctrlc::Error),
    /// The terminal could not be read or written.
    #[error("cannot use the terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

impl Failure {
    /// A malformed argument `what`.
    pub(crate) fn usage(what: &str, reason: impl Into<String>) -> Self {
        Failure::Usage {
            what: what.to_owned(),
            reason: reason.into(),
        }
    }

    /// The exit code that tells a script what happened.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::No(_) => 1,
            Failure::NoDatabase | Failure::Usage { .. } => 2,
            Failure::Config(_) => 65,
            Failure::Integra(e) => integra_code(e),
            Failure::Secrets(_) => 78,
            Failure::Signal(_) | Failure::Terminal(_) => 70,
        })
    }
}

/// The exit code of what Integra said.
fn integra_code(e: &Error) -> u8 {
    if let Error::Store(StoreError::Unavailable { .. }) = e {
        return 69;
    }
    if let Error::Store(StoreError::Secrets(_)) = e {
        return 78;
    }
    match e.kind() {
        ErrorKind::NotFound => 1,
        ErrorKind::InvalidArgument | ErrorKind::Invalid | ErrorKind::Config => 65,
        ErrorKind::Busy => 75,
        _ => 70,
    }
}
