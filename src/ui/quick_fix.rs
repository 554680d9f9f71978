//! Quick fixes for the held reasons, one click each, for the focused record or every selected
//! record with the same problem: a missing identity (taken from another field), a missing or
//! unknown event name (one of the documented names, or typed), an unreadable time (typed,
//! checked). Each fixed record becomes one edit in the edits file (written at once, off the UI
//! thread) and the records are mapped again.

use egui::RichText;
use serde_json::Value;

use super::commands::Command;
use super::format::counted;
use super::json_view::source_value;
use super::state::App;
use crate::edits::{Edit, file_sha256, sha256_hex};
use crate::mapping::{FindingKind, Outcome, RecordStatus};

/// The problems a quick fix repairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Neither customer id nor email.
    Identity,
    /// No event name, or one the feed document does not list.
    EventName,
    /// No readable event time.
    Time,
}

impl Problem {
    /// Whether `outcome` has this problem.
    pub fn of(self, outcome: &Outcome) -> bool {
        outcome.findings.iter().any(|f| match self {
            Problem::Identity => f.kind == FindingKind::MissingIdentity,
            Problem::EventName => {
                f.kind == FindingKind::NoEventName || f.kind == FindingKind::UnknownEvent
            }
            Problem::Time => f.kind == FindingKind::UnreadableTime,
        })
    }
}

/// Most selected records the quick fix menu maps to count those with a problem.
const COUNT_LIMIT: usize = 10_000;

/// How many records each quick fix would change, for the menu's labels (cached by records,
/// selection and focus, so a frame does not map the selection again).
#[derive(Debug, Clone, PartialEq)]
pub struct FixCounts {
    key: (u64, u64, u64, Option<u32>),
    /// Records with no or an unknown event name (`None`: too many selected to count).
    pub event_name: Option<usize>,
    /// Records with an unreadable time (`None`: too many selected to count).
    pub time: Option<usize>,
}

/// The value at a dotted path of a record (`profile.objectId`), as text, when it is a
/// non-empty string or a number.
pub fn text_at(record: &Value, path: &str) -> Option<String> {
    let value = path
        .split('.')
        .try_fold(record, |value, key| value.get(key))?;
    match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Fields of a record's profile that can stand in for its missing identity: its non-empty
/// text and number values, less the fields the rules call not personal (the `[mask]`
/// allowlist: platform, make, model, versions), which identify no one.
pub fn identity_candidates(source: &[u8], not_personal: &[String]) -> Vec<String> {
    let record = source_value(source);
    let Some(profile) = record.get("profile").and_then(|p| p.as_object()) else {
        return Vec::new();
    };
    profile
        .keys()
        .map(|key| format!("profile.{key}"))
        .filter(|path| !not_personal.iter().any(|field| field == path))
        .filter(|path| text_at(&record, path).is_some())
        .collect()
}

/// A typed event time as CleverTap's `ts`: `YYYYMMDDHHMMSS` or `YYYY-MM-DD HH:MM:SS` (in the
/// account's time zone), or epoch seconds (10 digits) or milliseconds (13 digits).
pub fn parse_time(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("type a time: YYYY-MM-DD HH:MM:SS, YYYYMMDDHHMMSS or epoch seconds".into());
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let separated = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | ' ' | 'T'));
    if !separated {
        return Err(format!(
            "`{text}` is not a time: write YYYY-MM-DD HH:MM:SS, YYYYMMDDHHMMSS or epoch seconds"
        ));
    }
    let plain = digits.len() == text.len();
    match digits.len() {
        14 => chrono::NaiveDateTime::parse_from_str(&digits, "%Y%m%d%H%M%S")
            .map_err(|_| format!("`{text}` is not a valid date and time"))
            .and_then(|_| {
                digits
                    .parse()
                    .map_err(|_| format!("`{text}` is out of range"))
            }),
        10 | 13 if plain => digits
            .parse()
            .map_err(|_| format!("`{text}` is out of range")),
        _ => Err(format!(
            "`{text}` is not a time: write YYYY-MM-DD HH:MM:SS, YYYYMMDDHHMMSS or epoch seconds"
        )),
    }
}

