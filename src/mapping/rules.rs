//! Mapping rules as data: parsed once from TOML with unknown fields refused, validated, and
//! compiled into lookups the engine uses per record.

use std::collections::HashMap;

/// The rules' lookup tables, consulted for every record: a fast hash (no untrusted keys are
/// inserted; rules come from the user's own file).
type Table<V> = HashMap<String, V, foldhash::fast::RandomState>;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::mparticle::EventType;

/// The default rules, embedded in the binary.
pub const DEFAULT_RULES: &str = include_str!("../../assets/mapping.toml");
/// How the default rules are named in messages and the window.
pub const DEFAULT_RULES_NAME: &str = "assets/mapping.toml (built in)";

/// A rules file that cannot be used: names the file, the line and column, and the reason.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file could not be read.
    #[error("cannot read rules file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The reason.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or a field that is unknown / of the wrong type.
    #[error("rules file {path}, line {line}, column {column}: {reason}")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// Parsed, but the rules contradict themselves.
    #[error("rules file {path}, line {line}, column {column}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line of the offending entry (best effort).
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what to change.
        reason: String,
    },
}

/// What happens to events the document does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownEventPolicy {
    /// Send as a custom event of type other, with a warning.
    Other,
    /// Hold back as invalid.
    Hold,
    /// Leave out, counted as dropped.
    Drop,
}

/// Keep or drop properties the document does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UndocumentedPolicy {
    /// Keep them, marked undocumented.
    Keep,
    /// Strict mode: leave them out (traced as dropped).
    Drop,
}

/// What happens to records with no supported identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingIdentityPolicy {
    /// Hold back as invalid (default).
    Hold,
    /// Send without user identities.
    Send,
}

/// The mParticle category of an event: a `custom_event_type`, or uninstall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// custom_event / other.
    Other,
    /// custom_event / attribution.
    Attribution,
    /// The uninstall event type.
    Uninstall,
    /// custom_event / navigation.
    Navigation,
    /// custom_event / user_content.
    UserContent,
    /// custom_event / location.
    Location,
    /// custom_event / search.
    Search,
    /// custom_event / transaction.
    Transaction,
    /// custom_event / user_preference.
    UserPreference,
    /// custom_event / social.
    Social,
    /// custom_event / media.
    Media,
}

impl Category {
    /// Every category, in the order the window shows them.
    pub const ALL: [Category; 11] = [
        Category::Other,
        Category::Attribution,
        Category::Uninstall,
        Category::Navigation,
        Category::UserContent,
        Category::Location,
        Category::Search,
        Category::Transaction,
        Category::UserPreference,
        Category::Social,
        Category::Media,
    ];

    /// The API's spelling (`custom_event_type`), or `uninstall`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Other => "other",
            Category::Attribution => "attribution",
            Category::Uninstall => "uninstall",
            Category::Navigation => "navigation",
            Category::UserContent => "user_content",
            Category::Location => "location",
            Category::Search => "search",
            Category::Transaction => "transaction",
            Category::UserPreference => "user_preference",
            Category::Social => "social",
            Category::Media => "media",
        }
    }

    /// A human label for tabs and summaries.
    pub fn label(self) -> &'static str {
        match self {
            Category::Other => "Other",
            Category::Attribution => "Attribution",
            Category::Uninstall => "Uninstall",
            Category::Navigation => "Navigation",
            Category::UserContent => "User Content",
            Category::Location => "Location",
            Category::Search => "Search",
            Category::Transaction => "Transaction",
            Category::UserPreference => "User Preference",
            Category::Social => "Social",
            Category::Media => "Media",
        }
    }

    /// The event type this category is sent as.
    pub fn event_type(self) -> EventType {
        match self {
            Category::Uninstall => EventType::Uninstall,
            _ => EventType::CustomEvent,
        }
    }
}

/// How a user attribute's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    /// Sent as a string.
    String,
    /// Sent as a boolean (`true`/`false`, also as strings).
    Bool,
    /// `$D_<epoch seconds>` sent as `YYYY-MM-DD` (UTC).
    Date,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    version: u32,
    unknown_events: UnknownEventPolicy,
    undocumented_attributes: UndocumentedPolicy,
    missing_identity: MissingIdentityPolicy,
    timezone: String,
    identities: IdentitySources,
    location: LocationSources,
    #[serde(default)]
    aliases: indexmap::IndexMap<String, String>,
    control_group: ControlGroupRule,
    #[serde(default)]
    user_attributes: Vec<UserAttributeRule>,
    events: Vec<toml::Spanned<EventRuleFile>>,
    /// Absent in rules files written before masking existed: the built-in allowlist applies.
    #[serde(default)]
    mask: Option<MaskRules>,
}

