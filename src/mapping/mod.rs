//! The mapping: rules loaded from `assets/mapping.toml` (or a user's copy), and the engine that
//! turns one CleverTap record into one mParticle event with findings and a field trace.

mod attributes;
mod batch;
mod engine;
mod findings;
mod ids;
mod names;
mod rules;
pub mod rules_edit;
mod time;
mod user;
mod values;

pub use batch::{
    BatchPlan, PlanEvent, PlanItem, PlanUnit, PlannedBatch, RequestSplitter, UnitNumbering,
    UserFacts, UserFactsRef, build_batches, event_bytes, plan_items, plan_units, plan_units_by,
    split_requests, unit_batches,
};
pub use engine::{Engine, MapOptions, MappedRecord, Outcome, RecordStatus, TraceEntry, TraceOp};
pub use findings::{Finding, FindingKind, Severity};
pub(crate) use ids::uuid_v5;
pub use rules::attribute_key_into;
pub use rules::{
    Category, DEFAULT_RULES, DEFAULT_RULES_NAME, EventRule, MaskRules, Rules, RulesError,
    UnknownEventPolicy, attribute_key,
};
pub use time::parse_timezone;
pub use values::{looks_like_email, number_text};
