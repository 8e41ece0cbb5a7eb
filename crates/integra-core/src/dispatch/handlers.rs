//! The Rust handlers registered in this process: formers and incoming handlers by flow,
//! channel handlers by channel. The engine holds them and hands them to the dispatcher. What
//! is registered decides which work this process claims ([`Here`]); the kinds of work look
//! their handler up here when they run.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use super::kinds::Here;
use super::unhandled::Warned;
#[cfg(feature = "receiver")]
use crate::exchange::ChannelHandler;
use crate::queue::forming::Former;
use crate::queue::incoming::IncomingHandler;

/// Every Rust handler this process registered.
#[derive(Debug, Default)]
pub(crate) struct Handlers {
    /// Formers, by flow.
    pub(crate) formers: Registry<dyn Former>,
    /// Incoming handlers, by flow.
    pub(crate) incoming: Registry<dyn IncomingHandler>,
    /// Exchange channel handlers, by channel.
    #[cfg(feature = "receiver")]
    pub(crate) channels: Registry<dyn ChannelHandler>,
    /// When work waiting for a Rust handler this process lacks was last logged, per flow.
    pub(crate) warned: Warned,
}

impl Handlers {
    /// The codes that have a handler now.
    pub(crate) fn here(&self) -> Here {
        Here {
            formers: self.formers.codes(),
            handlers: self.incoming.codes(),
            #[cfg(feature = "receiver")]
            channels: self.channels.codes(),
        }
    }
}

/// Handlers of one kind, by the code (flow, channel) each handles.
#[derive(Debug)]
pub(crate) struct Registry<H: ?Sized>(RwLock<HashMap<String, Arc<H>>>);

impl<H: ?Sized> Default for Registry<H> {
    fn default() -> Self {
        Registry(RwLock::new(HashMap::new()))
    }
}

impl<H: ?Sized> Registry<H> {
    /// Registers `handler` for `code`, replacing any earlier one.
    pub(crate) fn set(&self, code: &str, handler: Arc<H>) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(code.to_owned(), handler);
    }

    /// The handler of `code`, if one is registered.
    pub(crate) fn get(&self, code: &str) -> Option<Arc<H>> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(code)
            .cloned()
    }

    /// The codes with a handler.
    pub(crate) fn codes(&self) -> Vec<String> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }
}
