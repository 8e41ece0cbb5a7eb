//! The configuration: loading it whole, and changing one object at a time. Every process on
//! the database shares it; a change wakes this process's dispatcher.

use crate::config::{Config, Endpoint, Flow, Subscriber};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::store::{Commit, Db};

/// The configuration: endpoints, subscribers, flows, schemas, listeners.
impl Engine {
    /// Replaces the whole configuration, after validating it.
    ///
    /// A configuration equal to the stored one (secrets compared by what they are, not by
    /// how they are sealed) changes nothing: nothing is written and the configuration's
    /// version stays, so every process may load the configuration it was given at each start
    /// without disturbing the others' work.
    ///
    /// # Errors
    /// [`Error::Config`] listing every problem; nothing is changed then.
    pub fn load_config(&self, config: &Config) -> Result<()> {
        config.validate()?;
        if self.core.store.read(|db| stored_equals(db, config))? {
            return Ok(());
        }
        let config = config.clone();
        let changed = self.core.store.write(Commit::Durable, move |db| {
            if stored_equals(db, &config)? {
                return Ok(false);
            }
            db.replace_config(&config)?;
            Ok::<_, Error>(true)
        })?;
        if changed {
            self.core.wake.notify();
        }
        Ok(())
    }

    /// Parses, validates and loads a configuration from JSON text.
    ///
    /// # Errors
    /// [`Error::Config`] naming the objects and fields at fault.
    ///
    /// # Examples
    /// ```
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// engine.load_config_json(r#"{
    ///     "endpoints":   [{"code": "shop", "base_url": "https://shop.example.com"}],
    ///     "subscribers": [{"code": "shop_orders", "kind": "http", "endpoint": "shop",
    ///                      "http": {"path": "/api/orders/{message_id}"}}],
    ///     "flows":       [{"code": "ORDER_EXPORT", "direction": "outgoing",
    ///                      "subscribers": ["shop_orders"]}]
    /// }"#)?;
    /// // A configuration with problems is refused whole, naming each.
    /// assert!(engine.load_config_json(r#"{"flows": [{"code": "X"}]}"#).is_err());
    /// # Ok(()) }
    /// ```
    pub fn load_config_json(&self, json: &str) -> Result<()> {
        self.load_config(&Config::from_json(json)?)
    }

    /// The stored configuration.
    ///
    /// # Errors
    /// [`Error::Store`] when it cannot be read.
    pub fn config(&self) -> Result<Config> {
        self.core
            .store
            .read(|db| Ok::<_, Error>(db.config()?.config().clone()))
    }

    /// Adds an endpoint or replaces the one with the same code.
    ///
    /// # Errors
    /// [`Error::Config`] when the result would be invalid.
    pub fn put_endpoint(&self, endpoint: Endpoint) -> Result<()> {
        self.update_config(move |c| put(&mut c.endpoints, endpoint, |e| &e.code))
    }

    /// Adds a subscriber or replaces the one with the same code.
    ///
    /// # Errors
    /// [`Error::Config`] when the result would be invalid (e.g. an unknown endpoint).
    pub fn put_subscriber(&self, subscriber: Subscriber) -> Result<()> {
        self.update_config(move |c| put(&mut c.subscribers, subscriber, |s| &s.code))
    }

    /// Adds a flow or replaces the one with the same code.
    ///
    /// # Errors
    /// [`Error::Config`] when the result would be invalid (e.g. an unknown subscriber).
    pub fn put_flow(&self, flow: Flow) -> Result<()> {
        self.update_config(move |c| put(&mut c.flows, flow, |f| &f.code))
    }

    /// Removes the endpoint with this code; false when there was none.
    ///
    /// # Errors
    /// [`Error::Config`] when a subscriber still uses it.
    pub fn remove_endpoint(&self, code: &str) -> Result<bool> {
        let code = code.to_owned();
        self.update_config(move |c| Ok(remove(&mut c.endpoints, &code, |e| &e.code)))
    }

    /// Removes the subscriber with this code; false when there was none. Its pending
    /// deliveries wait until a subscriber with this code exists again.
    ///
    /// # Errors
    /// [`Error::Config`] when a flow still lists it.
    pub fn remove_subscriber(&self, code: &str) -> Result<bool> {
        let code = code.to_owned();
        self.update_config(move |c| Ok(remove(&mut c.subscribers, &code, |s| &s.code)))
    }

    /// Removes the flow with this code; false when there was none. Its queued messages are
    /// kept, and still delivered.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn remove_flow(&self, code: &str) -> Result<bool> {
        let code = code.to_owned();
        self.update_config(move |c| Ok(remove(&mut c.flows, &code, |f| &f.code)))
    }

    /// Reads, changes, validates and stores the configuration in one transaction.
    fn update_config<R: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Config) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let out = self.core.store.write(Commit::Durable, move |db| {
            let mut config = db.config()?.config().clone();
            let out = change(&mut config)?;
            config.validate()?;
            if !stored_equals(db, &config)? {
                db.replace_config(&config)?;
            }
            Ok::<_, Error>(out)
        })?;
        self.core.wake.notify();
        Ok(out)
    }
}

/// Whether `config` is the stored configuration: the same objects in the same order, their
/// secrets compared opened (a sealed secret is sealed anew, with a new nonce, at each write).
fn stored_equals(db: &Db<'_>, config: &Config) -> Result<bool> {
    Ok(db.config()?.config() == config)
}

fn put<T>(items: &mut Vec<T>, item: T, code: impl Fn(&T) -> &String) -> Result<()> {
    match items.iter().position(|x| code(x) == code(&item)) {
        Some(i) => items[i] = item,
        None => items.push(item),
    }
    Ok(())
}

fn remove<T>(items: &mut Vec<T>, target: &str, code: impl Fn(&T) -> &String) -> bool {
    let before = items.len();
    items.retain(|x| code(x) != target);
    items.len() != before
}
