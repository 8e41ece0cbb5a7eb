//! `config validate|load|export`.

use std::path::Path;
use std::process::ExitCode;

use integra_core::{Config, Engine};

use crate::cli::ConfigCommand;
use crate::failure::Failure;
use crate::output::{Output, print_json, table};

/// `integra config load|export` (`validate` needs no database: [`validate`]).
pub(crate) fn run(
    engine: &Engine,
    command: ConfigCommand,
    out: Output,
) -> Result<ExitCode, Failure> {
    match command {
        ConfigCommand::Validate { file } => validate(&file, out),
        ConfigCommand::Load { file } => {
            let config = Config::from_file(&file)?;
            engine.load_config(&config)?;
            out.outcome(
                "flows",
                config.flows.len() as u64,
                &format!(
                    "loaded: {} flow(s), {} subscriber(s), {} endpoint(s)",
                    config.flows.len(),
                    config.subscribers.len(),
                    config.endpoints.len()
                ),
            );
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Export => {
            print_json(&engine.config()?.redacted());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `integra config validate FILE`: exit code 1, with every problem, when it has any.
pub(crate) fn validate(file: &Path, out: Output) -> Result<ExitCode, Failure> {
    match Config::from_file(file) {
        Ok(_) => {
            out.outcome("problems", 0, "valid");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            out.show(&e.problems, |problems| {
                let mut t = table(&["object", "field", "problem"]);
                for p in problems {
                    t.add_row(vec![p.object.clone(), p.field.clone(), p.message.clone()]);
                }
                t
            });
            Err(Failure::No(format!(
                "{} problem(s) found",
                e.problems.len()
            )))
        }
    }
}
