//! The background dispatcher: a scheduler thread and a pool of workers.
//!
//! The scheduler owns every database step: it claims batches while workers have room,
//! hands items to the workers over a channel, records their results in batches, renews
//! leases and takes back expired ones. Workers only execute (form, send), so several
//! messages are in flight at once and database writes stay batched.
//!
//! Whenever it takes back expired leases (every few seconds), it also looks for work that
//! waits for a Rust former or incoming handler this process lacks, and warns of it.
//!
//! It sleeps until there is reason to look: a wake-up from `register` in this process, a
//! finished item, the next due time (backoff, delayed delivery), or the poll interval, which
//! catches work registered by other processes on a SQLite file (on PostgreSQL the other
//! processes announce theirs, and the poll is a rarer safety net). An idle dispatcher
//! therefore makes no writes and wakes a few times a second at most (a read that finds
//! nothing due).
//!
//! Every claim and every recording is a write transaction on the one writer the registering
//! callers use too, so under load they are paced to carry many items each: with items in
//! flight, the scheduler claims again only once fewer than half its capacity remain (the
//! workers never run dry, and the registrations meanwhile join one claim), never past its
//! capacity with the results not yet recorded counted in (what a process holds is the most a
//! crash of it can make be sent twice), and it records
//! results once half its capacity of them have gathered, nothing else is in flight, or the
//! oldest has waited [`RECORD_DELAY`]. An idle dispatcher that is woken claims at once, so
//! a lone message goes out without waiting.

use std::sync::Arc;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, select};

use super::kinds::Work;
use super::{Handlers, WorkResult};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// Longest a finished item's outcome waits to be recorded with others.
const RECORD_DELAY: Duration = Duration::from_millis(5);

/// How many times less often a dispatcher polls where the other processes announce their
/// work ([`DispatcherOptions::poll_interval`]): 2 s at the default interval.
const SAFETY_NET_POLLS: u32 = 8;

/// How the background dispatcher runs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DispatcherOptions {
    /// Worker threads that form and send in parallel. Default 4.
    pub threads: usize,
    /// Most items claimed at once, and in flight (claimed, not yet recorded; at least twice
    /// `threads`). Default 64. Larger batches mean fewer write transactions per message; a
    /// smaller one shortens the queue that deliveries to fast subscribers may wait in behind
    /// those to a slow one.
    pub batch: usize,
    /// How often to look for work nobody signalled: on SQLite, work registered by other
    /// processes on the same file. On PostgreSQL every process announces its new work to the
    /// others (`LISTEN`/`NOTIFY`), so the poll is only a safety net (for announcements lost
    /// while a connection was down) and runs eight times less often. Default 250 ms (2 s
    /// on PostgreSQL).
    pub poll_interval: Duration,
    /// How long `stop` waits for work in flight; work still running after it is left to
    /// its lease. Default 10 s.
    pub stop_grace: Duration,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        DispatcherOptions {
            threads: 4,
            batch: 64,
            poll_interval: Duration::from_millis(250),
            stop_grace: Duration::from_secs(10),
        }
    }
}

crate::setters::setters!(DispatcherOptions {
    with_threads => threads: usize,
    with_batch => batch: usize,
    with_poll_interval => poll_interval: Duration,
    with_stop_grace => stop_grace: Duration,
});

impl DispatcherOptions {
    fn check(&self) -> Result<()> {
        let problem = if !(1..=256).contains(&self.threads) {
            Some(("threads", "must be between 1 and 256"))
        } else if !(1..=10_000).contains(&self.batch) {
            Some(("batch", "must be between 1 and 10000"))
        } else if self.poll_interval < Duration::from_millis(10) {
            Some(("poll_interval", "must be at least 10 ms"))
        } else {
            None
        };
        match problem {
            Some((name, reason)) => Err(Error::InvalidArgument {
                name,
                reason: reason.into(),
            }),
            None => Ok(()),
        }
    }
}

/// A running background dispatcher.
#[derive(Debug)]
pub(crate) struct Dispatcher {
    /// Tells the scheduler to stop, by when.
    stop: Sender<Instant>,
    scheduler: Option<JoinHandle<()>>,
    workers: Vec<JoinHandle<()>>,
    grace: Duration,
    /// The engine, to clear the thread gauge on stop.
    core: Arc<Core>,
}

