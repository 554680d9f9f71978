//! A reproducible generator of realistic CleverTap export records, for benchmarks and for
//! trying the window on big files: all 25 documented events in CleverTap's spellings plus some
//! of an app's own, 3 to 30 properties each, type drift, about 100k users.
//!
//! `cargo run --release --example gen_export -- --events 1000000 -o big.jsonl`
//! (`--format gzip` or `--format csv`; `--seed N` for another, equally reproducible, file).

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Ndjson,
    Gzip,
    Csv,
}

/// Generate a CleverTap export file.
#[derive(Debug, Parser)]
struct Args {
    /// Number of records.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Output file.
    #[arg(short, long)]
    output: PathBuf,
    /// NDJSON, gzip-compressed NDJSON, or CSV with dotted headers.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    format: Format,
    /// Number of distinct users.
    #[arg(long, default_value_t = 100_000)]
    users: u64,
    /// Random seed: the same seed gives the same file.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// (CleverTap's spelling, documented attributes)
const EVENTS: &[(&str, &[&str])] = &[
    (
        "App Launched",
        &[
            "CT Network Carrier",
            "CT Source",
            "CT Bluetooth Version",
            "Keyword",
            "CT SDK Version",
            "CT Bluetooth Enabled",
            "CT OS Version",
            "CT Network Type",
            "Model",
            "CT Longitude",
            "CT Latitude",
            "CT Connected To WiFi",
            "CT Session Id",
            "CT App Version",
        ],
    ),
    ("Notification Sent", &["Campaign ID", "Campaign name"]),
    (
        "App Version Changed",
        &[
            "CT App Version",
            "CT App Version Prev",
            "CT Latitude",
            "CT Longitude",
            "CT Source",
        ],
    ),
    (
        "AB Experiment Stopped",
        &[
            "CT Source",
            "Stickiness",
            "Mutually Exclusive",
            "Variant",
            "Variant Id",
            "Version",
            "Experiment Id",
        ],
    ),
    (
        "AB Experiment Rolled Out",
        &[
            "Variant",
            "Variant Id",
            "CT Source",
            "Version",
            "Experiment Id",
            "Stickiness",
            "Mutually Exclusive",
        ],
    ),
    (
        "AB Experiment Disqualified",
        &[
            "Variant",
            "Variant Id",
            "CT Source",
            "Version",
            "Experiment Id",
            "Stickiness",
            "Mutually Exclusive",
        ],
    ),
    (
        "AB Experiment Rendered",
        &[
            "Variant",
            "Variant Id",
            "CT Source",
            "Version",
            "Experiment Id",
            "Stickiness",
            "Mutually Exclusive",
        ],
    ),
    (
        "Channel Unsubscribed",
        &[
            "Variant",
            "Resubscribed",
            "Group",
            "Type",
            "Campaign id",
            "Subscription Type",
            "Identity",
            "Reason",
            "Campaign type",
        ],
    ),
    (
        "State Transitioned",
        &["Destination", "Type", "Model", "Source"],
    ),
    ("Session Concluded", &["Session Length", "Session Id"]),
    (
        "Control Group",
        &[
            "CT Source",
            "wzrk_id",
            "wzrk_pivot",
            "Campaign id",
            "Campaign name",
            "Campaign type",
        ],
    ),
    (
        "App Installed",
        &["ct_app_version", "CT Source", "ct_latitude", "ct_longitude"],
    ),
    (
        "Notification Viewed",
        &[
            "wzrk_acts",
            "wzrk_cts",
            "wzrk_sound",
            "wzrk_c2a",
            "wzrk_pid",
            "wzrk_acct_id",
            "wzrk_pivot",
            "wzrk_cid",
            "wzrk_dl",
            "wzrk_bi",
            "wzrk_id",
            "wzrk_ttl",
            "Campaign type",
            "Campaign id",
            "Campaign name",
            "CT Source",
            "CT Session Id",
            "CT App Version",
        ],
    ),
    (
        "Notification Clicked",
        &[
            "wzrk_bc",
            "wzrk_bi",
            "wzrk_c2a",
            "wzrk_cid",
            "wzrk_acct_id",
            "wzrk_ck",
            "wzrk_cts",
            "wzrk_dl",
            "wzrk_pid",
            "wzrk_pivot",
            "wzrk_ttl",
            "Campaign id",
            "Campaign type",
            "CT App Version",
        ],
    ),
    (
        "Push Impressions",
        &[
            "wzrk_cts",
            "wzrk_pid",
            "wzrk_acct_id",
            "wzrk_pivot",
            "wzrk_cid",
            "wzrk_id",
            "wzrk_ttl",
            "Campaign type",
            "Campaign id",
            "Campaign name",
            "CT Source",
            "CT Session Id",
        ],
    ),
    (
        "Webhook Delivered",
        &[
            "ContentName",
            "CT Source",
            "ct_app_version",
            "Campaign Id",
            "mp_processing_time_ms",
        ],
    ),
    (
        "App Uninstalled",
        &["CT Source", "clevertapId", "token", "source"],
    ),
    (
        "UTM Visited",
        &[
            "Campaign id",
            "CT Latitude",
            "CT Longitude",
            "CT App Version",
        ],
    ),
    (
        "Notification Replied",
        &[
            "CT Source",
            "wzrk_id",
            "Campaign id",
            "Campaign type",
            "Campaign Name",
        ],
    ),
    ("Reply Sent", &["CT Source", "Campaign id", "Campaign type"]),
    (
        "Geocluster Entered",
        &[
            "ct_source",
            "network_carrier",
            "longitude",
            "latitude",
            "os_version",
            "application_version",
            "ct_sdk_version",
            "geofence_id",
            "cluster_name",
            "cluster_id",
            "ct_connected_to_wifi",
        ],
    ),
    (
        "Geocluster Exited",
        &[
            "ct_source",
            "network_carrier",
            "longitude",
            "latitude",
            "os_version",
            "application_version",
            "ct_sdk_version",
            "geofence_id",
            "cluster_name",
            "cluster_id",
            "ct_connected_to_wifi",
        ],
    ),
    (
        "Added To Cart",
        &["Product Name", "Price", "Currency", "Quantity"],
    ),
    ("Charged", &["Amount", "Currency", "Payment mode", "Items"]),
    (
        "Notification Delivered",
        &["CT Source", "wzrk_id", "Campaign id"],
    ),
];

const EXTRA: &[&str] = &[
    "Screen",
    "Plan",
    "Tier",
    "Referrer",
    "Language",
    "Theme",
    "Cohort",
    "Store",
    "City",
    "Segment",
    "Experiment Arm",
    "Battery",
    "Orientation",
    "Build",
];
const WORDS: &[&str] = &[
    "Mobile",
    "Push",
    "Email",
    "Web",
    "spring_launch",
    "organic",
    "google-play",
    "airtel",
    "jio",
    "WiFi",
    "4G",
    "Weekend offers",
    "Onboarding",
    "B",
    "A",
    "true",
    "false",
];

fn value(rng: &mut fastrand::Rng, name: &str) -> Value {
    let lower = name.to_ascii_lowercase();
    if lower.contains("latitude") {
        return if rng.bool() {
            json!(rng.f64() * 170.0 - 85.0)
        } else {
            json!(format!("{:.4}", rng.f64() * 170.0 - 85.0))
        };
    }
    if lower.contains("longitude") {
        return json!(rng.f64() * 350.0 - 175.0);
    }
    if lower.contains("id")
        || lower.contains("version")
        || lower.contains("length")
        || lower.contains("price")
    {
        let number = rng.u64(1..2_000_000_000);
        // type drift: the same property as a number in one record and a string in the next
        return if rng.bool() {
            json!(number)
        } else {
            json!(number.to_string())
        };
    }
    if lower.contains("enabled")
        || lower.contains("wifi")
        || lower.contains("stickiness")
        || lower.contains("exclusive")
    {
        return if rng.bool() {
            json!(rng.bool())
        } else {
            json!(rng.bool().to_string())
        };
    }
    if lower == "wzrk_acts" || lower == "items" {
        return json!([{"l": "Open", "dl": "acme://home"}, {"l": "Later"}]);
    }
    json!(WORDS[rng.usize(..WORDS.len())])
}

fn record(rng: &mut fastrand::Rng, users: u64) -> Value {
    let (name, documented) = EVENTS[rng.usize(..EVENTS.len())];
    let user = rng.u64(0..users);
    let wanted = rng.usize(3..=30);
    let mut props = Map::new();
    for attribute in documented.iter().take(wanted) {
        if rng.u8(..10) < 8 {
            props.insert(attribute.to_string(), value(rng, attribute));
        }
    }
    let mut index = 0;
    while props.len() < wanted && index < EXTRA.len() * 3 {
        let attribute = format!("{} {}", EXTRA[index % EXTRA.len()], index / EXTRA.len());
        props.insert(attribute.clone(), value(rng, &attribute));
        index += 1;
    }
    if name == "Control Group" && rng.bool() {
        props.insert("Journey id".into(), json!(rng.u32(1..9999)));
    }
    let day = rng.u32(1..=28);
    let ts = format!(
        "20{:02}{:02}{day:02}{:02}{:02}{:02}",
        rng.u32(22..=26),
        rng.u32(1..=12),
        rng.u32(0..24),
        rng.u32(0..60),
        rng.u32(0..60)
    );
    let android = !user.is_multiple_of(3);
    let mut profile = json!({
        "objectId": format!("__g{user:032x}"),
        "platform": if android { "Android" } else { "iOS" },
        "phone": 910_000_000_000_u64 + user,
    });
    if !user.is_multiple_of(10) {
        profile["identity"] = json!(format!("{}", 6_100_000_000_000_000_u64 + user));
    }
    if user.is_multiple_of(4) {
        profile["email"] = json!(format!("user{user}@example.com"));
        profile["all_identities"] = json!([format!("user{user}@example.com"), user.to_string()]);
    }
    let mut record = json!({
        "ts": ts.parse::<u64>().unwrap_or(20220101000000),
        "eventName": name,
        "profile": profile,
        "deviceInfo": {"make": if android { "samsung" } else { "Apple" }, "model": if android { "SM-G781B" } else { "iPhone14,5" },
                       "appVersion": format!("4.{}.{}", user % 5, user % 9), "sdkVersion": "40300", "osVersion": "13", "browser": "MobileApp", "dpi": 420},
        "eventProps": props,
    });
    if name == "UTM Visited" || name == "Webhook Delivered" {
        record["sessionProps"] = json!({"session_source": "Others", "utm_source": "google-play", "utm_medium": "organic", "utm_campaign": "spring_launch"});
    }
    if name == "Control Group" && rng.bool() {
        record["controlGroupName"] = json!("Holdout 10%");
    }
    record
}

const CSV_COLUMNS: &[&str] = &[
    "ts",
    "eventName",
    "profile.identity",
    "profile.email",
    "profile.objectId",
    "profile.platform",
    "deviceInfo.make",
    "deviceInfo.model",
    "deviceInfo.appVersion",
    "deviceInfo.osVersion",
    "eventProps.CT Source",
    "eventProps.Campaign id",
    "eventProps.CT App Version",
    "eventProps.CT Session Id",
    "eventProps.CT Latitude",
    "eventProps.CT Longitude",
    "eventProps.Variant",
    "eventProps.wzrk_id",
];

fn csv_cell(record: &Value, column: &str) -> String {
    if let Some(property) = column.strip_prefix("eventProps.") {
        return record["eventProps"]
            .get(property)
            .map(text)
            .unwrap_or_default();
    }
    let mut current = record;
    for part in column.split('.') {
        current = match current.get(part) {
            Some(next) => next,
            None => return String::new(),
        };
    }
    text(current)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let file = std::fs::File::create(&args.output)?;
    let mut out: Box<dyn Write> = match args.format {
        Format::Gzip => Box::new(flate2::write::GzEncoder::new(
            BufWriter::with_capacity(1 << 20, file),
            flate2::Compression::fast(),
        )),
        _ => Box::new(BufWriter::with_capacity(1 << 20, file)),
    };
    if matches!(args.format, Format::Csv) {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer.write_record(CSV_COLUMNS)?;
        for _ in 0..args.events {
            let record = record(&mut rng, args.users.max(1));
            writer.write_record(CSV_COLUMNS.iter().map(|c| csv_cell(&record, c)))?;
        }
        writer.flush()?;
    } else {
        for _ in 0..args.events {
            serde_json::to_writer(&mut out, &record(&mut rng, args.users.max(1)))?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    drop(out);
    eprintln!("wrote {} records to {}", args.events, args.output.display());
    Ok(())
}
