//! Builder-style setters for the options types. Options are `#[non_exhaustive]` (a field
//! added later breaks no one), so code outside this crate cannot write them as struct
//! literals: it starts from `Default` and sets what it needs, either on a mutable value or
//! with these setters, chained:
//!
//! ```
//! use std::time::Duration;
//! use integra_core::{DispatcherOptions, EngineOptions};
//!
//! let engine = EngineOptions::default().with_lease(Duration::from_secs(30));
//! let dispatcher = DispatcherOptions::default().with_threads(8).with_batch(128);
//! # assert_eq!((engine.lease.as_secs(), dispatcher.threads), (30, 8));
//! ```

/// Declares `with_<field>` setters on an options type: each takes the field's type, or for
/// a field listed under `optional`, the value an optional field is set to (`impl
/// Into<String>` for text).
macro_rules! setters {
    (
        $ty:ty { $($setter:ident => $field:ident: $t:ty),* $(,)? }
        $(optional { $($osetter:ident => $ofield:ident: $ot:ty),* $(,)? })?
    ) => {
        impl $ty {
            $(
                #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
                #[must_use]
                pub fn $setter(mut self, value: $t) -> Self {
                    self.$field = value;
                    self
                }
            )*
            $($(
                #[doc = concat!("Sets [`", stringify!($ofield), "`](Self::", stringify!($ofield), ").")]
                #[must_use]
                pub fn $osetter(mut self, value: $ot) -> Self {
                    self.$ofield = Some(value.into());
                    self
                }
            )*)?
        }
    };
}

pub(crate) use setters;