impl Dispatcher {
    /// Starts the threads, working on `core` with the Rust handlers of this process.
    pub(crate) fn start(
        core: Arc<Core>,
        handlers: Arc<Handlers>,
        options: DispatcherOptions,
    ) -> Result<Dispatcher> {
        options.check()?;
        let capacity = options.batch.max(options.threads * 2);
        let (work_tx, work_rx) = crossbeam_channel::bounded::<Box<dyn Work>>(capacity);
        let (done_tx, done_rx) = crossbeam_channel::unbounded::<WorkResult>();
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<Instant>(1);
        let spawn_err = |source| Error::Spawn {
            what: "a dispatcher thread",
            source,
        };
        let mut workers = Vec::with_capacity(options.threads);
        for i in 0..options.threads {
            let core = Arc::clone(&core);
            let handlers = Arc::clone(&handlers);
            let work_rx = work_rx.clone();
            let done_tx = done_tx.clone();
            let handle = std::thread::Builder::new()
                .name(format!("integra-worker-{i}"))
                .spawn(move || {
                    for item in work_rx {
                        core.metrics.busy.fetch_add(1, AtomicOrdering::Relaxed);
                        let result = core.execute(&handlers, item);
                        core.metrics.busy.fetch_sub(1, AtomicOrdering::Relaxed);
                        if done_tx.send(result).is_err() {
                            break;
                        }
                    }
                })
                .map_err(spawn_err)?;
            workers.push(handle);
        }
        let grace = options.stop_grace;
        let metrics_of = Arc::clone(&core);
        core.metrics
            .threads
            .store(options.threads, AtomicOrdering::Relaxed);
        let poll_interval = if core.wake.hears_others() {
            options.poll_interval * SAFETY_NET_POLLS
        } else {
            options.poll_interval
        };
        let scheduler = Scheduler {
            wake: core.wake.receiver(),
            core,
            handlers,
            options,
            capacity,
            poll_interval,
            work: work_tx,
            done: done_rx,
            stop: stop_rx,
        };
        let handle = std::thread::Builder::new()
            .name("integra-dispatch".into())
            .spawn(move || scheduler.run())
            .map_err(spawn_err)?;
        Ok(Dispatcher {
            stop: stop_tx,
            scheduler: Some(handle),
            workers,
            grace,
            core: metrics_of,
        })
    }

    /// Stops claiming, waits up to the grace period for work in flight, records what
    /// finished, and joins the threads that are done. The whole stop takes at most the
    /// grace period: the scheduler and the workers share one deadline.
    pub(crate) fn stop(mut self) {
        let deadline = Instant::now() + self.grace;
        let _ = self.stop.try_send(deadline);
        if let Some(s) = self.scheduler.take() {
            let _ = s.join();
        }
        // The scheduler dropped the work channel: idle workers have exited. A worker still
        // inside a send gets until the end of the grace period, then is left to finish on
        // its own (its item's lease expires and it is retried).
        for w in self.workers.drain(..) {
            while !w.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if w.is_finished() {
                let _ = w.join();
            } else {
                log::warn!("a dispatcher worker is still sending after the stop grace period");
            }
        }
        self.core.metrics.threads.store(0, AtomicOrdering::Relaxed);
    }
}

struct Scheduler {
    core: Arc<Core>,
    handlers: Arc<Handlers>,
    options: DispatcherOptions,
    capacity: usize,
    /// How often it looks for work nobody signalled.
    poll_interval: Duration,
    work: Sender<Box<dyn Work>>,
    done: Receiver<WorkResult>,
    stop: Receiver<Instant>,
    wake: Receiver<()>,
}

