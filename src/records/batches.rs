//! Batches of loaded records: which batch each record travels in (from the core's
//! `plan_items`), kept without the events themselves (the store maps a batch's records again
//! when its events are shown), and the export of batches to NDJSON or a JSON array.

use std::io::Write;
use std::path::Path;

use super::{RowMeta, Store, status_code};
use crate::mapping::{BatchPlan, Outcome, RecordStatus, build_batches, plan_items};
use crate::mparticle::{Batch, Environment};

/// No batch (held, dropped, unreadable, or not built yet).
pub const NO_BATCH: u32 = u32::MAX;

/// One batch as the window keeps it: the envelope without events, and its records.
#[derive(Debug, Clone)]
pub struct BatchInfo {
    /// The batch with `events` left empty (the store maps its records again to show them).
    pub envelope: Batch,
    /// Record indices in event order.
    pub records: Vec<usize>,
    /// Serialised size in bytes.
    pub bytes: usize,
    /// Goes to the historical endpoint.
    pub historical: bool,
}

/// Every batch of the loaded records and each record's batch.
#[derive(Debug, Clone, Default)]
pub struct BatchIndex {
    /// The batches, in order of each user's first record.
    pub batches: Vec<BatchInfo>,
    /// Batch index per record ([`NO_BATCH`] when none).
    pub record_batch: Vec<u32>,
}

/// The one policy for which records are sent: mapped ones (with or without warnings), held
/// ones only when the user asks (`send_held`); never dropped or unreadable ones. `map`, the
/// window's batches, export and the send plan all ask this.
pub fn sendable_status(status: RecordStatus, send_held: bool) -> bool {
    match status {
        RecordStatus::Mapped | RecordStatus::Warned => true,
        RecordStatus::Held => send_held,
        RecordStatus::Dropped | RecordStatus::Unreadable => false,
    }
}

/// Whether a record is sent by default ([`sendable_status`] without held records).
pub fn sendable(outcome: &Outcome) -> bool {
    sendable_status(outcome.status, false)
}

/// [`sendable`], from a row of the index.
pub fn sendable_row(meta: &RowMeta) -> bool {
    meta.status <= status_code(RecordStatus::Warned)
}

impl BatchIndex {
    /// Builds the batches of every sendable record.
    pub fn build(store: &Store, environment: Environment, now_millis: i64) -> Self {
        let plan = plan_items(
            store.len(),
            |row| store.plan_item(row),
            environment,
            now_millis,
        );
        Self::from_plan(plan, store.len())
    }

    fn from_plan(plan: BatchPlan, records: usize) -> Self {
        let mut record_batch = vec![NO_BATCH; records];
        let batches = plan
            .batches
            .into_iter()
            .enumerate()
            .map(|(index, planned)| {
                for &record in &planned.records {
                    if let Some(slot) = record_batch.get_mut(record) {
                        *slot = index as u32;
                    }
                }
                BatchInfo {
                    envelope: planned.batch,
                    records: planned.records,
                    bytes: planned.bytes,
                    historical: planned.historical,
                }
            })
            .collect();
        Self {
            batches,
            record_batch,
        }
    }

    /// The full batch, events included, as sent.
    pub fn full_batch(&self, index: usize, store: &Store) -> Option<Batch> {
        let info = self.batches.get(index)?;
        let mut batch = info.envelope.clone();
        batch.events = info
            .records
            .iter()
            .filter_map(|&r| store.outcome(r)?.mapped?.event)
            .collect();
        Some(batch)
    }

    /// The batch envelope with at most `around` events on each side of `record`'s event and a
    /// note where events were left out: what the detail view shows.
    pub fn batch_preview(
        &self,
        index: usize,
        record: Option<usize>,
        store: &Store,
        around: usize,
    ) -> Option<serde_json::Value> {
        let info = self.batches.get(index)?;
        let mut value = serde_json::to_value(&info.envelope).ok()?;
        let position = record
            .and_then(|r| info.records.iter().position(|&x| x == r))
            .unwrap_or(0);
        let start = position.saturating_sub(around);
        let end = (position + around + 1).min(info.records.len());
        let mut events = Vec::new();
        if start > 0 {
            events.push(serde_json::Value::String(format!(
                "… {start} earlier events"
            )));
        }
        for &r in &info.records[start..end] {
            if let Some(event) = store.outcome(r).and_then(|o| o.mapped?.event)
                && let Ok(event) = serde_json::to_value(&event)
            {
                events.push(event);
            }
        }
        if end < info.records.len() {
            events.push(serde_json::Value::String(format!(
                "… {} later events",
                info.records.len() - end
            )));
        }
        if let Some(object) = value.as_object_mut()
            && !events.is_empty()
        {
            object.insert("events".into(), serde_json::Value::Array(events));
        }
        Some(value)
    }
}

/// How exported batches are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One batch per line.
    Ndjson,
    /// One JSON array of batches (a `/bulkevents` body, unsplit).
    JsonArray,
}

impl ExportFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::JsonArray => "json",
        }
    }
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct ExportError {
    /// The file asked for.
    pub path: std::path::PathBuf,
    /// What the system said.
    pub source: std::io::Error,
}

/// Builds the batches of the chosen records and writes them; returns (batches, events).
pub fn export(
    store: &Store,
    include: impl Fn(usize) -> bool + Sync,
    include_held: bool,
    environment: Environment,
    now_millis: i64,
    format: ExportFormat,
    path: &Path,
) -> Result<(usize, usize), ExportError> {
    let outcomes = store.outcomes_where(|row, meta| {
        include(row)
            && (sendable_row(meta)
                || (include_held && meta.status == status_code(RecordStatus::Held)))
    });
    let plan = build_batches(
        &outcomes,
        |index, outcome| include(index) && sendable_status(outcome.status, include_held),
        environment,
        now_millis,
    );
    let events = plan.batches.iter().map(|b| b.batch.events.len()).sum();
    let write = || -> std::io::Result<()> {
        let file = std::fs::File::create(path)?;
        let mut out = std::io::BufWriter::new(file);
        match format {
            ExportFormat::Ndjson => {
                for planned in &plan.batches {
                    serde_json::to_writer(&mut out, &planned.batch)?;
                    out.write_all(b"\n")?;
                }
            }
            ExportFormat::JsonArray => {
                let batches: Vec<&Batch> = plan.batches.iter().map(|b| &b.batch).collect();
                serde_json::to_writer_pretty(&mut out, &batches)?;
                out.write_all(b"\n")?;
            }
        }
        out.flush()
    };
    write().map_err(|source| ExportError {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((plan.batches.len(), events))
}