impl App {
    /// Rows a quick fix works on: the selected held records, else the focused one.
    pub(super) fn quick_fix_rows(&self) -> Vec<u32> {
        let held = crate::records::status_code(RecordStatus::Held);
        let metas = &self.records.store().metas;
        let selected: Vec<u32> = self
            .selection
            .iter()
            .filter(|&row| metas.get(row as usize).is_some_and(|m| m.status == held))
            .collect();
        if selected.is_empty() {
            self.focus.into_iter().collect()
        } else {
            selected
        }
    }

    /// How many records have `problem`: the selected ones that have it, else the focused one
    /// if it has; `None` beyond [`COUNT_LIMIT`] selected records that may have it (counting
    /// maps each one).
    fn count_with(&self, problem: Problem) -> Option<usize> {
        let store = self.records.store();
        let with = |row: u32| {
            store
                .outcome(row as usize)
                .filter(|o| problem.of(o))
                .map(|o| (row, o))
        };
        let candidates: Vec<u32> = self
            .selection
            .iter()
            // Records with no finding of warning or error cannot have these problems.
            .filter(|&row| store.metas.get(row as usize).is_some_and(|m| m.worst >= 2))
            .take(COUNT_LIMIT + 1)
            .collect();
        if candidates.len() > COUNT_LIMIT {
            return None;
        }
        let selected = candidates.into_iter().filter_map(with).count();
        Some(if selected == 0 {
            self.focus.and_then(with).map_or(0, |_| 1)
        } else {
            selected
        })
    }

    /// The counts for the quick fix menu (computed once per records, selection and focus).
    pub(super) fn fix_counts(&self) -> FixCounts {
        let key = (
            self.records.epoch,
            self.data_version,
            self.selection.version(),
            self.focus,
        );
        if let Some(counts) = self.fix_counts.borrow().as_ref()
            && counts.key == key
        {
            return counts.clone();
        }
        let counts = FixCounts {
            key,
            event_name: self.count_with(Problem::EventName),
            time: self.count_with(Problem::Time),
        };
        self.fix_counts.replace(Some(counts.clone()));
        counts
    }

    /// Sets `profile.identity` from the field at `from` in each held record without an
    /// identity (the selected ones, else the focused one): one edit each, written at once.
    pub(super) fn quick_fix_identity(&mut self, from: &str) {
        let store = self.records.store();
        let mut planned = Vec::new();
        let mut skipped = 0;
        for row in self.quick_fix_rows() {
            let Some(outcome) = store.outcome(row as usize) else {
                continue;
            };
            let Some(mut record) = outcome.source.as_deref().map(source_value) else {
                continue;
            };
            let value = text_at(&record, from);
            let (true, Some(value), Some(profile)) = (
                Problem::Identity.of(&outcome),
                value,
                record.get_mut("profile").and_then(|p| p.as_object_mut()),
            ) else {
                skipped += 1;
                continue;
            };
            profile.insert("identity".into(), Value::String(value));
            planned.extend(self.planned_edit(row, &outcome, &record));
        }
        if planned.is_empty() {
            self.status = format!("nothing to fix: no held record without an identity has {from}");
            return;
        }
        self.status = format!(
            "setting the customer id from {from} on {} records{}…",
            planned.len(),
            if skipped > 0 {
                format!(
                    " ({skipped} selected records skipped: not held for identity, or no {from})"
                )
            } else {
                String::new()
            }
        );
        self.write_planned(planned);
    }

    /// Sets `eventName` to `name` in each record with no or an unknown event name (the selected
    /// ones with that problem, else the focused one).
    pub(super) fn quick_fix_event_name(&mut self, name: &str) {
        let name = name.trim().to_string();
        if name.is_empty() {
            self.errors
                .push("the quick fix needs an event name: pick one or type one".into());
            return;
        }
        let what = format!("event name to {name}");
        self.quick_fix(Problem::EventName, &what, move |record| {
            record.insert("eventName".into(), Value::String(name.clone()));
        });
    }

