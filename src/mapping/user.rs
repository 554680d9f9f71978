//! The user side of a record: identities (customer id, email), the `ct_*` user attributes,
//! device and application facts, and the key that groups a user's records into one batch.

use indexmap::IndexMap;
use serde_json::Value;
use sonic_rs::{JsonContainerTrait, JsonValueTrait};
use uuid::Uuid;

use super::engine::{Engine, TraceOp, Work};
use super::findings::{Finding, FindingKind, Severity};
use super::rules::{AttributeKind, MissingIdentityPolicy};
use super::time;
use super::values::{self, Members, Record};
use crate::clevertap::{Json, JsonObject};
use crate::mparticle::{ApplicationInfo, DeviceInfo, UserIdentities};

impl Engine {
    pub(super) fn user_facts(&self, record: &Record<'_>, work: &mut Work) -> UserFacts {
        let sources = &self.rules().identities;
        let mut facts = UserFacts::default();
        if let Some((path, value)) = record.first_present(&sources.customer_id) {
            let text = values::scalar_str(value).unwrap_or_default();
            let mut entries = values::text_list_items(&text);
            if let Some(first) = entries.next() {
                let more = entries.count();
                if work.tracing() {
                    let note =
                        (more > 0).then(|| format!("first of {} comma-joined values", more + 1));
                    let op = if more > 0 || !value.is_str() {
                        TraceOp::Coerced
                    } else {
                        TraceOp::Copied
                    };
                    work.trace(path, "user_identities.customer_id", op, note);
                }
                facts.identities.customer_id = Some(first.to_string());
            }
        }
        if let Some((path, value)) = record.first_present(&sources.email) {
            if let Some(email) = values::scalar_text(value) {
                work.trace(path, "user_identities.email", TraceOp::Copied, None);
                facts.identities.email = Some(email);
            }
        } else {
            let found = sources.email_from_lists.iter().find_map(|path| {
                let entries = values::list_entries(record.lookup(path)?);
                entries
                    .into_iter()
                    .find(|e| values::looks_like_email(e))
                    .map(|email| (path, email))
            });
            if let Some((path, email)) = found {
                work.trace(
                    path,
                    "user_identities.email",
                    TraceOp::Coerced,
                    Some("first e-mail-shaped entry".into()),
                );
                facts.identities.email = Some(email);
            }
        }
        facts.clevertap_id = record
            .first_present(&sources.clevertap_id)
            .and_then(|(_, v)| values::scalar_text(v));
        if facts.identities.is_empty() {
            let message = "no customer id and no email: mParticle's CleverTap feed supports only these identities";
            match self.rules().missing_identity {
                MissingIdentityPolicy::Hold => work.push(Finding::new(
                    Severity::Error,
                    FindingKind::MissingIdentity,
                    format!("{message}; held"),
                )),
                MissingIdentityPolicy::Send => work.push(Finding::new(
                    Severity::Warning,
                    FindingKind::MissingIdentity,
                    format!("{message}; sent without user identities"),
                )),
            }
        }
        self.user_attributes(record, &mut facts, work);
        self.device(record, &mut facts, work);
        facts
    }

