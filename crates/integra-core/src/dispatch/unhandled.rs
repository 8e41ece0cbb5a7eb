//! Work this process cannot do: messages of flows whose former is a Rust handler
//! (`"former": "handler"`) and incoming messages of flows whose processor is one
//! (`"processor": "handler"`), when no such handler is registered here. Nothing claims them
//! (pull callers take only external formers' and processors' work), so they wait, `new`,
//! until a process registers the handler. This module says so: [`Engine::dispatch`]'s
//! report names each such flow with its waiting count, the metrics carry it as a gauge, and
//! the dispatchers log a warning, at most once per flow every [`WARN_EVERY`] while it lasts.
//!
//! [`Engine::dispatch`]: crate::Engine::dispatch

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::Handlers;
use crate::config::{ConfigSnapshot, Direction, Former as FormerKind, Processor};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::store::{Counted, QueueCount};

/// Least time between two warnings about one flow.
const WARN_EVERY: Duration = Duration::from_secs(300);

/// Rows waiting, by flow, for a Rust handler this process has not registered: every flow
/// that lacks one is listed, with zero when nothing waits.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Unhandled {
    /// Outgoing messages waiting for a Rust former.
    pub(crate) forming: BTreeMap<String, u64>,
    /// Incoming messages waiting for a Rust incoming handler.
    pub(crate) incoming: BTreeMap<String, u64>,
}

impl Unhandled {
    /// The flows of `config` whose Rust handler is missing here (`formers`, `handlers`: the
    /// flows that have one), with the rows `counts` has pending for each.
    pub(crate) fn of(
        config: &ConfigSnapshot,
        (formers, handlers): (&[String], &[String]),
        counts: &[QueueCount],
    ) -> Unhandled {
        let mut unhandled = Unhandled::default();
        for f in &config.config().flows {
            let lacking = match f.direction {
                Direction::Outgoing => {
                    f.former == FormerKind::Handler && !formers.contains(&f.code)
                }
                Direction::Incoming => {
                    f.processor == Processor::Handler && !handlers.contains(&f.code)
                }
            };
            if lacking {
                let (queue, into) = match f.direction {
                    Direction::Outgoing => (Counted::Messages, &mut unhandled.forming),
                    Direction::Incoming => (Counted::Incoming, &mut unhandled.incoming),
                };
                let waiting = counts
                    .iter()
                    .filter(|c| {
                        c.queue == queue
                            && c.flow == f.code
                            && queue.pending().contains(&c.status.as_str())
                    })
                    .map(|c| c.n)
                    .sum();
                into.insert(f.code.clone(), waiting);
            }
        }
        unhandled
    }

    fn is_empty(&self) -> bool {
        self.forming.is_empty() && self.incoming.is_empty()
    }

    /// The flows with rows waiting, leaving out those with none.
    pub(crate) fn waiting(map: BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        map.into_iter().filter(|(_, n)| *n > 0).collect()
    }
}

/// When each flow's missing handler was last warned about.
#[derive(Debug, Default)]
pub(crate) struct Warned(Mutex<HashMap<(Counted, String), Instant>>);

impl Warned {
    /// The flows of `unhandled` with rows waiting that are due a warning at `now`: those
    /// not warned about in the last [`WARN_EVERY`]. A flow that no longer waits is
    /// forgotten, so its next wait is told at once.
    fn due<'u>(&self, unhandled: &'u Unhandled, now: Instant) -> Vec<(Counted, &'u str, u64)> {
        let mut warned = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let waiting = |queue| match queue {
            Counted::Incoming => &unhandled.incoming,
            _ => &unhandled.forming,
        };
        warned.retain(|(queue, flow), _| waiting(*queue).get(flow).is_some_and(|n| *n > 0));
        let mut due = Vec::new();
        for queue in [Counted::Messages, Counted::Incoming] {
            for (flow, n) in waiting(queue).iter().filter(|(_, n)| **n > 0) {
                let key = (queue, flow.clone());
                if warned.get(&key).is_some_and(|at| now < *at + WARN_EVERY) {
                    continue;
                }
                warned.insert(key, now);
                due.push((queue, flow.as_str(), *n));
            }
        }
        due
    }
}

impl Core {
    /// What waits here for a Rust handler this process lacks. Reads the queue counts only
    /// when the configuration has such a flow.
    pub(crate) fn unhandled(&self, handlers: &Handlers) -> Result<Unhandled> {
        let registered = (handlers.formers.codes(), handlers.incoming.codes());
        self.store.read(|db| {
            let config = db.config()?;
            let registered = (registered.0.as_slice(), registered.1.as_slice());
            let lacking = Unhandled::of(&config, registered, &[]);
            if lacking.is_empty() {
                return Ok::<_, Error>(lacking);
            }
            Ok(Unhandled::of(&config, registered, &db.queue_counts()?))
        })
    }

    /// Looks for work waiting for a Rust handler this process lacks and warns about it
    /// ([`warn_unhandled`]); what the background dispatcher does now and then.
    pub(crate) fn check_unhandled(&self, handlers: &Handlers) {
        match self.unhandled(handlers) {
            Ok(unhandled) => warn_unhandled(handlers, &unhandled),
            Err(e) => log::warn!("looking for work without a handler failed: {e}"),
        }
    }
}

/// Logs a warning for each flow with rows waiting for a Rust handler this process lacks (it
/// has `handlers`), at most once per flow every [`WARN_EVERY`] while it waits.
pub(crate) fn warn_unhandled(handlers: &Handlers, unhandled: &Unhandled) {
    for (queue, flow, n) in handlers.warned.due(unhandled, Instant::now()) {
        if queue == Counted::Incoming {
            log::warn!(
                flow, waiting = n;
                "{n} incoming message(s) of flow '{flow}' wait for a Rust handler, and none is registered in this process (Engine::set_incoming_handler); they stay new until one is"
            );
        } else {
            log::warn!(
                flow, waiting = n;
                "{n} message(s) of flow '{flow}' wait for a Rust former, and none is registered in this process (Engine::set_former); they stay new until one is"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22: the dispatcher looks every few seconds; the log hears of a flow once per
    /// [`WARN_EVERY`], and at once again after the flow stopped waiting.
    #[test]
    fn a_waiting_flow_is_warned_about_once_per_period_and_again_after_a_pause() {
        let warned = Warned::default();
        let waiting = |forming: u64, incoming: u64| Unhandled {
            forming: BTreeMap::from([("F".to_owned(), forming)]),
            incoming: BTreeMap::from([("I".to_owned(), incoming)]),
        };
        let t0 = Instant::now();
        let due = |u: &Unhandled, at: Duration| {
            warned
                .due(u, t0 + at)
                .into_iter()
                .map(|(q, f, n)| (q, f.to_owned(), n))
                .collect::<Vec<_>>()
        };
        let both = waiting(2, 1);
        assert_eq!(
            due(&both, Duration::ZERO),
            [
                (Counted::Messages, "F".to_owned(), 2),
                (Counted::Incoming, "I".to_owned(), 1)
            ]
        );
        for s in 1..300 {
            assert_eq!(due(&both, Duration::from_secs(s)), [], "at {s} s");
        }
        assert_eq!(due(&both, WARN_EVERY).len(), 2);
        let only_incoming = waiting(0, 1);
        let later = WARN_EVERY + Duration::from_secs(1);
        assert_eq!(due(&only_incoming, later), []);
        assert_eq!(
            due(&both, later + Duration::from_secs(1)),
            [(Counted::Messages, "F".to_owned(), 2)],
            "F stopped waiting in between: its new wait is told at once"
        );
    }
}
