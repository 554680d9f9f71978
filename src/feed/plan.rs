//! The send plan (also the dry run): which batches go in which request to which endpoint, how
//! many bytes, and what is held back and why.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::ops::Range;

use serde::Serialize;
use uuid::Uuid;

use super::settings::ResolvedTarget;
use crate::mapping::{BatchPlan, Outcome, PlannedBatch, RecordStatus, build_batches, uuid_v5};
use crate::mparticle::{Environment, limits};

/// Namespace of the deterministic request ids (UUID v5 over the batches' `source_request_id`s).
const REQUEST_ID_NAMESPACE: Uuid = Uuid::from_u128(0x3b7e_91d2_55c0_4e8f_a1d6_0f2c_9b84_e713);

/// Which Events API path a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `/bulkevents`: data from the last 30 days.
    Bulk,
    /// `/bulkevents/historical`: every event older than 30 days (and so past the 72-hour rule).
    Historical,
}

impl Endpoint {
    /// The path after the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Bulk => "/bulkevents",
            Endpoint::Historical => "/bulkevents/historical",
        }
    }
}

/// One bulk request of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedRequest {
    /// Position in [`SendPlan::requests`].
    pub index: usize,
    /// Where it goes.
    pub endpoint: Endpoint,
    /// Its batches: a range of [`SendPlan::batches`] (at most 100).
    pub batches: Range<usize>,
    /// Body size in bytes (under 256 KB).
    pub bytes: usize,
    /// Events in its batches.
    pub events: usize,
    /// Deterministic id: UUID v5 of its batches' `source_request_id`s, so the same request has
    /// the same id in every run and in the journal.
    pub request_id: String,
}

/// A batch held back from the plan, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldBatch {
    /// Its `source_request_id`.
    pub source_request_id: String,
    /// Its size.
    pub bytes: usize,
    /// Why it is not sent.
    pub reason: String,
}

/// What is not in the plan, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeldSummary {
    /// Selected records held as invalid.
    pub held_records: usize,
    /// Whether held records were included anyway (the user chose to send them).
    pub held_included: bool,
    /// Held records per reason (the kind of their worst finding).
    pub held_reasons: BTreeMap<String, usize>,
    /// Selected records dropped by the rules' policy.
    pub dropped_records: usize,
    /// Selected records that could not be read.
    pub unreadable_records: usize,
    /// Batches that cannot be sent at all (over 128 KB: one event too large).
    pub held_batches: Vec<HeldBatch>,
    /// Batches older than 30 days that fail the historical endpoint's rules (an event without
    /// a time, or less than 72 hours old) and so go to `/bulkevents` instead.
    pub historical_rerouted: usize,
}

/// Everything that will be sent, split into requests. Built once; the sender reads it.
#[derive(Debug, Clone, Default)]
pub struct SendPlan {
    /// The batches' environment.
    pub environment: Environment,
    /// Batches to send: `/bulkevents` ones first, then historical ones.
    pub batches: Vec<PlannedBatch>,
    /// Requests over [`SendPlan::batches`], in sending order.
    pub requests: Vec<PlannedRequest>,
    /// What is held back.
    pub held: HeldSummary,
    /// Batches left out because the journal shows the feed already accepted them
    /// ([`SendPlan::excluding`]).
    pub already_accepted: usize,
}

impl SendPlan {
    /// Plans the selected outcomes: builds batches (one user each, under 128 KB) from mapped
    /// and warned records, plus held ones when `send_held`, then splits them into requests.
    /// `selected` says which records the user chose (pass `|_, _| true` for all).
    pub fn from_outcomes(
        outcomes: &[Outcome],
        selected: impl Fn(usize, &Outcome) -> bool,
        environment: Environment,
        send_held: bool,
        now_millis: i64,
    ) -> SendPlan {
        let mut held = HeldSummary {
            held_included: send_held,
            ..HeldSummary::default()
        };
        for (index, outcome) in outcomes.iter().enumerate() {
            if !selected(index, outcome) {
                continue;
            }
            match outcome.status {
                RecordStatus::Held => {
                    held.held_records += 1;
                    let reason = outcome
                        .worst_finding()
                        .map_or("invalid", |finding| finding.kind.as_str());
                    *held.held_reasons.entry(reason.to_string()).or_default() += 1;
                }
                RecordStatus::Dropped => held.dropped_records += 1,
                RecordStatus::Unreadable => held.unreadable_records += 1,
                RecordStatus::Mapped | RecordStatus::Warned => {}
            }
        }
        let batch_plan = build_batches(
            outcomes,
            |index, outcome| {
                selected(index, outcome)
                    && crate::records::sendable_status(outcome.status, send_held)
            },
            environment,
            now_millis,
        );
        Self::new(batch_plan, environment, held, now_millis)
    }