/// What masking keeps in clear (the `[mask]` section): every other value of a source record is
/// replaced by a pseudonym. Patterns may end in `*` (any name starting so).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MaskRules {
    /// Dotted paths into the record (`deviceInfo.make`); what is under a kept path is kept.
    pub fields: Vec<String>,
    /// Event and session property names (compared like attribute names: ignoring case, spaces
    /// and `_`), whatever object holds them.
    pub properties: Vec<String>,
}

/// Where identities come from: dotted paths into the record, first present wins.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySources {
    /// Paths for `customer_id` (the first value of a comma-joined list is used).
    pub customer_id: Vec<String>,
    /// Paths for `email`.
    pub email: Vec<String>,
    /// Lists searched for the first e-mail-shaped entry when no email path is present.
    pub email_from_lists: Vec<String>,
    /// Paths for CleverTap's own id: a grouping key only.
    pub clevertap_id: Vec<String>,
}

/// Property spellings that fill `data.location`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LocationSources {
    /// Latitude spellings.
    pub latitude: Vec<String>,
    /// Longitude spellings.
    pub longitude: Vec<String>,
}

/// CleverTap's single "Control Group" event and the four names the document uses for it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ControlGroupRule {
    /// The name CleverTap writes.
    pub source_name: String,
    /// The top-level field naming a custom control group.
    pub name_field: String,
    /// The property whose presence means a Journey.
    pub journey_property: String,
    /// Custom control group.
    pub custom: String,
    /// System control group.
    pub system: String,
    /// Custom control group of a Journey.
    pub custom_journeys: String,
    /// System control group of a Journey.
    pub system_journeys: String,
}

/// One `ct_*` user attribute and where it comes from.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserAttributeRule {
    /// The mParticle attribute name.
    pub attribute: String,
    /// Profile property names, first present wins.
    pub sources: Vec<String>,
    /// How the value is read.
    pub kind: AttributeKind,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventRuleFile {
    name: String,
    event_type: EventType,
    category: Category,
    #[serde(default)]
    attributes: Vec<String>,
    #[serde(default)]
    flatten_session_props: bool,
}

/// One documented event.
#[derive(Debug, Clone, Serialize)]
pub struct EventRule {
    /// The document's name, as sent.
    pub name: String,
    /// The category.
    pub category: Category,
    /// The documented attribute names.
    pub attributes: Vec<String>,
    /// Whether session properties are flattened into the attributes.
    pub flatten_session_props: bool,
}

/// Validated, compiled rules.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Where the rules came from (a path, or [`DEFAULT_RULES_NAME`]).
    pub source_name: String,
    /// Unknown-event policy.
    pub unknown_events: UnknownEventPolicy,
    /// Undocumented-attribute policy.
    pub undocumented_attributes: UndocumentedPolicy,
    /// Missing-identity policy.
    pub missing_identity: MissingIdentityPolicy,
    /// The account's time zone.
    pub timezone: chrono_tz::Tz,
    /// Identity sources.
    pub identities: IdentitySources,
    /// Location sources, as loose keys.
    pub location_latitude: Vec<String>,
    /// Location sources, as loose keys.
    pub location_longitude: Vec<String>,
    /// The control group rule.
    pub control_group: ControlGroupRule,
    /// User attributes.
    pub user_attributes: Vec<UserAttributeRule>,
    /// Documented events in file order.
    pub events: Vec<EventRule>,
    /// What masking keeps in clear.
    pub mask: MaskRules,
    by_name: Table<usize>,
    aliases: Table<String>,
    /// Per event, its documented attributes as (attribute key, name), in the rules' order.
    documented: Vec<Vec<(String, String)>>,
    /// Per profile property name, the user attribute rules it feeds as (rule, rank among the
    /// rule's sources).
    user_attribute_sources: Table<Vec<(usize, usize)>>,
}

fn user_attribute_sources(rules: &[UserAttributeRule]) -> Table<Vec<(usize, usize)>> {
    let mut sources = Table::<Vec<(usize, usize)>>::default();
    for (index, rule) in rules.iter().enumerate() {
        for (rank, source) in rule.sources.iter().enumerate() {
            sources
                .entry(source.clone())
                .or_default()
                .push((index, rank));
        }
    }
    sources
}

