//! The event side of a record's properties: event and session properties to
//! `custom_attributes` (names trimmed, values as strings, limits checked, documented or not),
//! the documented attributes a record lacks, and `data.location`.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::engine::{Engine, SESSION_PROPS, TraceOp, Work};
use super::findings::{Finding, FindingKind, Severity};
use super::rules::{UndocumentedPolicy, attribute_key};
use super::values::{self, Coercion};
use crate::mparticle::Location;
use crate::mparticle::limits;

impl Engine {
    pub(super) fn map_attributes(
        &self,
        props_key: &str,
        props: &Map<String, Value>,
        rule_index: Option<usize>,
        attributes: &mut IndexMap<String, String>,
        work: &mut Work,
    ) {
        for (name, value) in props {
            let source = format!("{props_key}.{name}");
            let trimmed = name.split_whitespace().collect::<Vec<_>>().join(" ");
            if trimmed.is_empty() {
                work.push(Finding::on(
                    Severity::Warning,
                    FindingKind::AttributeNameSpaces,
                    &source,
                    "a property with an empty name: not sent",
                ));
                work.trace(&source, "", TraceOp::Dropped, Some("empty name".into()));
                continue;
            }
            let documented =
                rule_index.is_some_and(|index| self.rules().is_documented(index, &trimmed));
            if rule_index.is_some() && !documented {
                let (note, dropped) = match self.rules().undocumented_attributes {
                    UndocumentedPolicy::Keep => ("kept", false),
                    UndocumentedPolicy::Drop => {
                        ("dropped (undocumented_attributes = \"drop\")", true)
                    }
                };
                work.push(Finding::on(
                    Severity::Info,
                    FindingKind::UndocumentedAttribute,
                    &source,
                    format!(
                        "`{trimmed}` is not listed for this event in the feed document: {note}"
                    ),
                ));
                if dropped {
                    work.trace(&source, "", TraceOp::Dropped, Some("undocumented".into()));
                    continue;
                }
            }
            self.push_attribute(
                &source,
                &trimmed,
                name != &trimmed,
                value,
                TraceOp::Copied,
                attributes,
                work,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn push_attribute(
        &self,
        source: &str,
        name: &str,
        renamed: bool,
        value: &Value,
        op: TraceOp,
        attributes: &mut IndexMap<String, String>,
        work: &mut Work,
    ) {
        let target = format!("events[].data.custom_attributes.{name}");
        if renamed {
            work.push(Finding::on(
                Severity::Warning,
                FindingKind::AttributeNameSpaces,
                source,
                format!("the name has stray spaces: sent as `{name}`"),
            ));
        }
        if name.chars().count() > limits::MAX_ATTRIBUTE_NAME_CHARS {
            work.push(Finding::on(
                Severity::Warning,
                FindingKind::OverLimit,
                source,
                format!(
                    "the attribute name is longer than {} characters",
                    limits::MAX_ATTRIBUTE_NAME_CHARS
                ),
            ));
        }
        let Some((text, coercion)) = values::to_attribute_string(value) else {
            work.push(Finding::on(
                Severity::Info,
                FindingKind::InvalidValue,
                source,
                "null value: not sent",
            ));
            work.trace(source, "", TraceOp::Dropped, Some("null".into()));
            return;
        };
        if text.chars().count() > limits::MAX_ATTRIBUTE_VALUE_CHARS {
            work.push(Finding::on(
                Severity::Warning,
                FindingKind::OverLimit,
                source,
                format!(
                    "the value is {} characters long; mParticle takes at most {}",
                    text.chars().count(),
                    limits::MAX_ATTRIBUTE_VALUE_CHARS
                ),
            ));
        }
        let (op, note) = match coercion {
            Coercion::None if renamed => (TraceOp::Renamed, Some("name trimmed".to_string())),
            Coercion::None => (op, None),
            Coercion::Number => (TraceOp::Coerced, Some("number → string".to_string())),
            Coercion::Bool => {
                work.push(Finding::on(
                    Severity::Info,
                    FindingKind::ValueCoerced,
                    source,
                    "a boolean sent as the string \"true\"/\"false\"",
                ));
                (TraceOp::Coerced, Some("boolean → string".to_string()))
            }
            Coercion::Json => {
                work.push(Finding::on(Severity::Info, FindingKind::ValueCoerced, source, "a list or object sent as its compact JSON text (mParticle takes only scalar attribute values)"));
                (TraceOp::Coerced, Some("JSON → string".to_string()))
            }
        };
        if attributes.contains_key(name) {
            work.trace(
                source,
                "",
                TraceOp::Dropped,
                Some(format!(
                    "`{name}` is already set by the event's own properties"
                )),
            );
            return;
        }
        work.trace(source, &target, op, note);
        attributes.insert(name.to_string(), text);
    }

    pub(super) fn session_props(
        &self,
        record: &Map<String, Value>,
        rule_index: Option<usize>,
        attributes: &mut IndexMap<String, String>,
        work: &mut Work,
    ) {
        let Some((key, session)) = SESSION_PROPS.iter().find_map(|key| {
            record
                .get(*key)
                .and_then(Value::as_object)
                .map(|map| (*key, map))
        }) else {
            return;
        };
        let flatten =
            rule_index.is_some_and(|index| self.rules().events[index].flatten_session_props);
        for (name, value) in session {
            let source = format!("{key}.{name}");
            if flatten {
                let trimmed = name.split_whitespace().collect::<Vec<_>>().join(" ");
                self.push_attribute(
                    &source,
                    &trimmed,
                    name != &trimmed,
                    value,
                    TraceOp::Flattened,
                    attributes,
                    work,
                );
            } else {
                work.trace(
                    &source,
                    "",
                    TraceOp::Dropped,
                    Some(
                        "session properties travel only with UTM Visited and Webhook Delivered"
                            .into(),
                    ),
                );
            }
        }
    }

    pub(super) fn missing_documented(
        &self,
        index: usize,
        props: Option<&Map<String, Value>>,
        record: &Map<String, Value>,
        work: &mut Work,
    ) {
        let present: std::collections::HashSet<String> = props
            .into_iter()
            .flat_map(|props| props.keys())
            .chain(
                SESSION_PROPS
                    .iter()
                    .filter_map(|k| record.get(*k)?.as_object())
                    .flat_map(|m| m.keys()),
            )
            .map(|key| attribute_key(key))
            .collect();
        let has_session = SESSION_PROPS.iter().any(|k| record.contains_key(*k));
        let missing: Vec<&str> = self
            .rules()
            .documented_attributes(index)
            .iter()
            .filter(|name| {
                let key = attribute_key(name);
                !(present.contains(&key) || key == "sessionprops" && has_session)
            })
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            work.push(Finding::new(
                Severity::Info,
                FindingKind::DocumentedAttributeMissing,
                format!(
                    "documented attributes not in this record (not invented): {}",
                    missing.join(", ")
                ),
            ));
        }
    }

    pub(super) fn location(
        &self,
        props_key: &str,
        props: &Map<String, Value>,
        work: &mut Work,
    ) -> Option<Location> {
        let find = |keys: &[String]| {
            props
                .iter()
                .find(|(name, _)| keys.contains(&attribute_key(name)))
        };
        let (lat_name, lat) = find(&self.rules().location_latitude)?;
        let (lon_name, lon) = find(&self.rules().location_longitude)?;
        match (values::to_f64(lat), values::to_f64(lon)) {
            (Some(latitude), Some(longitude))
                if latitude.abs() <= 90.0 && longitude.abs() <= 180.0 =>
            {
                work.trace(
                    &format!("{props_key}.{lat_name}"),
                    "events[].data.location.latitude",
                    TraceOp::Added,
                    Some("also fills the location".into()),
                );
                work.trace(
                    &format!("{props_key}.{lon_name}"),
                    "events[].data.location.longitude",
                    TraceOp::Added,
                    Some("also fills the location".into()),
                );
                Some(Location {
                    latitude,
                    longitude,
                })
            }
            _ => {
                work.push(Finding::on(Severity::Warning, FindingKind::InvalidValue, format!("{props_key}.{lat_name}"), format!("latitude/longitude `{lat}`, `{lon}` are not a valid position: no location sent")));
                None
            }
        }
    }
}
