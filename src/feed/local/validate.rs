//! The local feed's checks of a request body against the Events API rules
//! (`../shared/spec/events-api.md`). Stricter than mParticle in one way, on purpose: a bulk
//! request with any invalid batch is refused whole (400, every problem listed), so mistakes show
//! up at once instead of as a silent 202.

use serde_json::Value;

use crate::mparticle::limits;

/// The paths the feed serves (with or without the `/v2` prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/events`: one batch.
    Single,
    /// `/bulkevents`: an array of batches.
    Bulk,
    /// `/bulkevents/historical`: an array of batches older than 72 hours.
    Historical,
}

impl Route {
    /// The path without the `/v2` prefix.
    pub fn path(self) -> &'static str {
        match self {
            Route::Single => "/events",
            Route::Bulk => "/bulkevents",
            Route::Historical => "/bulkevents/historical",
        }
    }
}

/// Which route a path is, if any.
pub(super) fn route(path: &str) -> Option<Route> {
    let path = path.trim_end_matches('/');
    let path = path.strip_prefix("/v2").unwrap_or(path);
    match path {
        "/events" => Some(Route::Single),
        "/bulkevents" => Some(Route::Bulk),
        "/bulkevents/historical" => Some(Route::Historical),
        _ => None,
    }
}

/// Most problems listed in one answer.
const MAX_MESSAGES: usize = 20;

const EVENT_TYPES: [&str; 19] = [
    "session_start",
    "session_end",
    "screen_view",
    "custom_event",
    "crash_report",
    "opt_out",
    "first_run",
    "pre_attribution",
    "push_registration",
    "application_state_transition",
    "push_message",
    "network_performance",
    "breadcrumb",
    "profile",
    "push_reaction",
    "commerce_event",
    "user_attribute_change",
    "user_identity_change",
    "uninstall",
];

/// The documentation's list; `attribution` is documented though the schemas omit it.
const CUSTOM_EVENT_TYPES: [&str; 10] = [
    "navigation",
    "location",
    "search",
    "transaction",
    "user_content",
    "user_preference",
    "social",
    "media",
    "other",
    "attribution",
];

const IDENTITY_KEYS: [&str; 22] = [
    "other",
    "customer_id",
    "facebook",
    "twitter",
    "google",
    "microsoft",
    "yahoo",
    "email",
    "alias",
    "facebook_custom_audience_id",
    "other_id_2",
    "other_id_3",
    "other_id_4",
    "other_id_5",
    "other_id_6",
    "other_id_7",
    "other_id_8",
    "other_id_9",
    "other_id_10",
    "mobile_number",
    "phone_number_2",
    "phone_number_3",
];

/// Checks a parsed body for `route`. Returns its batches, or every problem found (at most 20).
/// `now_millis` is the time the historical endpoint's 72-hour rule is measured from.
pub fn validate_body(
    route: Route,
    body: &Value,
    now_millis: i64,
) -> Result<Vec<&Value>, Vec<String>> {
    let mut problems = Problems::default();
    let batches: Vec<&Value> = match (route, body) {
        (Route::Single, Value::Object(_)) => vec![body],
        (Route::Single, _) => {
            return Err(vec!["/events takes one batch object".to_string()]);
        }
        (_, Value::Array(batches)) => batches.iter().collect(),
        (_, _) => {
            return Err(vec![format!(
                "{} takes a JSON array of batches",
                route.path()
            )]);
        }
    };
    if batches.is_empty() {
        return Err(vec!["the request has no batches".to_string()]);
    }
    if batches.len() > limits::MAX_BATCHES_PER_REQUEST {
        return Err(vec![format!(
            "{} batches in one request: at most {}",
            batches.len(),
            limits::MAX_BATCHES_PER_REQUEST
        )]);
    }
    let min_age_cutoff = now_millis - limits::HISTORICAL_MIN_AGE_HOURS * 3_600_000;
    for (index, batch) in batches.iter().enumerate() {
        let at = if route == Route::Single {
            "batch".to_string()
        } else {
            format!("batch {index}")
        };
        check_batch(
            batch,
            &at,
            route == Route::Historical,
            min_age_cutoff,
            &mut problems,
        );
        if problems.full() {
            break;
        }
    }
    if problems.messages.is_empty() {
        Ok(batches)
    } else {
        Err(problems.messages)
    }
}

#[derive(Default)]
struct Problems {
    messages: Vec<String>,
}

