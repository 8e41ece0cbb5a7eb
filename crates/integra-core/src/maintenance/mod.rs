//! Background housekeeping: taking back leases whose holder died ([`rescuer`]) and removing
//! finished records past their retention ([`cleanup`]).
//!
//! Both are idempotent and safe to run from several processes at once.

pub mod cleanup;
pub(crate) mod rescuer;