    /// Sets `ts` to the typed time (checked first) in each record with an unreadable time (the
    /// selected ones with that problem, else the focused one).
    pub(super) fn quick_fix_time(&mut self, text: &str) {
        let ts = match parse_time(text) {
            Ok(ts) => ts,
            Err(why) => {
                self.errors.push(format!("the time is not set: {why}"));
                return;
            }
        };
        self.quick_fix(Problem::Time, &format!("time to {ts}"), move |record| {
            record.insert("ts".into(), Value::from(ts));
        });
    }

    /// Changes each record with `problem` with `change` and keeps the results as edits: the
    /// selected records with the problem, else the focused one. The records are read, changed
    /// and checked on the edits worker thread (a selection may be large), then written at once.
    fn quick_fix(
        &mut self,
        problem: Problem,
        what: &str,
        change: impl Fn(&mut serde_json::Map<String, Value>) + Send + 'static,
    ) {
        let store = self.records.share();
        let metas = &store.metas;
        // Records with no finding of warning or error cannot have these problems.
        let selected: Vec<u32> = self
            .selection
            .iter()
            .filter(|&row| metas.get(row as usize).is_some_and(|m| m.worst >= 2))
            .collect();
        let focus = self.focus;
        let engine = self.engine.clone();
        let what = what.to_string();
        self.status = format!("setting the {what}…");
        self.change_edits(move |edits| -> Result<(), String> {
            let fix = |row: u32| -> Option<Result<Edit, String>> {
                let outcome = store.outcome(row as usize).filter(|o| problem.of(o))?;
                let mut record = outcome.source.as_deref().map(source_value)?;
                change(record.as_object_mut()?);
                if let Some(why) = still_has(&engine, &outcome, &record, problem) {
                    return Some(Err(format!(
                        "the {what} does not repair {}: {why}",
                        outcome.place
                    )));
                }
                plan_edit(&store, edits, row, &outcome, &record).map(Ok)
            };
            let mut planned = selected
                .iter()
                .filter_map(|&row| fix(row))
                .collect::<Result<Vec<Edit>, String>>()?;
            if planned.is_empty() {
                planned = focus
                    .and_then(fix)
                    .transpose()?
                    .into_iter()
                    .collect::<Vec<Edit>>();
            }
            if planned.is_empty() {
                return Err(format!(
                    "nothing to fix: neither the selected records nor the focused one have that problem ({what})"
                ));
            }
            with_file_hashes(&mut planned).map_err(|e| e.to_string())?;
            edits.apply_all(planned).map(|_| ()).map_err(|e| e.to_string())
        });
    }

    /// The edit that makes `record` the text of the record at `row`.
    fn planned_edit(&self, row: u32, outcome: &Outcome, record: &Value) -> Option<Edit> {
        plan_edit(self.records.store(), &self.edits, row, outcome, record)
    }

    /// Writes planned edits (hashing their input files once each) off the UI thread.
    fn write_planned(&mut self, mut planned: Vec<Edit>) {
        self.change_edits(move |edits| {
            with_file_hashes(&mut planned)?;
            edits.apply_all(planned).map(|_| ())
        });
    }
}

/// The finding of `problem` that `record` (the fixed text of `outcome`) still has, mapped again,
/// if any (the identity and event name fixes cannot fail that way: only the time is checked).
fn still_has(
    engine: &crate::mapping::Engine,
    outcome: &Outcome,
    record: &Value,
    problem: Problem,
) -> Option<String> {
    if problem != Problem::Time {
        return None;
    }
    let text = serde_json::to_vec(record).ok()?;
    let value = crate::clevertap::parse_text(&outcome.place, &text).ok()?;
    let fixed = engine.map_text(outcome.place.clone(), &text, value, None);
    problem.of(&fixed).then(|| {
        fixed
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::UnreadableTime)
            .map_or_else(String::new, |f| f.message.clone())
    })
}

