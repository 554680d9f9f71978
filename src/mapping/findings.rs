//! Findings: what the checks found on a record, with a severity.

use serde::Serialize;

/// How serious a finding is. Errors hold a record back; warnings still map it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; nothing wrong with what is sent.
    Info,
    /// Sent, but the user should look.
    Warning,
    /// Not sent unless the user insists (held), or not readable at all.
    Error,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The record could not be read or parsed.
    Unreadable,
    /// No event name in the record, the file, or the command line.
    NoEventName,
    /// An event name the feed document does not list.
    UnknownEvent,
    /// A documented attribute is absent from the record.
    DocumentedAttributeMissing,
    /// A property the document does not list for this event.
    UndocumentedAttribute,
    /// An attribute name with leading, trailing or repeated spaces.
    AttributeNameSpaces,
    /// A key that occurs more than once in the same object (the last value is used).
    DuplicateKey,
    /// A value that is not a string was sent as one.
    ValueCoerced,
    /// A value that cannot be used (null, a non-boolean opt-in flag, a bad date).
    InvalidValue,
    /// A name, value or count over mParticle's limits.
    OverLimit,
    /// Neither customer id nor email.
    MissingIdentity,
    /// No readable event time.
    UnreadableTime,
    /// Older than 30 days: needs the historical endpoint.
    Historical,
    /// In the future.
    FutureTimestamp,
}

impl FindingKind {
    /// Snake-case name, as in `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Unreadable => "unreadable",
            FindingKind::NoEventName => "no_event_name",
            FindingKind::UnknownEvent => "unknown_event",
            FindingKind::DocumentedAttributeMissing => "documented_attribute_missing",
            FindingKind::UndocumentedAttribute => "undocumented_attribute",
            FindingKind::AttributeNameSpaces => "attribute_name_spaces",
            FindingKind::DuplicateKey => "duplicate_key",
            FindingKind::ValueCoerced => "value_coerced",
            FindingKind::InvalidValue => "invalid_value",
            FindingKind::OverLimit => "over_limit",
            FindingKind::MissingIdentity => "missing_identity",
            FindingKind::UnreadableTime => "unreadable_time",
            FindingKind::Historical => "historical",
            FindingKind::FutureTimestamp => "future_timestamp",
        }
    }
}

/// One thing a check found on a record. The record's place is on its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// What about.
    pub kind: FindingKind,
    /// The source field it concerns, when there is one (`eventProps.CT Source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A sentence for a person: what is wrong and what happens or what to do.
    pub message: String,
}

impl Finding {
    /// A finding without a field.
    pub fn new(severity: Severity, kind: FindingKind, message: impl Into<String>) -> Self {
        Self {
            severity,
            kind,
            field: None,
            message: message.into(),
        }
    }

    /// A finding about one field.
    pub fn on(
        severity: Severity,
        kind: FindingKind,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity,
            kind,
            field: Some(field.into()),
            message: message.into(),
        }
    }
}
