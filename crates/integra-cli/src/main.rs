//! `integra`: the operator's command line. It opens the database a base or a service uses
//! (an SQLite file or a PostgreSQL URL) beside the processes that use it, and shows and
//! steers its queues: `status`, `flows`, `list`, `show`, `dead`, `retry`, `delete`,
//! `cleanup`, `check`, `config validate|load|export`; `serve` runs Integra as a service of its
//! own (dispatcher, receivers, sources) from one configuration.
//!
//! Tables by default, `--json` for scripts; the exit code says how it went ([`failure`]).

mod cli;
mod commands;
mod failure;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("integra: {e}");
            e.exit_code()
        }
    }
}
