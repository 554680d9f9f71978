//! The report as one self-contained HTML file: a minijinja template with HTML escaping on for
//! every value (record text cannot inject markup), charts as inline SVG drawn by the same
//! template from bars computed here.

use serde::Serialize;

use super::{JournalSummary, KindSummary, ReportData};
use crate::mapping::EventRule;

/// The template, compiled into the binary.
const TEMPLATE: &str = include_str!("report.html.j2");
/// Events listed by name (most records first); the rest are counted in one line.
const EVENTS_LISTED: usize = 200;
/// Files listed by name.
const FILES_LISTED: usize = 200;
/// Chart bars' longest length, in pixels.
const BAR_MAX: f64 = 280.0;
/// A chart label's longest length, in characters.
const LABEL_CHARS: usize = 26;

/// The rules a report was made with.
#[derive(Debug, Clone, Serialize)]
pub struct RulesUsed {
    /// Their path, or the built-in rules' name.
    pub name: String,
    /// SHA-256 of their text, in hex.
    pub sha256: String,
}

/// Everything a report shows besides the gathered [`ReportData`].
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    /// What was gathered.
    pub data: &'a ReportData,
    /// Files read: (path, shape, gzip).
    pub files: Vec<(String, String, bool)>,
    /// Files that could not be opened: (path, reason).
    pub unopened: Vec<(String, String)>,
    /// The rules used.
    pub rules: RulesUsed,
    /// The documented events, for coverage.
    pub documented: &'a [EventRule],
    /// The journal, when one was given.
    pub journal: Option<JournalSummary>,
    /// Whether personal data was masked.
    pub masked: bool,
    /// When the report was made (RFC 3339, UTC).
    pub generated: String,
}

#[derive(Serialize)]
struct Bar {
    label: String,
    value: u64,
    y: u64,
    width: f64,
    color: &'static str,
}

#[derive(Serialize)]
struct Chart {
    height: u64,
    bars: Vec<Bar>,
}

fn chart<'a>(rows: impl IntoIterator<Item = (&'a str, u64, &'static str)>) -> Chart {
    let rows: Vec<_> = rows.into_iter().collect();
    let max = rows
        .iter()
        .map(|(_, value, _)| *value)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let bars: Vec<Bar> = rows
        .into_iter()
        .enumerate()
        .map(|(index, (label, value, color))| Bar {
            label: shorten(label),
            value,
            y: index as u64 * 26 + 4,
            // A count above zero always shows.
            width: if value == 0 {
                0.0
            } else {
                (value as f64 / max * BAR_MAX).max(2.0).round()
            },
            color,
        })
        .collect();
    Chart {
        height: bars.len() as u64 * 26 + 8,
        bars,
    }
}

fn shorten(label: &str) -> String {
    match label.char_indices().nth(LABEL_CHARS) {
        Some((at, _)) => format!("{}…", &label[..at]),
        None => label.to_string(),
    }
}

#[derive(Serialize)]
struct Coverage<'a> {
    name: &'a str,
    category: &'static str,
    records: u64,
}

#[derive(Serialize)]
struct Kind<'a> {
    kind: &'a str,
    summary: &'a KindSummary,
}

#[derive(Serialize)]
struct View<'a> {
    version: &'static str,
    generated: &'a str,
    masked: bool,
    accounting: &'a crate::pipeline::Accounting,
    status_chart: Chart,
    category_chart: Chart,
    findings_chart: Chart,
    events: Vec<(&'a str, u64)>,
    events_more: (usize, u64),
    coverage: Vec<Coverage<'a>>,
    covered: usize,
    findings: Vec<Kind<'a>>,
    findings_total: u64,
    held: Vec<Kind<'a>>,
    files: &'a [(String, String, bool)],
    files_more: usize,
    unopened: &'a [(String, String)],
    rules: &'a RulesUsed,
    journal: Option<&'a JournalSummary>,
    examples_per_kind: usize,
}

/// Renders the report. Every value goes through the template's HTML escaping.
pub fn render_html(input: &ReportInput<'_>) -> Result<String, minijinja::Error> {
    let accounting = &input.data.accounting;
    let status_chart = chart([
        ("mapped", accounting.mapped, "#2f855a"),
        ("mapped with warnings", accounting.warned, "#b7791f"),
        ("held", accounting.held, "#c53030"),
        ("dropped", accounting.dropped, "#718096"),
        ("unreadable", accounting.unreadable, "#6b46c1"),
    ]);
    let category_chart = chart(
        accounting
            .by_category
            .iter()
            .map(|(name, count)| (name.as_str(), *count, "#2b6cb0")),
    );
    let findings_chart = chart(input.data.findings.iter().map(|(kind, summary)| {
        let color = if summary.errors > 0 {
            "#c53030"
        } else if summary.warnings > 0 {
            "#b7791f"
        } else {
            "#4a5568"
        };
        (kind.as_str(), summary.count, color)
    }));
    let mut events: Vec<(&str, u64)> = accounting
        .by_event
        .iter()
        .map(|(name, count)| (name.as_str(), *count))
        .collect();
    events.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let rest = events.split_off(events.len().min(EVENTS_LISTED));
    let events_more = (rest.len(), rest.iter().map(|(_, count)| count).sum());
    let coverage: Vec<Coverage<'_>> = input
        .documented
        .iter()
        .map(|rule| Coverage {
            name: &rule.name,
            category: rule.category.label(),
            records: accounting.by_event.get(&rule.name).copied().unwrap_or(0),
        })
        .collect();
    let view = View {
        version: env!("CARGO_PKG_VERSION"),
        generated: &input.generated,
        masked: input.masked,
        accounting,
        status_chart,
        category_chart,
        findings_chart,
        events,
        events_more,
        covered: coverage.iter().filter(|c| c.records > 0).count(),
        coverage,
        findings: input
            .data
            .findings
            .iter()
            .map(|(kind, summary)| Kind {
                kind: kind.as_str(),
                summary,
            })
            .collect(),
        findings_total: input.data.findings.values().map(|s| s.count).sum(),
        held: input
            .data
            .held
            .iter()
            .map(|(kind, summary)| Kind { kind, summary })
            .collect(),
        files: &input.files[..input.files.len().min(FILES_LISTED)],
        files_more: input.files.len().saturating_sub(FILES_LISTED),
        unopened: &input.unopened,
        rules: &input.rules,
        journal: input.journal.as_ref(),
        examples_per_kind: super::EXAMPLES_PER_KIND,
    };
    let mut env = minijinja::Environment::new();
    // Escaping on for everything, whatever the template's name.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("report.html", TEMPLATE)?;
    env.get_template("report.html")?
        .render(minijinja::value::Serde(&view))
}
