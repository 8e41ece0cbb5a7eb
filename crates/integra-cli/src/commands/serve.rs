//! `integra serve`: Integra as a service of its own, for programs that are not 1C or beside
//! a 1C cluster: the dispatcher, every listener of the configuration (receivers, metrics)
//! and the sources, until Ctrl-C or SIGTERM.

use std::path::Path;
use std::process::ExitCode;

use integra_core::{Config, DispatcherOptions, Engine};

use crate::failure::Failure;

/// Runs until interrupted, then stops everything in order.
pub(crate) fn serve(engine: &Engine, config: Option<&Path>) -> Result<ExitCode, Failure> {
    if let Some(file) = config {
        engine.load_config(&Config::from_file(file)?)?;
    }
    let (stop, stopped) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })?;
    let listeners = engine.config()?.listeners;
    let mut receivers = Vec::with_capacity(listeners.len());
    for listener in &listeners {
        let receiver = engine.start_receiver(&listener.code)?;
        eprintln!("listener '{}' on {}", listener.code, receiver.local_addr());
        receivers.push(receiver);
    }
    let sources = engine.start_sources()?;
    engine.start_dispatcher(DispatcherOptions::default())?;
    eprintln!("serving {} (Ctrl-C stops)", engine.path().display());
    // A dropped handler (it cannot be) ends the wait as an interruption would.
    let _ = stopped.recv();
    eprintln!("stopping");
    engine.stop_dispatcher();
    sources.stop();
    for receiver in receivers {
        receiver.stop();
    }
    Ok(ExitCode::SUCCESS)
}