/// Whether two names are the same by [`name_key`], without allocating for ASCII names.
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        let mut words = b.split_ascii_whitespace();
        a.split_ascii_whitespace().all(|word| {
            words
                .next()
                .is_some_and(|other| word.eq_ignore_ascii_case(other))
        }) && words.next().is_none()
    } else {
        name_key(a) == name_key(b)
    }
}

/// A name compared loosely: lower case, single spaces, trimmed.
pub(crate) fn name_key(name: &str) -> String {
    // Every record's event name goes through here: one buffer, lowered in place when ASCII.
    let mut key = String::with_capacity(name.len());
    for word in name.split_whitespace() {
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(word);
    }
    if key.is_ascii() {
        key.make_ascii_lowercase();
        key
    } else {
        key.to_lowercase()
    }
}

/// An attribute name compared loosely: lower case, letters and digits only, so `CT Source`,
/// `ct_source` and ` CT  source ` are one attribute.
pub fn attribute_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// [`attribute_key`] as bytes, into a buffer that is reused from call to call (every property
/// of every record goes through here).
pub fn attribute_key_into(name: &str, key: &mut Vec<u8>) {
    key.clear();
    if name.is_ascii() {
        key.extend(
            name.bytes()
                .filter(u8::is_ascii_alphanumeric)
                .map(|b| b.to_ascii_lowercase()),
        );
    } else {
        let mut buffer = [0; 4];
        for c in name
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
        {
            key.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
        }
    }
}

/// Whether `name` compares loosely equal to an [`attribute_key`], without allocating.
pub fn has_attribute_key(name: &str, key: &str) -> bool {
    if name.is_ascii() && key.is_ascii() {
        let mut expected = key.bytes();
        return name
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .all(|b| expected.next() == Some(b.to_ascii_lowercase()))
            && expected.next().is_none();
    }
    let mut expected = key.chars();
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .all(|c| expected.next() == Some(c))
        && expected.next().is_none()
}

impl Rules {
    /// The built-in rules. They are tested to load, so this cannot fail in a released binary;
    /// it still returns an error rather than panic.
    pub fn default_rules() -> Result<Rules, RulesError> {
        Rules::parse(DEFAULT_RULES, DEFAULT_RULES_NAME)
    }