impl Problems {
    fn add(&mut self, message: String) {
        if !self.full() {
            self.messages.push(message);
        }
    }
    fn full(&self) -> bool {
        self.messages.len() >= MAX_MESSAGES
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_batch(
    batch: &Value,
    at: &str,
    historical: bool,
    min_age_cutoff: i64,
    problems: &mut Problems,
) {
    let Value::Object(fields) = batch else {
        problems.add(format!("{at}: must be an object, not {}", kind(batch)));
        return;
    };
    let size = batch.to_string().len();
    if size > limits::MAX_BATCH_BYTES {
        problems.add(format!(
            "{at}: {size} bytes, over the {} byte limit per batch",
            limits::MAX_BATCH_BYTES
        ));
    }
    if let Some(version) = fields.get("schema_version")
        && !version.is_u64()
    {
        problems.add(format!("{at}.schema_version: must be an integer"));
    }
    if let Some(environment) = fields.get("environment")
        && !matches!(environment.as_str(), Some("development" | "production"))
    {
        problems.add(format!(
            "{at}.environment: must be \"development\" or \"production\""
        ));
    }
    if let Some(id) = fields.get("source_request_id")
        && !(id.is_string() || id.is_null())
    {
        problems.add(format!("{at}.source_request_id: must be a string"));
    }
    check_identities(fields.get("user_identities"), at, problems);
    check_user_attributes(fields.get("user_attributes"), at, problems);
    for name in ["device_info", "application_info"] {
        if let Some(value) = fields.get(name)
            && !(value.is_object() || value.is_null())
        {
            problems.add(format!(
                "{at}.{name}: must be an object, not {}",
                kind(value)
            ));
        }
    }
    let events = match fields.get("events") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(events)) => events.as_slice(),
        Some(other) => {
            problems.add(format!(
                "{at}.events: must be an array, not {}",
                kind(other)
            ));
            return;
        }
    };
    if historical && events.is_empty() {
        problems.add(format!(
            "{at}: the historical endpoint needs events in every batch"
        ));
    }
    for (index, event) in events.iter().enumerate() {
        let event_at = format!("{at}.events[{index}]");
        check_event(event, &event_at, historical, min_age_cutoff, problems);
    }
}

fn check_identities(identities: Option<&Value>, at: &str, problems: &mut Problems) {
    match identities {
        None | Some(Value::Null) => {}
        Some(Value::Object(identities)) => {
            for (name, value) in identities {
                if !IDENTITY_KEYS.contains(&name.as_str()) {
                    problems.add(format!(
                        "{at}.user_identities.{name}: not an mParticle identity type"
                    ));
                } else if !(value.is_string() || value.is_null()) {
                    problems.add(format!(
                        "{at}.user_identities.{name}: must be a string, not {}",
                        kind(value)
                    ));
                }
            }
        }
        Some(other) => problems.add(format!(
            "{at}.user_identities: must be an object, not {}",
            kind(other)
        )),
    }
}

fn check_user_attributes(attributes: Option<&Value>, at: &str, problems: &mut Problems) {
    let attributes = match attributes {
        None | Some(Value::Null) => return,
        Some(Value::Object(attributes)) => attributes,
        Some(other) => {
            problems.add(format!(
                "{at}.user_attributes: must be an object, not {}",
                kind(other)
            ));
            return;
        }
    };
    if attributes.len() > limits::MAX_USER_ATTRIBUTES {
        problems.add(format!(
            "{at}.user_attributes: {} attributes, at most {}",
            attributes.len(),
            limits::MAX_USER_ATTRIBUTES
        ));
    }
    for (name, value) in attributes {
        let ok = match value {
            Value::Array(items) => {
                items.len() <= 1000
                    && items
                        .iter()
                        .all(|item| item.as_str().is_some_and(|s| s.chars().count() <= 512))
            }
            Value::Object(_) => false,
            _ => true,
        };
        if !ok {
            problems.add(format!(
                "{at}.user_attributes.{name}: must be a string, number, boolean, null or a list of at most 1000 strings of at most 512 characters"
            ));
        }
    }
}

