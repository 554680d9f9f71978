//! The engine: one CleverTap record in, one outcome out (mapped event or profile, findings,
//! and a trace of every field from source path to target path).

use std::sync::Arc;

use chrono_tz::Tz;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;
use sonic_rs::{JsonContainerTrait, JsonValueTrait};
use uuid::Uuid;

use super::attributes::Scanned;
use super::findings::{Finding, FindingKind, Severity};
use super::ids::{ID_NAMESPACE, record_id, uuid_v5};
use super::names::Names;
use super::rules::{
    Category, Rules, UnknownEventPolicy, attribute_key, has_attribute_key, same_name,
};
use super::time;
use super::values::{self, Record};
use crate::clevertap::{Json, JsonObject, Place};
use crate::mparticle::limits;
use crate::mparticle::{
    ApplicationInfo, Attributes, DeviceInfo, Environment, Event, EventData, UserIdentities,
};

/// Per-run settings that are not part of the rules file.
#[derive(Debug, Clone)]
pub struct MapOptions {
    /// The last event-name fallback (`--event-name`).
    pub event_name: Option<String>,
    /// Overrides the rules' time zone (`--tz`).
    pub timezone: Option<Tz>,
    /// Development or production.
    pub environment: Environment,
    /// "Now" for the age checks, in epoch milliseconds.
    pub now_millis: i64,
    /// Keep each record's JSON text on its outcome (the window's detail view parses it again
    /// when shown; the command line does not need it). Set by the pipeline, which holds the text.
    pub keep_source: bool,
    /// Record the field-by-field trace on each outcome. Off for bulk runs (it costs more than
    /// the mapping itself); [`Engine::map_traced`] maps one record with its trace on demand.
    pub trace: bool,
    /// Mask personal data: each record is masked before it is mapped (`--mask`), so nothing
    /// made from it carries a personal value in clear.
    pub mask: Option<Arc<crate::mask::Masker>>,
    /// Digest each record's content into its ids (the event's `source_message_id`, the
    /// profile's id, the batch grouping fallback). Off for runs that report findings and counts
    /// only (`check`): their outcomes' ids are then all the nil UUID, and the digest of every
    /// record's text, a tenth of the mapping's time, is not taken.
    pub ids: bool,
}

impl Default for MapOptions {
    fn default() -> Self {
        Self {
            event_name: None,
            timezone: None,
            environment: Environment::Development,
            now_millis: chrono::Utc::now().timestamp_millis(),
            keep_source: false,
            trace: false,
            mask: None,
            ids: true,
        }
    }
}

/// How a record ended. The counts of these add up to the records read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Mapped with nothing worse than information.
    Mapped,
    /// Mapped, with warnings.
    Warned,
    /// Invalid: kept back unless the user chooses to send it.
    Held,
    /// Left out by the rules' policy.
    Dropped,
    /// Could not be read or parsed.
    Unreadable,
}

impl RecordStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Mapped => "mapped",
            RecordStatus::Warned => "warned",
            RecordStatus::Held => "held",
            RecordStatus::Dropped => "dropped",
            RecordStatus::Unreadable => "unreadable",
        }
    }
}

/// What happened to one field on its way from CleverTap to mParticle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceOp {
    /// Copied unchanged.
    Copied,
    /// Copied under another name (or the event renamed to the document's spelling).
    Renamed,
    /// Its value was converted (number or boolean to string, list to its first entry, date).
    Coerced,
    /// A nested property brought up into the event's attributes.
    Flattened,
    /// Not sent.
    Dropped,
    /// Made by the mapping (ids, location, category).
    Added,
}

/// One line of a record's trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    /// Path in the CleverTap record (`eventProps.CT Source`), empty for added fields.
    pub source: String,
    /// Path in the mParticle batch (`events[].data.custom_attributes.CT Source`), empty if dropped.
    pub target: String,
    /// What happened.
    pub op: TraceOp,
    /// Why, in a few words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The mParticle side of one record: its event (none for a profile record) and the user facts
/// the record contributes to its batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MappedRecord {
    /// A deterministic id of the record (the event's `source_message_id`), a UUID (v5).
    pub record_id: Uuid,
    /// The batch grouping key: customer id, else email, else CleverTap id, else the record.
    pub group_key: String,
    /// The user's identities from this record.
    pub identities: UserIdentities,
    /// `ct_*` user attributes from this record.
    pub user_attributes: IndexMap<String, Value>,
    /// Device facts.
    pub device_info: Option<DeviceInfo>,
    /// Application facts.
    pub application_info: Option<ApplicationInfo>,
    /// The event, or `None` for a profile record.
    pub event: Option<Event>,
    /// The event's category, `None` for a profile record.
    pub category: Option<Category>,
    /// Field-by-field trace.
    pub trace: Vec<TraceEntry>,
}