    /// Plans batches already built (all for `environment`): holds back oversized ones, routes
    /// historical ones, and splits each endpoint's batches into requests of at most 100 batches
    /// and under 256 KB.
    pub fn new(
        batch_plan: BatchPlan,
        environment: Environment,
        mut held: HeldSummary,
        now_millis: i64,
    ) -> SendPlan {
        let min_age_cutoff = now_millis - limits::HISTORICAL_MIN_AGE_HOURS * 3_600_000;
        let mut recent = Vec::new();
        let mut historical = Vec::new();
        for mut planned in batch_plan.batches {
            if planned.bytes > limits::MAX_BATCH_BYTES {
                held.held_batches.push(HeldBatch {
                    source_request_id: planned.batch.source_request_id.clone(),
                    bytes: planned.bytes,
                    reason: format!(
                        "batch of {} bytes is over mParticle's {} byte limit (one event too large to split)",
                        planned.bytes,
                        limits::MAX_BATCH_BYTES
                    ),
                });
                continue;
            }
            if planned.historical && !historical_allowed(&planned, min_age_cutoff) {
                planned.historical = false;
                held.historical_rerouted += 1;
            }
            if planned.historical {
                historical.push(planned);
            } else {
                recent.push(planned);
            }
        }
        let mut batches = recent;
        batches.extend(historical);
        let requests = requests_for(&batches);
        SendPlan {
            environment,
            batches,
            requests,
            held,
            already_accepted: 0,
        }
    }

    /// The same plan without the batches whose `source_request_id` is in `accepted` (what the
    /// journal shows a feed already took), re-split into requests: "resend failed".
    pub fn excluding(&self, accepted: &HashSet<String>) -> SendPlan {
        let mut batches = Vec::new();
        let mut skipped = 0;
        for planned in &self.batches {
            if accepted.contains(&planned.batch.source_request_id) {
                skipped += 1;
            } else {
                batches.push(planned.clone());
            }
        }
        let requests = requests_for(&batches);
        SendPlan {
            environment: self.environment,
            batches,
            requests,
            held: self.held.clone(),
            already_accepted: self.already_accepted + skipped,
        }
    }

    /// Number of batches to send.
    pub fn batch_count(&self) -> usize {
        self.batches.len()
    }

    /// Number of events in the batches to send.
    pub fn event_count(&self) -> usize {
        self.batches.iter().map(|b| b.batch.events.len()).sum()
    }

    /// Total body bytes of all requests.
    pub fn total_bytes(&self) -> usize {
        self.requests.iter().map(|r| r.bytes).sum()
    }

    /// Requests and batches per endpoint.
    pub fn per_endpoint(&self) -> BTreeMap<Endpoint, (usize, usize)> {
        let mut counts = BTreeMap::new();
        for request in &self.requests {
            let entry = counts.entry(request.endpoint).or_insert((0, 0));
            entry.0 += 1;
            entry.1 += request.batches.len();
        }
        counts
    }

    /// The exact body of request `index` (a JSON array of batches), or `None` past the end.
    pub fn request_body(&self, index: usize) -> Option<String> {
        let request = self.requests.get(index)?;
        let mut body = Vec::with_capacity(request.bytes);
        write_body(&self.batches[request.batches.clone()], &mut body);
        String::from_utf8(body).ok()
    }

    /// The body of request `index` as bytes (what the sender posts).
    pub fn request_body_bytes(&self, index: usize) -> Option<Vec<u8>> {
        let request = self.requests.get(index)?;
        let mut body = Vec::with_capacity(request.bytes);
        write_body(&self.batches[request.batches.clone()], &mut body);
        Some(body)
    }

    /// The plan as text for a person (the dry run and the send panel's summary).
    pub fn describe(&self, target: Option<&ResolvedTarget>) -> String {
        self.describe_at(target.map(|t| t.base_url.as_str()))
    }