    /// Loads a user's rules file.
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Rules::parse(&text, &path.display().to_string())
    }

    /// Parses and validates rules text; `name` is used in messages.
    pub fn parse(text: &str, name: &str) -> Result<Rules, RulesError> {
        let file: RulesFile = toml::from_str(text).map_err(|error| {
            let (line, column) = error
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            RulesError::Syntax {
                path: name.to_string(),
                line,
                column,
                reason: error.message().to_string(),
            }
        })?;
        let invalid = |offset: usize, reason: String| {
            let (line, column) = line_column(text, offset);
            RulesError::Invalid {
                path: name.to_string(),
                line,
                column,
                reason,
            }
        };
        if file.version != 1 {
            return Err(invalid(
                0,
                format!("version {} is not supported: use version = 1", file.version),
            ));
        }
        let timezone = super::time::parse_timezone(&file.timezone)
            .map_err(|reason| invalid(text.find("timezone").unwrap_or(0), reason))?;

        let mut events = Vec::with_capacity(file.events.len());
        let mut by_name = Table::default();
        let mut documented = Vec::with_capacity(file.events.len());
        for spanned in &file.events {
            let offset = spanned.span().start;
            let rule = spanned.get_ref();
            if rule.name.trim().is_empty() {
                return Err(invalid(offset, "an event has an empty name".into()));
            }
            if rule.category.event_type() != rule.event_type {
                return Err(invalid(
                    offset,
                    format!(
                        "event `{}`: event_type {:?} does not go with category `{}` (uninstall events have category \"uninstall\", all others are custom_event)",
                        rule.name,
                        rule.event_type,
                        rule.category.as_str()
                    ),
                ));
            }
            if by_name.insert(name_key(&rule.name), events.len()).is_some() {
                return Err(invalid(
                    offset,
                    format!("event `{}` is listed twice", rule.name),
                ));
            }
            if rule.attributes.len() > 128 {
                return Err(invalid(
                    offset,
                    format!(
                        "event `{}` lists {} attributes: at most 128",
                        rule.name,
                        rule.attributes.len()
                    ),
                ));
            }
            let mut attributes: Vec<(String, String)> = Vec::new();
            for attribute in &rule.attributes {
                let key = attribute_key(attribute);
                if !attributes.iter().any(|(known, _)| *known == key) {
                    attributes.push((key, attribute.trim().to_string()));
                }
            }
            documented.push(attributes);
            events.push(EventRule {
                name: rule.name.trim().to_string(),
                category: rule.category,
                attributes: rule
                    .attributes
                    .iter()
                    .map(|a| a.trim().to_string())
                    .collect(),
                flatten_session_props: rule.flatten_session_props,
            });
        }

        let mut aliases = Table::default();
        for (from, to) in &file.aliases {
            if !by_name.contains_key(&name_key(to)) {
                return Err(invalid(
                    text.find(from.as_str()).unwrap_or(0),
                    format!("alias `{from}` points to `{to}`, which is not a listed event"),
                ));
            }
            aliases.insert(name_key(from), to.clone());
        }
        let group = &file.control_group;
        for target in [
            &group.custom,
            &group.system,
            &group.custom_journeys,
            &group.system_journeys,
        ] {
            if !by_name.contains_key(&name_key(target)) {
                return Err(invalid(
                    text.find("[control_group]").unwrap_or(0),
                    format!("control_group names `{target}`, which is not a listed event"),
                ));
            }
        }
        let mut seen_attributes = std::collections::HashSet::new();
        for rule in &file.user_attributes {
            if !seen_attributes.insert(rule.attribute.as_str()) || rule.sources.is_empty() {
                return Err(invalid(
                    text.find(rule.attribute.as_str()).unwrap_or(0),
                    format!(
                        "user attribute `{}` is listed twice or has no sources",
                        rule.attribute
                    ),
                ));
            }
        }

        let mask = match file.mask {
            Some(mask) => {
                validate_mask(&mask)
                    .map_err(|reason| invalid(text.find("[mask]").unwrap_or(0), reason))?;
                mask
            }
            None => default_mask()?,
        };

        Ok(Rules {
            source_name: name.to_string(),
            mask,
            unknown_events: file.unknown_events,
            undocumented_attributes: file.undocumented_attributes,
            missing_identity: file.missing_identity,
            timezone,
            identities: file.identities,
            location_latitude: file
                .location
                .latitude
                .iter()
                .map(|s| attribute_key(s))
                .collect(),
            location_longitude: file
                .location
                .longitude
                .iter()
                .map(|s| attribute_key(s))
                .collect(),
            control_group: file.control_group,
            user_attribute_sources: user_attribute_sources(&file.user_attributes),
            user_attributes: file.user_attributes,
            events,
            by_name,
            aliases,
            documented,
        })
    }

    /// The documented event for a (canonical or CleverTap-spelled) name.
    pub fn event(&self, name: &str) -> Option<(usize, &EventRule)> {
        let key = name_key(name);
        let index = match self.aliases.get(&key) {
            Some(target) => self.by_name.get(&name_key(target)),
            None => self.by_name.get(&key),
        }?;
        Some((*index, &self.events[*index]))
    }

    /// The canonical name of an alias or documented event, if any.
    pub fn canonical_name(&self, name: &str) -> Option<&str> {
        self.event(name).map(|(_, rule)| rule.name.as_str())
    }

    /// The user attribute rules a profile property feeds, as (rule index, rank of this name among
    /// the rule's sources).
    pub fn user_attribute_rules(&self, property: &str) -> &[(usize, usize)] {
        self.user_attribute_sources
            .get(property)
            .map_or(&[], Vec::as_slice)
    }

    /// Whether an attribute (any spelling) is documented for the event at `index`.
    pub fn is_documented(&self, index: usize, attribute: &str) -> bool {
        let mut key = Vec::new();
        attribute_key_into(attribute, &mut key);
        self.documented_position(index, &key).is_some()
    }

    /// The position among the documented attributes of the event at `index` of the one with
    /// this [`attribute_key`], if it is documented.
    pub fn documented_position(&self, index: usize, key: &[u8]) -> Option<usize> {
        self.documented[index]
            .iter()
            .position(|(known, _)| known.as_bytes() == key)
    }

    /// The documented attributes of the event at `index` as (name, [`attribute_key`]), in the
    /// rules' order.
    pub fn documented_keys(&self, index: usize) -> impl Iterator<Item = (&str, &str)> {
        self.documented[index]
            .iter()
            .map(|(key, name)| (name.as_str(), key.as_str()))
    }
}