/// The result of mapping one record.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Where the record is.
    pub place: Place,
    /// How it ended.
    pub status: RecordStatus,
    /// The event name as CleverTap wrote it (or the fallback used).
    pub source_event_name: Option<String>,
    /// The record's JSON text as read, when [`MapOptions::keep_source`] is set: a fraction of
    /// the parsed tree's size; parse it again with [`crate::clevertap::parse_text`] to show it.
    pub source: Option<Arc<[u8]>>,
    /// The mapped side (present for held records too, as far as it could be built).
    pub mapped: Option<MappedRecord>,
    /// What the checks found.
    pub findings: Vec<Finding>,
}

impl Outcome {
    /// An outcome for input that could not be read.
    pub fn unreadable(place: Place, message: String) -> Self {
        Self {
            place,
            status: RecordStatus::Unreadable,
            source_event_name: None,
            source: None,
            mapped: None,
            findings: vec![Finding::new(
                Severity::Error,
                FindingKind::Unreadable,
                message,
            )],
        }
    }

    /// The most serious finding.
    pub fn worst_finding(&self) -> Option<&Finding> {
        self.findings.iter().max_by_key(|finding| finding.severity)
    }

    /// The timestamp of the mapped event, if any.
    pub fn timestamp_millis(&self) -> Option<i64> {
        self.mapped
            .as_ref()?
            .event
            .as_ref()?
            .data
            .timestamp_unixtime_ms
    }
}

/// The mapping engine: compiled rules plus run options. Cheap to share across threads.
#[derive(Debug, Clone)]
pub struct Engine {
    rules: Arc<Rules>,
    options: MapOptions,
    zone: Tz,
    /// Tells apart engines (their rules) for the per-thread name cache; clones share it.
    id: u64,
}

/// The next engine's [`Engine::id`].
static NEXT_ENGINE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

const EVENT_PROPS: [&str; 3] = ["eventProps", "event_props", "evtData"];
pub(super) const SESSION_PROPS: [&str; 2] = ["sessionProps", "session_props"];
const EVENT_NAME: [&str; 2] = ["eventName", "evtName"];

