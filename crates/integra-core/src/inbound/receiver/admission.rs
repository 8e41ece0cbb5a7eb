//! Which connections the listener keeps: at most `max_connections`, of which one client (a
//! peer address; an IPv6 /64) holds at most its share, `max_connections_per_client`. When a
//! new connection finds no room, a connection that is only waiting for a request head (a
//! new one still sending it, or a keep-alive one between requests) makes room: of the
//! client holding the most connections, the oldest. So a client that opens connections and
//! dawdles cannot lock the others out; connections serving a request are never taken.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{Notify, watch};

/// Who a connection belongs to, for its share: the peer's IPv4 address, or the /64 prefix
/// of its IPv6 address (one host commonly holds a whole /64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Client {
    V4(u32),
    V6(u64),
}

impl Client {
    fn of(peer: IpAddr) -> Self {
        match peer {
            IpAddr::V4(v4) => Client::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Client::V4(u32::from(v4)),
                None => Client::V6(u64::try_from(u128::from(v6) >> 64).unwrap_or(u64::MAX)),
            },
        }
    }
}

/// Waiting for a request head: may make room for another connection.
const WAITING: u8 = 0;
/// Serving a request: kept.
const SERVING: u8 = 1;
/// Taken to make room: closing.
const EVICTED: u8 = 2;

/// What a connection is doing, as far as making room goes, and the signal that it was taken.
#[derive(Debug, Default)]
pub(super) struct Phase {
    state: AtomicU8,
    evicted: Notify,
}

impl Phase {
    /// Marks the connection serving a request; false when it was taken to make room.
    pub(super) fn serving(&self) -> bool {
        self.state
            .compare_exchange(WAITING, SERVING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Marks the connection waiting for its next request head.
    pub(super) fn waiting(&self) {
        let _ = self
            .state
            .compare_exchange(SERVING, WAITING, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Resolves once the connection was taken to make room.
    pub(super) async fn evicted(&self) {
        self.evicted.notified().await;
    }

    /// Takes the connection when it is waiting: true when it was.
    fn evict(&self) -> bool {
        let taken = self
            .state
            .compare_exchange(WAITING, EVICTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if taken {
            self.evicted.notify_one();
        }
        taken
    }
}

/// An open connection.
struct Entry {
    client: Client,
    phase: Arc<Phase>,
}

/// The connections open, by age (their number), and how many each client holds.
#[derive(Default)]
struct Open {
    next: u64,
    connections: BTreeMap<u64, Entry>,
    held: HashMap<Client, usize>,
}

impl Open {
    fn remove(&mut self, number: u64) {
        if let Some(entry) = self.connections.remove(&number)
            && let Some(n) = self.held.get_mut(&entry.client)
        {
            *n -= 1;
            if *n == 0 {
                self.held.remove(&entry.client);
            }
        }
    }

    /// Takes one waiting connection (of `client` only, when given): of the client holding
    /// the most, the oldest. False when none is waiting.
    fn make_room(&mut self, client: Option<Client>) -> bool {
        loop {
            let victim = self
                .connections
                .iter()
                .filter(|(_, e)| client.is_none_or(|c| c == e.client))
                .filter(|(_, e)| e.phase.state.load(Ordering::Acquire) == WAITING)
                .max_by_key(|(number, e)| {
                    let held = self.held.get(&e.client).copied().unwrap_or(0);
                    (held, std::cmp::Reverse(**number))
                })
                .map(|(number, e)| (*number, Arc::clone(&e.phase)));
            let Some((number, phase)) = victim else {
                return false;
            };
            if phase.evict() {
                self.remove(number);
                return true;
            }
            // It began serving meanwhile: look again.
        }
    }
}

/// Why a connection was not let in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refused {
    /// The listener holds `max_connections`, all serving requests.
    Full,
    /// The client holds its share, all serving requests.
    Share,
}

/// The listener's open connections.
pub(super) struct Admission {
    max: usize,
    per_client: usize,
    open: Mutex<Open>,
    /// Connections whose task has not ended yet (taken ones included).
    alive: watch::Sender<usize>,
}

impl Admission {
    /// At most `max` connections, `per_client` of them for one client.
    pub(super) fn new(max: usize, per_client: usize) -> Self {
        Admission {
            max,
            per_client,
            open: Mutex::new(Open::default()),
            alive: watch::Sender::new(0),
        }
    }

    fn open(&self) -> MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lets in a connection from `peer`, making room when needed.
    ///
    /// # Errors
    /// [`Refused`] when there is no room and no waiting connection to make it.
    pub(super) fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Slot, Refused> {
        let client = Client::of(peer);
        let mut open = self.open();
        if open.held.get(&client).copied().unwrap_or(0) >= self.per_client {
            if !open.make_room(Some(client)) {
                return Err(Refused::Share);
            }
        } else if open.connections.len() >= self.max && !open.make_room(None) {
            return Err(Refused::Full);
        }
        let number = open.next;
        open.next += 1;
        let phase = Arc::new(Phase::default());
        open.connections.insert(
            number,
            Entry {
                client,
                phase: Arc::clone(&phase),
            },
        );
        *open.held.entry(client).or_default() += 1;
        drop(open);
        self.alive.send_modify(|n| *n += 1);
        Ok(Slot {
            admission: Arc::clone(self),
            number,
            phase,
        })
    }

    /// Resolves once every connection's task has ended.
    pub(super) async fn all_ended(&self) {
        let mut alive = self.alive.subscribe();
        let _ = alive.wait_for(|n| *n == 0).await;
    }
}

/// A connection's place in the listener, given back when its task ends.
pub(super) struct Slot {
    admission: Arc<Admission>,
    number: u64,
    /// What the connection is doing.
    pub(super) phase: Arc<Phase>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.admission.open().remove(self.number);
        self.admission.alive.send_modify(|n| *n -= 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn a_waiting_connection_of_the_greediest_client_makes_room() {
        let admission = Arc::new(Admission::new(3, 2));
        let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
        let a1 = admission.admit(a).expect("room");
        let a2 = admission.admit(a).expect("room");
        // Over its share: its own oldest waiting connection makes room.
        let a3 = admission.admit(a).expect("its own waiting one is taken");
        assert_eq!(a1.phase.state.load(Ordering::Acquire), EVICTED);
        assert!(!a1.phase.serving());
        drop(a1);
        assert!(a2.phase.serving() && a3.phase.serving());
        assert_eq!(admission.admit(a).err(), Some(Refused::Share));
        let b1 = admission.admit(b).expect("room");
        // Full, and b's only connection waits: it makes room for another of b's.
        let b2 = admission.admit(b).expect("b's waiting one is taken");
        assert!(!b1.phase.serving());
        drop(b1);
        assert!(b2.phase.serving());
        assert_eq!(admission.admit(ip("10.0.0.3")).err(), Some(Refused::Full));
        // Back to waiting between requests: a's older one makes room for a newcomer.
        a2.phase.waiting();
        a3.phase.waiting();
        let c = admission.admit(ip("10.0.0.3")).expect("room");
        assert!(!a2.phase.serving() && a3.phase.serving() && c.phase.serving());
    }

    #[test]
    fn an_ipv6_client_is_its_64_prefix_and_a_mapped_ipv4_its_address() {
        assert_eq!(
            Client::of(ip("2001:db8:1:2:aaaa::1")),
            Client::of(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            Client::of(ip("2001:db8:1:2::1")),
            Client::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            Client::of(ip("::ffff:10.0.0.1")),
            Client::of(ip("10.0.0.1"))
        );
    }
}
