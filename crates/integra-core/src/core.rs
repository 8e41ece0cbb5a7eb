//! The core below the subsystems: what they all share and nothing else. The store, the
//! engine's options (its clock among them), the owner id its leases carry, the wake-up
//! signal to the dispatcher, the metrics of what this process did, and two caches the
//! subsystems share: the schema catalog ([`Catalog`], owned by `openapi`) and the senders
//! ([`Transports`], owned by `transport`). Every subsystem imports this; it imports none of
//! them. The [`Engine`](crate::Engine) on top holds a core and the Rust handlers registered
//! in this process.

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::config::{ConfigSnapshot, ExchangeSettings, Flow};
use crate::error::{Error, Result};
use crate::metrics::events::{Metrics, Observation};
use crate::openapi::{Catalog, Violation};
use crate::secrets::SecretsKey;
use crate::store::{Commit, Db, Durability, Store, StoreError};
use crate::time::{Clock, SystemClock, Timestamp};
use crate::transport::Transports;

/// How an engine opens its database and runs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EngineOptions {
    /// `synchronous=NORMAL` (default) or `FULL`; see [`Durability`].
    pub durability: Durability,
    /// How long work claimed by the dispatcher stays reserved before another process may
    /// take it back. Renewed while the work runs. Default 60 s.
    pub lease: Duration,
    /// How long a write waits for another process holding the database lock. Default 10 s.
    pub busy_timeout: Duration,
    /// The clock every time-dependent decision reads. Default: the system clock.
    pub clock: Arc<dyn Clock>,
    /// Most schema violations reported for one message. Default 100.
    pub max_violations: usize,
    /// The key that seals the configuration's secrets in the database file
    /// ([`crate::secrets`]). Default none: secrets are kept as given, in a file only its
    /// owner may read.
    pub secrets_key: Option<SecretsKey>,
    /// Opens an SQLite file on a network filesystem (NFS, SMB/CIFS, sshfs, …), which is
    /// otherwise refused: say so only when no other machine uses the file. Default false.
    pub allow_network_filesystem: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            durability: Durability::Normal,
            lease: Duration::from_secs(60),
            busy_timeout: Duration::from_secs(10),
            clock: Arc::new(SystemClock),
            max_violations: 100,
            secrets_key: None,
            allow_network_filesystem: false,
        }
    }
}

crate::setters::setters!(EngineOptions {
    with_durability => durability: Durability,
    with_lease => lease: Duration,
    with_busy_timeout => busy_timeout: Duration,
    with_clock => clock: Arc<dyn Clock>,
    with_max_violations => max_violations: usize,
    with_allow_network_filesystem => allow_network_filesystem: bool,
} optional {
    with_secrets_key => secrets_key: SecretsKey,
});

/// A wake-up signal from registering code to the dispatcher. Sending never blocks: one
/// pending signal is enough to make the dispatcher look for work. On PostgreSQL the other
/// processes on the database are woken too, and wake this one.
#[derive(Debug)]
pub(crate) struct Wake {
    tx: Sender<()>,
    rx: Receiver<()>,
    /// Where to ask for new work to be announced to the other processes.
    announce: Option<Sender<()>>,
}

impl Wake {
    fn new(store: &Store) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let announce = store.signal_other_processes(tx.clone());
        Wake { tx, rx, announce }
    }

    /// Wakes this process's dispatcher, and announces new work to the other processes.
    pub(crate) fn notify(&self) {
        let _ = self.tx.try_send(());
        self.announce();
    }

    /// Announces to the other processes (not this one) that work may have become
    /// claimable: a finished delivery may free the next one of its ordering key, a formed
    /// message has deliveries.
    pub(crate) fn announce(&self) {
        if let Some(announce) = &self.announce {
            let _ = announce.try_send(());
        }
    }

    /// Whether the other processes on the store announce their new work to this one
    /// (PostgreSQL), so that polling for it is only a safety net.
    pub(crate) fn hears_others(&self) -> bool {
        self.announce.is_some()
    }

    pub(crate) fn receiver(&self) -> Receiver<()> {
        self.rx.clone()
    }
}

/// Work prepared against the configuration by [`Core::write_prepared`], and the flow whose
/// settings it was checked against.
pub(crate) struct Prepared<P> {
    /// The flow's code.
    pub(crate) flow: String,
    /// The work, applied in the write transaction.
    pub(crate) work: P,
}

