//! What a comparison compares of a record: its status, category, mapped event and user facts,
//! and its findings (kinds and fields, not their sentences, which name the record's place).

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::mapping::Outcome;
use crate::mparticle::{ApplicationInfo, DeviceInfo, Event, UserIdentities};
use crate::pipeline::category_label;

/// A record's mapped side as compared, borrowed from its outcome.
#[derive(Debug, Serialize)]
struct RecordView<'a> {
    status: &'static str,
    category: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'a Event>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_identities: Option<&'a UserIdentities>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_attributes: Option<&'a IndexMap<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_info: Option<&'a DeviceInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    application_info: Option<&'a ApplicationInfo>,
    findings: Vec<String>,
}

impl<'a> RecordView<'a> {
    fn of(outcome: &'a Outcome) -> Self {
        let mapped = outcome.mapped.as_ref();
        Self {
            status: outcome.status.as_str(),
            category: category_label(outcome),
            event: mapped.and_then(|m| m.event.as_ref()),
            user_identities: mapped.map(|m| &m.identities).filter(|ids| !ids.is_empty()),
            user_attributes: mapped
                .map(|m| &m.user_attributes)
                .filter(|attrs| !attrs.is_empty()),
            device_info: mapped.and_then(|m| m.device_info.as_ref()),
            application_info: mapped.and_then(|m| m.application_info.as_ref()),
            findings: outcome
                .findings
                .iter()
                .map(|f| match &f.field {
                    Some(field) => {
                        format!("{} {} [{field}]", f.severity.as_str(), f.kind.as_str())
                    }
                    None => format!("{} {}", f.severity.as_str(), f.kind.as_str()),
                })
                .collect(),
        }
    }
}

/// A record's mapped side as a JSON value, as [`crate::diff::compare`] compares it: `status`,
/// `category`, `event` (the mParticle event), `user_identities`, `user_attributes`,
/// `device_info`, `application_info` (the batch's user facts from this record) and `findings`.
/// Give two of them to [`crate::diff::diff_values`] for a record's field-by-field diff.
pub fn record_view(outcome: &Outcome) -> Value {
    serde_json::to_value(RecordView::of(outcome)).unwrap_or(Value::Null)
}

/// The outcome of the record at `line`, `column` (and `csv_row`) of `file` as read, with no
/// edit: what an edited record was before its edit, mapped by `engine`. The file is read up to
/// that record and only that record is mapped; `None` when no record is there.
pub fn outcome_at(
    engine: &crate::mapping::Engine,
    file: &std::path::Path,
    line: u64,
    column: u64,
    csv_row: Option<u64>,
) -> Result<Option<Outcome>, crate::pipeline::OpenFailure> {
    use crate::clevertap::ReadItem;
    let reader = crate::clevertap::open(file).map_err(|error| crate::pipeline::OpenFailure {
        path: file.to_path_buf(),
        error,
    })?;
    let fallback = reader.info().event_name_fallback().map(str::to_string);
    for item in reader {
        let place = match &item {
            ReadItem::Record(raw) => &raw.place,
            ReadItem::Unreadable { place, .. } => place,
        };
        if place.line == line && place.column == column && place.csv_row == csv_row {
            return Ok(Some(crate::pipeline::map_item(
                engine,
                item,
                fallback.as_deref(),
            )));
        }
        if place.line > line {
            break;
        }
    }
    Ok(None)
}

/// Appends [`record_view`]'s JSON text to `out` (without building the value).
pub(crate) fn write_record_view(outcome: &Outcome, out: &mut Vec<u8>) {
    // Plain data into memory: cannot fail.
    let _ = serde_json::to_writer(out, &RecordView::of(outcome));
}
