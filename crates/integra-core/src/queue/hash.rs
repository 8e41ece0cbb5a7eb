//! The content hash behind the unchanged-content rule: SHA-256 over the canonical form of a
//! JSON value (object keys sorted, no whitespace), so the same data in another key order or
//! layout has the same hash.

use std::io::Write;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The SHA-256 of `value`'s canonical JSON.
pub(crate) fn content_hash(value: &Value) -> Vec<u8> {
    let mut hasher = HashWriter(Sha256::new());
    write_canonical(&mut hasher, value);
    hasher.0.finalize().to_vec()
}

struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_canonical(out: &mut HashWriter, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.0.update(b"{");
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.0.update(b",");
                }
                write_scalar(out, &Value::String(key.clone()));
                out.0.update(b":");
                if let Some(v) = map.get(key) {
                    write_canonical(out, v);
                }
            }
            out.0.update(b"}");
        }
        Value::Array(items) => {
            out.0.update(b"[");
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.0.update(b",");
                }
                write_canonical(out, v);
            }
            out.0.update(b"]");
        }
        scalar => write_scalar(out, scalar),
    }
}

fn write_scalar(out: &mut HashWriter, value: &Value) {
    // Writing a scalar into a hasher cannot fail.
    let _ = serde_json::to_writer(out, value);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn key_order_and_layout_do_not_matter() {
        let a: Value =
            serde_json::from_str(r#"{"b": [1, {"y": 2, "x": "é"}], "a": null}"#).unwrap();
        let b = json!({"a": null, "b": [1, {"x": "é", "y": 2}]});
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_eq!(content_hash(&a).len(), 32);
    }

    #[test]
    fn any_change_in_content_changes_the_hash() {
        let base = json!({"id": 1, "lines": [{"qty": 2}]});
        for other in [
            json!({"id": 1, "lines": [{"qty": 3}]}),
            json!({"id": 1, "lines": [{"qty": 2}, {"qty": 2}]}),
            json!({"id": "1", "lines": [{"qty": 2}]}),
            json!({"id": 1, "lines": [{"qty": 2}], "x": null}),
        ] {
            assert_ne!(content_hash(&base), content_hash(&other), "{other}");
        }
    }
}
