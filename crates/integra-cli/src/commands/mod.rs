//! The commands: each opens the engine on the database and calls one of its operations.

mod config;
mod maintenance;
mod messages;
mod queues;
mod serve;
mod token;

use std::process::ExitCode;

use integra_core::{Engine, EngineOptions, SecretsKey, Timestamp};

use crate::cli::{Cli, Command};
use crate::failure::Failure;
use crate::output::Output;

/// Runs the command `cli` names.
pub(crate) fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let out = Output::new(cli.json);
    // The commands that need no database.
    match &cli.command {
        Command::Config(crate::cli::ConfigCommand::Validate { file }) => {
            return config::validate(file, out);
        }
        Command::Token { name, role } => return Ok(token::token(name, *role, out)),
        _ => {}
    }
    let engine = open(&cli)?;
    match cli.command {
        Command::Status => queues::status(&engine, out),
        Command::Flows => queues::flows(&engine, out),
        Command::Subscribers => queues::subscribers(&engine, out),
        Command::List(args) => messages::list(&engine, &args, out),
        Command::Incoming(args) => messages::incoming(&engine, &args, out),
        Command::Show { id } => messages::show(&engine, &id, out),
        Command::Dead(args) => messages::dead(&engine, &args, out),
        Command::Retry(args) => messages::retry(&engine, &args, out),
        Command::Delete { ids, yes } => messages::delete(&engine, &ids, yes, out),
        Command::Cleanup => maintenance::cleanup(&engine, out),
        Command::Check { full } => maintenance::check(&engine, full, out),
        Command::Config(command) => config::run(&engine, command, out),
        Command::Serve { config } => serve::serve(&engine, config.as_deref()),
        Command::Token { name, role } => Ok(token::token(&name, role, out)),
    }
}

/// The engine on the database the command line names.
fn open(cli: &Cli) -> Result<Engine, Failure> {
    let database = cli.db.as_deref().ok_or(Failure::NoDatabase)?;
    let key = match &cli.secrets_key_file {
        Some(file) => Some(SecretsKey::from_file(file)?),
        None => SecretsKey::from_env()?,
    };
    let mut options = EngineOptions::default();
    if let Some(key) = key {
        options = options.with_secrets_key(key);
    }
    Ok(Engine::open(database, options)?)
}

impl crate::cli::PageArgs {
    /// The page's time window: `--from` and `--to`, each if given.
    fn window(&self) -> Result<(Option<Timestamp>, Option<Timestamp>), Failure> {
        Ok((
            time("--from", self.from.as_deref())?,
            time("--to", self.to.as_deref())?,
        ))
    }
}

/// A time argument `what` (RFC 3339), if given.
fn time(what: &str, text: Option<&str>) -> Result<Option<Timestamp>, Failure> {
    text.map(|t| {
        Timestamp::parse_rfc3339(t).ok_or_else(|| {
            Failure::usage(
                what,
                format!(
                    "'{}' is not an RFC 3339 time (2026-12-01T08:00:00Z)",
                    crate::output::cut(t, 64)
                ),
            )
        })
    })
    .transpose()
}

/// A status argument `what`, if given: one of the names of `all`.
fn status<T: std::str::FromStr + std::fmt::Display>(
    what: &str,
    text: Option<&str>,
    all: &[T],
) -> Result<Option<T>, Failure> {
    text.map(|t| {
        t.parse::<T>().map_err(|_| {
            let names: Vec<String> = all.iter().map(ToString::to_string).collect();
            Failure::usage(
                what,
                format!(
                    "'{}' is none of {}",
                    crate::output::cut(t, 64),
                    names.join(", ")
                ),
            )
        })
    })
    .transpose()
}
