//! Names built from templates: topics, routing keys and paths that hold `{flow}`,
//! `{subscriber}`, `{object_key}` and `{message_id}` (an absent object key is empty).

use super::Outgoing;

/// `template` with each placeholder replaced by `m`'s value.
pub(crate) fn render(template: &str, m: &Outgoing<'_>) -> String {
    if !template.contains('{') {
        return template.to_owned();
    }
    template
        .replace("{flow}", m.flow)
        .replace("{subscriber}", m.subscriber)
        .replace("{object_key}", m.object_key.unwrap_or_default())
        .replace("{message_id}", m.message_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled() {
        let m = Outgoing {
            message_id: "m1",
            flow: "ORDERS",
            subscriber: "wms",
            payload: "{}",
            object_key: Some("doc-7"),
            ordering_key: None,
            attempt: 1,
        };
        assert_eq!(
            render("integra.{flow}.{subscriber}.{object_key}", &m),
            "integra.ORDERS.wms.doc-7"
        );
        assert_eq!(
            render(
                "{message_id}",
                &Outgoing {
                    object_key: None,
                    ..m
                }
            ),
            "m1"
        );
        assert_eq!(render("plain", &m), "plain");
        assert_eq!(
            render(
                "k.{object_key}",
                &Outgoing {
                    object_key: None,
                    ..m
                }
            ),
            "k."
        );
    }
}
