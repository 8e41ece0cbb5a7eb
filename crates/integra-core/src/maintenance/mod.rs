//! Background housekeeping: taking back leases whose holder died (`rescuer`) and removing
//! finished records past their retention ([`cleanup`]); and checking that the database is
//! sound ([`integrity`]).
//!
//! All are idempotent and safe to run from several processes at once.

pub mod cleanup;
pub mod integrity;
pub(crate) mod rescuer;
