//! Cleanup: removes finished messages older than their flow's retention (sent and cancelled
//! after `retention.delivered`, dead and undelivered after the longer `retention.dead`),
//! with their deliveries and history, and processed / dead incoming messages likewise, and
//! sources' rejections after the flow's `retention.dead`, and the message exchange's
//! finished messages after `exchange.retention`.
//! Messages of flows no longer configured get the default retention. It works in small
//! transactions so registrations are never held up for long.

use serde::Serialize;

use crate::config::{Direction, Retention};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::store::{Commit, Cutoffs, Finished};

/// Records removed per transaction.
const CHUNK: usize = 500;

/// What a cleanup removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CleanupReport {
    /// Outgoing messages removed (with their deliveries and history).
    pub messages: u64,
    /// Incoming messages removed (with their history).
    pub incoming: u64,
    /// Rejections by sources removed.
    pub rejections: u64,
    /// Exchange messages sent and processed by their recipient, removed.
    pub exchange_sent: u64,
    /// Exchange messages received and handled (or quarantined), removed.
    pub exchange_received: u64,
}

impl CleanupReport {
    /// Every record removed.
    pub fn total(&self) -> u64 {
        self.messages
            + self.incoming
            + self.rejections
            + self.exchange_sent
            + self.exchange_received
    }
}

impl Engine {
    /// Removes finished records past their retention.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails; what was removed before stays removed.
    pub fn cleanup(&self) -> Result<CleanupReport> {
        let mut report = CleanupReport::default();
        loop {
            let now = self.core.now();
            let chunk = self.core.store.write(Commit::Durable, move |db| {
                let config = db.config()?;
                let flows = &config.config().flows;
                let known: Vec<&str> = flows.iter().map(|f| f.code.as_str()).collect();
                let cutoffs = |flow, r: &Retention| Cutoffs {
                    flow,
                    known_flows: &known,
                    finished_before: now.minus(r.delivered),
                    dead_before: now.minus(r.dead),
                };
                let mut messages = Vec::new();
                let mut incoming = Vec::new();
                for f in flows {
                    let c = cutoffs(Some(f.code.as_str()), &f.retention);
                    match f.direction {
                        Direction::Outgoing => {
                            messages.extend(db.expired_records(
                                Finished::Messages,
                                &c,
                                CHUNK - messages.len(),
                            )?);
                        }
                        Direction::Incoming => {
                            incoming.extend(db.expired_records(
                                Finished::Incoming,
                                &c,
                                CHUNK - incoming.len(),
                            )?);
                        }
                    }
                }
                let others = cutoffs(None, &Retention::default());
                messages.extend(db.expired_records(
                    Finished::Messages,
                    &others,
                    CHUNK - messages.len(),
                )?);
                incoming.extend(db.expired_records(
                    Finished::Incoming,
                    &others,
                    CHUNK - incoming.len(),
                )?);
                Ok::<_, Error>(CleanupReport {
                    messages: db.delete_messages(&messages)? as u64,
                    incoming: db.delete_incoming(&incoming)? as u64,
                    ..CleanupReport::default()
                })
            })?;
            report.messages += chunk.messages;
            report.incoming += chunk.incoming;
            if chunk.messages == 0 && chunk.incoming == 0 {
                report.rejections = self.cleanup_rejections()?;
                let (sent, received) = self.cleanup_exchange()?;
                report.exchange_sent = sent;
                report.exchange_received = received;
                return Ok(report);
            }
        }
    }

    /// Removes finished exchange messages past `exchange.retention`: how many sent and
    /// received.
    fn cleanup_exchange(&self) -> Result<(u64, u64)> {
        let retention = self.core.exchange_settings()?.retention;
        let (mut sent, mut received) = (0, 0);
        loop {
            let now = self.core.now();
            let cutoffs = Cutoffs {
                flow: None,
                known_flows: &[],
                finished_before: now.minus(retention.delivered),
                dead_before: now.minus(retention.dead),
            };
            let (s, r) = self.core.store.write(Commit::Durable, move |db| {
                Ok::<_, Error>(db.delete_finished_exchange(&cutoffs, CHUNK)?)
            })?;
            sent += s as u64;
            received += r as u64;
            if s < CHUNK && r < CHUNK {
                return Ok((sent, received));
            }
        }
    }

    /// Removes rejections older than their flow's dead retention.
    fn cleanup_rejections(&self) -> Result<u64> {
        let now = self.core.now();
        self.core.store.write(Commit::Durable, move |db| {
            let config = db.config()?;
            let flows = &config.config().flows;
            let known: Vec<&str> = flows.iter().map(|f| f.code.as_str()).collect();
            let mut removed = 0;
            for f in flows.iter().filter(|f| f.direction == Direction::Incoming) {
                removed +=
                    db.delete_rejections(Some(&f.code), &known, now.minus(f.retention.dead))?;
            }
            let default = now.minus(Retention::default().dead);
            removed += db.delete_rejections(None, &known, default)?;
            Ok::<_, Error>(removed as u64)
        })
    }
}
