//! Field-by-field difference of two JSON values: the paths added, removed and changed.

use serde::Serialize;
use serde_json::Value;

/// How a field differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Only in B.
    Added,
    /// Only in A.
    Removed,
    /// In both, with different values (or of different kinds).
    Changed,
}

/// One field that differs, at its path (`event.data.custom_attributes.CT Source`,
/// `events[2].data.event_name`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDiff {
    /// Where the field is.
    pub path: String,
    /// Added, removed or changed.
    pub change: Change,
    /// Its value in A (`None` when added).
    pub a: Option<Value>,
    /// Its value in B (`None` when removed).
    pub b: Option<Value>,
}

/// The fields in which `b` differs from `a`, in A's order (then B's new fields). Objects are
/// compared key by key and arrays index by index; any other difference is a change of the
/// whole value at its path. Equal values give an empty list.
pub fn diff_values(a: &Value, b: &Value) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    diff_at(&mut String::new(), a, b, &mut out);
    out
}

fn diff_at(path: &mut String, a: &Value, b: &Value, out: &mut Vec<FieldDiff>) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, a_value) in a {
                let len = push_key(path, key);
                match b.get(key) {
                    Some(b_value) => diff_at(path, a_value, b_value, out),
                    None => out.push(one(path, Change::Removed, Some(a_value), None)),
                }
                path.truncate(len);
            }
            for (key, b_value) in b.iter().filter(|(key, _)| !a.contains_key(*key)) {
                let len = push_key(path, key);
                out.push(one(path, Change::Added, None, Some(b_value)));
                path.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for index in 0..a.len().max(b.len()) {
                let len = path.len();
                path.push_str(&format!("[{index}]"));
                match (a.get(index), b.get(index)) {
                    (Some(a), Some(b)) => diff_at(path, a, b, out),
                    (Some(a), None) => out.push(one(path, Change::Removed, Some(a), None)),
                    (None, b) => out.push(one(path, Change::Added, None, b)),
                }
                path.truncate(len);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(one(path, Change::Changed, Some(a), Some(b))),
    }
}

/// Appends `.key` (or `key` at the root) and returns the length to truncate back to.
fn push_key(path: &mut String, key: &str) -> usize {
    let len = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
    len
}

fn one(path: &str, change: Change, a: Option<&Value>, b: Option<&Value>) -> FieldDiff {
    FieldDiff {
        path: path.to_string(),
        change,
        a: a.cloned(),
        b: b.cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_have_no_difference() {
        let value = json!({"a": [1, {"b": null}], "c": "x"});
        assert!(diff_values(&value, &value.clone()).is_empty());
    }

    #[test]
    fn added_removed_and_changed_fields_are_listed_by_path() {
        let a = json!({"event": {"data": {"type": "other", "attrs": {"x": 1, "gone": true}}}, "list": [1, 2]});
        let b = json!({"event": {"data": {"type": "navigation", "attrs": {"x": 1, "new": "n"}}}, "list": [1, 3, 4]});
        let found: Vec<(String, Change)> = diff_values(&a, &b)
            .into_iter()
            .map(|d| (d.path, d.change))
            .collect();
        assert_eq!(
            found,
            [
                ("event.data.type".to_string(), Change::Changed),
                ("event.data.attrs.gone".to_string(), Change::Removed),
                ("event.data.attrs.new".to_string(), Change::Added),
                ("list[1]".to_string(), Change::Changed),
                ("list[2]".to_string(), Change::Added),
            ]
        );
    }

    #[test]
    fn a_value_of_another_kind_is_one_change_with_both_values() {
        let diffs = diff_values(&json!({"v": {"x": 1}}), &json!({"v": "1"}));
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].path, "v");
        assert_eq!(diffs[0].a, Some(json!({"x": 1})));
        assert_eq!(diffs[0].b, Some(json!("1")));
    }
}
