//! A poll source: asks an HTTP resource on an interval, for systems that must be asked
//! rather than heard. Each poll sends the validators of the last answer (`If-None-Match`,
//! `If-Modified-Since`: a 304 means nothing new) and the cursor the last answer gave, splits
//! the JSON answer into items at the configured pointer, and stores each item once, keyed by
//! its id field; the new validators and cursor are saved in the same transaction as the
//! items. While answers carry a new cursor and items, it follows them, up to `max_pages`
//! requests a poll.
//!
//! An item without an id cannot be stored once, so it is rejected, not stored.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use percent_encoding::utf8_percent_encode;
use serde_json::Value;

use super::{Context, Session};
use crate::config::PollSource;
use crate::error::Error;
use crate::queue::incoming::{CheckOutcome, Received, Refusal, id_text, locate};
use crate::store::PollStateRow;
use crate::transport::http::{COMPONENT, EndpointClient};

/// The header that records the address an item was polled from.
pub const POLL_URL_HEADER: &str = "x-integra-poll-url";

struct PollSession {
    context: Context,
    settings: PollSource,
    client: EndpointClient,
    next_poll: Instant,
}

pub(super) fn open(context: Context) -> Result<Box<dyn Session>, String> {
    let settings = context
        .source
        .poll
        .clone()
        .ok_or_else(|| context.describe("the 'poll' section is missing"))?;
    let client = EndpointClient::new(&context.endpoint)?;
    Ok(Box::new(PollSession {
        context,
        settings,
        client,
        next_poll: Instant::now(),
    }))
}

/// The items of an answer: the array at `pointer`, or the one object there.
fn items(answer: &Value, pointer: &str) -> Option<Vec<Value>> {
    match answer.pointer(pointer)? {
        Value::Array(items) => Some(items.clone()),
        Value::Null => Some(Vec::new()),
        one => Some(vec![one.clone()]),
    }
}

impl PollSession {
    /// The address of one request: the endpoint's base, the path, and the cursor.
    fn url(&self, cursor: Option<&str>) -> String {
        let mut url = format!("{}{}", self.client.base, self.settings.path);
        if let (Some(cursor), Some(c)) = (cursor, &self.settings.cursor) {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&c.param);
            url.push('=');
            url.extend(utf8_percent_encode(cursor, COMPONENT));
        }
        url
    }

    /// One poll: requests until there is nothing new or the page limit is reached.
    fn poll(&mut self) -> Result<(), String> {
        let flow = self.context.flow.clone();
        let mut state = self
            .context
            .core
            .store
            .read(|db| db.poll_state(&flow))
            .map_err(|e| self.context.describe(e))?;
        for page in 0..self.settings.max_pages {
            let url = self.url(state.cursor.as_deref());
            let mut headers = Vec::new();
            if page == 0 {
                if let Some(etag) = &state.etag {
                    headers.push(("If-None-Match", etag.as_str()));
                }
                if let Some(modified) = &state.last_modified {
                    headers.push(("If-Modified-Since", modified.as_str()));
                }
            }
            let reply = self
                .client
                .get(&url, &headers)
                .map_err(|f| self.context.describe(f.message))?;
            if reply.status == 304 {
                return Ok(());
            }
            if !reply.is_success() {
                return Err(self.context.describe(reply.failure(&url).message));
            }
            let answer: Value = serde_json::from_slice(&reply.body).map_err(|e| {
                self.context
                    .describe(format!("{url} did not answer JSON: {e}"))
            })?;
            let items = items(&answer, &self.settings.items).ok_or_else(|| {
                self.context.describe(format!(
                    "the answer of {url} has nothing at '{}'",
                    self.settings.items
                ))
            })?;
            let next_cursor = self
                .settings
                .cursor
                .as_ref()
                .and_then(|c| locate(&answer, &c.from))
                .and_then(id_text);
            let more = !items.is_empty() && next_cursor.is_some() && next_cursor != state.cursor;
            let (etag, last_modified) = reply.validators();
            state = PollStateRow {
                etag,
                last_modified,
                cursor: next_cursor.or(state.cursor),
            };
            let batch = items
                .into_iter()
                .map(|item| self.check(&url, item))
                .collect();
            let (saved, now, flow) = (state.clone(), self.context.core.now(), flow.clone());
            self.context.store(batch, move |db| {
                db.save_poll_state(&flow, &saved, now)?;
                Ok(true)
            })?;
            if !more {
                break;
            }
        }
        Ok(())
    }

    /// Checks one item: its id, and the flow's rules.
    fn check(&self, url: &str, item: Value) -> CheckOutcome {
        let payload = item.to_string();
        let Some(id) = locate(&item, &self.settings.id).and_then(id_text) else {
            return Err(Box::new(Refusal {
                message_id: None,
                payload,
                error: Error::InvalidArgument {
                    name: "message id",
                    reason: format!("the item has no id at '{}'", self.settings.id),
                },
            }));
        };
        let headers = BTreeMap::from([
            ("content-type".to_owned(), "application/json".to_owned()),
            (POLL_URL_HEADER.to_owned(), url.to_owned()),
        ]);
        let received = Received {
            message_id: Some(id),
            payload,
            headers,
            ..Received::default()
        };
        self.context.check_one(received)
    }
}

impl Session for PollSession {
    fn step(&mut self) -> Result<(), String> {
        let wait = self.next_poll.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait.min(Duration::from_secs(1)));
            return Ok(());
        }
        self.next_poll = Instant::now() + self.settings.interval;
        self.poll()
    }
}