impl Engine {
    /// An engine over rules with options.
    pub fn new(rules: Arc<Rules>, options: MapOptions) -> Self {
        let zone = options.timezone.unwrap_or(rules.timezone);
        Self {
            rules,
            options,
            zone,
            id: NEXT_ENGINE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// This engine's id for the per-thread name cache.
    pub(super) fn id(&self) -> u64 {
        self.id
    }

    /// The rules in use.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The options in use.
    pub fn options(&self) -> &MapOptions {
        &self.options
    }

    /// Maps one parsed record. `fallback_name` is the file's event-name fallback (first line or
    /// file name).
    pub fn map(&self, place: Place, value: Json, fallback_name: Option<&str>) -> Outcome {
        self.map_value(place, &value, None, fallback_name, self.options.trace)
    }

    /// Maps one record parsed from `text`, its JSON text as read: the same outcome as
    /// [`Engine::map`], cheaper, as the record's id is digested from the text itself when the
    /// text allows it.
    pub fn map_text(
        &self,
        place: Place,
        text: &[u8],
        value: Json,
        fallback_name: Option<&str>,
    ) -> Outcome {
        self.map_value(place, &value, Some(text), fallback_name, self.options.trace)
    }

    /// Maps one record with its field-by-field trace, whatever [`MapOptions::trace`] says: for a
    /// detail view of a record mapped in bulk without one.
    pub fn map_traced(&self, place: Place, value: &Json, fallback_name: Option<&str>) -> Outcome {
        self.map_value(place, value, None, fallback_name, true)
    }

    fn map_value(
        &self,
        place: Place,
        value: &Json,
        text: Option<&[u8]>,
        fallback_name: Option<&str>,
        tracing: bool,
    ) -> Outcome {
        let Some(object) = value.as_object() else {
            let kind = crate::clevertap::kind_of(value);
            return Outcome::unreadable(
                place,
                format!("a record must be a JSON object, found {kind}; remove or fix it"),
            );
        };
        let record = &Record::new(object);
        let mut work = Work {
            tracing,
            ..Work::default()
        };
        report_duplicate_keys(record, &mut work);
        let record_id = self
            .options
            .ids
            .then(|| record_id(record, text, fallback_name));
        if is_profile_record(record) {
            return self.map_profile(place, record, record_id, work);
        }

        let written_name = EVENT_NAME.iter().find_map(|key| {
            let name = record.get(key).and_then(values::scalar_text)?;
            Some((name, *key))
        });
        let name = written_name
            .or_else(|| fallback_name.map(|name| (name.to_string(), "file")))
            .or_else(|| {
                self.options
                    .event_name
                    .clone()
                    .map(|name| (name, "--event-name"))
            });
        let Some((source_name, name_source)) = name else {
            work.push(Finding::new(
                Severity::Error,
                FindingKind::NoEventName,
                "no event name: the record has no eventName and neither the file's first line nor its name gives one; pass --event-name NAME",
            ));
            return work.finish(place, None, None);
        };
        let event_id = record_id.map_or(Uuid::nil(), |digest| {
            uuid_v5(&ID_NAMESPACE, &[source_name.as_bytes(), b"\n", &digest])
        });

        let props = EVENT_PROPS.iter().find_map(|key| {
            record
                .get(key)
                .and_then(Json::as_object)
                .map(|map| (*key, map))
        });
        let (canonical, rule_index) = self.resolve_name(record, &source_name, props.map(|p| p.1));
        let category = match rule_index {
            Some(index) => Some(self.rules.events[index].category),
            None => match self.rules.unknown_events {
                UnknownEventPolicy::Other => {
                    work.push(Finding::on(
                        Severity::Warning,
                        FindingKind::UnknownEvent,
                        name_source,
                        format!("`{source_name}` is not an event of the CleverTap feed document: sent as a custom event of type other"),
                    ));
                    Some(Category::Other)
                }
                UnknownEventPolicy::Hold => {
                    work.push(Finding::on(
                        Severity::Error,
                        FindingKind::UnknownEvent,
                        name_source,
                        format!("`{source_name}` is not an event of the CleverTap feed document: held by the rules (unknown_events = \"hold\")"),
                    ));
                    Some(Category::Other)
                }
                UnknownEventPolicy::Drop => {
                    work.dropped = true;
                    work.push(Finding::on(
                        Severity::Info,
                        FindingKind::UnknownEvent,
                        name_source,
                        format!("`{source_name}` is not an event of the CleverTap feed document: dropped by the rules (unknown_events = \"drop\")"),
                    ));
                    None
                }
            },
        };
        let sent_name = canonical.unwrap_or_else(|| source_name.trim().to_string());
        let name_op = if sent_name == source_name {
            TraceOp::Copied
        } else {
            TraceOp::Renamed
        };
        let category = category.unwrap_or(Category::Other);
        if category.event_type() == crate::mparticle::EventType::CustomEvent {
            if work.tracing() {
                work.trace(
                    name_source,
                    "events[].data.event_name",
                    name_op,
                    (name_op == TraceOp::Renamed)
                        .then(|| format!("`{source_name}` → `{sent_name}`")),
                );
                work.trace(
                    "",
                    "events[].data.custom_event_type",
                    TraceOp::Added,
                    Some(format!("category {}", category.label())),
                );
            }
            if sent_name.chars().count() > limits::MAX_EVENT_NAME_CHARS {
                work.push(Finding::on(
                    Severity::Warning,
                    FindingKind::OverLimit,
                    name_source,
                    format!(
                        "the event name is longer than {} characters: mParticle truncates it",
                        limits::MAX_EVENT_NAME_CHARS
                    ),
                ));
            }
        } else if work.tracing() {
            work.trace(
                name_source,
                "events[].event_type",
                TraceOp::Renamed,
                Some(format!("`{sent_name}` is sent as the uninstall event type")),
            );
        }

        let timestamp = self.event_time(record, &mut work);
        if work.tracing() {
            work.trace(
                "",
                "events[].data.source_message_id",
                TraceOp::Added,
                Some("derived from the record's content".into()),
            );
        }

        // Sized for the usual property (a short name and value): one allocation each.
        let count = props.map_or(0, |(_, props)| props.len());
        let mut attributes = Attributes::with_capacity(count, count * 32);
        let scanned = match props {
            Some((props_key, props)) => {
                self.map_attributes(props_key, props, rule_index, &mut attributes, &mut work)
            }
            None => Scanned::default(),
        };
        self.session_props(record, rule_index, &mut attributes, &mut work);
        if attributes.len() > limits::MAX_ATTRIBUTES_PER_EVENT {
            work.push(Finding::new(
                Severity::Warning,
                FindingKind::OverLimit,
                format!(
                    "{} attributes: mParticle takes at most {} per event",
                    attributes.len(),
                    limits::MAX_ATTRIBUTES_PER_EVENT
                ),
            ));
        }
        if let Some(index) = rule_index {
            self.missing_documented(index, scanned.documented, record, &mut work);
        }
        let location = props.and_then(|(key, _)| self.location(key, &scanned, &mut work));

        let user = self.user_facts(record, &mut work);
        let custom = category.event_type() == crate::mparticle::EventType::CustomEvent;
        let event = Event {
            event_type: category.event_type(),
            data: EventData {
                event_name: custom.then_some(sent_name),
                custom_event_type: custom.then(|| category.as_str().to_string()),
                timestamp_unixtime_ms: timestamp,
                source_message_id: event_id.to_string(),
                location,
                custom_attributes: attributes,
            },
        };
        let mapped = MappedRecord {
            record_id: event_id,
            group_key: user.group_key(&event_id),
            identities: user.identities,
            user_attributes: user.attributes,
            device_info: user.device_info,
            application_info: user.application_info,
            event: Some(event),
            category: Some(category),
            trace: std::mem::take(&mut work.trace),
        };
        work.finish(place, Some(source_name), Some(mapped))
    }

    fn map_profile(
        &self,
        place: Place,
        record: &Record<'_>,
        record_id: Option<[u8; 64]>,
        mut work: Work,
    ) -> Outcome {
        let user = self.user_facts(record, &mut work);
        let tracing = work.tracing;
        for (key, _) in record.top().iter().filter(|_| tracing) {
            if !work
                .trace
                .iter()
                .any(|entry| entry.source == *key || entry.source.starts_with(&format!("{key}.")))
            {
                work.trace(
                    key,
                    "",
                    TraceOp::Dropped,
                    Some("not a user attribute of the feed document".into()),
                );
            }
        }
        let id = record_id.map_or(Uuid::nil(), |digest| {
            uuid_v5(&ID_NAMESPACE, &[b"profile\n", &digest])
        });
        let mapped = MappedRecord {
            record_id: id,
            group_key: user.group_key(&id),
            identities: user.identities,
            user_attributes: user.attributes,
            device_info: user.device_info,
            application_info: user.application_info,
            event: None,
            category: None,
            trace: std::mem::take(&mut work.trace),
        };
        work.finish(place, None, Some(mapped))
    }

    /// The document's name and rule for a written name; `Control Group` is split four ways.
    fn resolve_name(
        &self,
        record: &Record<'_>,
        name: &str,
        props: Option<&JsonObject>,
    ) -> (Option<String>, Option<usize>) {
        let group = &self.rules.control_group;
        let resolved = if same_name(name, &group.source_name) {
            let custom = record
                .get(&group.name_field)
                .and_then(values::scalar_text)
                .is_some();
            let journey_key = attribute_key(&group.journey_property);
            let journey = props.is_some_and(|props| {
                props
                    .iter()
                    .any(|(k, _)| has_attribute_key(k, &journey_key))
            });
            let target = match (custom, journey) {
                (true, false) => &group.custom,
                (false, false) => &group.system,
                (true, true) => &group.custom_journeys,
                (false, true) => &group.system_journeys,
            };
            self.rules.event(target)
        } else {
            // Resolved once per name and thread.
            Names::with(self.id, |names| names.event(&self.rules, name))
                .and_then(|index| Some((index, self.rules.events.get(index)?)))
        };
        match resolved {
            Some((index, rule)) => (Some(rule.name.clone()), Some(index)),
            None => (None, None),
        }
    }

    fn event_time(&self, record: &Record<'_>, work: &mut Work) -> Option<i64> {
        let read = if let Some(ts) = record.get("ts") {
            Some(("ts", time::ts_to_millis(ts, self.zone)))
        } else {
            record
                .get("eventTime")
                .map(|t| ("eventTime", time::epoch_value_to_millis(t)))
        };
        match read {
            None => {
                work.push(Finding::new(Severity::Error, FindingKind::UnreadableTime, "the record has no ts or eventTime: an event without its time is never sent as \"now\"; held"));
                None
            }
            Some((field, Err(reason))) => {
                work.push(Finding::on(
                    Severity::Error,
                    FindingKind::UnreadableTime,
                    field,
                    format!("unreadable time: {reason}; held"),
                ));
                None
            }
            Some((field, Ok(millis))) => {
                if work.tracing {
                    let note = if field == "ts" {
                        format!("{} read in {}", time::format_millis(millis), self.zone)
                    } else {
                        time::format_millis(millis)
                    };
                    work.trace(
                        field,
                        "events[].data.timestamp_unixtime_ms",
                        TraceOp::Coerced,
                        Some(note),
                    );
                }
                let now = self.options.now_millis;
                if millis < now - limits::HISTORICAL_AFTER_DAYS * 86_400_000 {
                    let mut message = String::with_capacity(80);
                    time::write_millis(&mut message, millis);
                    message.push_str(" is older than ");
                    message.push_str(itoa::Buffer::new().format(limits::HISTORICAL_AFTER_DAYS));
                    message.push_str(" days: sent to /bulkevents/historical");
                    work.push(Finding::on(
                        Severity::Info,
                        FindingKind::Historical,
                        field,
                        message,
                    ));
                } else if millis > now + 3_600_000 {
                    work.push(Finding::on(
                        Severity::Warning,
                        FindingKind::FutureTimestamp,
                        field,
                        format!(
                            "{} is in the future: check the account time zone (--tz)",
                            time::format_millis(millis)
                        ),
                    ));
                }
                Some(millis)
            }
        }
    }
}

/// Reports keys written twice in the record, in its objects one level down and in
/// `profile.profileData`. Event properties are checked as they are mapped.
fn report_duplicate_keys(record: &Record<'_>, work: &mut Work) {
    let mut report = |path: &str, keys: Vec<&str>| {
        for key in keys {
            let field = if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            };
            work.push(Finding::on(
                Severity::Warning,
                FindingKind::DuplicateKey,
                &field,
                format!(
                    "duplicate key `{field}`: written more than once in the record; the last value is used"
                ),
            ));
        }
    };
    report("", record.top().duplicates());
    for (key, value) in record.top().iter() {
        if EVENT_PROPS.contains(&key) {
            continue;
        }
        if let Some(object) = value.as_object() {
            let repeated = match record.gathered(key) {
                Some(members) => members.duplicates(),
                None => values::duplicate_keys(object),
            };
            report(key, repeated);
            // From the members gathered with the record when they are this object's.
            let profile_data = match record.gathered(key) {
                Some(members)
                    if record
                        .get(key)
                        .is_some_and(|last| std::ptr::eq(last, value)) =>
                {
                    members.get("profileData")
                }
                _ => values::get(object, "profileData"),
            };
            if let Some(data) = profile_data.and_then(Json::as_object) {
                let repeated = values::duplicate_keys(data);
                if !repeated.is_empty() {
                    report(&format!("{key}.profileData"), repeated);
                }
            }
        }
    }
}

/// A profile export record: no event name, no event time, no event properties.
fn is_profile_record(record: &Record<'_>) -> bool {
    if record.get("type").and_then(|t| t.as_str()) == Some("profile") {
        return true;
    }
    const EVENT_KEYS: [&str; 9] = [
        "eventName",
        "evtName",
        "ts",
        "eventTime",
        "eventProps",
        "event_props",
        "evtData",
        "sessionProps",
        "session_props",
    ];
    !EVENT_KEYS.iter().any(|key| record.contains_key(key))
}

#[derive(Default)]
pub(super) struct Work {
    findings: Vec<Finding>,
    pub(super) trace: Vec<TraceEntry>,
    tracing: bool,
    dropped: bool,
}

impl Work {
    pub(super) fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }
    pub(super) fn findings_len(&self) -> usize {
        self.findings.len()
    }
    /// Puts a finding before those pushed since there were `at`.
    pub(super) fn insert_finding(&mut self, at: usize, finding: Finding) {
        self.findings.insert(at.min(self.findings.len()), finding);
    }
    /// Whether the trace is being recorded (callers skip building its strings otherwise).
    pub(super) fn tracing(&self) -> bool {
        self.tracing
    }
    pub(super) fn trace(&mut self, source: &str, target: &str, op: TraceOp, note: Option<String>) {
        if !self.tracing {
            return;
        }
        self.trace.push(TraceEntry {
            source: source.to_string(),
            target: target.to_string(),
            op,
            note,
        });
    }
    fn finish(
        self,
        place: Place,
        source_event_name: Option<String>,
        mapped: Option<MappedRecord>,
    ) -> Outcome {
        let worst = self.findings.iter().map(|f| f.severity).max();
        let status = if self.dropped {
            RecordStatus::Dropped
        } else {
            match worst {
                Some(Severity::Error) => RecordStatus::Held,
                Some(Severity::Warning) => RecordStatus::Warned,
                _ => RecordStatus::Mapped,
            }
        };
        Outcome {
            place,
            status,
            source_event_name,
            source: None,
            mapped,
            findings: self.findings,
        }
    }
}
