//! Records → batches (one user each, events in time order, split at 128 KB, historical data
//! apart) → bulk requests (at most 100 batches, under 256 KB).

use std::collections::HashMap;

use rayon::prelude::*;

use uuid::Uuid;

use super::engine::{ID_NAMESPACE, MappedRecord, Outcome, RecordStatus};
use crate::mparticle::limits;
use crate::mparticle::{Batch, Environment, Event};

/// One batch ready to send, with the records it carries.
#[derive(Debug, Clone)]
pub struct PlannedBatch {
    /// The batch as sent.
    pub batch: Batch,
    /// Indices of the outcomes (records) it carries, in event order.
    pub records: Vec<usize>,
    /// Its serialised size in bytes.
    pub bytes: usize,
    /// Every event is older than 30 days: it goes to `/bulkevents/historical`.
    pub historical: bool,
}

/// All batches for a set of records, in order of each user's first record.
#[derive(Debug, Clone, Default)]
pub struct BatchPlan {
    /// The batches.
    pub batches: Vec<PlannedBatch>,
}

impl BatchPlan {
    /// Batches over mParticle's 128 KB limit (a single event too large to split further).
    pub fn oversized(&self) -> impl Iterator<Item = &PlannedBatch> {
        self.batches
            .iter()
            .filter(|b| b.bytes > limits::MAX_BATCH_BYTES)
    }
}

/// Groups the selected records into batches. `include` says which outcomes to send; by default
/// callers pass mapped and warned records (held ones only when the user asks).
pub fn build_batches(
    outcomes: &[Outcome],
    include: impl Fn(usize, &Outcome) -> bool,
    environment: Environment,
    now_millis: i64,
) -> BatchPlan {
    group(outcomes, include, environment, now_millis, Events::Copied)
}

/// [`build_batches`] over outcomes cut down by [`slim_for_planning`], with every batch's `events`
/// left empty: which records travel together, and the batches' sizes and ids, each event sized
/// from `event_bytes` (by outcome index).
pub fn plan_slim_batches(
    outcomes: &[Outcome],
    event_bytes: &[u32],
    include: impl Fn(usize, &Outcome) -> bool,
    environment: Environment,
    now_millis: i64,
) -> BatchPlan {
    let events = Events::Sized(event_bytes);
    group(outcomes, include, environment, now_millis, events)
}

/// An outcome cut down to what [`plan_slim_batches`] reads, with its event's serialised size:
/// the event's custom attributes, the findings, source and trace are dropped. A million records
/// are planned in a fraction of their outcomes' memory.
pub fn slim_for_planning(mut outcome: Outcome) -> (Outcome, u32) {
    outcome.findings = Vec::new();
    outcome.source = None;
    outcome.source_event_name = None;
    let mut bytes = 0;
    if let Some(mapped) = &mut outcome.mapped {
        mapped.trace = Vec::new();
        if let Some(event) = &mut mapped.event {
            bytes = u32::try_from(serialized_len(event)).unwrap_or(u32::MAX);
            event.data.custom_attributes = Default::default();
        }
    }
    (outcome, bytes)
}

/// Whether planned batches carry copies of their events, and how events are sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Events<'a> {
    /// Copied into the batches.
    Copied,
    /// Left out, sized by outcome index (the outcomes are slimmed).
    Sized(&'a [u32]),
}

fn group(
    outcomes: &[Outcome],
    include: impl Fn(usize, &Outcome) -> bool,
    environment: Environment,
    now_millis: i64,
    events: Events<'_>,
) -> BatchPlan {
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    let mut profile_batches: Vec<(usize, usize)> = Vec::new(); // (position in order, record)
    for (index, outcome) in outcomes.iter().enumerate() {
        if matches!(
            outcome.status,
            RecordStatus::Unreadable | RecordStatus::Dropped
        ) || !include(index, outcome)
        {
            continue;
        }
        let Some(mapped) = &outcome.mapped else {
            continue;
        };
        if mapped.event.is_none() {
            profile_batches.push((order.len(), index));
            order.push(String::new());
            continue;
        }
        let key = &mapped.group_key;
        match groups.get_mut(key) {
            Some(records) => records.push(index),
            None => {
                order.push(key.clone());
                groups.insert(key.clone(), vec![index]);
            }
        }
    }
    let cutoff = now_millis - limits::HISTORICAL_AFTER_DAYS * 86_400_000;
    // Each user's records in first-seen order (profile records alone), then their batches
    // built on all cores and put back in that order.
    let mut profiles = profile_batches.into_iter().peekable();
    let mut units: Vec<(Vec<usize>, bool)> = Vec::with_capacity(order.len());
    for (position, key) in order.iter().enumerate() {
        if profiles.peek().is_some_and(|(p, _)| *p == position) {
            if let Some((_, record)) = profiles.next() {
                units.push((vec![record], false));
            }
            continue;
        }
        if let Some(records) = groups.remove(key) {
            units.push((records, true));
        }
    }
    let batches = units
        .into_par_iter()
        .map(|(mut records, is_user)| {
            if !is_user {
                return user_batches(outcomes, records, environment, false, events);
            }
            records.sort_by_key(|&i| outcomes[i].timestamp_millis().unwrap_or(i64::MAX));
            let (old, recent): (Vec<usize>, Vec<usize>) = records
                .into_iter()
                .partition(|&i| outcomes[i].timestamp_millis().is_some_and(|t| t < cutoff));
            let mut batches = Vec::new();
            if !old.is_empty() {
                batches.extend(user_batches(outcomes, old, environment, true, events));
            }
            if !recent.is_empty() {
                batches.extend(user_batches(outcomes, recent, environment, false, events));
            }
            batches
        })
        .collect::<Vec<Vec<PlannedBatch>>>()
        .into_iter()
        .flatten()
        .collect();
    BatchPlan { batches }
}