/// The built-in `[mask]` section, for rules files written before it existed.
fn default_mask() -> Result<MaskRules, RulesError> {
    #[derive(Deserialize)]
    struct MaskOnly {
        mask: MaskRules,
    }
    toml::from_str::<MaskOnly>(DEFAULT_RULES)
        .map(|only| only.mask)
        .map_err(|error| RulesError::Syntax {
            path: DEFAULT_RULES_NAME.to_string(),
            line: 1,
            column: 1,
            reason: error.message().to_string(),
        })
}

/// Every mask pattern names something, with `*` only at its end.
fn validate_mask(mask: &MaskRules) -> Result<(), String> {
    for (list, patterns) in [("fields", &mask.fields), ("properties", &mask.properties)] {
        for pattern in patterns {
            let stem = pattern.strip_suffix('*').unwrap_or(pattern);
            if stem.trim().is_empty() || stem.contains('*') {
                return Err(format!(
                    "mask.{list}: `{pattern}` is not a name or a name ending in `*` (write e.g. \"wzrk_*\")"
                ));
            }
            let path = stem.strip_suffix('.').unwrap_or(stem);
            if list == "fields" && path.split('.').any(str::is_empty) {
                return Err(format!(
                    "mask.fields: `{pattern}` has an empty segment: write a dotted path such as \"deviceInfo.make\""
                ));
            }
        }
    }
    Ok(())
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_load_with_all_25_documented_events() {
        let rules = Rules::default_rules().unwrap();
        assert_eq!(rules.events.len(), 25);
        let count = |c: Category| rules.events.iter().filter(|e| e.category == c).count();
        assert_eq!(count(Category::Other), 14);
        assert_eq!(count(Category::Attribution), 5);
        assert_eq!(count(Category::Uninstall), 1);
        assert_eq!(count(Category::Navigation), 1);
        assert_eq!(count(Category::UserContent), 2);
        assert_eq!(count(Category::Location), 2);
    }

    #[test]
    fn clevertap_spellings_resolve_to_document_names() {
        let rules = Rules::default_rules().unwrap();
        assert_eq!(
            rules.canonical_name("AB Experiment Rendered"),
            Some("A/B Experiment Rendered")
        );
        assert_eq!(
            rules.canonical_name("Geocluster  exited"),
            Some("GeoCluster Exited")
        );
        assert_eq!(rules.canonical_name("Notification Delivered"), None);
    }

    #[test]
    fn names_compare_by_case_and_spaces_only() {
        assert!(same_name(" Control  group ", "control Group"));
        assert!(!same_name("Control Group", "Control Groups"));
        assert!(!same_name("Control", "Control Group"));
        assert!(same_name("Événement Ü", "événement ü"));
    }

    #[test]
    fn documented_attributes_match_any_spelling() {
        let rules = Rules::default_rules().unwrap();
        let (index, _) = rules.event("A/B Experiment Stopped").unwrap();
        assert!(rules.is_documented(index, "CT Source"));
        assert!(rules.is_documented(index, "Variant Id"));
        assert!(!rules.is_documented(index, "Campaign id"));
    }

    #[test]
    fn unknown_field_is_refused_with_line_and_column() {
        let text = DEFAULT_RULES.replace("unknown_events = \"other\"", "unknown_event = \"other\"");
        let error = Rules::parse(&text, "my.toml").unwrap_err().to_string();
        assert!(error.starts_with("rules file my.toml, line "), "{error}");
        assert!(error.contains("unknown_event"), "{error}");
        let expected_line = text
            .lines()
            .position(|l| l.starts_with("unknown_event "))
            .unwrap()
            + 1;
        assert!(error.contains(&format!("line {expected_line},")), "{error}");
    }

    #[test]
    fn inconsistent_category_and_duplicate_events_are_refused() {
        let text = DEFAULT_RULES.replacen(
            "name = \"Reply Sent\"\nevent_type = \"custom_event\"",
            "name = \"Reply Sent\"\nevent_type = \"uninstall\"",
            1,
        );
        let error = Rules::parse(&text, "r.toml").unwrap_err().to_string();
        assert!(error.contains("Reply Sent"), "{error}");
        let text = DEFAULT_RULES.replacen("name = \"Reply Sent\"", "name = \"App Launched\"", 1);
        let error = Rules::parse(&text, "r.toml").unwrap_err().to_string();
        assert!(error.contains("listed twice"), "{error}");
    }

    #[test]
    fn bad_timezone_is_refused() {
        let text = DEFAULT_RULES.replace("timezone = \"UTC\"", "timezone = \"Mars/Olympus\"");
        let error = Rules::parse(&text, "r.toml").unwrap_err().to_string();
        assert!(error.contains("Mars/Olympus"), "{error}");
    }
}
