//! The event name and chunk index in CleverTap export file names:
//! `<request id>-<run epoch>-<event name>-<yyyymmdd>-<file index>-<db id>.json[.gz]`.

/// What an export file name tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExportFileName {
    /// The event name (may contain `-` and spaces).
    pub(crate) event_name: String,
    /// The chunk's index in the export's file series.
    pub(crate) file_index: u32,
    /// The export request id (everything before the run epoch).
    pub(crate) request_id: String,
    /// The export run's epoch (seconds or milliseconds), as written.
    pub(crate) run_epoch: u64,
    /// The `yyyymmdd` date of the chunk's events.
    pub(crate) date: String,
}

/// Extensions stripped (repeatedly, in any case) before the pattern is matched.
const EXTENSIONS: [&str; 4] = [".gz", ".gzip", ".json", ".csv"];

/// Parses an export file name; `None` when the name does not follow the pattern.
pub(crate) fn parse_export_file_name(file_name: &str) -> Option<ExportFileName> {
    let mut stem = file_name;
    while let Some(shorter) = EXTENSIONS
        .iter()
        .find_map(|ext| strip_suffix_ignore_case(stem, ext))
    {
        stem = shorter;
    }
    let parts: Vec<&str> = stem.split('-').collect();
    // request id, run epoch, event name, date, file index, db id: at least six parts.
    let count = parts.len();
    if count < 6 {
        return None;
    }
    let db_id = parts.get(count - 1)?;
    let file_index = parts.get(count - 2)?;
    let date = parts.get(count - 3)?;
    if db_id.is_empty() || !is_digits(file_index) || !is_date(date) {
        return None;
    }
    let file_index: u32 = file_index.parse().ok()?;
    // The request id is not documented as digits and might itself hold dashes, so the run epoch
    // is the first part after it that looks like epoch seconds or milliseconds.
    let epoch_at = (1..count - 4).find(|&at| parts.get(at).is_some_and(|part| is_epoch(part)))?;
    let event_name = parts.get(epoch_at + 1..count - 3)?.join("-");
    if event_name.trim().is_empty() {
        return None;
    }
    let run_epoch = parts.get(epoch_at)?.parse().ok()?;
    let request_id = parts.get(..epoch_at)?.join("-");
    Some(ExportFileName {
        event_name,
        file_index,
        request_id,
        run_epoch,
        date: (*date).to_string(),
    })
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    let (head, tail) = (text.get(..cut)?, text.get(cut..)?);
    (tail.eq_ignore_ascii_case(suffix) && !head.is_empty()).then_some(head)
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn is_epoch(text: &str) -> bool {
    is_digits(text) && (9..=13).contains(&text.len())
}

fn is_date(text: &str) -> bool {
    if text.len() != 8 || !is_digits(text) {
        return false;
    }
    let month: u32 = text.get(4..6).and_then(|m| m.parse().ok()).unwrap_or(0);
    let day: u32 = text.get(6..8).and_then(|d| d.parse().ok()).unwrap_or(0);
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(name: &str) -> Option<(String, u32)> {
        parse_export_file_name(name).map(|p| (p.event_name, p.file_index))
    }

    #[test]
    fn plain_export_names() {
        assert_eq!(
            parsed("1650000000-1650003600-App Launched-20220415-0-5.json.gz"),
            Some(("App Launched".to_string(), 0))
        );
        assert_eq!(
            parsed("77-1650003600-Charged-20220415-12-db1.json"),
            Some(("Charged".to_string(), 12))
        );
        assert_eq!(
            parsed("77-1650003600-Charged-20220415-3-9.csv.gzip"),
            Some(("Charged".to_string(), 3))
        );
        assert_eq!(
            parsed("77-1650003600-Charged-20220415-3-9.JSON.GZ"),
            Some(("Charged".to_string(), 3))
        );
    }

    #[test]
    fn event_names_with_dashes_and_digits() {
        assert_eq!(
            parsed("1234-1650003600-Check-out - Step 2-20220415-1-5.json"),
            Some(("Check-out - Step 2".to_string(), 1))
        );
        assert_eq!(
            parsed("1234-1650003600-2021-Promo-20220415-1-5.json"),
            Some(("2021-Promo".to_string(), 1))
        );
        // A request id with dashes (a UUID) before the epoch.
        assert_eq!(
            parsed("9f1c2d3e-aa12-4b5c-8d9e-abcdefabcdef-1650003600-UTM Visited-20220415-2-5.json"),
            Some(("UTM Visited".to_string(), 2))
        );
        let name =
            parse_export_file_name("9f1c-aa12-1650003600-UTM Visited-20220415-2-5.json").unwrap();
        assert_eq!(
            (name.request_id.as_str(), name.run_epoch, name.date.as_str()),
            ("9f1c-aa12", 1_650_003_600, "20220415")
        );
    }

    #[test]
    fn other_names_do_not_match() {
        for name in [
            "events.jsonl",
            "clevertap-docs__export-file-formats__events.jsonl",
            "a-b-c-d-e-f.json",
            "1-1650003600-App Launched-20221399-0-5.json",
            "1-1650003600-App Launched-20220415-x-5.json",
            "1-1650003600--20220415-0-5.json",
            "1-1650003600-20220415-0-5.json",
            ".json.gz",
        ] {
            assert_eq!(parsed(name), None, "{name}");
        }
    }
}
