//! File › Pull from CleverTap… against the CleverTap stand-in on 127.0.0.1 (egui_kittest): the
//! form pulls the ticked events, each event's line ends with its reconciliation, the output
//! opens in the window, and the passcode shows nowhere (not in the state's Debug text, not in
//! the output).

use crate::ui_support::{Window, click_file_menu_item, settle, window};

use std::path::Path;
use std::time::{Duration, Instant};

use crate::clevertap_support::*;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use feedlens::feed::Secret;
use feedlens::ui::{Command, PullAction, PullForm, StartOptions};

/// A window on the samples' events, which a pull replaces.
fn samples_window() -> Window {
    window(StartOptions {
        files: vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/events.jsonl")],
        ..StartOptions::default()
    })
}

#[test]
fn the_dialog_pulls_reconciles_and_opens_the_output() {
    let events = sample_events();
    let stand_in = start(config(events.clone()));
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("pulled.ndjson");
    // The window has a data folder of its own and starts fresh: it writes no preferences.
    let mut window = samples_window();
    settle(&mut window);
    click_file_menu_item(&mut window, "Pull from CleverTap…");
    // The dialog fades in over a few frames.
    window.run_steps(12);
    if let Some(shots) = std::env::var_os("FEEDLENS_SHOTS") {
        let image = window.render().expect("rendering the window");
        image.save(Path::new(&shots).join("pull_form.png")).unwrap();
    }
    // The passcode can be kept in, and taken from, the operating system's keyring.
    assert!(window.query_by_label("Load from the keyring").is_some());
    assert!(window.query_by_label("Remember in the keyring").is_some());
    // The documented names are there to tick.
    for name in ["Notification Viewed", "App Launched", "GeoCluster Exited"] {
        assert!(
            window
                .query_by_role_and_label(Role::CheckBox, name)
                .is_some(),
            "{name}"
        );
    }

    let ticked = ["App Launched", "UTM Visited"];
    let form = PullForm {
        url: stand_in.url(),
        account_id: ACCOUNT.to_string(),
        passcode: Secret::new(PASSCODE),
        events: ticked.iter().map(|s| s.to_string()).collect(),
        from: "20240301".to_string(),
        to: "20240307".to_string(),
        output: output.display().to_string(),
        ..PullForm::default()
    };
    window
        .state_mut()
        .push(Command::Pull(PullAction::SetForm(Box::new(form))));
    window.run_steps(2);
    window.get_by_label("Pull").click();
    let deadline = Instant::now() + Duration::from_secs(90);
    while window
        .query_all_by_label_contains("CleverTap counts")
        .count()
        < ticked.len()
    {
        assert!(Instant::now() < deadline, "the pull did not end");
        std::thread::sleep(Duration::from_millis(20));
        window.step();
    }
    settle(&mut window);
    for event in ticked {
        let n = events[event].len();
        let line = format!("{event}: CleverTap counts {n}, pulled {n}");
        assert!(window.query_by_label(&line).is_some(), "{line}");
    }
    assert!(
        window
            .query_by_label_contains("every event reconciled")
            .is_some()
    );
    if let Some(shots) = std::env::var_os("FEEDLENS_SHOTS") {
        let image = window.render().expect("rendering the window");
        image
            .save(Path::new(&shots).join("pull_dialog.png"))
            .unwrap();
    }
    // The output is what the window now shows.
    let expected: usize = ticked.iter().map(|e| events[*e].len()).sum();
    assert_eq!(window.state().record_count(), expected);
    let described = format!("{:?}", window.state());
    assert!(described.contains("pulled.ndjson"), "{described}");
    assert!(!described.contains(PASSCODE));
    let written = std::fs::read(&output).unwrap();
    assert!(memchr::memmem::find(&written, PASSCODE.as_bytes()).is_none());
}

#[test]
fn pages_show_in_the_tabs_as_they_arrive() {
    // One event of three pages (the API's largest page is 5,000 records), each answered slowly.
    let sample = sample_events()["App Launched"][0].clone();
    let mut events = std::collections::BTreeMap::new();
    events.insert("App Launched".to_string(), vec![sample; 12_000]);
    let mut config = config(events);
    config.page_delay = Duration::from_millis(700);
    let stand_in = start(config);
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("pulled.ndjson");
    let mut window = samples_window();
    settle(&mut window);
    let form = PullForm {
        url: stand_in.url(),
        account_id: ACCOUNT.to_string(),
        passcode: Secret::new(PASSCODE),
        events: ["App Launched".to_string()].into(),
        from: "20240301".to_string(),
        to: "20240307".to_string(),
        output: output.display().to_string(),
        ..PullForm::default()
    };
    window.state_mut().push(Command::Pull(PullAction::Show));
    window
        .state_mut()
        .push(Command::Pull(PullAction::SetForm(Box::new(form))));
    window.state_mut().push(Command::Pull(PullAction::Start));
    // While the pull runs, the pages read so far are in the tabs: some records, not all.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut seen_partial = false;
    // What the window showed, each change once: the assertion's evidence.
    let mut seen: Vec<(usize, bool)> = Vec::new();
    while window
        .query_all_by_label_contains("CleverTap counts")
        .next()
        .is_none()
    {
        assert!(Instant::now() < deadline, "the pull did not end");
        // The first page replaced what was open (the samples); the pages read so far are there
        // (the page files are named in the state, never among the recent files).
        let shown = window.state().record_count();
        let state = format!("{:?}", window.state());
        let page = state.contains("page-000000.ndjson");
        seen_partial |= page && (1..12_000).contains(&shown);
        if seen.last() != Some(&(shown, page)) {
            seen.push((shown, page));
        }
        std::thread::sleep(Duration::from_millis(20));
        window.step();
    }
    assert!(
        seen_partial,
        "no page showed before the pull ended; (records, a page open) seen: {seen:?}"
    );
    settle(&mut window);
    // At the end, the output itself, whole.
    assert_eq!(window.state().record_count(), 12_000);
    let state = format!("{:?}", window.state());
    assert!(state.contains("pulled.ndjson"));
    assert!(
        !state.contains("page-000000"),
        "the pages are not remembered: {state}"
    );
}
