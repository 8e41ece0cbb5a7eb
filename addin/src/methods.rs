//! The add-in's methods and properties, each declared once: its English name (alias 0) and
//! Russian name (alias 1), its parameters with their defaults, whether it returns a value,
//! a line of documentation, and the function that runs it. `FindMethod`, `GetMethodName`,
//! `GetNParams`, `GetParamDefValue`, `HasRetVal`, the calls and the README's method
//! reference all come from these tables.
//!
//! Arguments arrive as 1C values; complex ones are JSON strings (BSL writes them with
//! `ЗаписатьJSON` and reads results with `ПрочитатьJSON`). Numbers are accepted whether 1C
//! passes them as integers or as doubles.

use integra_core::Error;
use integra_core::json_api::{Handle, Reserve, VERSION};

use crate::value::Value;

/// What a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `Строка`.
    Text,
    /// `Число`, whole.
    Integer,
    /// `Булево`.
    Boolean,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Text => "String",
            Kind::Integer => "Number",
            Kind::Boolean => "Boolean",
        }
    }
}

/// One parameter.
#[derive(Debug)]
pub(crate) struct Param {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    /// The value used when BSL omits it; `None` for a required parameter.
    pub(crate) default: Option<fn() -> Value>,
}

const fn required(name: &'static str, kind: Kind) -> Param {
    Param {
        name,
        kind,
        default: None,
    }
}

fn empty_text() -> Value {
    Value::Str(String::new())
}

fn no() -> Value {
    Value::Bool(false)
}

fn four() -> Value {
    Value::Number(4.0)
}

fn hundred() -> Value {
    Value::Number(100.0)
}

/// An optional text parameter, `""` when omitted.
const fn optional(name: &'static str) -> Param {
    Param {
        name,
        kind: Text,
        default: Some(empty_text),
    }
}

/// One method.
pub(crate) struct Method {
    /// The English name (alias 0).
    pub(crate) name: &'static str,
    /// The Russian name (alias 1).
    pub(crate) name_ru: &'static str,
    pub(crate) params: &'static [Param],
    /// Whether it returns a value (a function) or not (a procedure).
    pub(crate) returns: bool,
    pub(crate) doc: &'static str,
    pub(crate) run: fn(&mut Handle, &Args<'_>) -> Result<Value, Error>,
}

/// One read-only property.
pub(crate) struct Property {
    pub(crate) name: &'static str,
    pub(crate) name_ru: &'static str,
    pub(crate) doc: &'static str,
    /// Its value, given the last error of the object.
    pub(crate) read: fn(last_error: &str) -> Value,
}

/// The arguments of one call, as many as the method has parameters, and the platform
/// memory the call may secure for its result before it writes.
pub(crate) struct Args<'a> {
    method: &'static Method,
    values: &'a [Value],
    /// Asks the platform now for the memory of a text result of so many UTF-16 units
    /// (the calls that write pass it to the core, which asks before writing).
    pub(crate) reserve: Reserve<'a>,
}

impl<'a> Args<'a> {
    /// `values` for `method`: exactly one per parameter.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the count differs.
    pub(crate) fn new(
        method: &'static Method,
        values: &'a [Value],
        reserve: Reserve<'a>,
    ) -> Result<Self, Error> {
        if values.len() != method.params.len() {
            return Err(Error::InvalidArgument {
                name: "parameters",
                reason: format!(
                    "{} takes {} parameters, got {}",
                    method.name,
                    method.params.len(),
                    values.len()
                ),
            });
        }
        Ok(Args {
            method,
            values,
            reserve,
        })
    }

    /// Parameter `i`, its default when omitted.
    fn value(&self, i: usize) -> Result<(&'static Param, Value), Error> {
        let param = &self.method.params[i];
        match (&self.values[i], param.default) {
            (Value::Empty, Some(default)) => Ok((param, default())),
            (v, _) => Ok((param, v.clone())),
        }
    }

    fn wrong(&self, param: &Param, got: &Value) -> Error {
        Error::InvalidArgument {
            name: param.name,
            reason: format!(
                "{} takes a {} here, got {}",
                self.method.name,
                param.kind.name(),
                got.type_name()
            ),
        }
    }