/// The edit that makes `record` the text of the record at `row` (keeping the original's id and
/// hash when it was edited before); its input file's hash is filled in by [`with_file_hashes`].
fn plan_edit(
    store: &crate::records::Store,
    edits: &crate::edits::EditsFile,
    row: u32,
    outcome: &Outcome,
    record: &Value,
) -> Option<Edit> {
    let (path, line, column, csv_row) = store.place_key(row as usize)?;
    let csv_row = (csv_row > 0).then_some(csv_row);
    let existing = edits.find(&path, line, column, csv_row);
    Some(Edit {
        file: path.to_path_buf(),
        file_sha256: String::new(),
        line,
        column,
        csv_row,
        id: match existing {
            Some(edit) => edit.id.clone(),
            None => outcome.mapped.as_ref().map(|m| m.record_id.to_string()),
        },
        original_sha256: match existing {
            Some(edit) => edit.original_sha256.clone(),
            None => outcome.source.as_deref().map(sha256_hex),
        },
        text: serde_json::to_string(record).unwrap_or_default(),
    })
}

/// Fills in each edit's input file hash, hashing each file once.
fn with_file_hashes(planned: &mut [Edit]) -> Result<(), crate::edits::EditsError> {
    let mut hashes: std::collections::HashMap<std::path::PathBuf, String> =
        std::collections::HashMap::new();
    for edit in planned.iter_mut() {
        let hash = match hashes.get(&edit.file) {
            Some(hash) => hash.clone(),
            None => {
                let hash = file_sha256(&edit.file)?;
                hashes.insert(edit.file.clone(), hash.clone());
                hash
            }
        };
        edit.file_sha256 = hash;
    }
    Ok(())
}

/// The detail view's "Quick fix…" menu for the focused record's held reasons (drawn only when
/// it has one of them).
pub fn quick_fix_menu_ui(
    ui: &mut egui::Ui,
    app: &App,
    outcome: &Outcome,
    commands: &mut Vec<Command>,
) {
    let identity = Problem::Identity.of(outcome);
    let event_name = Problem::EventName.of(outcome);
    let time = Problem::Time.of(outcome);
    if !(identity || event_name || time) {
        return;
    }
    // Clicks inside stay inside: the typed name and time are text fields; a fix closes it.
    let config = egui::containers::menu::MenuConfig::new()
        .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside);
    egui::containers::menu::MenuButton::new("Quick fix…")
        .config(config)
        .ui(ui, |ui| {
            if let (true, Some(source)) = (identity, &outcome.source) {
                identity_ui(ui, app, source, commands);
            }
            let counts = (event_name || time).then(|| app.fix_counts());
            if let (true, Some(counts)) = (event_name, &counts) {
                event_name_ui(ui, app, counts.event_name, commands);
            }
            if let (true, Some(counts)) = (time, &counts) {
                time_ui(ui, counts.time, commands);
            }
        });
}

/// Pushes `command` and closes the quick fix menu.
fn fix(ui: &egui::Ui, commands: &mut Vec<Command>, command: Command) {
    commands.push(command);
    ui.close();
}

fn identity_ui(ui: &mut egui::Ui, app: &App, source: &[u8], commands: &mut Vec<Command>) {
    let candidates = identity_candidates(source, &app.engine.rules().mask.fields);
    let count = app.quick_fix_rows().len();
    if candidates.is_empty() {
        ui.label("No field of this record's profile can stand in: use Edit record…");
    }
    for path in candidates {
        let label = format!(
            "Set the customer id from {path} ({})",
            counted(count, "held record", "held records")
        );
        if ui
            .button(label)
            .on_hover_text("For each selected held record without an identity (else this one): profile.identity takes that field's value; one edit each, in the edits file")
            .clicked()
        {
            fix(ui, commands, Command::QuickFixIdentity(path));
        }
    }
}

