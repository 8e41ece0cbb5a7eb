//! Wake-ups across processes: work registered on one server wakes the dispatchers of every
//! other one at once, through PostgreSQL's `LISTEN`/`NOTIFY`, with no polling loop.
//!
//! Two threads per store:
//! * the **listener** keeps a connection of its own listening on the schema's channel and
//!   turns every notification into a wake-up of this process's dispatcher. After its
//!   connection is lost it connects again (backing off up to [`MAX_BACKOFF`]) and wakes the
//!   dispatcher once, for whatever was announced meanwhile. Between notifications it wakes
//!   once a second to see whether the store is closing.
//! * the **announcer** sends `NOTIFY` when this process made new work (after the commit:
//!   the work is there when the others look), at most once per [`ANNOUNCE_EVERY`]: a
//!   notification wakes every listener on the database, and each notifying commit takes a
//!   lock of the whole cluster, so a stream of registrations announces itself ten times a
//!   second, not once per message. A dispatcher that wakes claims until nothing is due, so
//!   what came within the same tenth of a second is found too.
//!
//! Notifications are lost while a listener is disconnected, and cannot announce work that
//! becomes due later (a retry's backoff): the dispatcher's own schedule and its poll cover
//! both.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, select};
use postgres::fallible_iterator::FallibleIterator;

use super::session::Session;
use super::target::Target;
use crate::store::sql::Value;

/// Shortest time between two announcements of one process.
const ANNOUNCE_EVERY: Duration = Duration::from_millis(100);

/// How long the listener waits for a notification before it looks whether to stop.
const LISTEN_SLICE: Duration = Duration::from_secs(1);

/// Longest wait before connecting again after a failure.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The statement that announces new work on channel `$1`.
const NOTIFY_WORK: &str = include_str!("sql/notify_work.sql");

/// The statement that listens on the channel (its name written in).
const LISTEN_WORK: &str = include_str!("sql/listen_work.sql");

/// The listener and the announcer of one store.
#[derive(Debug)]
pub(super) struct Signals {
    announce: Sender<()>,
    /// Dropped to stop the announcer.
    stop_announcer: Option<Sender<()>>,
    stopping: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Signals {
    /// Starts listening on `target`'s channel, waking this process through `local`.
    pub(super) fn start(target: &Target, local: Sender<()>) -> Signals {
        let channel = channel_name(&target.schema);
        let stopping = Arc::new(AtomicBool::new(false));
        let (announce, requests) = crossbeam_channel::bounded(1);
        let (stop_announcer, stopped) = crossbeam_channel::bounded::<()>(0);
        let mut threads = Vec::new();
        let spawned = std::thread::Builder::new()
            .name("integra-pg-listen".into())
            .spawn({
                let (target, channel, stopping) =
                    (target.clone(), channel.clone(), Arc::clone(&stopping));
                move || listen(&target, &channel, &local, &stopping)
            })
            .and_then(|listener| {
                threads.push(listener);
                std::thread::Builder::new()
                    .name("integra-pg-announce".into())
                    .spawn({
                        let target = target.clone();
                        move || announce_work(&target, &channel, &requests, &stopped)
                    })
            });
        match spawned {
            Ok(announcer) => threads.push(announcer),
            Err(e) => log::warn!(
                "cannot start the threads that wake other processes: {e}; they find new work by polling"
            ),
        }
        Signals {
            announce,
            stop_announcer: Some(stop_announcer),
            stopping,
            threads,
        }
    }

    /// Where to ask for an announcement of new work.
    pub(super) fn announcer(&self) -> Sender<()> {
        self.announce.clone()
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        // The announcer, leaving, notifies once more: that wakes the listener at once.
        self.stop_announcer = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The channel of a schema: its name, within PostgreSQL's 63 bytes.
fn channel_name(schema: &str) -> String {
    let mut name = format!("integra_work_{schema}");
    while name.len() > 63 {
        name.pop();
    }
    name
}

/// The announcer's loop: one `NOTIFY` per request, at most one per [`ANNOUNCE_EVERY`].
fn announce_work(target: &Target, channel: &str, requests: &Receiver<()>, stopped: &Receiver<()>) {
    let mut session: Option<Session> = None;
    let notify = |session: &mut Option<Session>| {
        if session.as_ref().is_none_or(Session::is_closed) {
            *session = Session::connect(target, 0)
                .map_err(|e| log::debug!("cannot announce new work: {e}"))
                .ok();
        }
        if let Some(s) = session
            && let Err(e) = s.execute("notify_work", NOTIFY_WORK, &[Value::Text(channel)])
        {
            log::debug!("cannot announce new work: {e}");
        }
    };
    loop {
        select! {
            recv(requests) -> request => {
                if request.is_err() {
                    return;
                }
                notify(&mut session);
                std::thread::sleep(ANNOUNCE_EVERY);
            }
            recv(stopped) -> _ => {
                notify(&mut session);
                return;
            }
        }
    }
}

/// The listener's loop, until `stopping`.
fn listen(target: &Target, channel: &str, local: &Sender<()>, stopping: &AtomicBool) {
    let statement = LISTEN_WORK.replace("{channel}", &format!("\"{channel}\""));
    let mut backoff = Duration::from_millis(250);
    while !stopping.load(Ordering::Relaxed) {
        let mut client = match target.connect().and_then(|mut c| {
            c.batch_execute(&statement)
                .map_err(|e| crate::store::StoreError::postgres(&target.shown, "listen_work", &e))
                .map(|()| c)
        }) {
            Ok(c) => c,
            Err(e) => {
                log::warn!("cannot listen for work from other processes: {e}; trying again");
                sleep_unless(stopping, backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = Duration::from_millis(250);
        // Whatever was announced while this process was not listening.
        let _ = local.try_send(());
        while !stopping.load(Ordering::Relaxed) {
            let heard = client.notifications().timeout_iter(LISTEN_SLICE).next();
            match heard {
                Ok(Some(_)) => {
                    let _ = local.try_send(());
                }
                Ok(None) if !client.is_closed() => {}
                Ok(None) => break,
                Err(e) => {
                    log::warn!("lost the connection that listens for work: {e}");
                    break;
                }
            }
        }
    }
}

/// Sleeps for `d`, or less once `stopping`.
fn sleep_unless(stopping: &AtomicBool, d: Duration) {
    let step = Duration::from_millis(100);
    let mut slept = Duration::ZERO;
    while slept < d && !stopping.load(Ordering::Relaxed) {
        std::thread::sleep(step);
        slept += step;
    }
}