/// A kind's claim for the pull API ([`Core::claim_pulled`]): `(db, owner, lease_until, now,
/// flows, max)` to the rows claimed.
pub(crate) type PullClaim<R> =
    fn(&Db<'_>, &str, Timestamp, Timestamp, &[&str], usize) -> Result<Vec<R>>;

/// What the engine's threads share.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) store: Store,
    pub(crate) options: EngineOptions,
    /// Identifies this engine's leases in the database.
    pub(crate) owner: String,
    /// The senders to subscribers, rebuilt when the configuration changes.
    pub(crate) transports: Transports,
    /// The schema documents and their compiled validators.
    pub(crate) catalog: Catalog,
    pub(crate) wake: Wake,
    pub(crate) metrics: Metrics,
}

impl Core {
    /// A core on `store`, with a new owner id.
    pub(crate) fn new(store: Store, options: EngineOptions) -> Core {
        Core {
            wake: Wake::new(&store),
            store,
            options,
            owner: uuid::Uuid::new_v4().to_string(),
            transports: Transports::default(),
            catalog: Catalog::default(),
            metrics: Metrics::new(),
        }
    }

    /// The current time by the engine's clock, corrected to the database's on PostgreSQL
    /// (see [`Clock`](crate::time::Clock)).
    pub(crate) fn now(&self) -> Timestamp {
        let clock = &*self.options.clock;
        let now = clock.now();
        match self.store.clock_offset(clock) {
            0 => now,
            offset => Timestamp::from_millis(now.as_millis().saturating_add(offset)),
        }
    }

    /// The violations of `value` against `flow`'s schema (none when it has no schema), in
    /// the flow's direction, capped by [`EngineOptions::max_violations`].
    pub(crate) fn flow_violations(
        &self,
        config: &ConfigSnapshot,
        flow: &Flow,
        value: &serde_json::Value,
    ) -> Result<Vec<Violation>> {
        self.catalog.flow_violations(
            &self.store,
            &*self.options.clock,
            config,
            flow,
            value,
            self.options.max_violations,
        )
    }

    /// Prepares work against the configuration outside any transaction (schema validation
    /// runs here, never under the write lock), then applies it in a write transaction, with
    /// the configuration that transaction sees. The work was checked against one flow's
    /// settings ([`Prepared::flow`]); only when another writer changed those in between
    /// ([`ConfigSnapshot::flow_scope`]) is it prepared again. A change elsewhere in the
    /// configuration (another flow, an endpoint no schema of this flow is fetched from, a
    /// listener) leaves the work as it was checked, so registrations keep going while other
    /// processes change or reload the configuration (issue 22).
    pub(crate) fn write_prepared<P, R>(
        &self,
        commit: Commit,
        mut prepare: impl FnMut(&Arc<ConfigSnapshot>) -> Result<Prepared<P>>,
        apply: impl Fn(&Db<'_>, &ConfigSnapshot, P) -> Result<R> + Send + std::marker::Sync + 'static,
    ) -> Result<R>
    where
        P: Send + 'static,
        R: Send + 'static,
    {
        /// Why an attempt's transaction wrote nothing.
        enum Undone {
            /// The transaction saw other settings of the flow than the work was prepared
            /// with.
            Stale(String),
            Failed(Error),
        }
        impl From<StoreError> for Undone {
            fn from(e: StoreError) -> Self {
                Undone::Failed(e.into())
            }
        }
        const ATTEMPTS: usize = 5;
        let apply = Arc::new(apply);
        let mut flow = String::new();
        for _ in 0..ATTEMPTS {
            let config = self.store.cached_config();
            let prepared = prepare(&config)?;
            let apply = Arc::clone(&apply);
            let outcome = self.store.write(commit, move |db| {
                // The stored version is asked with the work's first round trip and checked
                // before the commit: the work is applied on the snapshot it was prepared
                // with, and undone when the settings of its flow changed meanwhile.
                // (Work that failed on a stale snapshot, say for a flow it did not know yet,
                // is prepared again too.)
                let version = db.config_version_later()?;
                let done = apply(db, &config, prepared.work);
                let stale = match version.take() {
                    Ok(version) => version.unwrap_or(0) != config.version(),
                    Err(e) => return Err(done.err().map_or_else(|| e.into(), Undone::Failed)),
                };
                if stale {
                    let current = match db.config() {
                        Ok(current) => current,
                        Err(e) => return Err(done.err().map_or_else(|| e.into(), Undone::Failed)),
                    };
                    if current.flow_scope(&prepared.flow) != config.flow_scope(&prepared.flow) {
                        return Err(Undone::Stale(prepared.flow));
                    }
                }
                done.map_err(Undone::Failed)
            });
            match outcome {
                Ok(done) => return Ok(done),
                Err(Undone::Stale(changed)) => flow = changed,
                Err(Undone::Failed(e)) => return Err(e),
            }
        }
        Err(Error::Store(StoreError::Commit {
            reason: format!(
                "the settings of flow '{}' (the flow, its subscribers or its schema) changed {ATTEMPTS} times while this call ran; try again",
                crate::limits::quoted(&flow)
            ),
        }))
    }

    /// The lease owner of work claimed through the pull API (`next_to_form`,
    /// `next_incoming`): distinct from the dispatcher's, whose lease renewals must not keep
    /// alive work an external caller abandoned.
    pub(crate) fn pull_owner(&self) -> String {
        format!("{}/pull", self.owner)
    }

    /// Claims up to `max` rows for the pull API with `claim` (the kind's claim), over the
    /// configuration's flows that `pulled` picks, leased to [`Core::pull_owner`] for `lease`.
    pub(crate) fn claim_pulled<R: Send + 'static>(
        &self,
        max: usize,
        lease: Duration,
        pulled: fn(&Flow) -> bool,
        claim: PullClaim<R>,
    ) -> Result<Vec<R>> {
        let now = self.now();
        let owner = self.pull_owner();
        self.store.write(Commit::Lazy, move |db| {
            let config = db.config()?;
            let flows: Vec<&str> = config
                .config()
                .flows
                .iter()
                .filter(|f| pulled(f))
                .map(|f| f.code.as_str())
                .collect();
            claim(db, &owner, now.plus(lease), now, &flows, max)
        })
    }

