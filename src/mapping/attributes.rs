//! The event side of a record's properties: event and session properties to
//! `custom_attributes` (names trimmed, values as strings, limits checked, documented or not),
//! the documented attributes a record lacks, and `data.location`.

use std::borrow::Cow;

use sonic_rs::JsonContainerTrait;

use super::engine::{Engine, SESSION_PROPS, TraceOp, Work};
use super::findings::{Finding, FindingKind, Severity};
use super::names::Names;
use super::rules::{UndocumentedPolicy, has_attribute_key};
use super::values::{self, Coercion, Record};
use crate::clevertap::{Json, JsonObject};
use crate::mparticle::limits;
use crate::mparticle::{Attributes, Location};

/// A property's place in the source record (`eventProps` + `CT Source`); its dotted path is
/// built only when a finding or the trace needs it.
#[derive(Clone, Copy)]
pub(super) struct Field<'a> {
    pub(super) container: &'a str,
    pub(super) name: &'a str,
}

impl Field<'_> {
    pub(super) fn path(&self) -> String {
        // Joined, not formatted: a finding's field goes through here.
        values::joined(&[self.container, ".", self.name])
    }
}

/// Whether `text` has more than `limit` characters (bytes counted first: most text is short).
fn longer_than(text: &str, limit: usize) -> bool {
    text.len() > limit && text.chars().count() > limit
}

/// A property name with leading, trailing and repeated spaces removed (borrowed when clean).
pub(super) fn trim_name(name: &str) -> Cow<'_, str> {
    let clean = if name.is_ascii() {
        // The bytes alone: no space at either end, no two in a row, no other blank (the ASCII
        // blanks of `char::is_whitespace` are the space and 9 to 13).
        let bytes = name.as_bytes();
        bytes.first() != Some(&b' ')
            && bytes.last() != Some(&b' ')
            && !bytes.iter().any(|&b| matches!(b, b'\t'..=b'\r'))
            && !bytes.windows(2).any(|pair| pair == b"  ")
    } else {
        !name.starts_with(char::is_whitespace)
            && !name.ends_with(char::is_whitespace)
            && !name.contains("  ")
            && !name.contains(|c: char| c.is_whitespace() && c != ' ')
    };
    if clean {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(name.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

/// A record's undocumented properties: how many, where the first is, their names joined.
#[derive(Default)]
struct Undocumented<'a> {
    count: usize,
    first: Option<Field<'a>>,
    names: String,
}

impl<'a> Undocumented<'a> {
    fn add(&mut self, field: Field<'a>, name: &str) {
        if self.count > 0 {
            self.names.push_str(", ");
        } else {
            self.names.reserve(256);
        }
        self.names.push_str(name);
        self.first.get_or_insert(field);
        self.count += 1;
    }
}

/// What one pass over a record's event properties found besides the attributes: which
/// documented ones it holds, and the first properties spelled as a latitude and a longitude.
#[derive(Default)]
pub(super) struct Scanned<'a> {
    pub(super) documented: Documented,
    latitude: Option<(&'a str, &'a Json)>,
    longitude: Option<(&'a str, &'a Json)>,
}

/// Which documented attributes of an event a record's properties hold, by position.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Documented(u128);

impl Documented {
    fn insert(&mut self, position: usize) {
        if position < 128 {
            self.0 |= 1 << position;
        }
    }
    fn contains(self, position: usize) -> bool {
        position < 128 && self.0 & (1 << position) != 0
    }
}