    /// A string parameter.
    pub(crate) fn text(&self, i: usize) -> Result<String, Error> {
        match self.value(i)? {
            (_, Value::Str(s)) => Ok(s),
            (param, Value::Malformed(what)) => Err(Error::InvalidArgument {
                name: param.name,
                reason: format!(
                    "is not valid text: {what}; such a string is refused rather than repaired, so that two different strings never become one"
                ),
            }),
            (param, other) => Err(self.wrong(param, &other)),
        }
    }

    /// A whole-number parameter.
    pub(crate) fn integer(&self, i: usize) -> Result<i64, Error> {
        match self.value(i)? {
            (_, Value::Number(n)) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(n as i64),
            (param, Value::Number(n)) => Err(Error::InvalidArgument {
                name: param.name,
                reason: format!("must be a whole number, got {n}"),
            }),
            (param, other) => Err(self.wrong(param, &other)),
        }
    }

    /// A Boolean parameter.
    pub(crate) fn boolean(&self, i: usize) -> Result<bool, Error> {
        match self.value(i)? {
            (_, Value::Bool(b)) => Ok(b),
            (param, other) => Err(self.wrong(param, &other)),
        }
    }
}

fn text(s: String) -> Result<Value, Error> {
    Ok(Value::Str(s))
}

fn number(n: u64) -> Result<Value, Error> {
    Ok(Value::Number(n as f64))
}

fn done(_: ()) -> Result<Value, Error> {
    Ok(Value::Empty)
}

fn flag(b: bool) -> Result<Value, Error> {
    Ok(Value::Bool(b))
}

use Kind::{Boolean, Integer, Text};

