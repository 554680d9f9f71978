//! The rules editor (egui_kittest, no GPU): a draft is checked as it is typed, previewed over
//! every loaded record, and the preview's counts are what Apply then does; an alias added from
//! a record, Save as, and the built-in rules never written over.

use crate::ui_support::{Window, settle, window};

use std::path::Path;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use feedlens::ui::{App, Command, Pick, StartOptions};

/// The text of the first node whose label contains `part` (a label's text is its value, a
/// button's its label).
fn text_of(harness: &Harness<'static, App>, part: &str) -> String {
    let node = harness.get_by_label_contains(part);
    let node = node.accesskit_node();
    node.value().or(node.label()).unwrap_or_default()
}

/// The count a tab's label shows ("Other (25)" → 25).
fn tab_count(harness: &Harness<'static, App>, tab: &str) -> i64 {
    let label = text_of(harness, &format!("{tab} ("));
    label
        .trim_start_matches(tab)
        .trim_matches(|c| c == ' ' || c == '(' || c == ')')
        .parse()
        .unwrap_or_else(|_| panic!("no count in {label:?}"))
}

/// A window on the bundled samples, loaded.
fn samples_window() -> Window {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut harness = window(StartOptions {
        files: vec![samples],
        ..StartOptions::default()
    });
    settle(&mut harness);
    harness
}

#[test]
fn the_preview_counts_what_apply_then_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = samples_window();
    let other = tab_count(&harness, "Other");
    let held = tab_count(&harness, "Unmapped/Held");

    // The rules in force, unchanged, change nothing.
    harness.state_mut().push(Command::OpenRulesEditor);
    settle(&mut harness);
    harness.get_by_label("No record would change.");
    let text = harness.state().rules_draft_text().unwrap().to_string();
    assert_eq!(text, feedlens::mapping::DEFAULT_RULES);

    // A typo shows its line and column; the last valid draft stays in force for the preview.
    let broken = text.replacen("unknown_events = \"other\"", "unknown_events = other", 1);
    harness.state_mut().push(Command::SetRulesText(broken));
    settle(&mut harness);
    harness.get_by_label_contains("line 13, column 18");
    harness.get_by_label("No record would change.");

    // Holding unknown events: the preview says how many leave Other for Unmapped/Held.
    let hold = text.replacen("unknown_events = \"other\"", "unknown_events = \"hold\"", 1);
    harness
        .state_mut()
        .push(Command::SetRulesText(hold.clone()));
    settle(&mut harness);
    let summary = text_of(&harness, "Unmapped/Held +");
    let moved: i64 = summary
        .split("Unmapped/Held +")
        .nth(1)
        .and_then(|n| n.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(moved > 0);
    assert!(summary.contains(&format!("Other −{moved}")), "{summary}");
    // Each of them changes status; none that was sent sends another event or user.
    harness.get_by_label(&format!(
        "{moved} records change status · 0 records send a different event or user · {moved} changed in all"
    ));

    // Save as writes the draft (the built-in rules are embedded and never written over).
    let saved = dir.path().join("hold.toml");
    harness
        .state_mut()
        .push(Command::ShowDialog(Pick::SaveRules));
    harness
        .state_mut()
        .push(Command::SetPathText(saved.display().to_string()));
    harness.state_mut().push(Command::ConfirmPath);
    settle(&mut harness);
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), hold);

    // Apply does what the preview said, and the saved file is the rules in force.
    harness.get_by_label("Apply").click();
    settle(&mut harness);
    assert!(harness.state().rules_draft_text().is_none());
    assert_eq!(tab_count(&harness, "Other"), other - moved);
    assert_eq!(tab_count(&harness, "Unmapped/Held"), held + moved);
    assert_eq!(harness.state().rules_name(), saved.display().to_string());

    // From a record: an alias for an unknown spelling, into a new draft of the saved rules.
    harness.state_mut().push(Command::AddAlias {
        spelling: "Notification Delivered".into(),
        name: "Notification Viewed".into(),
    });
    settle(&mut harness);
    let draft = harness.state().rules_draft_text().unwrap().to_string();
    assert!(draft.contains("\"Notification Delivered\" = \"Notification Viewed\""));
    harness.get_by_label_contains("made an alias of Notification Viewed");
    let summary = text_of(&harness, "Unmapped/Held −");
    assert!(summary.contains("Unmapped/Held −"), "{summary}");
    // Discard keeps the rules in force as they were.
    harness.get_by_label("Discard").click();
    settle(&mut harness);
    assert!(harness.state().rules_draft_text().is_none());
    assert_eq!(tab_count(&harness, "Unmapped/Held"), held + moved);
    assert!(
        harness.state().errors().is_empty(),
        "{:?}",
        harness.state().errors()
    );
}

#[test]
fn reloading_keeps_a_draft_applied_and_not_saved() {
    let mut harness = samples_window();
    let held = tab_count(&harness, "Unmapped/Held");
    harness.state_mut().push(Command::OpenRulesEditor);
    settle(&mut harness);
    let text = harness.state().rules_draft_text().unwrap().to_string();
    let hold = text.replacen("unknown_events = \"other\"", "unknown_events = \"hold\"", 1);
    harness.state_mut().push(Command::SetRulesText(hold));
    settle(&mut harness);
    harness.get_by_label("Apply").click();
    settle(&mut harness);
    let drafted = tab_count(&harness, "Unmapped/Held");
    assert!(drafted > held);
    assert!(harness.state().rules_name().starts_with("draft of"));

    // Reading the rules file again would drop the draft, unsaved: the button says why it
    // waits, and Ctrl+R (the same command) changes nothing but the status line.
    let reload = harness.get_by_label("Reload rules");
    assert!(reload.accesskit_node().is_disabled());
    harness.state_mut().push(Command::ReloadRules);
    settle(&mut harness);
    assert_eq!(tab_count(&harness, "Unmapped/Held"), drafted);
    assert!(harness.state().rules_name().starts_with("draft of"));
    assert!(
        harness.state().status().starts_with("not reloaded:"),
        "{}",
        harness.state().status()
    );

    // Going back to the built-in rules is a choice the user makes, and then Reload works.
    harness.state_mut().push(Command::UseRules(None));
    settle(&mut harness);
    assert_eq!(tab_count(&harness, "Unmapped/Held"), held);
    assert!(
        !harness
            .get_by_label("Reload rules")
            .accesskit_node()
            .is_disabled()
    );
}
