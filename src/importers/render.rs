//! Rendering a policy given as a structure (a template's YAML or JSON, authorization
//! details' objects) to the JSON text IAM receives, remembering where each value and
//! member name came from.

use crate::json::{Node, Value};
use crate::text::TextMap;

/// `node` as compact JSON, and the map from the text to the file offsets of the nodes
/// (every value and member name maps to where it starts in the file).
pub fn render(node: &Node) -> (String, TextMap) {
    let mut out = String::new();
    let mut map = TextMap::default();
    write(node, &mut out, &mut map);
    (out, map)
}

fn write(node: &Node, out: &mut String, map: &mut TextMap) {
    map.push_point(out.len(), node.span.start);
    match &node.value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n),
        Value::String(s) => string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(it, out, map);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                map.push_point(out.len(), m.key_span.start);
                string(&m.key, out);
                out.push(':');
                write(&m.value, out, map);
            }
            out.push('}');
        }
    }
}

fn string(s: &str, out: &mut String) {
    out.push_str(&serde_json::Value::String(s.to_owned()).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_names_map_to_their_places() {
        let text = "{ \"a\" :  [1, \"x\\\"\"], \"b\": {\"c\": null} }";
        let node = crate::json::parse(text.as_bytes()).unwrap();
        let (out, map) = render(&node);
        assert_eq!(out, r#"{"a":[1,"x\""],"b":{"c":null}}"#);
        assert_eq!(map.file_offset(out.find("\"a\"").unwrap()), 2);
        assert_eq!(map.file_offset(out.find('[').unwrap()), 9);
        assert_eq!(map.file_offset(out.find("\"x").unwrap()), 13);
        assert_eq!(
            map.file_offset(out.find("null").unwrap()),
            text.find("null").unwrap()
        );
        // Re-parsing the text gives the same value.
        let a: serde_json::Value = serde_json::from_str(&out).unwrap();
        let b: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(a, b);
    }
}