/// Every method, in the order 1C numbers them.
pub(crate) static METHODS: &[Method] = &[
    Method {
        name: "Open",
        name_ru: "Открыть",
        params: &[required("settingsJson", Text)],
        returns: false,
        doc: "Opens the database: {\"database\": path, \"config\": {…} | \"config_path\": path, \"durability\": \"normal\" | \"full\", \"secrets_key_file\": path, \"log\": {\"file\": path, \"level\", \"max_bytes\", \"keep\"}}. Objects on one database share one engine (and its durability and key: others are refused); objects in one server process share one log (another is refused while it is in use).",
        run: |h, a| done(h.open(&a.text(0)?)?),
    },
    Method {
        name: "LoadConfiguration",
        name_ru: "ЗагрузитьКонфигурацию",
        params: &[required("configJson", Text)],
        returns: false,
        doc: "Replaces the configuration (endpoints, subscribers, flows, schemas, listeners), kept in the database for every process: an administrator's action, not one for each Open; the configuration stored already changes nothing.",
        run: |h, a| done(h.load_configuration(&a.text(0)?)?),
    },
    Method {
        name: "RegisterMessage",
        name_ru: "ЗарегистрироватьСообщение",
        params: &[
            required("flow", Text),
            required("sourceJson", Text),
            Param {
                name: "registerDuplicate",
                kind: Boolean,
                default: Some(no),
            },
            optional("optionsJson"),
        ],
        returns: true,
        doc: "Registers a message on an outgoing flow; returns its id. Options: object_key, ordering_key, not_before.",
        run: |h, a| {
            let (flow, source, duplicate, options) =
                (a.text(0)?, a.text(1)?, a.boolean(2)?, a.text(3)?);
            text(h.register_message(&flow, &source, duplicate, &options, a.reserve)?)
        },
    },
    Method {
        name: "RegisterMessages",
        name_ru: "ЗарегистрироватьСообщения",
        params: &[required("flow", Text), required("messagesJson", Text)],
        returns: true,
        doc: "Registers a JSON array of {\"source\": …, \"options\": {…}} in one transaction; returns the JSON array of ids.",
        run: |h, a| text(h.register_messages(&a.text(0)?, &a.text(1)?, a.reserve)?),
    },
    Method {
        name: "NextToForm",
        name_ru: "ПолучитьКФормированию",
        params: &[required("max", Integer), required("leaseSeconds", Integer)],
        returns: true,
        doc: "Claims messages to form; returns a JSON array of {id, flow, source, object_key, attempt, …}.",
        run: |h, a| text(h.next_to_form(a.integer(0)?, a.integer(1)?, a.reserve)?),
    },
    Method {
        name: "CompleteForming",
        name_ru: "ЗавершитьФормирование",
        params: &[required("id", Text), required("payloadJson", Text)],
        returns: true,
        doc: "Completes forming; returns \"\" when accepted, else the JSON array of schema violations.",
        run: |h, a| text(h.complete_forming(&a.text(0)?, &a.text(1)?)?),
    },
    Method {
        name: "FailForming",
        name_ru: "ОшибкаФормирования",
        params: &[required("id", Text), required("errorText", Text)],
        returns: false,
        doc: "Records that forming failed; retried per the flow's policy.",
        run: |h, a| done(h.fail_forming(&a.text(0)?, &a.text(1)?)?),
    },
    Method {
        name: "CancelMessage",
        name_ru: "ОтменитьСообщение",
        params: &[required("id", Text), required("reason", Text)],
        returns: false,
        doc: "Cancels a message not yet formed: there is nothing to send.",
        run: |h, a| done(h.cancel_message(&a.text(0)?, &a.text(1)?)?),
    },
    Method {
        name: "Dispatch",
        name_ru: "Отправить",
        params: &[required("max", Integer), required("timeoutMs", Integer)],
        returns: true,
        doc: "Forms and sends due work now, in this session; returns JSON counts by outcome, and the flows whose messages wait for a Rust former or handler this process lacks (waiting_for_former, waiting_for_incoming_handler).",
        run: |h, a| text(h.dispatch(a.integer(0)?, a.integer(1)?)?),
    },
    Method {
        name: "StartDispatcher",
        name_ru: "ЗапуститьОтправку",
        params: &[Param {
            name: "threads",
            kind: Integer,
            default: Some(four),
        }],
        returns: true,
        doc: "Starts background sending in this server process, one dispatcher per database, while an object on the database lives in the process; returns Истина when it started now, Ложь when it was running already (not an error: a scheduled job may call it at each run).",
        run: |h, a| flag(h.start_dispatcher(a.integer(0)?)?),
    },
    Method {
        name: "StopDispatcher",
        name_ru: "ОстановитьОтправку",
        params: &[],
        returns: true,
        doc: "Stops background sending; returns whether it was running.",
        run: |h, _| flag(h.stop_dispatcher()?),
    },
    Method {
        name: "AcceptIncoming",
        name_ru: "ПринятьСообщение",
        params: &[
            required("flow", Text),
            required("messageId", Text),
            required("body", Text),
            optional("headersJson"),
        ],
        returns: true,
        doc: "Stores an incoming message once per message id; returns {\"id\", \"duplicate\"}.",
        run: |h, a| {
            let (flow, id, body, headers) = (a.text(0)?, a.text(1)?, a.text(2)?, a.text(3)?);
            text(h.accept_incoming(&flow, &id, &body, &headers, a.reserve)?)
        },
    },
    Method {
        name: "NextIncoming",
        name_ru: "ПолучитьВходящие",
        params: &[required("max", Integer), required("leaseSeconds", Integer)],
        returns: true,
        doc: "Claims incoming messages to process; returns a JSON array of {id, flow, message_id, payload, headers, …}.",
        run: |h, a| text(h.next_incoming(a.integer(0)?, a.integer(1)?, a.reserve)?),
    },
    Method {
        name: "AckIncoming",
        name_ru: "ПодтвердитьВходящее",
        params: &[required("id", Text)],
        returns: false,
        doc: "Marks an incoming message processed.",
        run: |h, a| done(h.ack_incoming(&a.text(0)?)?),
    },
    Method {
        name: "FailIncoming",
        name_ru: "ОшибкаОбработкиВходящего",
        params: &[required("id", Text), required("errorText", Text)],
        returns: false,
        doc: "Records that processing failed; retried per the flow's policy.",
        run: |h, a| done(h.fail_incoming(&a.text(0)?, &a.text(1)?)?),
    },
    Method {
        name: "Validate",
        name_ru: "Валидировать",
        params: &[
            required("schema", Text),
            required("component", Text),
            required("json", Text),
        ],
        returns: true,
        doc: "Validates JSON against a component of a schema (its catalog code, or the OpenAPI document's text); returns the JSON array of violations.",
        run: |h, a| text(h.validate(&a.text(0)?, &a.text(1)?, &a.text(2)?)?),
    },
    Method {
        name: "MessageStatus",
        name_ru: "СтатусСообщения",
        params: &[required("id", Text)],
        returns: true,
        doc: "Returns a message's status, source, payload, deliveries and history as JSON.",
        run: |h, a| text(h.message_status(&a.text(0)?)?),
    },
    Method {
        name: "Retry",
        name_ru: "ПовторитьОтправку",
        params: &[required("filterJson", Text), required("reason", Text)],
        returns: true,
        doc: "Retries failed work matching {flow, subscriber, id, created_from, created_to}; returns how many.",
        run: |h, a| number(h.retry(&a.text(0)?, &a.text(1)?)?),
    },
    Method {
        name: "ListMessages",
        name_ru: "СписокСообщений",
        params: &[optional("filterJson")],
        returns: true,
        doc: "Returns the outgoing messages matching {flow, status, subscriber, delivery_status, created_from, created_to, before_seq, limit} (empty: the latest 100), newest first, as a JSON array; pass the last one's seq as before_seq for the next page.",
        run: |h, a| text(h.list_messages(&a.text(0)?)?),
    },
    Method {
        name: "ListIncoming",
        name_ru: "СписокВходящих",
        params: &[optional("filterJson")],
        returns: true,
        doc: "Returns the incoming messages matching {flow, status, created_from, created_to, before_seq, limit} (empty: the latest 100), newest first, without their bodies, as a JSON array.",
        run: |h, a| text(h.list_incoming(&a.text(0)?)?),
    },
    Method {
        name: "Counts",
        name_ru: "КоличестваПоСтатусам",
        params: &[],
        returns: true,
        doc: "Returns the non-zero counts by queue (messages, deliveries, incoming), flow, subscriber and status, as a JSON array of {queue, flow, subscriber, status, count}.",
        run: |h, _| text(h.counts()?),
    },
    Method {
        name: "SubscriberHealth",
        name_ru: "СостояниеПодписчиков",
        params: &[],
        returns: true,
        doc: "Returns every subscriber's health as a JSON array of {subscriber, last_success_at, last_failure_at, last_error, consecutive_failures, waiting, sending, dead}.",
        run: |h, _| text(h.subscriber_health()?),
    },
    Method {
        name: "IncomingStatus",
        name_ru: "СтатусВходящего",
        params: &[required("id", Text)],
        returns: true,
        doc: "Returns an incoming message's status, body, headers and history as JSON.",
        run: |h, a| text(h.incoming_status(&a.text(0)?)?),
    },
    Method {
        name: "RetryIncoming",
        name_ru: "ПовторитьОбработкуВходящих",
        params: &[required("filterJson", Text), required("reason", Text)],
        returns: true,
        doc: "Retries failed incoming messages matching {flow, id, created_from, created_to}; returns how many.",
        run: |h, a| number(h.retry_incoming(&a.text(0)?, &a.text(1)?)?),
    },
    Method {
        name: "DeleteMessage",
        name_ru: "УдалитьСообщение",
        params: &[required("id", Text)],
        returns: true,
        doc: "Deletes a message with its deliveries and history; returns whether there was one.",
        run: |h, a| flag(h.delete_message(&a.text(0)?)?),
    },
    Method {
        name: "SetExternalId",
        name_ru: "УстановитьВнешнийИдентификатор",
        params: &[
            required("system", Text),
            required("objectType", Text),
            required("localKey", Text),
            required("externalId", Text),
        ],
        returns: false,
        doc: "Maps a local object to its id in an external system.",
        run: |h, a| done(h.set_external_id(&a.text(0)?, &a.text(1)?, &a.text(2)?, &a.text(3)?)?),
    },
    Method {
        name: "GetExternalId",
        name_ru: "ПолучитьВнешнийИдентификатор",
        params: &[
            required("system", Text),
            required("objectType", Text),
            required("localKey", Text),
        ],
        returns: true,
        doc: "Returns a local object's external id, \"\" when none.",
        run: |h, a| text(h.get_external_id(&a.text(0)?, &a.text(1)?, &a.text(2)?)?),
    },
    Method {
        name: "FindByExternalId",
        name_ru: "НайтиПоВнешнемуИдентификатору",
        params: &[
            required("system", Text),
            required("objectType", Text),
            required("externalId", Text),
        ],
        returns: true,
        doc: "Returns the local key mapped to an external id, \"\" when none.",
        run: |h, a| text(h.find_by_external_id(&a.text(0)?, &a.text(1)?, &a.text(2)?)?),
    },
    Method {
        name: "Cleanup",
        name_ru: "ОчиститьУстаревшие",
        params: &[],
        returns: true,
        doc: "Removes what is past its retention; returns how many records.",
        run: |h, _| number(h.cleanup()?),
    },
    Method {
        name: "CheckIntegrity",
        name_ru: "ПроверитьЦелостность",
        params: &[Param {
            name: "full",
            kind: Boolean,
            default: Some(no),
        }],
        returns: true,
        doc: "Checks the database (SQLite's quick check, or with full = Истина its full one, and Integra's invariants); returns the report as JSON: {\"ok\": ..., \"problems\": [...]}.",
        run: |h, a| text(h.check_integrity(a.boolean(0)?)?),
    },
    Method {
        name: "MetricsText",
        name_ru: "ТекстМетрик",
        params: &[],
        returns: true,
        doc: "Returns every metric in the OpenMetrics text format, for an HTTP service to serve.",
        run: |h, _| text(h.metrics_text()?),
    },
    Method {
        name: "GetConfiguration",
        name_ru: "ПолучитьКонфигурацию",
        params: &[],
        returns: true,
        doc: "Returns the configuration as JSON with every secret (password, token, key) replaced by \"***\"; write them in again before loading it.",
        run: |h, _| text(h.configuration()?),
    },
    Method {
        name: "StartServer",
        name_ru: "ЗапуститьСервер",
        params: &[optional("settingsJson")],
        returns: true,
        doc: "Starts the HTTP receivers and sources in this server process: {\"listeners\": [...], \"sources\": true}; returns Истина when they started now, Ложь when the same server was running already. The working processes of one 1C server share a listener's port (Linux).",
        run: |h, a| flag(h.start_server(&a.text(0)?)?),
    },
    Method {
        name: "StopServer",
        name_ru: "ОстановитьСервер",
        params: &[],
        returns: true,
        doc: "Stops the receivers and sources; returns whether they ran.",
        run: |h, _| flag(h.stop_server()?),
    },
    Method {
        name: "SendMessage",
        name_ru: "ОтправитьСообщение",
        params: &[
            required("channel", Text),
            required("bodyJson", Text),
            optional("recipients"),
        ],
        returns: true,
        doc: "Message exchange: sends on an addressed channel to an endpoint code, a JSON array of codes, or (\"\") the sender's recipients of the channel; returns the message id. Delivered by the dispatcher.",
        run: |h, a| {
            text(h.send_message(&a.text(0)?, &a.text(1)?, &a.text(2)?, false, a.reserve)?)
        },
    },
    Method {
        name: "SendMessageNow",
        name_ru: "ОтправитьСообщениеСейчас",
        params: &[
            required("channel", Text),
            required("bodyJson", Text),
            optional("recipients"),
        ],
        returns: true,
        doc: "As SendMessage, as a quick message: DeliverMessages pushes it at once.",
        run: |h, a| text(h.send_message(&a.text(0)?, &a.text(1)?, &a.text(2)?, true, a.reserve)?),
    },
    Method {
        name: "SendMessageToSubscribers",
        name_ru: "ОтправитьСообщениеПодписчикам",
        params: &[required("channel", Text), required("bodyJson", Text)],
        returns: true,
        doc: "Sends on a broadcast channel to the endpoints subscribed to it; returns the message id.",
        run: |h, a| {
            text(h.send_message_to_subscribers(&a.text(0)?, &a.text(1)?, false, a.reserve)?)
        },
    },
    Method {
        name: "SendMessageToSubscribersNow",
        name_ru: "ОтправитьСообщениеПодписчикамСейчас",
        params: &[required("channel", Text), required("bodyJson", Text)],
        returns: true,
        doc: "As SendMessageToSubscribers, as a quick message.",
        run: |h, a| {
            text(h.send_message_to_subscribers(&a.text(0)?, &a.text(1)?, true, a.reserve)?)
        },
    },
    Method {
        name: "DeliverMessages",
        name_ru: "ДоставитьСообщения",
        params: &[],
        returns: true,
        doc: "Pushes every quick message now, one caller at a time across processes; returns {delivered, unavailable: [endpoint…], busy}.",
        run: |h, _| text(h.deliver_messages()?),
    },
    Method {
        name: "ConnectEndpoint",
        name_ru: "ПодключитьКонечнуюТочку",
        params: &[
            required("senderSettingsJson", Text),
            required("recipientSettingsJson", Text),
            optional("recipientName"),
            optional("senderName"),
        ],
        returns: true,
        doc: "Connects another base after checking the connection both ways; settings are {url, username, password}: the sender's how the recipient reaches this base. Returns the endpoint {code, name, url, blocked}.",
        run: |h, a| text(h.connect_endpoint(&a.text(0)?, &a.text(1)?, &a.text(2)?, &a.text(3)?)?),
    },
    Method {
        name: "UpdateEndpointConnectionSettings",
        name_ru: "ОбновитьНастройкиПодключенияКонечнойТочки",
        params: &[
            required("endpoint", Text),
            required("senderSettingsJson", Text),
            required("recipientSettingsJson", Text),
        ],
        returns: false,
        doc: "Re-checks and changes how an endpoint and this base reach each other, on both sides.",
        run: |h, a| {
            done(h.update_endpoint_connection_settings(&a.text(0)?, &a.text(1)?, &a.text(2)?)?)
        },
    },
    Method {
        name: "SetSenderRecipients",
        name_ru: "УстановитьПолучателейОтправителя",
        params: &[required("channel", Text), required("recipientsJson", Text)],
        returns: false,
        doc: "Sets the recipients (a JSON array of endpoint codes) an addressed channel's sends go to when they name none.",
        run: |h, a| done(h.set_sender_recipients(&a.text(0)?, &a.text(1)?)?),
    },
    Method {
        name: "SubscribeRecipient",
        name_ru: "ПодписатьПолучателя",
        params: &[required("channel", Text), required("endpoint", Text)],
        returns: false,
        doc: "Subscribes an endpoint to a broadcast channel of this base.",
        run: |h, a| done(h.set_recipient_subscribed(&a.text(0)?, &a.text(1)?, true)?),
    },
    Method {
        name: "UnsubscribeRecipient",
        name_ru: "ОтписатьПолучателя",
        params: &[required("channel", Text), required("endpoint", Text)],
        returns: false,
        doc: "Unsubscribes an endpoint from a broadcast channel of this base.",
        run: |h, a| done(h.set_recipient_subscribed(&a.text(0)?, &a.text(1)?, false)?),
    },
    Method {
        name: "Subscribe",
        name_ru: "Подписаться",
        params: &[required("channel", Text), required("publisher", Text)],
        returns: false,
        doc: "Subscribes this base to a publisher endpoint's broadcast channel; the subscription travels to the publisher.",
        run: |h, a| done(h.set_subscribed(&a.text(0)?, &a.text(1)?, true)?),
    },
    Method {
        name: "Unsubscribe",
        name_ru: "Отписаться",
        params: &[required("channel", Text), required("publisher", Text)],
        returns: false,
        doc: "Unsubscribes this base from a publisher endpoint's broadcast channel.",
        run: |h, a| done(h.set_subscribed(&a.text(0)?, &a.text(1)?, false)?),
    },
    Method {
        name: "BlockEndpoint",
        name_ru: "ЗаблокироватьКонечнуюТочку",
        params: &[required("endpoint", Text)],
        returns: false,
        doc: "Blocks an endpoint: it receives nothing, and what it sends is quarantined.",
        run: |h, a| done(h.set_endpoint_blocked(&a.text(0)?, true)?),
    },
    Method {
        name: "UnblockEndpoint",
        name_ru: "РазблокироватьКонечнуюТочку",
        params: &[required("endpoint", Text)],
        returns: false,
        doc: "Unblocks an endpoint; what waited for it is delivered.",
        run: |h, a| done(h.set_endpoint_blocked(&a.text(0)?, false)?),
    },
    Method {
        name: "ExchangeEndpoints",
        name_ru: "КонечныеТочки",
        params: &[],
        returns: true,
        doc: "Returns {this: {code, name}, endpoints: [{code, name, url, blocked}…]}.",
        run: |h, _| text(h.exchange_endpoints()?),
    },
    Method {
        name: "ChannelRecipients",
        name_ru: "ПолучателиКанала",
        params: &[required("channel", Text)],
        returns: true,
        doc: "Returns who receives a channel: {sender: [endpoint…], subscribers: [endpoint…]}.",
        run: |h, a| text(h.channel_recipients(&a.text(0)?)?),
    },
    Method {
        name: "NextExchangeMessages",
        name_ru: "ПолучитьСообщенияОбмена",
        params: &[required("max", Integer), required("leaseSeconds", Integer)],
        returns: true,
        doc: "Claims received messages to handle, in arrival order per sender and channel; returns a JSON array of {id, sender, channel, body, attempt}.",
        run: |h, a| text(h.next_exchange_messages(a.integer(0)?, a.integer(1)?, a.reserve)?),
    },
    Method {
        name: "AckExchangeMessage",
        name_ru: "ПодтвердитьСообщениеОбмена",
        params: &[required("id", Text)],
        returns: false,
        doc: "Marks a received message handled; its sender is told.",
        run: |h, a| done(h.ack_exchange_message(&a.text(0)?)?),
    },
    Method {
        name: "FailExchangeMessage",
        name_ru: "ОшибкаОбработкиСообщенияОбмена",
        params: &[required("id", Text), required("errorText", Text)],
        returns: false,
        doc: "Records that handling a received message failed: handled again, or quarantined after exchange.quarantine_after attempts.",
        run: |h, a| done(h.fail_exchange_message(&a.text(0)?, &a.text(1)?)?),
    },
    Method {
        name: "ReceivedExchangeMessages",
        name_ru: "ПолученныеСообщения",
        params: &[
            optional("status"),
            Param {
                name: "limit",
                kind: Integer,
                default: Some(hundred),
            },
        ],
        returns: true,
        doc: "Returns received messages (status new, in_progress, processed, quarantined, or \"\" for all), oldest first.",
        run: |h, a| text(h.received_exchange_messages(&a.text(0)?, a.integer(1)?)?),
    },
    Method {
        name: "SentExchangeMessages",
        name_ru: "ОтправленныеСообщения",
        params: &[
            optional("status"),
            Param {
                name: "limit",
                kind: Integer,
                default: Some(hundred),
            },
        ],
        returns: true,
        doc: "Returns sent messages, one per recipient (status pending, sending, sent, done, or \"\" for all), oldest first.",
        run: |h, a| text(h.sent_exchange_messages(&a.text(0)?, a.integer(1)?)?),
    },
    Method {
        name: "RetryReceivedExchangeMessages",
        name_ru: "ПовторитьОбработкуСообщений",
        params: &[optional("id")],
        returns: true,
        doc: "Sends a quarantined received message (\"\": every one) back to be handled; returns how many.",
        run: |h, a| number(h.retry_received_exchange_messages(&a.text(0)?)?),
    },
];

