//! `feedlens diff A B`: two inputs (files or folders) mapped, each under its own rules and
//! edits, and compared record by record.

use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, InputArgs, engine_for, load_edits};
use crate::diff::{Location, RecordDiff, Side, Totals, compare};
use crate::mapping::{Engine, MapOptions};
use crate::mparticle::Environment;

/// `feedlens diff` options.
#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    /// A: a CleverTap file, or a folder of them (read recursively, in name order).
    #[arg(value_name = "A")]
    pub a: PathBuf,
    /// B: a CleverTap file, or a folder of them.
    #[arg(value_name = "B")]
    pub b: PathBuf,
    /// Rules for A (default: the built-in rules).
    #[arg(long, value_name = "FILE")]
    pub rules_a: Option<PathBuf>,
    /// Rules for B (default: the built-in rules).
    #[arg(long, value_name = "FILE")]
    pub rules_b: Option<PathBuf>,
    /// An edits file applied to A.
    #[arg(long, value_name = "FILE")]
    pub edits_a: Option<PathBuf>,
    /// An edits file applied to B.
    #[arg(long, value_name = "FILE")]
    pub edits_b: Option<PathBuf>,
    /// Event name for records that have none (both sides).
    #[arg(long, value_name = "NAME")]
    pub event_name: Option<String>,
    /// The CleverTap account's time zone for 14-digit `ts` values (both sides).
    #[arg(long = "tz", value_name = "ZONE")]
    pub timezone: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A differing record as printed by `--json`.
#[derive(Debug, Serialize, Deserialize)]
struct JsonRecord {
    id: Option<String>,
    status: String,
    a: Option<Location>,
    b: Option<Location>,
    fields: Vec<JsonField>,
}

/// A differing field as printed by `--json` (`null` for a side where it is absent).
#[derive(Debug, Serialize, Deserialize)]
struct JsonField {
    path: String,
    a: serde_json::Value,
    b: serde_json::Value,
}