/// One user's records (already in time order) as one or more batches under 128 KB.
fn user_batches(
    outcomes: &[Outcome],
    records: Vec<usize>,
    environment: Environment,
    historical: bool,
    events: Events<'_>,
) -> Vec<PlannedBatch> {
    let mapped: Vec<&MappedRecord> = records
        .iter()
        .filter_map(|&i| outcomes[i].mapped.as_ref())
        .collect();
    let mut envelope = Batch {
        schema_version: 2,
        environment,
        source_request_id: Uuid::nil().to_string(),
        user_identities: Default::default(),
        user_attributes: Default::default(),
        device_info: None,
        application_info: None,
        events: Vec::new(),
    };
    for record in &mapped {
        let ids = &mut envelope.user_identities;
        if ids.customer_id.is_none() {
            ids.customer_id.clone_from(&record.identities.customer_id);
        }
        if ids.email.is_none() {
            ids.email.clone_from(&record.identities.email);
        }
        for (name, value) in &record.user_attributes {
            envelope.user_attributes.insert(name.clone(), value.clone());
        }
        if record.device_info.is_some() {
            envelope.device_info.clone_from(&record.device_info);
        }
        if record.application_info.is_some() {
            envelope
                .application_info
                .clone_from(&record.application_info);
        }
    }
    let envelope_bytes = serialized_len(&envelope) + r#","events":[]"#.len();
    let mut batches = Vec::new();
    let mut current = Pending::default();
    let mut current_bytes = envelope_bytes;
    for (&index, record) in records.iter().zip(&mapped) {
        // A profile record carries no event: it travels as a batch of user facts alone.
        if let Some(event) = &record.event {
            let event_bytes = match events {
                Events::Sized(sizes) => sizes.get(index).map_or(0, |&b| b as usize),
                Events::Copied => serialized_len(event),
            } + 1;
            if !current.records.is_empty() && current_bytes + event_bytes > limits::MAX_BATCH_BYTES
            {
                batches.push(finish(
                    &envelope,
                    std::mem::take(&mut current),
                    current_bytes - 1,
                    historical,
                    outcomes,
                ));
                current_bytes = envelope_bytes;
            }
            current_bytes += event_bytes;
            current.has_events = true;
            if events == Events::Copied {
                current.events.push(event.clone());
            }
        }
        current.records.push(index);
    }
    if !current.records.is_empty() {
        // Without events, the batch is the envelope alone (no `events` key).
        let bytes = if !current.has_events {
            envelope_bytes - r#","events":[]"#.len()
        } else {
            current_bytes - 1
        };
        batches.push(finish(&envelope, current, bytes, historical, outcomes));
    }
    batches
}

#[derive(Default)]
struct Pending {
    records: Vec<usize>,
    events: Vec<Event>,
    has_events: bool,
}

/// A batch from the envelope and its events; `bytes`, its serialised size, is known from the
/// sizes of its parts (each event serialised once).
fn finish(
    envelope: &Batch,
    pending: Pending,
    bytes: usize,
    historical: bool,
    outcomes: &[Outcome],
) -> PlannedBatch {
    let mut batch = envelope.clone();
    batch.events = pending.events;
    let mut seed = String::from(batch.environment.as_str());
    for &index in &pending.records {
        if let Some(mapped) = &outcomes[index].mapped {
            seed.push('\n');
            seed.push_str(&mapped.record_id);
        }
    }
    batch.source_request_id = Uuid::new_v5(&ID_NAMESPACE, seed.as_bytes()).to_string();
    // (A batch planned without its events is sized from them all the same.)
    debug_assert!(
        pending.has_events && batch.events.is_empty() || bytes == serialized_len(&batch),
        "a batch's size from its parts"
    );
    PlannedBatch {
        batch,
        records: pending.records,
        bytes,
        historical,
    }
}

fn serialized_len<T: serde::Serialize>(value: &T) -> usize {
    let mut counter = ByteCounter(0);
    // Serialising plain data into a counter cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Splits batches into bulk requests: consecutive batches going to the same endpoint, at most
/// 100 per request and a body under 256 KB. Returns index ranges into `batches`.
pub fn split_requests(batches: &[PlannedBatch]) -> Vec<std::ops::Range<usize>> {
    let mut requests = Vec::new();
    let mut start = 0;
    let mut body = 2; // "[" and "]"
    for (index, batch) in batches.iter().enumerate() {
        let count = index - start;
        let same_endpoint = count == 0 || batches[start].historical == batch.historical;
        let next_body = body + batch.bytes + usize::from(count > 0);
        if count > 0
            && (!same_endpoint
                || count == limits::MAX_BATCHES_PER_REQUEST
                || next_body >= limits::MAX_REQUEST_BYTES)
        {
            requests.push(start..index);
            start = index;
            body = 2 + batch.bytes;
        } else {
            body = next_body;
        }
    }
    if start < batches.len() {
        requests.push(start..batches.len());
    }
    requests
}