/// Every property, in the order 1C numbers them.
pub(crate) static PROPERTIES: &[Property] = &[
    Property {
        name: "Version",
        name_ru: "Версия",
        doc: "Integra's version.",
        read: |_| Value::Str(VERSION.to_owned()),
    },
    Property {
        name: "LastError",
        name_ru: "ПоследняяОшибка",
        doc: "What the last failed call said was wrong (\"\" after a call that succeeded).",
        read: |last_error| Value::Str(last_error.to_owned()),
    },
];

/// The method and property reference for BSL authors, in Markdown: what the README shows
/// (a test keeps the two equal).
pub fn reference() -> String {
    let mut out = String::from(
        "| method | Russian | parameters | returns | what it does |\n|---|---|---|---|---|\n",
    );
    for m in METHODS {
        let params: Vec<String> = m
            .params
            .iter()
            .map(|p| match p.default {
                Some(default) => format!("{} = {}", p.name, describe(&default())),
                None => p.name.to_owned(),
            })
            .collect();
        let returns = if m.returns { "yes" } else { "" };
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            m.name,
            m.name_ru,
            params.join(", "),
            returns,
            m.doc.replace('|', "\\|")
        ));
    }
    out.push_str("\n| property (read-only) | Russian | what it is |\n|---|---|---|\n");
    for p in PROPERTIES {
        out.push_str(&format!("| `{}` | `{}` | {} |\n", p.name, p.name_ru, p.doc));
    }
    out
}