    /// Gives work claimed through the pull API back with `release` (the store's statement
    /// for its kind), and wakes the dispatcher. Returns how many were given back.
    pub(crate) fn release_pulled(
        &self,
        ids: &[String],
        release: fn(&Db<'_>, &[&str], &str, Timestamp) -> Result<usize, StoreError>,
    ) -> Result<usize> {
        let ids = ids.to_vec();
        let (owner, now) = (self.pull_owner(), self.now());
        let released = self.store.write(Commit::Lazy, move |db| {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            release(db, &ids, &owner, now)
        })?;
        self.wake.notify();
        Ok(released)
    }

    /// The message exchange's settings as configured now (the defaults when the
    /// configuration has none).
    pub(crate) fn exchange_settings(&self) -> Result<ExchangeSettings> {
        Ok(self
            .store
            .read(|db| db.config())?
            .config()
            .exchange_settings())
    }

    /// Counts what happened, once the transaction that made it true has committed.
    pub(crate) fn observe(&self, observations: &[Observation]) {
        let now = self.now();
        for o in observations {
            self.metrics.events.observe(o, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Engine;

    /// Issue 22: work prepared outside the write lock was prepared again whenever the
    /// configuration's version moved, so a registration failed after five changes of any
    /// part of the configuration by other processes ("the configuration changed 5 times
    /// while this call ran"). Now only a change to what the work was checked against (its
    /// flow, the flow's subscribers, its schema) prepares it again.
    #[test]
    fn work_is_prepared_again_only_when_its_flow_changed_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let engine = Engine::open(&path, EngineOptions::default()).unwrap();
        let config = json!({"flows": [
            {"code": "ORDERS", "direction": "outgoing"},
            {"code": "OTHER", "direction": "outgoing"}
        ]});
        engine.load_config_json(&config.to_string()).unwrap();
        // Read once, so the first preparation sees the configuration as loaded.
        engine.config().unwrap();
        // Another process on the database, renaming flow `code` while the work is prepared.
        let other = Engine::open(&path, EngineOptions::default()).unwrap();
        let rename = |code: &str, n: usize| {
            let config = other.config().unwrap();
            let mut flow = config
                .flows
                .iter()
                .find(|f| f.code == code)
                .unwrap()
                .clone();
            flow.name = format!("renamed {n}");
            other.put_flow(flow).unwrap();
        };
        let write = |changing: &str| {
            let mut prepared = 0;
            let written = engine.core.write_prepared(
                Commit::Durable,
                |_| {
                    prepared += 1;
                    rename(changing, prepared);
                    Ok(Prepared {
                        flow: "ORDERS".to_owned(),
                        work: (),
                    })
                },
                |_, _, ()| Ok(()),
            );
            (written, prepared)
        };

        let (written, prepared) = write("OTHER");
        assert!(written.is_ok(), "{written:?}");
        assert_eq!(prepared, 1);

        let (written, prepared) = write("ORDERS");
        assert_eq!(prepared, 5);
        assert_eq!(
            written.unwrap_err().to_string(),
            "the transaction could not be committed, nothing was written: the settings of flow 'ORDERS' (the flow, its subscribers or its schema) changed 5 times while this call ran; try again"
        );
    }
}