impl Scheduler {
    fn run(self) {
        let core = &self.core;
        let rescue_every =
            (core.options.lease / 4).clamp(Duration::from_secs(1), Duration::from_secs(15));
        let renew_every = core.options.lease / 3;
        let mut in_flight = 0usize;
        let mut results: Vec<WorkResult> = Vec::new();
        // When the oldest unrecorded result came in.
        let mut results_since: Option<Instant> = None;
        // Claim again below this many items in flight; record once this many results wait.
        let low_water = (self.capacity / 2).max(1);
        let mut look = true;
        let mut next_look = Instant::now();
        let mut next_rescue = Instant::now();
        let mut next_renew = Instant::now() + renew_every;
        let mut stop_by: Option<Instant> = None;
        loop {
            let before = results.len();
            results.extend(self.done.try_iter());
            in_flight -= results.len() - before;
            if !results.is_empty() {
                let since = *results_since.get_or_insert_with(Instant::now);
                if results.len() >= low_water
                    || in_flight == 0
                    || since.elapsed() >= RECORD_DELAY
                    || stop_by.is_some()
                {
                    if let Err(e) = core.complete_work(std::mem::take(&mut results)) {
                        log::error!(
                            "recording dispatch results failed (the work will be retried): {e}"
                        );
                    }
                    results_since = None;
                    look = true;
                }
            }
            let now = Instant::now();
            if let Some(deadline) = stop_by {
                if in_flight == 0 || now >= deadline {
                    break;
                }
            } else {
                if now >= next_rescue {
                    if let Err(e) = core.rescue_expired() {
                        log::warn!("taking back expired leases failed: {e}");
                    }
                    core.check_unhandled(&self.handlers);
                    next_rescue = now + rescue_every;
                }
                if in_flight > 0 && now >= next_renew {
                    if let Err(e) = core.renew_leases() {
                        log::warn!("renewing leases failed: {e}");
                    }
                    next_renew = now + renew_every;
                }
                // Results not yet recorded are still claimed: counted with what is in flight
                // in the room to claim, what a process holds never passes its capacity (the
                // most a crash of it sends twice).
                let held = in_flight + results.len();
                if (look || now >= next_look) && in_flight < low_water && held < self.capacity {
                    let signalled = look;
                    look = false;
                    // A wake-up means new work: claim at once. A poll reads first, so an idle
                    // dispatcher never takes the write lock.
                    let due_at = if signalled { None } else { self.next_due() };
                    let due_now = signalled || due_at.is_some_and(|t| t <= core.now());
                    next_look = self.wake_for(now, due_at);
                    if due_now {
                        let room = (self.capacity - held).min(self.options.batch);
                        match core.claim_work(&self.handlers, room) {
                            Ok(claimed) => {
                                let got = claimed.rows;
                                for item in claimed.items {
                                    in_flight += 1;
                                    if self.work.send(item).is_err() {
                                        in_flight -= 1;
                                    }
                                }
                                // A full batch suggests more is due: look again at once.
                                look = got >= room && in_flight < low_water;
                                if got == 0 {
                                    next_look = self.wake_for(now, self.next_due());
                                }
                            }
                            Err(e) => log::warn!("claiming work failed: {e}"),
                        }
                    }
                }
            }
            let mut deadline = match stop_by {
                Some(d) => d,
                None => next_look.min(next_rescue),
            };
            if in_flight > 0 {
                deadline = deadline.min(next_renew);
            }
            if let Some(since) = results_since {
                deadline = deadline.min(since + RECORD_DELAY);
            }
            let timeout = if look && in_flight < low_water && stop_by.is_none() {
                Duration::ZERO
            } else {
                deadline.saturating_duration_since(Instant::now())
            };
            select! {
                recv(self.done) -> r => if let Ok(r) = r {
                    results.push(r);
                    in_flight -= 1;
                },
                recv(self.wake) -> _ => look = true,
                recv(self.stop) -> deadline => {
                    if stop_by.is_none() {
                        stop_by = Some(deadline.unwrap_or_else(|_| Instant::now()));
                    }
                },
                default(timeout) => {}
            }
        }
        if in_flight > 0 {
            log::warn!(
                "dispatcher stopped with {in_flight} item(s) in flight; their leases will expire and they will be retried"
            );
        }
    }

    /// When the next queued work falls due; None when nothing is queued (or on error).
    fn next_due(&self) -> Option<Timestamp> {
        self.core
            .next_due(&self.handlers)
            .map_err(|e| log::warn!("looking for due work failed: {e}"))
            .ok()
            .flatten()
    }

    /// When to look next: at the next due time if that comes before the next poll (and is
    /// not already past: past-due work that could not be claimed, for instance behind an
    /// ordering key, waits for the poll).
    fn wake_for(&self, now: Instant, due_at: Option<Timestamp>) -> Instant {
        let poll = now + self.poll_interval;
        match due_at {
            Some(t) => {
                let wait = t.since(self.core.now());
                if wait.is_zero() {
                    poll
                } else {
                    poll.min(now + wait)
                }
            }
            None => poll,
        }
    }
}