fn check_event(
    event: &Value,
    at: &str,
    historical: bool,
    min_age_cutoff: i64,
    problems: &mut Problems,
) {
    let Value::Object(fields) = event else {
        problems.add(format!("{at}: must be an object, not {}", kind(event)));
        return;
    };
    let event_type = fields.get("event_type").and_then(Value::as_str);
    match event_type {
        None => problems.add(format!("{at}.event_type: missing")),
        Some(name) if !EVENT_TYPES.contains(&name) => {
            problems.add(format!("{at}.event_type: `{name}` is not an event type"));
        }
        Some(_) => {}
    }
    let data = match fields.get("data") {
        Some(Value::Object(data)) => data,
        None => {
            problems.add(format!("{at}.data: missing"));
            return;
        }
        Some(other) => {
            problems.add(format!("{at}.data: must be an object, not {}", kind(other)));
            return;
        }
    };
    if event_type == Some("custom_event") {
        match data.get("event_name") {
            Some(Value::String(name)) if !name.is_empty() => {}
            _ => problems.add(format!("{at}.data.event_name: required for a custom_event")),
        }
        match data.get("custom_event_type").and_then(Value::as_str) {
            Some(category) if CUSTOM_EVENT_TYPES.contains(&category) => {}
            Some(category) => problems.add(format!(
                "{at}.data.custom_event_type: `{category}` is not one of {}",
                CUSTOM_EVENT_TYPES.join(", ")
            )),
            None => problems.add(format!(
                "{at}.data.custom_event_type: required for a custom_event"
            )),
        }
    }
    let timestamp = data.get("timestamp_unixtime_ms");
    match timestamp {
        None | Some(Value::Null) => {
            if historical {
                problems.add(format!(
                    "{at}.data.timestamp_unixtime_ms: required on the historical endpoint"
                ));
            }
        }
        Some(value) => match value.as_i64() {
            None => problems.add(format!(
                "{at}.data.timestamp_unixtime_ms: must be an integer"
            )),
            Some(time) if historical && time > min_age_cutoff => problems.add(format!(
                "{at}.data.timestamp_unixtime_ms: the historical endpoint only takes data at least {} hours old",
                limits::HISTORICAL_MIN_AGE_HOURS
            )),
            Some(_) => {}
        },
    }
    if let Some(id) = data.get("source_message_id")
        && !(id.is_string() || id.is_null())
    {
        problems.add(format!("{at}.data.source_message_id: must be a string"));
    }
    match data.get("custom_attributes") {
        None | Some(Value::Null) => {}
        Some(Value::Object(attributes)) => {
            for (name, value) in attributes {
                if value.is_object() || value.is_array() {
                    problems.add(format!(
                        "{at}.data.custom_attributes.{name}: must be a scalar, not {}",
                        kind(value)
                    ));
                }
            }
        }
        Some(other) => problems.add(format!(
            "{at}.data.custom_attributes: must be an object, not {}",
            kind(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000_000;

    fn batch(time: i64) -> Value {
        json!({
            "schema_version": 2,
            "environment": "development",
            "source_request_id": "a",
            "user_identities": {"customer_id": "1"},
            "events": [{"event_type": "custom_event", "data": {
                "event_name": "App Launched", "custom_event_type": "other",
                "timestamp_unixtime_ms": time, "source_message_id": "m",
                "custom_attributes": {"CT Source": "Mobile"}}},
                {"event_type": "uninstall", "data": {"timestamp_unixtime_ms": time}}]
        })
    }

    #[test]
    fn accepts_the_documented_batch() {
        let body = json!([batch(NOW), batch(NOW - 1)]);
        assert_eq!(validate_body(Route::Bulk, &body, NOW).unwrap().len(), 2);
        assert!(validate_body(Route::Single, &batch(NOW), NOW).is_ok());
    }

    #[test]
    fn historical_needs_old_timestamps() {
        let body = json!([batch(NOW - 3_600_000)]);
        let problems = validate_body(Route::Historical, &body, NOW).unwrap_err();
        assert!(problems[0].contains("72 hours"), "{problems:?}");
        let old = json!([batch(NOW - 40 * 86_400_000)]);
        assert!(validate_body(Route::Historical, &old, NOW).is_ok());
        let empty = json!([{"user_identities": {"email": "a@b.c"}}]);
        assert!(validate_body(Route::Historical, &empty, NOW).is_err());
    }

    #[test]
    fn refuses_what_the_api_refuses() {
        let mut bad = batch(NOW);
        bad["user_identities"] = json!({"customerid": "1"});
        bad["events"][0]["data"]["custom_event_type"] = json!("Other");
        bad["events"][0]["data"]["custom_attributes"]["nested"] = json!({"a": 1});
        bad["events"][1]["event_type"] = json!("nope");
        let problems = validate_body(Route::Bulk, &json!([bad]), NOW).unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        let many: Vec<Value> = (0..101).map(|_| batch(NOW)).collect();
        assert!(validate_body(Route::Bulk, &Value::Array(many), NOW).is_err());
        assert!(validate_body(Route::Bulk, &json!({}), NOW).is_err());
        assert!(validate_body(Route::Bulk, &json!([]), NOW).is_err());
    }

    #[test]
    fn routes_with_and_without_prefix() {
        assert_eq!(route("/v2/bulkevents"), Some(Route::Bulk));
        assert_eq!(route("/bulkevents/historical"), Some(Route::Historical));
        assert_eq!(route("/v2/events/"), Some(Route::Single));
        assert_eq!(route("/v2/other"), None);
    }
}
