//! The queues: outgoing messages with their per-subscriber deliveries, and incoming
//! messages.
//!
//! ## Outgoing lifecycle
//!
//! Two levels, every transition written to the history with its time and error text:
//!
//! * **message**: New → Forming → Ready → Dispatched → Sent; or FormingError (retried per
//!   the flow's policy) → … → Dead when forming attempts run out; or Cancelled by the
//!   former; Undelivered when every delivery finished and one is Dead.
//! * **delivery** (message × subscriber): New → InProgress → Sent, or Unchanged (same
//!   content as last delivered), or SendError (retryable, with its next attempt time) … →
//!   Dead when the subscriber's attempts are used up.
//!
//! Attempts are counted when work is claimed. Claimed work holds a lease; leases of a
//! process that died are taken back when they expire (`dispatch::rescuer`).
//!
//! The status names of the 1C subsystem are in [`crate::status`].

pub(crate) mod delivery;
pub(crate) mod fan_out;
pub mod forming;
pub(crate) mod hash;
pub mod incoming;
pub mod inspect;
pub mod register;

use crate::config::{Config, Direction, Flow};
use crate::error::{Error, Result};

/// Flow `code` of `config`, which must go `direction` to be used to `operation`.
pub(crate) fn flow_going<'c>(
    config: &'c Config,
    code: &str,
    direction: Direction,
    operation: &'static str,
) -> Result<&'c Flow> {
    let flow = config.flow(code).ok_or_else(|| Error::UnknownFlow {
        flow: code.to_owned(),
    })?;
    if flow.direction != direction {
        return Err(Error::WrongDirection {
            flow: code.to_owned(),
            direction: flow.direction,
            operation,
        });
    }
    Ok(flow)
}

/// [`flow_going`], and active: an inactive flow takes no new messages.
pub(crate) fn active_flow_going<'c>(
    config: &'c Config,
    code: &str,
    direction: Direction,
    operation: &'static str,
) -> Result<&'c Flow> {
    let flow = flow_going(config, code, direction, operation)?;
    if !flow.active {
        return Err(Error::FlowInactive {
            flow: code.to_owned(),
        });
    }
    Ok(flow)
}