/// A default value as BSL would write it.
fn describe(value: &Value) -> String {
    match value {
        Value::Bool(true) => "Истина".to_owned(),
        Value::Bool(false) => "Ложь".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Str(s) => format!("\"{s}\""),
        other => other.type_name().to_owned(),
    }
}

/// The index of the entry named `name` in either language, ignoring case (BSL identifiers
/// are case-insensitive, Cyrillic included).
pub(crate) fn find<T>(
    entries: &[T],
    names: fn(&T) -> [&'static str; 2],
    name: &str,
) -> Option<usize> {
    let wanted = name.to_lowercase();
    entries
        .iter()
        .position(|e| names(e).iter().any(|n| n.to_lowercase() == wanted))
}

/// A method's names: English, Russian.
pub(crate) fn method_names(m: &Method) -> [&'static str; 2] {
    [m.name, m.name_ru]
}

/// A property's names: English, Russian.
pub(crate) fn property_names(p: &Property) -> [&'static str; 2] {
    [p.name, p.name_ru]
}

#[cfg(test)]
mod tests {
    use super::*;
    use integra_core::json_api::OWN_MEMORY;

    /// The README's reference section is [`reference`]'s text; with
    /// `INTEGRA_UPDATE_README=1` the test writes it there.
    #[test]
    fn the_readme_lists_every_method_as_the_table_declares_it() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let (start, end) = ("<!-- methods -->\n", "<!-- /methods -->");
        let from = readme
            .find(start)
            .expect("the README has a methods section")
            + start.len();
        let to = readme.find(end).expect("the methods section ends");
        if std::env::var_os("INTEGRA_UPDATE_README").is_some() {
            let updated = format!("{}{}{}", &readme[..from], reference(), &readme[to..]);
            std::fs::write(path, updated).unwrap();
            return;
        }
        assert!(
            readme[from..to] == reference(),
            "the README's method reference is stale: run `INTEGRA_UPDATE_README=1 cargo test -p integra-addin`"
        );
    }

    #[test]
    fn the_tables_are_consistent() {
        let mut seen = std::collections::HashSet::new();
        for m in METHODS {
            for name in method_names(m) {
                assert!(seen.insert(name.to_lowercase()), "{name} twice");
            }
            assert!(!m.doc.is_empty(), "{} has no doc", m.name);
            let first_default = m.params.iter().position(|p| p.default.is_some());
            if let Some(i) = first_default {
                assert!(
                    m.params[i..].iter().all(|p| p.default.is_some()),
                    "{}: only trailing parameters may have defaults",
                    m.name
                );
            }
        }
        for p in PROPERTIES {
            for name in property_names(p) {
                assert!(seen.insert(name.to_lowercase()), "{name} twice");
            }
        }
    }

    #[test]
    fn names_match_in_either_language_and_any_case() {
        let at = |name| find(METHODS, method_names, name);
        assert_eq!(at("registermessage"), at("ЗАРЕГИСТРИРОВАТЬСООБЩЕНИЕ"));
        assert_eq!(at("зарегистрироватьСообщение"), Some(2));
        assert_eq!(at("Nope"), None);
        assert_eq!(find(PROPERTIES, property_names, "последняяошибка"), Some(1));
    }

    #[test]
    fn arguments_are_checked_by_kind_and_defaulted_when_omitted() {
        let register = &METHODS[2];
        let values = [
            Value::Str("F".into()),
            Value::Str("{}".into()),
            Value::Empty,
            Value::Empty,
        ];
        let args = Args::new(register, &values, OWN_MEMORY).unwrap();
        assert!(!args.boolean(2).unwrap());
        assert_eq!(args.text(3).unwrap(), "");
        let wrong = [
            Value::Number(1.0),
            Value::Str("{}".into()),
            Value::Empty,
            Value::Empty,
        ];
        let err = Args::new(register, &wrong, OWN_MEMORY)
            .unwrap()
            .text(0)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid flow: RegisterMessage takes a String here, got Number"
        );
        let err = Args::new(register, &values[..2], OWN_MEMORY).err().unwrap();
        assert_eq!(
            err.to_string(),
            "invalid parameters: RegisterMessage takes 4 parameters, got 2"
        );
        let next = &METHODS[4];
        let half = [Value::Number(1.5), Value::Number(30.0)];
        let err = Args::new(next, &half, OWN_MEMORY)
            .unwrap()
            .integer(0)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid max: must be a whole number, got 1.5"
        );
    }
}