    fn user_attributes(&self, record: &Record<'_>, facts: &mut UserFacts, work: &mut Work) {
        // Each container with its members as gathered with the record, where they were: read
        // from there rather than walking sonic-rs's nodes again.
        let containers: [(&str, Option<&JsonObject>, Option<&Members<'_>>); 4] = [
            (
                "profile.profileData.",
                record
                    .lookup("profile.profileData")
                    .and_then(Json::as_object),
                None,
            ),
            (
                "profile.",
                record.get("profile").and_then(Json::as_object),
                record.gathered("profile"),
            ),
            (
                "profileData.",
                record.get("profileData").and_then(Json::as_object),
                None,
            ),
            ("", Some(record.object), Some(record.top())),
        ];
        // One pass over each container: per rule, the best (container, source rank) present.
        let rules = &self.rules().user_attributes;
        let mut found: Vec<Option<(usize, usize, &str, &Json)>> = vec![None; rules.len()];
        for (container, (_, map, gathered)) in containers.iter().enumerate() {
            let Some(map) = map else { continue };
            let mut visit = |name, value| {
                for &(index, rank) in self.rules().user_attribute_rules(name) {
                    let better = match found[index] {
                        None => true,
                        Some((c, r, _, _)) => (container, rank) <= (c, r),
                    };
                    if better && !values::is_blank(value) {
                        found[index] = Some((container, rank, name, value));
                    }
                }
            };
            match gathered {
                Some(members) => members.iter().for_each(|(name, value)| visit(name, value)),
                None => map.iter().for_each(|(name, value)| visit(name, value)),
            }
        }
        facts
            .attributes
            .reserve(found.iter().filter(|found| found.is_some()).count());
        for (rule, found) in rules.iter().zip(found) {
            let Some((container, _, name, value)) = found else {
                continue;
            };
            // Paths are spelled out only for a trace or a finding.
            let source = || format!("{}{name}", containers[container].0);
            let converted = match rule.kind {
                AttributeKind::String => values::scalar_text(value).map(|t| {
                    (
                        Value::String(t),
                        if value.is_str() {
                            TraceOp::Renamed
                        } else {
                            TraceOp::Coerced
                        },
                    )
                }),
                AttributeKind::Bool => values::to_bool(value).map(|b| {
                    (
                        Value::Bool(b),
                        if value.is_boolean() {
                            TraceOp::Renamed
                        } else {
                            TraceOp::Coerced
                        },
                    )
                }),
                AttributeKind::Date => {
                    time::dollar_date_to_iso(value).map(|d| (Value::String(d), TraceOp::Coerced))
                }
            };
            match converted {
                Some((converted, op)) => {
                    if work.tracing() {
                        let target = format!("user_attributes.{}", rule.attribute);
                        work.trace(&source(), &target, op, None);
                    }
                    facts.attributes.insert(rule.attribute.clone(), converted);
                }
                None => {
                    let expected = match rule.kind {
                        AttributeKind::String => "a text value",
                        AttributeKind::Bool => "true or false",
                        AttributeKind::Date => "a $D_<epoch seconds> date",
                    };
                    let source = source();
                    work.push(Finding::on(
                        Severity::Warning,
                        FindingKind::InvalidValue,
                        &source,
                        format!("`{value}` is not {expected}: {} not sent", rule.attribute),
                    ));
                    work.trace(
                        &source,
                        "",
                        TraceOp::Dropped,
                        Some(format!("not {expected}")),
                    );
                }
            }
        }
    }

    fn device(&self, record: &Record<'_>, facts: &mut UserFacts, work: &mut Work) {
        let mut pick = |paths: &[&str], target: &str| -> Option<String> {
            paths.iter().find_map(|path| {
                let text = record.lookup(path).and_then(values::scalar_text)?;
                work.trace(path, target, TraceOp::Renamed, None);
                Some(text)
            })
        };
        let platform = pick(
            &["profile.platform", "deviceInfo.platform", "platform"],
            "device_info.platform",
        );
        let mut device = DeviceInfo {
            platform: None,
            device_manufacturer: pick(
                &["deviceInfo.make", "profile.make"],
                "device_info.device_manufacturer",
            ),
            device_model: pick(
                &["deviceInfo.model", "profile.model"],
                "device_info.device_model",
            ),
            os_version: pick(
                &["deviceInfo.osVersion", "profile.os_version"],
                "device_info.os_version",
            ),
            push_token: pick(
                &["profile.push_token", "device.token"],
                "device_info.push_token",
            ),
        };
        let version = pick(
            &["deviceInfo.appVersion", "profile.app_version"],
            "application_info.application_version",
        );
        if let Some(platform) = platform {
            let known = ["Android", "iOS", "web"]
                .into_iter()
                .find(|known| platform.eq_ignore_ascii_case(known));
            match known {
                Some(known) => device.platform = Some(known.into()),
                None => {
                    if let Some(entry) = work
                        .trace
                        .iter_mut()
                        .find(|e| e.target == "device_info.platform")
                    {
                        entry.target.clear();
                        entry.op = TraceOp::Dropped;
                        entry.note = Some(format!("`{platform}` is not an mParticle platform"));
                    }
                }
            }
        }
        facts.device_info = (!device.is_empty()).then_some(device);
        facts.application_info = version.map(|v| ApplicationInfo {
            application_version: Some(v),
        });
    }
}

#[derive(Default)]
pub(super) struct UserFacts {
    pub(super) identities: UserIdentities,
    pub(super) clevertap_id: Option<String>,
    pub(super) attributes: IndexMap<String, Value>,
    pub(super) device_info: Option<DeviceInfo>,
    pub(super) application_info: Option<ApplicationInfo>,
}

impl UserFacts {
    pub(super) fn group_key(&self, record: &Uuid) -> String {
        // Joined, not formatted: every record sent goes through here.
        if let Some(id) = &self.identities.customer_id {
            values::joined(&["customer_id:", id])
        } else if let Some(email) = &self.identities.email {
            values::joined(&["email:", &email.to_lowercase()])
        } else if let Some(id) = &self.clevertap_id {
            values::joined(&["clevertap_id:", id])
        } else {
            format!("record:{record}")
        }
    }
}