    /// [`SendPlan::describe`] for a target known by its base URL only (a dry run without
    /// credentials): the endpoints are shown under `base_url`, or as paths when it is `None`.
    pub fn describe_at(&self, base_url: Option<&str>) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "plan: {} requests, {} batches, {} events, {} bytes, environment {}",
            self.requests.len(),
            self.batch_count(),
            self.event_count(),
            self.total_bytes(),
            self.environment.as_str()
        );
        for (endpoint, (requests, batches)) in self.per_endpoint() {
            let url = base_url.map_or_else(
                || endpoint.path().to_string(),
                |base| format!("{}{}", base.trim_end_matches('/'), endpoint.path()),
            );
            let why = match endpoint {
                Endpoint::Bulk => "",
                Endpoint::Historical => {
                    " (every event older than 30 days, so at least 72 hours old)"
                }
            };
            let _ = writeln!(
                text,
                "  {requests} requests, {batches} batches -> POST {url}{why}"
            );
        }
        if self.already_accepted > 0 {
            let _ = writeln!(
                text,
                "already accepted by this feed (journal): {} batches, not sent again",
                self.already_accepted
            );
        }
        let held = &self.held;
        if held.held_records > 0 {
            let reasons: Vec<String> = held
                .held_reasons
                .iter()
                .map(|(reason, count)| format!("{reason}: {count}"))
                .collect();
            let what = if held.held_included {
                "held records included (--send-held)"
            } else {
                "held back as invalid"
            };
            let _ = writeln!(
                text,
                "{what}: {} records ({})",
                held.held_records,
                reasons.join(", ")
            );
        }
        if held.dropped_records > 0 {
            let _ = writeln!(
                text,
                "dropped by the rules: {} records",
                held.dropped_records
            );
        }
        if held.unreadable_records > 0 {
            let _ = writeln!(text, "unreadable: {} records", held.unreadable_records);
        }
        for batch in &held.held_batches {
            let _ = writeln!(
                text,
                "held batch {}: {}",
                batch.source_request_id, batch.reason
            );
        }
        if held.historical_rerouted > 0 {
            let _ = writeln!(
                text,
                "{} old batches go to /bulkevents: they fail the historical endpoint's rules (an event without a time or under 72 hours old)",
                held.historical_rerouted
            );
        }
        text
    }
}

/// Whether a batch may go to `/bulkevents/historical`: it has events, and each has a time at
/// least 72 hours old.
fn historical_allowed(planned: &PlannedBatch, min_age_cutoff: i64) -> bool {
    !planned.batch.events.is_empty()
        && planned.batch.events.iter().all(|event| {
            event
                .data
                .timestamp_unixtime_ms
                .is_some_and(|t| t <= min_age_cutoff)
        })
}

/// Splits `range` of `batches` (one endpoint) into requests: at most 100 batches, body under
/// 256 KB.
/// Bulk requests for batches ordered recent first, then historical (each endpoint apart).
fn requests_for(batches: &[PlannedBatch]) -> Vec<PlannedRequest> {
    let first_historical = batches.iter().take_while(|b| !b.historical).count();
    let mut requests = Vec::new();
    split_into(batches, 0..first_historical, Endpoint::Bulk, &mut requests);
    split_into(
        batches,
        first_historical..batches.len(),
        Endpoint::Historical,
        &mut requests,
    );
    requests
}

fn split_into(
    batches: &[PlannedBatch],
    range: Range<usize>,
    endpoint: Endpoint,
    requests: &mut Vec<PlannedRequest>,
) {
    let mut start = range.start;
    let mut body = 2; // "[" and "]"
    for index in range.clone() {
        let count = index - start;
        let next_body = body + batches[index].bytes + usize::from(count > 0);
        if count > 0
            && (count == limits::MAX_BATCHES_PER_REQUEST || next_body >= limits::MAX_REQUEST_BYTES)
        {
            requests.push(planned_request(
                batches,
                start..index,
                body,
                endpoint,
                requests.len(),
            ));
            start = index;
            body = 2 + batches[index].bytes;
        } else {
            body = next_body;
        }
    }
    if start < range.end {
        requests.push(planned_request(
            batches,
            start..range.end,
            body,
            endpoint,
            requests.len(),
        ));
    }
}

fn planned_request(
    batches: &[PlannedBatch],
    range: Range<usize>,
    bytes: usize,
    endpoint: Endpoint,
    index: usize,
) -> PlannedRequest {
    let mut seed = String::from(endpoint.path());
    for planned in &batches[range.clone()] {
        seed.push('\n');
        seed.push_str(&planned.batch.source_request_id);
    }
    PlannedRequest {
        index,
        endpoint,
        events: batches[range.clone()]
            .iter()
            .map(|b| b.batch.events.len())
            .sum(),
        batches: range,
        bytes,
        request_id: uuid_v5(&REQUEST_ID_NAMESPACE, &[seed.as_bytes()]).to_string(),
    }
}

/// Writes `[batch,batch,…]`.
fn write_body(batches: &[PlannedBatch], body: &mut Vec<u8>) {
    body.push(b'[');
    for (position, planned) in batches.iter().enumerate() {
        if position > 0 {
            body.push(b',');
        }
        // Serialising plain data into memory cannot fail.
        let _ = serde_json::to_writer(&mut *body, &planned.batch);
    }
    body.push(b']');
}