impl JsonRecord {
    fn of(diff: &RecordDiff) -> Self {
        let status = serde_json::to_value(diff.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        Self {
            id: diff.id.clone(),
            status,
            a: diff.a.clone(),
            b: diff.b.clone(),
            fields: diff
                .fields
                .iter()
                .map(|f| JsonField {
                    path: f.path.clone(),
                    a: f.a.clone().unwrap_or_default(),
                    b: f.b.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("feedlens: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// `feedlens diff`: exit 0 when A and B map the same, 1 when they differ, 2 on errors.
pub fn diff(args: &DiffArgs) -> ExitCode {
    match run(args) {
        Ok(totals) if totals.is_same() => ExitCode::from(EXIT_OK),
        Ok(_) => ExitCode::from(EXIT_INCOMPLETE),
        Err(message) => usage_error(&message),
    }
}

fn run(args: &DiffArgs) -> Result<Totals, String> {
    let (files_a, names_a) = expand(&args.a)?;
    let (files_b, names_b) = expand(&args.b)?;
    let engine_a = engine(args, args.rules_a.clone(), &files_a)?;
    // Both sides are checked against the same "now".
    let engine_b = engine(args, args.rules_b.clone(), &files_b)?;
    let engine_b = Engine::new(
        Arc::new(engine_b.rules().clone()),
        MapOptions {
            now_millis: engine_a.options().now_millis,
            ..engine_b.options().clone()
        },
    );
    let edits_a = load_edits(args.edits_a.as_deref(), &files_a).map_err(|e| e.to_string())?;
    let edits_b = load_edits(args.edits_b.as_deref(), &files_b).map_err(|e| e.to_string())?;
    let side = |files, names, engine, edits| Side {
        files,
        names,
        engine,
        edits,
    };
    let a = side(&files_a, &names_a, &engine_a, edits_a.as_ref());
    let b = side(&files_b, &names_b, &engine_b, edits_b.as_ref());
    // Records are listed after the counts: they wait in a temporary file, not in memory.
    let spill_error = |error: std::io::Error| {
        format!(
            "cannot write a temporary file in {}: {error} (set TMPDIR to a folder with room)",
            std::env::temp_dir().display()
        )
    };
    let mut spill = BufWriter::new(tempfile::tempfile().map_err(spill_error)?);
    let totals = compare(a, b, |diff| {
        serde_json::to_writer(&mut spill, &JsonRecord::of(diff))?;
        spill.write_all(b"\n")
    })
    .map_err(|error| error.to_string())?;
    let mut spill = spill
        .into_inner()
        .map_err(|e| spill_error(e.into_error()))?;
    spill.rewind().map_err(spill_error)?;
    let records = BufReader::new(spill);
    let stdout = BufWriter::new(std::io::stdout().lock());
    let written = if args.json {
        write_json(stdout, &totals, records)
    } else {
        write_text(stdout, args, &totals, records)
    };
    written.map_err(|error| format!("cannot write to standard output: {error}"))?;
    Ok(totals)
}

fn engine(args: &DiffArgs, rules: Option<PathBuf>, files: &[PathBuf]) -> Result<Engine, String> {
    let input = InputArgs {
        files: files.to_vec(),
        rules,
        event_name: args.event_name.clone(),
        timezone: args.timezone.clone(),
        edits: None,
    };
    engine_for(&input, Environment::Development).map_err(|error| error.to_string())
}

/// The files of A or B with their names in keys: a file is itself (with no name: A's file and
/// B's file are compared place by place); a folder is every file under it, in path order,
/// named by its path under the folder.
fn expand(path: &Path) -> Result<(Vec<PathBuf>, Vec<String>), String> {
    if crate::clevertap::bucket::is_url(path) {
        // A bucket prefix is a folder: its objects, named by their URL under the prefix.
        let files = super::input_files(&[path.to_path_buf()]).map_err(|e| e.to_string())?;
        let prefix = path.to_string_lossy().trim_end_matches('/').to_string();
        let name = |file: &PathBuf| {
            let url = file.to_string_lossy();
            url.strip_prefix(&prefix)
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string()
        };
        return Ok((files.clone(), files.iter().map(name).collect()));
    }
    if path.is_file() {
        return Ok((vec![path.to_path_buf()], vec![String::new()]));
    }
    if !path.is_dir() {
        return Err(format!(
            "cannot open {}: no such file or folder",
            path.display()
        ));
    }
    let mut files = Vec::new();
    let mut folders = vec![path.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|error| format!("cannot read the folder {}: {error}", folder.display()))?;
        for entry in entries {
            let entry = entry
                .map_err(|error| format!("cannot read the folder {}: {error}", folder.display()))?;
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            let child = entry.path();
            if hidden {
                continue;
            } else if child.is_dir() {
                folders.push(child);
            } else {
                files.push(child);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(format!("the folder {} holds no files", path.display()));
    }
    let names = files
        .iter()
        .map(|file| {
            file.strip_prefix(path)
                .unwrap_or(file)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    Ok((files, names))
}

fn write_json(mut out: impl Write, totals: &Totals, records: impl BufRead) -> std::io::Result<()> {
    write!(
        out,
        "{{\"same\":{},\"changed\":{},\"only_a\":{},\"only_b\":{},\"by_category\":",
        totals.same, totals.changed, totals.only_a, totals.only_b
    )?;
    serde_json::to_writer(&mut out, &totals.by_category)?;
    out.write_all(b",\"records\":[")?;
    for (index, line) in records.lines().enumerate() {
        out.write_all(if index == 0 { b"\n" } else { b",\n" })?;
        out.write_all(line?.as_bytes())?;
    }
    out.write_all(b"\n]}\n")?;
    out.flush()
}

fn write_text(
    mut out: impl Write,
    args: &DiffArgs,
    totals: &Totals,
    records: impl BufRead,
) -> std::io::Result<()> {
    writeln!(out, "A: {}", args.a.display())?;
    writeln!(out, "B: {}", args.b.display())?;
    writeln!(
        out,
        "\n{} same, {} changed, {} only in A, {} only in B\n",
        totals.same, totals.changed, totals.only_a, totals.only_b
    )?;
    writeln!(
        out,
        "{:<18} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "By category:", "A", "B", "same", "changed", "only A", "only B"
    )?;
    for (category, c) in &totals.by_category {
        writeln!(
            out,
            "  {category:<16} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            c.a, c.b, c.same, c.changed, c.only_a, c.only_b
        )?;
    }
    let place = |location: &Option<Location>| {
        location
            .as_ref()
            .map_or_else(|| "-".to_string(), |l| format!("{}:{}", l.file, l.line))
    };
    for (index, line) in records.lines().enumerate() {
        let record: JsonRecord = serde_json::from_str(&line?)?;
        let id = record.id.as_deref().unwrap_or("(no id)");
        if index == 0 {
            writeln!(out, "\nRecords that differ:")?;
        }
        match record.status.as_str() {
            "changed" => writeln!(
                out,
                "changed    {id}  A {}  B {}",
                place(&record.a),
                place(&record.b)
            )?,
            "only_a" => writeln!(out, "only in A  {id}  A {}", place(&record.a))?,
            _ => writeln!(out, "only in B  {id}  B {}", place(&record.b))?,
        }
        for field in &record.fields {
            writeln!(
                out,
                "    {}: {} → {}",
                field.path,
                shown(&field.a),
                shown(&field.b)
            )?;
        }
    }
    out.flush()
}

fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "(absent)".to_string(),
        other => other.to_string(),
    }
}
