//! How the panels write times and sizes for people: one place, so every panel says them alike.

use crate::records::NO_TIME;

/// Milliseconds as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn format_time(millis: i64) -> String {
    if millis == NO_TIME {
        return "—".into();
    }
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| millis.to_string())
}

/// A count with its noun, singular for one: `1 file`, `2 files`.
pub fn counted(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", one_or_many(count, one, many))
}

/// The word (a noun or a verb) that goes with `count`: `one` for 1, else `many`.
pub fn one_or_many<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

/// Bytes for people.
pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
