//! Records → batches (one user each, events in time order, split at 128 KB, historical data
//! apart) → bulk requests (at most 100 batches, under 256 KB).

use std::collections::HashMap;

use rayon::prelude::*;

use uuid::Uuid;

use indexmap::IndexMap;
use serde_json::Value;

use super::engine::{MappedRecord, Outcome, RecordStatus};
use super::ids::{ID_NAMESPACE, uuid_v5};
use crate::mparticle::limits;
use crate::mparticle::{ApplicationInfo, Batch, DeviceInfo, Environment, Event, UserIdentities};

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

/// What batching reads of one record: its user, time, id, user facts and event.
#[derive(Debug, Clone, Copy)]
pub struct PlanItem<'a> {
    /// The batch grouping key ([`MappedRecord::group_key`]).
    pub group_key: &'a str,
    /// The event's time, if any.
    pub timestamp: Option<i64>,
    /// The record's id ([`MappedRecord::record_id`]).
    pub record_id: Uuid,
    /// The user facts the record carries into its batch's envelope.
    pub facts: UserFactsRef<'a>,
    /// The record's event.
    pub event: PlanEvent<'a>,
}

/// A record's user facts, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct UserFactsRef<'a> {
    /// Identities.
    pub identities: &'a UserIdentities,
    /// `ct_*` user attributes.
    pub user_attributes: &'a IndexMap<String, Value>,
    /// Device facts.
    pub device_info: Option<&'a DeviceInfo>,
    /// Application facts.
    pub application_info: Option<&'a ApplicationInfo>,
}

/// A record's event as batching sees it.
#[derive(Debug, Clone, Copy)]
pub enum PlanEvent<'a> {
    /// A profile record: no event, a batch of user facts alone.
    Profile,
    /// The event, copied into the batch.
    Event(&'a Event),
    /// An event left out of the batch, known by its serialised size.
    Sized(usize),
}

impl<'a> PlanItem<'a> {
    /// What batching reads of an outcome (its event copied into the batch), if it was mapped.
    pub fn of(outcome: &'a Outcome) -> Option<Self> {
        let mapped = outcome.mapped.as_ref()?;
        Some(PlanItem {
            group_key: &mapped.group_key,
            timestamp: outcome.timestamp_millis(),
            record_id: mapped.record_id,
            facts: UserFactsRef::of(mapped),
            event: mapped
                .event
                .as_ref()
                .map_or(PlanEvent::Profile, PlanEvent::Event),
        })
    }
}

/// A record's user facts, owned: for callers that keep what batching reads of many records
/// without their outcomes.
#[derive(Debug, Clone)]
pub struct UserFacts {
    /// Identities.
    pub identities: UserIdentities,
    /// `ct_*` user attributes.
    pub user_attributes: IndexMap<String, Value>,
    /// Device facts.
    pub device_info: Option<DeviceInfo>,
    /// Application facts.
    pub application_info: Option<ApplicationInfo>,
}

impl UserFacts {
    /// The user facts of a mapped record.
    pub fn of(mapped: &MappedRecord) -> Self {
        UserFacts {
            identities: mapped.identities.clone(),
            user_attributes: mapped.user_attributes.clone(),
            device_info: mapped.device_info.clone(),
            application_info: mapped.application_info.clone(),
        }
    }

    /// The user facts of a mapped record, moved out of it (they are left empty there): for a
    /// caller that is done with the record, instead of copying them field by field.
    pub fn take(mapped: &mut MappedRecord) -> Self {
        UserFacts {
            identities: std::mem::take(&mut mapped.identities),
            user_attributes: std::mem::take(&mut mapped.user_attributes),
            device_info: mapped.device_info.take(),
            application_info: mapped.application_info.take(),
        }
    }

    /// The facts, borrowed.
    pub fn view(&self) -> UserFactsRef<'_> {
        UserFactsRef {
            identities: &self.identities,
            user_attributes: &self.user_attributes,
            device_info: self.device_info.as_ref(),
            application_info: self.application_info.as_ref(),
        }
    }
}

impl<'a> UserFactsRef<'a> {
    /// The user facts of a mapped record.
    pub fn of(mapped: &'a MappedRecord) -> Self {
        UserFactsRef {
            identities: &mapped.identities,
            user_attributes: &mapped.user_attributes,
            device_info: mapped.device_info.as_ref(),
            application_info: mapped.application_info.as_ref(),
        }
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
    let sent: Vec<bool> = outcomes
        .iter()
        .enumerate()
        .map(|(index, outcome)| {
            !matches!(
                outcome.status,
                RecordStatus::Unreadable | RecordStatus::Dropped
            ) && include(index, outcome)
        })
        .collect();
    let item = |index: usize| {
        let outcome = outcomes.get(index).filter(|_| sent[index])?;
        PlanItem::of(outcome)
    };
    plan_items(outcomes.len(), item, environment, now_millis)
}

/// Groups records `0..records` into batches from what batching reads of each, given by `item`
/// (`None`: not sent); its indices are the record indices of the plan. Events given as
/// [`PlanEvent::Sized`] are left out of their batches, which are sized and identified all the
/// same.
pub fn plan_items<'a>(
    records: usize,
    item: impl Fn(usize) -> Option<PlanItem<'a>> + Sync,
    environment: Environment,
    now_millis: i64,
) -> BatchPlan {
    // Each unit's batches built on all cores and put back in the units' order.
    let batches = plan_units(records, &item)
        .into_par_iter()
        .map(|unit| unit_batches(&item, unit, environment, now_millis))
        .collect::<Vec<Vec<PlannedBatch>>>()
        .into_iter()
        .flatten()
        .collect();
    BatchPlan { batches }
}

