//! One process at a time runs a flow's source: the others stand by and take over when the
//! holder stops, or stops renewing its lease.

use std::time::Duration;

use integra::Engine;
use serde_json::json;

use super::engine;
use crate::support::wait_until;
use crate::support::{Receiver, Reply};

/// (held, held by `engine`) for the flow's source, as `engine` sees it.
fn holder(engine: &Engine) -> (bool, bool) {
    engine
        .source_status()
        .unwrap()
        .first()
        .map_or((false, false), |s| (s.held, s.here))
}

#[test]
fn a_standby_process_takes_over_when_the_holder_stops_or_its_lease_expires() {
    let crm = Receiver::start(|_| Reply::ok().body("[]"));
    let t = engine(
        json!({"code": "e", "base_url": crm.url()}),
        json!({"kind": "poll", "endpoint": "e", "poll": {"interval": "1s", "id": "id"}}),
        false,
    );
    let other = t.reopen();
    let first = t.engine.start_sources().unwrap();
    wait_until(
        "the first engine holds the source",
        Duration::from_secs(10),
        || holder(&t.engine) == (true, true),
    );
    let second = other.start_sources().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(holder(&other), (true, false), "the second stands by");
    assert_eq!(holder(&t.engine), (true, true));

    // The holder stops: it gives up its lease, and the other takes over.
    first.stop();
    wait_until(
        "the second engine takes over",
        Duration::from_secs(10),
        || holder(&other) == (true, true),
    );

    // The first starts again and stands by. When the holder's lease runs out without a
    // renewal (as when its process dies), the standby takes the source.
    let first = t.engine.start_sources().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(holder(&t.engine), (true, false));
    t.advance(Duration::from_secs(31));
    wait_until(
        "the first engine takes over an expired lease",
        Duration::from_secs(10),
        || holder(&t.engine) == (true, true),
    );
    drop(second);
    drop(first);
}