fn records(count: Option<usize>) -> String {
    match count {
        Some(1) => "this record".into(),
        Some(count) => format!("{count} selected records"),
        None => "the selected records with this problem".into(),
    }
}

fn event_name_ui(ui: &mut egui::Ui, app: &App, count: Option<usize>, commands: &mut Vec<Command>) {
    ui.menu_button(format!("Set the event name ({})…", records(count)), |ui| {
        ui.label(
            RichText::new("One of the events of the CleverTap feed document:")
                .small()
                .weak(),
        );
        egui::ScrollArea::vertical()
            .id_salt("quick_fix_event_names")
            .max_height(320.0)
            .show(ui, |ui| {
                for event in &app.engine.rules().events {
                    let label = format!("Set event name to {} for {}", event.name, records(count));
                    if ui
                        .button(label)
                        .on_hover_text(format!("category {}", event.category.label()))
                        .clicked()
                    {
                        fix(ui, commands, Command::QuickFixEventName(event.name.clone()));
                    }
                }
            });
        ui.separator();
        let id = ui.make_persistent_id("quick_fix_typed_name");
        let mut typed: String = ui.data_mut(|d| d.get_temp(id)).unwrap_or_default();
        ui.horizontal(|ui| {
            let label = ui.label("or type one:");
            ui.add(egui::TextEdit::singleline(&mut typed).desired_width(180.0))
                .labelled_by(label.id);
            if ui
                .add_enabled(!typed.trim().is_empty(), egui::Button::new("Set"))
                .clicked()
            {
                fix(
                    ui,
                    commands,
                    Command::QuickFixEventName(typed.trim().to_string()),
                );
            }
        });
        ui.data_mut(|d| d.insert_temp(id, typed));
    });
}

fn time_ui(ui: &mut egui::Ui, count: Option<usize>, commands: &mut Vec<Command>) {
    ui.menu_button(format!("Set the time ({})…", records(count)), |ui| {
        let id = ui.make_persistent_id("quick_fix_typed_time");
        let mut typed: String = ui.data_mut(|d| d.get_temp(id)).unwrap_or_default();
        ui.horizontal(|ui| {
            let label = ui.label("Event time:");
            ui.add(
                egui::TextEdit::singleline(&mut typed)
                    .desired_width(200.0)
                    .hint_text("2022-03-01 10:00:12"),
            )
            .labelled_by(label.id);
        });
        let checked = parse_time(&typed);
        match &checked {
            Ok(ts) => {
                ui.label(RichText::new(format!("ts = {ts} (in the account's time zone)")).small())
            }
            Err(why) => ui.label(
                RichText::new(why)
                    .small()
                    .color(super::theme::severity_color(2, ui.visuals().dark_mode)),
            ),
        };
        if ui
            .add_enabled(
                checked.is_ok(),
                egui::Button::new(format!("Set the time for {}", records(count))),
            )
            .clicked()
        {
            fix(ui, commands, Command::QuickFixTime(typed.clone()));
        }
        ui.data_mut(|d| d.insert_temp(id, typed));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_personal_profile_fields_can_stand_in_for_an_identity() {
        let source = br#"{"profile": {"platform": "Android", "objectId": "__g3c8", "phone": 123, "name": ""}}"#;
        let rules = crate::mapping::Rules::default_rules().unwrap();
        assert_eq!(
            identity_candidates(source, &rules.mask.fields),
            ["profile.objectId", "profile.phone"]
        );
    }

    #[test]
    fn typed_times_are_checked_and_written_as_ts() {
        assert_eq!(parse_time("2022-03-01 10:00:12"), Ok(20220301100012));
        assert_eq!(parse_time("20220301100012"), Ok(20220301100012));
        assert_eq!(parse_time("1646128812"), Ok(1646128812));
        assert_eq!(parse_time("1646128812000"), Ok(1646128812000));
        assert!(parse_time("2022-02-30 10:00:00").is_err());
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("").is_err());
        assert!(parse_time("12345").is_err());
    }
}