/// The records of one or more batches: one user's records, or a profile record alone.
#[derive(Debug, Clone)]
pub struct PlanUnit {
    records: Vec<usize>,
    is_user: bool,
}

impl PlanUnit {
    /// The unit's records, in input order.
    pub fn records(&self) -> &[usize] {
        &self.records
    }
}

/// The first step of [`plan_items`]: records grouped by user (profile records alone), in
/// order of each user's first record. [`unit_batches`] makes each unit's batches, so a caller
/// can build and use the batches a few units at a time.
pub fn plan_units<'a>(
    records: usize,
    item: impl Fn(usize) -> Option<PlanItem<'a>>,
) -> Vec<PlanUnit> {
    plan_units_by(records, |index| {
        let item = item(index)?;
        Some((!matches!(item.event, PlanEvent::Profile)).then_some(item.group_key))
    })
}

/// [`plan_units`] with each record's user given by `user` as any key (`None`: not sent;
/// `Some(None)`: a profile record, a unit alone): a caller that knows its users by id need not
/// hash their keys again.
pub fn plan_units_by<K: std::hash::Hash + Eq>(
    records: usize,
    user: impl Fn(usize) -> Option<Option<K>>,
) -> Vec<PlanUnit> {
    let mut units: Vec<PlanUnit> = Vec::new();
    let mut numbering = UnitNumbering::default();
    for index in 0..records {
        let Some(key) = user(index) else {
            continue;
        };
        let is_user = key.is_some();
        let unit = numbering.number(key);
        if unit == units.len() {
            units.push(PlanUnit {
                records: Vec::new(),
                is_user,
            });
        }
        units[unit].records.push(index);
    }
    units
}

/// How [`plan_units`] numbers the batching units, one record at a time: a user's unit at
/// their first record, a profile record a unit alone, in input order. A caller that keeps
/// records as they come (`map`'s kept rows) knows each record's unit before the last is read.
#[derive(Debug)]
pub struct UnitNumbering<K> {
    count: usize,
    /// Each user's unit, by key.
    users: HashMap<K, usize, foldhash::fast::RandomState>,
}

impl<K> Default for UnitNumbering<K> {
    fn default() -> Self {
        Self {
            count: 0,
            users: HashMap::default(),
        }
    }
}

impl<K: std::hash::Hash + Eq> UnitNumbering<K> {
    /// The unit of the next record: user `key`'s, or (`None`) a profile record's own.
    pub fn number(&mut self, key: Option<K>) -> usize {
        let count = &mut self.count;
        let mut next = || {
            *count += 1;
            *count - 1
        };
        match key {
            Some(key) => *self.users.entry(key).or_insert_with(next),
            None => next(),
        }
    }

    /// The unit of user `key`, if a record of theirs was numbered.
    pub fn of_user(&self, key: &K) -> Option<usize> {
        self.users.get(key).copied()
    }
}

/// The batches of one unit of [`plan_units`]: a user's events in time order, historical ones
/// apart, split at 128 KB; or a profile record's batch.
pub fn unit_batches<'a>(
    item: &impl Fn(usize) -> Option<PlanItem<'a>>,
    unit: PlanUnit,
    environment: Environment,
    now_millis: i64,
) -> Vec<PlannedBatch> {
    let PlanUnit {
        mut records,
        is_user,
    } = unit;
    if !is_user {
        return user_batches(item, records, environment, false);
    }
    let time = |i: usize| item(i).and_then(|item| item.timestamp);
    let cutoff = now_millis - limits::HISTORICAL_AFTER_DAYS * 86_400_000;
    // Each key once: an item may be built from its record on every call.
    records.sort_by_cached_key(|&i| time(i).unwrap_or(i64::MAX));
    let (old, recent): (Vec<usize>, Vec<usize>) = records
        .into_iter()
        .partition(|&i| time(i).is_some_and(|t| t < cutoff));
    let mut batches = Vec::new();
    if !old.is_empty() {
        batches.extend(user_batches(item, old, environment, true));
    }
    if !recent.is_empty() {
        batches.extend(user_batches(item, recent, environment, false));
    }
    batches
}

