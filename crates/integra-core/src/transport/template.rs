//! Names built from templates: topics, routing keys and paths that hold `{flow}`,
//! `{subscriber}`, `{object_key}` and `{message_id}` (an absent object key is empty).
//!
//! A template is rendered in one pass over its pieces ([`crate::config::pieces`], the reading
//! its check follows too): each placeholder is replaced by its value, and a value is never read
//! again, so a key or a code holding `{message_id}` is sent as written.

#[cfg(feature = "brokers")]
use super::Outgoing;
use crate::config::Piece;

/// `template` with each placeholder replaced by `value` of it (the placeholder with its
/// braces), in one pass. A placeholder `value` does not know, and a `{` left open, stay as
/// written (validation refuses such templates).
pub(crate) fn fill<'v>(template: &str, value: impl Fn(&str) -> Option<&'v str>) -> String {
    let mut out = String::with_capacity(template.len());
    for piece in crate::config::pieces(template) {
        match piece {
            Piece::Placeholder(name) => out.push_str(value(name).unwrap_or(name)),
            Piece::Text(text) | Piece::Unclosed(text) => out.push_str(text),
        }
    }
    out
}

/// `template` with the names of `m` in place of `{flow}`, `{subscriber}`, `{object_key}` and
/// `{message_id}`: a broker's topic or routing key.
#[cfg(feature = "brokers")]
pub(crate) fn render(template: &str, m: &Outgoing<'_>) -> String {
    fill(template, |placeholder| match placeholder {
        "{flow}" => Some(m.flow),
        "{subscriber}" => Some(m.subscriber),
        "{object_key}" => Some(m.object_key.unwrap_or_default()),
        "{message_id}" => Some(m.message_id),
        _ => None,
    })
}

#[cfg(all(test, feature = "brokers"))]
mod tests {
    use super::*;

    fn message() -> Outgoing<'static> {
        Outgoing {
            message_id: "m1",
            flow: "ORDERS",
            subscriber: "wms",
            payload: "{}",
            object_key: Some("doc-7"),
            ordering_key: None,
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let m = message();
        assert_eq!(
            render("integra.{flow}.{subscriber}.{object_key}", &m),
            "integra.ORDERS.wms.doc-7"
        );
        let keyless = Outgoing {
            object_key: None,
            ..m
        };
        assert_eq!(render("{message_id}", &keyless), "m1");
        assert_eq!(render("plain", &m), "plain");
        assert_eq!(render("k.{object_key}", &keyless), "k.");
        assert_eq!(render("{other}.{flow}.{", &m), "{other}.ORDERS.{");
    }

    /// Issue 22: an object key holding `{message_id}` was expanded again inside a topic.
    /// Every value is sent as written, whatever placeholder it holds.
    #[test]
    fn values_are_not_expanded_again() {
        let m = Outgoing {
            message_id: "{object_key}",
            flow: "{subscriber}",
            subscriber: "{message_id}",
            object_key: Some("{flow}{message_id}"),
            ..message()
        };
        assert_eq!(
            render("{flow}/{subscriber}/{object_key}/{message_id}", &m),
            "{subscriber}/{message_id}/{flow}{message_id}/{object_key}"
        );
    }
}