impl Engine {
    pub(super) fn map_attributes<'a>(
        &self,
        props_key: &str,
        props: &'a JsonObject,
        rule_index: Option<usize>,
        attributes: &mut Attributes,
        work: &mut Work,
    ) -> Scanned<'a> {
        let rules = self.rules();
        let policy = rules.undocumented_attributes;
        let mut undocumented = Undocumented::default();
        let mut scanned = Scanned::default();
        // What each name means is worked out once per name and thread, not once per record.
        Names::with(self.id(), |names| {
            for (name, value) in props.iter() {
                let field = Field {
                    container: props_key,
                    name,
                };
                let info = names.info(rules, name);
                if scanned.latitude.is_none() && info.latitude {
                    scanned.latitude = Some((name, value));
                }
                if scanned.longitude.is_none() && info.longitude {
                    scanned.longitude = Some((name, value));
                }
                let trimmed = info.trimmed(name);
                if trimmed.is_empty() {
                    let source = field.path();
                    work.push(Finding::on(
                        Severity::Warning,
                        FindingKind::AttributeNameSpaces,
                        &source,
                        "a property with an empty name: not sent",
                    ));
                    work.trace(&source, "", TraceOp::Dropped, Some("empty name".into()));
                    continue;
                }
                let position = rule_index.and_then(|index| info.documented_position(index));
                if let Some(position) = position {
                    scanned.documented.insert(position);
                }
                if rule_index.is_some() && position.is_none() {
                    undocumented.add(field, trimmed);
                    if policy == UndocumentedPolicy::Drop {
                        work.trace(
                            &field.path(),
                            "",
                            TraceOp::Dropped,
                            Some("undocumented".into()),
                        );
                        continue;
                    }
                }
                // A duplicate is found as the attribute is set (one lookup), and reported
                // before what setting it found.
                let findings_before = work.findings_len();
                if self.push_attribute(field, trimmed, value, TraceOp::Copied, attributes, work) {
                    work.insert_finding(
                        findings_before,
                        Finding::on(
                            Severity::Warning,
                            FindingKind::DuplicateKey,
                            field.path(),
                            format!(
                                "duplicate key `{trimmed}`: written more than once in {props_key}; the last value is sent"
                            ),
                        ),
                    );
                }
            }
        });
        self.report_undocumented(props_key, undocumented, work);
        scanned
    }

    /// One finding for all of a record's undocumented properties: a generated or custom event
    /// can carry dozens, and one line per property would bury everything else.
    fn report_undocumented(
        &self,
        props_key: &str,
        undocumented: Undocumented<'_>,
        work: &mut Work,
    ) {
        let what = match self.rules().undocumented_attributes {
            UndocumentedPolicy::Keep => "kept",
            UndocumentedPolicy::Drop => "dropped (undocumented_attributes = \"drop\")",
        };
        let Undocumented {
            count,
            first,
            names,
        } = undocumented;
        let finding = match first {
            None => return,
            Some(field) if count == 1 => Finding::on(
                Severity::Info,
                FindingKind::UndocumentedAttribute,
                field.path(),
                format!("`{names}` is not listed for this event in the feed document: {what}"),
            ),
            // Joined, not formatted: most records of a generated or custom event have a few.
            Some(_) => Finding::on(
                Severity::Info,
                FindingKind::UndocumentedAttribute,
                props_key,
                values::joined(&[
                    itoa::Buffer::new().format(count),
                    " properties are not listed for this event in the feed document, ",
                    what,
                    ": ",
                    &names,
                ]),
            ),
        };
        work.push(finding);
    }

    /// Sets one custom attribute from a property. A name set already keeps its place: an
    /// event property written twice takes the later value (the caller reports it); a session
    /// property does not override an event property. Returns whether the name was set already.
    pub(super) fn push_attribute(
        &self,
        field: Field<'_>,
        name: &str,
        value: &Json,
        op: TraceOp,
        attributes: &mut Attributes,
        work: &mut Work,
    ) -> bool {
        let renamed = field.name != name;
        if renamed {
            work.push(Finding::on(
                Severity::Warning,
                FindingKind::AttributeNameSpaces,
                field.path(),
                // Joined, not formatted: some exports space most of their names.
                values::joined(&["the name has stray spaces: sent as `", name, "`"]),
            ));
        }
        if longer_than(name, limits::MAX_ATTRIBUTE_NAME_CHARS) {
            work.push(Finding::on(
                Severity::Warning,
                FindingKind::OverLimit,
                field.path(),
                format!(
                    "the attribute name is longer than {} characters",
                    limits::MAX_ATTRIBUTE_NAME_CHARS
                ),
            ));
        }
        let Some((coercion, written)) = values::attribute_text(value) else {
            work.push(Finding::on(
                Severity::Info,
                FindingKind::InvalidValue,
                field.path(),
                "null value: not sent",
            ));
            work.trace(&field.path(), "", TraceOp::Dropped, Some("null".into()));
            return attributes.contains_key(name);
        };
        let write = |text: &mut String| written.write(text);
        let (index, was_set) = match attributes.insert_with(name, write) {
            Ok(index) => (index, false),
            Err(index) if op == TraceOp::Copied => {
                attributes.replace_with(index, write);
                (index, true)
            }
            Err(_) => {
                if work.tracing() {
                    work.trace(
                        &field.path(),
                        "",
                        TraceOp::Dropped,
                        Some(format!(
                            "`{name}` is already set by the event's own properties"
                        )),
                    );
                }
                return true;
            }
        };
        let text = attributes.value_at(index);
        if longer_than(text, limits::MAX_ATTRIBUTE_VALUE_CHARS) {
            work.push(Finding::on(
                Severity::Warning,
                FindingKind::OverLimit,
                field.path(),
                format!(
                    "the value is {} characters long; mParticle takes at most {}",
                    text.chars().count(),
                    limits::MAX_ATTRIBUTE_VALUE_CHARS
                ),
            ));
        }
        let (op, note) = match coercion {
            Coercion::None if renamed => (TraceOp::Renamed, Some("name trimmed")),
            Coercion::None => (op, None),
            Coercion::Number => (TraceOp::Coerced, Some("number → string")),
            Coercion::Bool => {
                work.push(Finding::on(
                    Severity::Info,
                    FindingKind::ValueCoerced,
                    field.path(),
                    "a boolean sent as the string \"true\"/\"false\"",
                ));
                (TraceOp::Coerced, Some("boolean → string"))
            }
            Coercion::Json => {
                work.push(Finding::on(Severity::Info, FindingKind::ValueCoerced, field.path(), "a list or object sent as its compact JSON text (mParticle takes only scalar attribute values)"));
                (TraceOp::Coerced, Some("JSON → string"))
            }
        };
        if work.tracing() {
            work.trace(
                &field.path(),
                &format!("events[].data.custom_attributes.{name}"),
                op,
                note.map(str::to_string),
            );
        }
        was_set
    }

    pub(super) fn session_props(
        &self,
        record: &Record<'_>,
        rule_index: Option<usize>,
        attributes: &mut Attributes,
        work: &mut Work,
    ) {
        let Some((key, session)) = SESSION_PROPS.iter().find_map(|key| {
            record
                .get(key)
                .and_then(Json::as_object)
                .map(|map| (*key, map))
        }) else {
            return;
        };
        let flatten =
            rule_index.is_some_and(|index| self.rules().events[index].flatten_session_props);
        for (name, value) in session.iter() {
            let field = Field {
                container: key,
                name,
            };
            if flatten {
                let trimmed = trim_name(name);
                self.push_attribute(field, &trimmed, value, TraceOp::Flattened, attributes, work);
            } else if work.tracing() {
                work.trace(
                    &field.path(),
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
        present: Documented,
        record: &Record<'_>,
        work: &mut Work,
    ) {
        let sessions: Vec<&JsonObject> = SESSION_PROPS
            .iter()
            .filter_map(|k| record.get(k)?.as_object())
            .collect();
        let in_sessions = |key: &str| {
            sessions
                .iter()
                .any(|object| object.iter().any(|(name, _)| has_attribute_key(name, key)))
        };
        let has_session =
            !sessions.is_empty() || SESSION_PROPS.iter().any(|k| record.contains_key(k));
        const LEAD: &str = "documented attributes not in this record (not invented): ";
        let mut message = String::new();
        let missing =
            self.rules()
                .documented_keys(index)
                .enumerate()
                .filter(|(position, (_, key))| {
                    !(present.contains(*position)
                        || in_sessions(key)
                        || *key == "sessionprops" && has_session)
                });
        for (_, (name, _)) in missing {
            if message.is_empty() {
                // Sized for a few names at the first, so that it is not grown name by name.
                message.reserve(LEAD.len() + 160);
            }
            message.push_str(if message.is_empty() { LEAD } else { ", " });
            message.push_str(name);
        }
        if !message.is_empty() {
            work.push(Finding::new(
                Severity::Info,
                FindingKind::DocumentedAttributeMissing,
                message,
            ));
        }
    }

    /// `data.location` from the properties spelled as a latitude and a longitude, if both are
    /// there and make a position.
    pub(super) fn location(
        &self,
        props_key: &str,
        scanned: &Scanned<'_>,
        work: &mut Work,
    ) -> Option<Location> {
        let (lat_name, lat) = scanned.latitude?;
        let (lon_name, lon) = scanned.longitude?;
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

#[cfg(test)]
mod tests {
    use super::trim_name;

    #[test]
    fn trim_name_agrees_with_splitting_on_whitespace() {
        for name in [
            "CT Source",
            " CT Source",
            "CT Source ",
            "CT  Source",
            "CT\tSource",
            "CT\u{b}Source",
            "CT\u{c}Source",
            "CT\rSource",
            "\u{a0}CT Source",
            "CT Source\u{2003}",
            "Préférence  langue",
            "",
            " ",
        ] {
            let expected = name.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(trim_name(name), expected, "{name:?}");
        }
    }
}