/// One user's records (already in time order) as one or more batches under 128 KB.
fn user_batches<'a>(
    item: &impl Fn(usize) -> Option<PlanItem<'a>>,
    records: Vec<usize>,
    environment: Environment,
    historical: bool,
) -> Vec<PlannedBatch> {
    let records: Vec<(usize, PlanItem)> = records
        .into_iter()
        .filter_map(|i| Some((i, item(i)?)))
        .collect();
    // The user's facts merged by reference (first identities, last of everything else), then
    // copied into the envelope once.
    let (mut customer_id, mut email) = (None, None);
    let mut user_attributes: IndexMap<&str, &Value, foldhash::fast::RandomState> =
        IndexMap::default();
    let (mut device_info, mut application_info) = (None, None);
    for (_, item) in &records {
        let facts = &item.facts;
        customer_id = customer_id.or(facts.identities.customer_id.as_ref());
        email = email.or(facts.identities.email.as_ref());
        for (name, value) in facts.user_attributes {
            user_attributes.insert(name, value);
        }
        device_info = facts.device_info.or(device_info);
        application_info = facts.application_info.or(application_info);
    }
    let envelope = Batch {
        schema_version: 2,
        environment,
        source_request_id: Uuid::nil().to_string(),
        user_identities: UserIdentities {
            customer_id: customer_id.cloned(),
            email: email.cloned(),
        },
        user_attributes: user_attributes
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect(),
        device_info: device_info.cloned(),
        application_info: application_info.cloned(),
        events: Vec::new(),
    };
    let envelope_bytes = serialized_len(&envelope) + r#","events":[]"#.len();
    let mut batches = Vec::new();
    let mut current = Pending::default();
    let mut current_bytes = envelope_bytes;
    for (index, item) in records {
        // A profile record carries no event: it travels as a batch of user facts alone.
        let (event, bytes) = match item.event {
            PlanEvent::Profile => (None, None),
            PlanEvent::Event(event) => (Some(event), Some(serialized_len(event))),
            PlanEvent::Sized(bytes) => (None, Some(bytes)),
        };
        if let Some(bytes) = bytes {
            let event_bytes = bytes + 1;
            if !current.records.is_empty() && current_bytes + event_bytes > limits::MAX_BATCH_BYTES
            {
                batches.push(finish(
                    &envelope,
                    std::mem::take(&mut current),
                    current_bytes - 1,
                    historical,
                ));
                current_bytes = envelope_bytes;
            }
            current_bytes += event_bytes;
            current.has_events = true;
            current.events.extend(event.cloned());
        }
        current.records.push(index);
        current.ids.push('\n');
        let mut buffer = Uuid::encode_buffer();
        current
            .ids
            .push_str(item.record_id.hyphenated().encode_lower(&mut buffer));
    }
    if !current.records.is_empty() {
        // Without events, the batch is the envelope alone (no `events` key).
        let bytes = if !current.has_events {
            envelope_bytes - r#","events":[]"#.len()
        } else {
            current_bytes - 1
        };
        batches.push(finish(&envelope, current, bytes, historical));
    }
    batches
}

#[derive(Default)]
struct Pending {
    records: Vec<usize>,
    /// The records' ids, each after a newline: the batch id's seed.
    ids: String,
    events: Vec<Event>,
    has_events: bool,
}

/// A batch from the envelope and its events; `bytes`, its serialised size, is known from the
/// sizes of its parts (each event serialised once).
fn finish(envelope: &Batch, pending: Pending, bytes: usize, historical: bool) -> PlannedBatch {
    let mut batch = envelope.clone();
    batch.events = pending.events;
    let seed = [
        batch.environment.as_str().as_bytes(),
        pending.ids.as_bytes(),
    ];
    batch.source_request_id = uuid_v5(&ID_NAMESPACE, &seed).to_string();
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

/// The serialised size of an event, for [`PlanEvent::Sized`].
pub fn event_bytes(event: &Event) -> usize {
    serialized_len(event)
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
    let mut splitter = RequestSplitter::default();
    let mut start = 0;
    for (index, batch) in batches.iter().enumerate() {
        if splitter.starts_request(batch) {
            requests.push(start..index);
            start = index;
        }
    }
    if start < batches.len() {
        requests.push(start..batches.len());
    }
    requests
}

/// [`split_requests`] one batch at a time: for callers that see the batches a few at a time
/// and only need to count the requests.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSplitter {
    /// The current request's first batch.
    start: usize,
    /// Batches seen.
    seen: usize,
    /// The current request's body size so far.
    body: usize,
    /// Whether the current request goes to the historical endpoint.
    historical: bool,
    /// Requests begun.
    requests: usize,
}

impl RequestSplitter {
    /// Takes the next batch; whether it begins a request after the first one.
    pub fn starts_request(&mut self, batch: &PlannedBatch) -> bool {
        let index = self.seen;
        self.seen += 1;
        let count = index - self.start;
        if count == 0 {
            // The very first batch.
            self.historical = batch.historical;
            self.body = 2 + batch.bytes; // "[" and "]"
            self.requests = 1;
            return false;
        }
        let next_body = self.body + batch.bytes + 1;
        if self.historical != batch.historical
            || count == limits::MAX_BATCHES_PER_REQUEST
            || next_body >= limits::MAX_REQUEST_BYTES
        {
            self.start = index;
            self.historical = batch.historical;
            self.body = 2 + batch.bytes;
            self.requests += 1;
            true
        } else {
            self.body = next_body;
            false
        }
    }

    /// Requests the batches seen so far make.
    pub fn requests(&self) -> usize {
        self.requests
    }
}
