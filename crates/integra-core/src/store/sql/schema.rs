//! The schema's text: the status lists that migrations name, filled in from the status
//! enums, so the `CHECK` constraints and the Rust enums come from one list.
//!
//! Migration text may hold `{{message_status}}`, `{{delivery_status}}`,
//! `{{incoming_status}}`, `{{outbox_status}}` and `{{inbox_status}}` (an `IN` list's values)
//! and `{{message_status:status}}` (any list, any column: a chain of comparisons).

use crate::status::{DeliveryStatus, InboxStatus, IncomingStatus, MessageStatus, OutboxStatus};

/// Every status list a migration may name, with its values.
fn status_lists() -> [(&'static str, Vec<&'static str>); 5] {
    fn names<S: Copy>(all: &[S], name: fn(S) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|s| name(*s)).collect()
    }
    [
        (
            "message_status",
            names(MessageStatus::ALL, MessageStatus::as_str),
        ),
        (
            "delivery_status",
            names(DeliveryStatus::ALL, DeliveryStatus::as_str),
        ),
        (
            "incoming_status",
            names(IncomingStatus::ALL, IncomingStatus::as_str),
        ),
        (
            "outbox_status",
            names(OutboxStatus::ALL, OutboxStatus::as_str),
        ),
        ("inbox_status", names(InboxStatus::ALL, InboxStatus::as_str)),
    ]
}

/// The migration's text with the status lists filled in: `{{list}}` as `'a', 'b'` and
/// `{{list:column}}` as `(column = 'a' OR column = 'b')`.
pub(crate) fn expand(text: &str) -> String {
    let mut out = text.to_owned();
    for (list, values) in status_lists() {
        let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
        out = out.replace(&format!("{{{{{list}}}}}"), &quoted.join(", "));
        let marker = format!("{{{{{list}:");
        while let Some(start) = out.find(&marker) {
            let column_start = start + marker.len();
            let Some(length) = out[column_start..].find("}}") else {
                break;
            };
            let column = &out[column_start..column_start + length];
            let comparisons: Vec<String> =
                quoted.iter().map(|v| format!("{column} = {v}")).collect();
            let chain = format!("({})", comparisons.join(" OR "));
            out.replace_range(start..column_start + length + 2, &chain);
        }
    }
    out
}
