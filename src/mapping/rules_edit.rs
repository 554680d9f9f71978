//! Small edits of a rules file's text that keep everything else as written (comments, order,
//! spacing): the window's "Add an alias for this event" and "Treat this property as documented".

use toml_edit::{Array, DocumentMut, Item, Table, Value};

/// Why a rules text could not be edited.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RulesEditError {
    /// The text is not TOML: fix it in the editor first.
    #[error("the rules are not valid TOML ({0}): fix them first")]
    Syntax(String),
    /// The text's shape is not the rules' (a section of the wrong type).
    #[error("{0}")]
    Shape(String),
}

fn parse(text: &str) -> Result<DocumentMut, RulesEditError> {
    text.parse::<DocumentMut>()
        .map_err(|error| RulesEditError::Syntax(error.message().to_string()))
}

/// `text` with `spelling` (an event name as CleverTap writes it) made an alias of the
/// documented event `name` in `[aliases]` (added when absent; an alias of the same spelling is
/// replaced).
pub fn add_alias(text: &str, spelling: &str, name: &str) -> Result<String, RulesEditError> {
    let mut document = parse(text)?;
    let aliases = document
        .entry("aliases")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_like_mut()
        .ok_or_else(|| RulesEditError::Shape("`aliases` is not a table".into()))?;
    aliases.insert(spelling, Item::Value(Value::from(name)));
    Ok(document.to_string())
}

/// `text` with `property` listed among the documented `attributes` of the event named `event`
/// (as its `name` is written in `[[events]]`). Unchanged when it is listed already.
pub fn document_attribute(
    text: &str,
    event: &str,
    property: &str,
) -> Result<String, RulesEditError> {
    let mut document = parse(text)?;
    let events = document
        .get_mut("events")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| RulesEditError::Shape("the rules have no [[events]] tables".into()))?;
    let rule = events
        .iter_mut()
        .find(|table| table.get("name").and_then(Item::as_str) == Some(event))
        .ok_or_else(|| {
            RulesEditError::Shape(format!("no [[events]] table is named \"{event}\""))
        })?;
    let attributes = rule
        .entry("attributes")
        .or_insert_with(|| Item::Value(Value::Array(Array::new())))
        .as_array_mut()
        .ok_or_else(|| {
            RulesEditError::Shape(format!("`attributes` of \"{event}\" is not a list"))
        })?;
    if !attributes
        .iter()
        .any(|value| value.as_str() == Some(property))
    {
        attributes.push(property);
    }
    Ok(document.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{DEFAULT_RULES, Rules};

    #[test]
    fn an_alias_maps_the_spelling_to_the_documented_event() {
        let text = add_alias(DEFAULT_RULES, "app launch", "App Launched").unwrap();
        let rules = Rules::parse(&text, "draft").unwrap();
        assert_eq!(rules.canonical_name("app launch"), Some("App Launched"));
        // Everything else as written: the comments stay.
        assert!(text.contains("# feedlens mapping rules"));
        assert_eq!(text.lines().count(), DEFAULT_RULES.lines().count() + 1);
    }

    #[test]
    fn a_documented_property_is_listed_once() {
        let text = document_attribute(DEFAULT_RULES, "App Launched", "Screen Size").unwrap();
        let again = document_attribute(&text, "App Launched", "Screen Size").unwrap();
        assert_eq!(text, again);
        let rules = Rules::parse(&text, "draft").unwrap();
        let (index, _) = rules.event("App Launched").unwrap();
        assert!(rules.is_documented(index, "Screen Size"));
        let before = Rules::default_rules().unwrap();
        let (index, _) = before.event("App Launched").unwrap();
        assert!(!before.is_documented(index, "Screen Size"));
    }

    #[test]
    fn an_unknown_event_or_broken_text_is_refused() {
        assert!(matches!(
            document_attribute(DEFAULT_RULES, "Nope", "x"),
            Err(RulesEditError::Shape(_))
        ));
        assert!(matches!(
            add_alias("version = ", "a", "b"),
            Err(RulesEditError::Syntax(_))
        ));
    }
}
