//! The three status enums: outgoing messages, their deliveries, and incoming messages.
//!
//! Each enum is declared once, by `status_enum!`, which derives from one list its
//! database and JSON text (`as_str`/`FromStr`, serde both ways), its name in the 1C
//! integration subsystem (`name_1c`) and the `CHECK (status IN (...))` list the migrations
//! substitute into the schema. Each variant's doc says which component moves a record into and out of it.
//!
//! ## Mapping to the 1C subsystem (`инт_`)
//!
//! | Integra message | 1C `инт_СтатусыИсходящихСообщений` |
//! |---|---|
//! | New | Новый |
//! | Forming | ФормированиеСообщения |
//! | FormingError, Dead | ОшибкаФормирования |
//! | Ready | ГотовоКОтправке |
//! | Dispatched | ПомещеноВОчередьОтправки |
//! | Sent | Отправлено |
//! | Undelivered | ОшибкаОтправки |
//! | Cancelled | Отменено (no 1C counterpart) |
//!
//! | Integra delivery | 1C `инт_СтатусыРассылкиИсходящихСообщений` |
//! |---|---|
//! | New | Новый |
//! | InProgress | ВПроцессеОтправки |
//! | Sent, Unchanged | Отправлен |
//! | SendError, Dead | ОшибкаОбработки (the docs call it ОшибкаОтправки) |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a status enum with its database text and 1C name, in one list.
macro_rules! status_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal / $ru:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in lifecycle order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The text stored in the database and used in JSON.
            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )+ }
            }

            /// The matching status name in the 1C integration subsystem.
            pub const fn name_1c(self) -> &'static str {
                match self { $( $name::$variant => $ru, )+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownStatus;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $text => Ok($name::$variant), )+
                    _ => Err(UnknownStatus { kind: $what, text: s.to_owned() }),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// The status a history entry records: an outgoing message's own, that of its delivery to
/// a subscriber, or an incoming message's. Its text (JSON, `Display`) is the status's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HistoryStatus {
    /// A transition of the message itself.
    Message(MessageStatus),
    /// A transition of one of its deliveries.
    Delivery(DeliveryStatus),
    /// A transition of an incoming message.
    Incoming(IncomingStatus),
}

impl HistoryStatus {
    /// The status's text, as stored and in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            HistoryStatus::Message(s) => s.as_str(),
            HistoryStatus::Delivery(s) => s.as_str(),
            HistoryStatus::Incoming(s) => s.as_str(),
        }
    }
}

impl fmt::Display for HistoryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for HistoryStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A status text that names no variant of the enum it was parsed as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a {kind} status")]
pub struct UnknownStatus {
    /// Which enum was asked for.
    pub kind: &'static str,
    /// The text that did not match.
    pub text: String,
}

status_enum! {
    /// Where an outgoing message is in its life.
    MessageStatus, "message" {
        /// Registered, waiting to be formed. Entered by `register` (and by re-drive);
        /// left when a former claims it, or at once for pass-through flows.
        New = "new" / "Новый",
        /// Claimed by a former (a Rust handler or `next_to_form`) under a lease. Left by
        /// `complete_forming`, `fail_forming`, `cancel`, or lease expiry (the rescuer).
        Forming = "forming" / "ФормированиеСообщения",
        /// Forming failed; retried after the flow's backoff. Left when a former claims it
        /// again, or for Dead when the flow's attempts are used up.
        FormingError = "forming_error" / "ОшибкаФормирования",
        /// Formed: the payload is stored. Moved on to Dispatched in the same transaction.
        Ready = "ready" / "ГотовоКОтправке",
        /// One delivery per active subscriber exists. Left for Sent or Undelivered when the
        /// last delivery finishes.
        Dispatched = "dispatched" / "ПомещеноВОчередьОтправки",
        /// Every delivery is Sent or Unchanged. Terminal; removed by cleanup after the
        /// flow's delivered retention.
        Sent = "sent" / "Отправлено",
        /// Every delivery finished and at least one is Dead. Re-driving a delivery moves
        /// the message back to Dispatched; otherwise removed after the dead retention.
        Undelivered = "undelivered" / "ОшибкаОтправки",
        /// The former decided there is nothing to send (`cancel`). Terminal; removed after
        /// the delivered retention.
        Cancelled = "cancelled" / "Отменено",
        /// Forming failed on its last allowed attempt. Re-drive moves it back to New;
        /// otherwise removed after the dead retention.
        Dead = "dead" / "ОшибкаФормирования",
    }
}

