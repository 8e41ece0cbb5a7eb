//! The command line: global options and one subcommand per operation (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// See and steer Integra's queues, or run Integra as a service.
///
/// Every command opens the database directly, beside the 1C server processes or services
/// that use it: an SQLite file, or a PostgreSQL URL
/// (postgres://user:password@host:5432/db?schema=integra).
#[derive(Debug, Parser)]
#[command(name = "integra", version, propagate_version = true)]
pub(crate) struct Cli {
    /// The database: an SQLite file or a PostgreSQL URL.
    #[arg(long, env = "INTEGRA_DB", global = true, value_name = "PATH|URL")]
    pub(crate) db: Option<String>,

    /// The key the database's secrets are sealed with (a file of 64 hexadecimal digits);
    /// without it, the environment variable INTEGRA_SECRETS_KEY, if set.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) secrets_key_file: Option<PathBuf>,

    /// JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    pub(crate) json: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// How many messages, deliveries and incoming messages each flow has in each status.
    Status,
    /// The configured flows, their subscribers, and what waits or died in each.
    Flows,
    /// Each subscriber's health: last success, last failure and why, failures in a row,
    /// and the deliveries waiting, being sent, or dead.
    Subscribers,
    /// Outgoing messages matching filters, newest first (page with --before).
    List(ListArgs),
    /// Incoming messages matching filters, newest first (page with --before).
    Incoming(IncomingArgs),
    /// One outgoing or incoming message: its deliveries, history and payload.
    Show {
        /// The message's id (outgoing) or incoming id.
        id: String,
    },
    /// Dead letters: messages whose forming or a delivery ran out of attempts.
    Dead(DeadArgs),
    /// Sends failed work again now, its attempts reset (dead and failing deliveries, failed
    /// forming; or failed incoming messages with --incoming), with a reason written to each
    /// message's history.
    Retry(RetryArgs),
    /// Deletes messages with their deliveries and history.
    Delete {
        /// The messages' ids.
        #[arg(required = true)]
        ids: Vec<String>,
        /// Do not ask.
        #[arg(long, short)]
        yes: bool,
    },
    /// Removes finished messages older than their retention now.
    Cleanup,
    /// Checks the database's integrity (exit code 1 when problems are found).
    Check {
        /// Also checks every index against its table (slower).
        #[arg(long)]
        full: bool,
    },
    /// The configuration stored in the database.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Makes a token for the operators' API: prints the token (give it to its holder) and
    /// the entry for the listener's `admin.tokens`, which keeps only its SHA-256.
    Token {
        /// Who will hold it (written to the history of what they change).
        #[arg(long)]
        name: String,
        /// What it may do.
        #[arg(long, value_enum)]
        role: Role,
    },
    /// Runs Integra as a service: the dispatcher, every listener of the configuration and
    /// the sources, until interrupted (Ctrl-C, SIGTERM).
    Serve {
        /// Loads this configuration first (JSON or YAML).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// Filters of a listing.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only this flow.
    #[arg(long)]
    pub(crate) flow: Option<String>,
    /// Only messages in this status (new, forming, ready, sending, sent, dead, …).
    #[arg(long)]
    pub(crate) status: Option<String>,
    /// Only messages with a delivery to this subscriber.
    #[arg(long)]
    pub(crate) subscriber: Option<String>,
    /// Only messages with a delivery in this status (to --subscriber, when given).
    #[arg(long)]
    pub(crate) delivery_status: Option<String>,
    #[command(flatten)]
    pub(crate) page: PageArgs,
}

/// Filters of an incoming listing.
#[derive(Debug, Args)]
pub(crate) struct IncomingArgs {
    /// Only this flow.
    #[arg(long)]
    pub(crate) flow: Option<String>,
    /// Only incoming messages in this status (new, in_progress, processed, error, dead).
    #[arg(long)]
    pub(crate) status: Option<String>,
    #[command(flatten)]
    pub(crate) page: PageArgs,
}

/// Which page of a listing, newest first: a time window, and where the page starts.
#[derive(Debug, Args)]
pub(crate) struct PageArgs {
    /// Registered (or accepted) at or after (RFC 3339: 2026-12-01T08:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub(crate) from: Option<String>,
    /// Registered (or accepted) before (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub(crate) to: Option<String>,
    /// Before the one with this sequence number (the next page).
    #[arg(long, value_name = "SEQ")]
    pub(crate) before: Option<i64>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    pub(crate) limit: usize,
}

/// Filters of the dead letters.
#[derive(Debug, Args)]
pub(crate) struct DeadArgs {
    /// Only this flow.
    #[arg(long)]
    pub(crate) flow: Option<String>,
    /// Only deliveries to this subscriber.
    #[arg(long)]
    pub(crate) subscriber: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    pub(crate) limit: usize,
}

/// Which failed work to send again.
#[derive(Debug, Args)]
pub(crate) struct RetryArgs {
    /// Why (written to each message's history).
    #[arg(long)]
    pub(crate) reason: String,
    /// Failed incoming messages instead of outgoing work.
    #[arg(long)]
    pub(crate) incoming: bool,
    /// Only this flow.
    #[arg(long)]
    pub(crate) flow: Option<String>,
    /// Only deliveries to this subscriber.
    #[arg(long, conflicts_with = "incoming")]
    pub(crate) subscriber: Option<String>,
    /// Only this message (or incoming message).
    #[arg(long)]
    pub(crate) id: Option<String>,
    /// Registered (or accepted) at or after (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub(crate) from: Option<String>,
    /// Registered (or accepted) before (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub(crate) to: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Checks a configuration file without loading it (exit code 1 when it has problems).
    Validate {
        /// The file (JSON or YAML).
        file: PathBuf,
    },
    /// Replaces the stored configuration with a file's (checked first: nothing changes
    /// when it has problems).
    Load {
        /// The file (JSON or YAML).
        file: PathBuf,
    },
    /// Prints the stored configuration as JSON, its secrets shown as ***.
    Export,
}

/// A role of the operators' API.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Role {
    /// Reads everything.
    Viewer,
    /// Reads everything; re-drives and deletes.
    Operator,
}
