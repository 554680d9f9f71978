use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::attributes::Attributes;

/// Where the data is meant to go: mParticle shows development data in Live Stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// The default: safe to try.
    #[default]
    Development,
    /// Live data.
    Production,
}

impl Environment {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Production => "production",
        }
    }
}

impl std::str::FromStr for Environment {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "development" => Ok(Environment::Development),
            "production" => Ok(Environment::Production),
            other => Err(format!(
                "unknown environment `{other}`: use development or production"
            )),
        }
    }
}

/// One user's batch, as sent to `/bulkevents` (one element of the array).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Always 2 (documented; the published schemas omit it).
    pub schema_version: u32,
    /// Development or production.
    pub environment: Environment,
    /// Deterministic, derived from the batch's events, so a resend is deduplicated.
    pub source_request_id: String,
    /// Customer id and email.
    #[serde(default, skip_serializing_if = "UserIdentities::is_empty")]
    pub user_identities: UserIdentities,
    /// The `ct_*` user attributes.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub user_attributes: IndexMap<String, serde_json::Value>,
    /// Device facts from `deviceInfo` / `profile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_info: Option<DeviceInfo>,
    /// Application version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_info: Option<ApplicationInfo>,
    /// The user's events in time order (empty for a profile batch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
}

/// The identities the CleverTap feed supports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserIdentities {
    /// From `profile.identity` (CleverTap's Customer ID mapping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// From `profile.email` or an e-mail in `all_identities`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl UserIdentities {
    /// No supported identity at all.
    pub fn is_empty(&self) -> bool {
        self.customer_id.is_none() && self.email.is_none()
    }
}

/// `device_info` fields the feed fills.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// `iOS`, `Android` or `web`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// `deviceInfo.make`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_manufacturer: Option<String>,
    /// `deviceInfo.model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_model: Option<String>,
    /// `deviceInfo.osVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// `profile.push_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_token: Option<String>,
}

impl DeviceInfo {
    /// Nothing known.
    pub fn is_empty(&self) -> bool {
        *self == DeviceInfo::default()
    }
}

/// `application_info` fields the feed fills.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ApplicationInfo {
    /// `deviceInfo.appVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_version: Option<String>,
}

/// The two event types the CleverTap feed uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// A custom event with a `custom_event_type`.
    CustomEvent,
    /// App Uninstalled.
    Uninstall,
}

/// One event envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `custom_event` or `uninstall`.
    pub event_type: EventType,
    /// The event's fields.
    pub data: EventData,
}

/// An event's `data`. `event_name` and `custom_event_type` are absent for `uninstall`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventData {
    /// The event name as sent (custom events only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// Lower-case category (custom events only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_event_type: Option<String>,
    /// When the event happened (absent only for a held record without a readable time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_unixtime_ms: Option<i64>,
    /// Deterministic UUID from the source record.
    pub source_message_id: String,
    /// From `CT Latitude` / `CT Longitude`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Event properties as strings.
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub custom_attributes: Attributes,
}

/// `data.location`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn event(
        name: Option<String>,
        timestamp: Option<i64>,
        location: Option<(f64, f64)>,
        attributes: Vec<(String, String)>,
    ) -> Event {
        let mut custom_attributes = Attributes::new();
        for (name, value) in &attributes {
            custom_attributes.insert(name, value);
        }
        Event {
            event_type: EventType::CustomEvent,
            data: EventData {
                event_name: name,
                custom_event_type: Some("other".into()),
                timestamp_unixtime_ms: timestamp,
                source_message_id: "7d1c2a51-0e6f-5a7e-9a55-3f0c7c3c1d2e".into(),
                location: location.map(|(latitude, longitude)| Location {
                    latitude,
                    longitude,
                }),
                custom_attributes,
            },
        }
    }

    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>(),
            prop::sample::select(vec![
                0.0,
                -0.0,
                1e-7,
                1e21,
                5e-324,
                f64::MAX,
                f64::INFINITY,
                f64::NAN
            ]),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        /// `map` and the window write events with sonic-rs and batches with serde_json: an
        /// event's text and size must be the same either way, whatever its strings and numbers.
        #[test]
        fn events_serialise_the_same_with_sonic_rs_and_serde_json(
            name in proptest::option::of(any::<String>()),
            timestamp in proptest::option::of(any::<i64>()),
            location in proptest::option::of((float(), float())),
            attributes in prop::collection::vec((any::<String>(), any::<String>()), 0..6),
        ) {
            let event = event(name, timestamp, location, attributes);
            let mut sonic = Vec::new();
            prop_assert!(sonic_rs::to_writer(&mut sonic, &event).is_ok());
            let serde = serde_json::to_vec(&event).unwrap_or_default();
            prop_assert_eq!(String::from_utf8_lossy(&sonic), String::from_utf8_lossy(&serde));
        }
    }
}