status_enum! {
    /// Where one message's delivery to one subscriber is.
    DeliveryStatus, "delivery" {
        /// Created by fan-out (or re-drive); due at its next attempt time.
        New = "new" / "Новый",
        /// Claimed by a dispatcher under a lease; the attempt is already counted. Left by
        /// the transport's outcome, or by lease expiry (the rescuer).
        InProgress = "in_progress" / "ВПроцессеОтправки",
        /// The subscriber confirmed it. Terminal.
        Sent = "sent" / "Отправлен",
        /// Not sent: the payload's hash equals the one last delivered to this subscriber
        /// for the same object key. Terminal.
        Unchanged = "unchanged" / "Отправлен",
        /// The attempt failed; retried at the next attempt time.
        SendError = "send_error" / "ОшибкаОбработки",
        /// Every allowed attempt failed. Re-drive moves it back to New.
        Dead = "dead" / "ОшибкаОбработки",
    }
}

status_enum! {
    /// Where an incoming message is.
    IncomingStatus, "incoming" {
        /// Accepted and stored; waiting for a processor.
        New = "new" / "Новый",
        /// Claimed by a processor (`next_incoming` or a handler) under a lease.
        InProgress = "in_progress" / "ВОбработке",
        /// The processor acknowledged it. Terminal.
        Processed = "processed" / "Обработан",
        /// Processing failed; retried after the flow's backoff.
        Error = "error" / "ОшибкаОбработки",
        /// Every allowed attempt failed. Re-drive moves it back to New.
        Dead = "dead" / "ОшибкаОбработки",
    }
}

status_enum! {
    /// Where a message of the message exchange (the 1C SSL «Обмен сообщениями» API) is on
    /// the sending side.
    OutboxStatus, "exchange outbox" {
        /// Waiting to be delivered (due at its next attempt time). Entered by a send, or
        /// after a failed attempt; left when `deliver_messages` or the dispatcher claims it.
        Pending = "pending" / "ОжидаетОтправки",
        /// Claimed by a deliverer under a lease. Left by the recipient's answer, or by
        /// lease expiry.
        Sending = "sending" / "Отправляется",
        /// The recipient stored it; waiting for its notice that it was processed.
        Sent = "sent" / "Отправлено",
        /// The recipient processed it (or, for a control message, stored it). Terminal.
        Done = "done" / "Обработано",
    }
}

status_enum! {
    /// Where a message of the message exchange is on the receiving side.
    InboxStatus, "exchange inbox" {
        /// Stored; waiting for a handler (a Rust channel handler or the pull API).
        New = "new" / "Новое",
        /// Claimed by a handler under a lease; the attempt is counted.
        InProgress = "in_progress" / "ВОбработке",
        /// Handled; the sender is told. Terminal.
        Processed = "processed" / "Обработано",
        /// Failed on its last allowed attempt, or came from a blocked endpoint: kept,
        /// visible, and re-drivable. The SSL's «Заблокировано».
        Quarantined = "quarantined" / "Заблокировано",
    }
}

impl MessageStatus {
    /// True when nothing more will happen to the message without an operator.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            MessageStatus::Sent
                | MessageStatus::Undelivered
                | MessageStatus::Cancelled
                | MessageStatus::Dead
        )
    }
}

impl DeliveryStatus {
    /// True when the delivery has finished (successfully or not).
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            DeliveryStatus::Sent | DeliveryStatus::Unchanged | DeliveryStatus::Dead
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_for_every_variant() {
        for s in MessageStatus::ALL {
            assert_eq!(s.as_str().parse::<MessageStatus>(), Ok(*s));
        }
        for s in DeliveryStatus::ALL {
            assert_eq!(s.as_str().parse::<DeliveryStatus>(), Ok(*s));
        }
        for s in IncomingStatus::ALL {
            assert_eq!(s.as_str().parse::<IncomingStatus>(), Ok(*s));
        }
        let err = "shipped".parse::<DeliveryStatus>().unwrap_err();
        assert_eq!(err.to_string(), "'shipped' is not a delivery status");
    }

    #[test]
    fn names_match_the_1c_subsystem() {
        assert_eq!(
            MessageStatus::Dispatched.name_1c(),
            "ПомещеноВОчередьОтправки"
        );
        assert_eq!(DeliveryStatus::InProgress.name_1c(), "ВПроцессеОтправки");
        assert_eq!(IncomingStatus::Processed.name_1c(), "Обработан");
    }
}
