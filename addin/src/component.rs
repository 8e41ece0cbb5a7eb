//! The `Engine` object BSL creates with `Новый("AddIn.Integra.Engine")`: a front-door
//! handle on a database, and the text of the last failure (the `LastError` property). The
//! ABI layer (`abi`) owns the C++ face of the object; everything here is safe Rust.

use std::sync::{Mutex, PoisonError};

use integra_core::json_api::{Handle, Reserve};
use integra_core::limits::bounded_error_text;

use crate::methods::{Args, METHODS, PROPERTIES};
use crate::value::Value;

/// The state of one add-in object.
#[derive(Default)]
pub(crate) struct Component {
    handle: Mutex<Handle>,
    last_error: Mutex<String>,
}

impl Component {
    /// Keeps `text` as `LastError` (empty after a call that succeeded).
    pub(crate) fn set_last_error(&self, text: String) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = text;
    }

    /// Calls method `index` with one value per parameter; `reserve` secures the platform's
    /// memory for its result. A failure's text is returned and kept as `LastError`; success
    /// clears `LastError`.
    pub(crate) fn call(
        &self,
        index: usize,
        values: &[Value],
        reserve: Reserve<'_>,
    ) -> Result<Value, String> {
        let Some(method) = METHODS.get(index) else {
            let text = format!("there is no method number {index}");
            self.set_last_error(text.clone());
            return Err(text);
        };
        let mut handle = self.handle.lock().unwrap_or_else(PoisonError::into_inner);
        let outcome =
            Args::new(method, values, reserve).and_then(|args| (method.run)(&mut handle, &args));
        match outcome {
            Ok(value) => {
                self.set_last_error(String::new());
                Ok(value)
            }
            Err(e) => {
                let text = bounded_error_text(format!("{}: {e}", method.name));
                self.set_last_error(text.clone());
                Err(text)
            }
        }
    }

    /// The value of property `index`.
    pub(crate) fn property(&self, index: usize) -> Option<Value> {
        let property = PROPERTIES.get(index)?;
        let last_error = self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Some((property.read)(&last_error))
    }

    /// Lets go of the engine (`Done`): when this was the last object on its database in the
    /// process, the engine's background threads stop before this returns.
    pub(crate) fn close(&self) {
        self.handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .close();
    }
}
