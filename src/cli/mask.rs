//! Masking on the command line: the `--mask` options of `check`, `map` and `report`, and
//! `feedlens mask`, which writes the source records masked as NDJSON.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use sonic_rs::JsonValueTrait;

use super::InputArgs;
use super::input::{exit_code, read_setup, report_failures};
use crate::mapping::{Engine, Outcome, RecordStatus};
use crate::mask::{MaskSalt, Masker, default_salt_path, load_or_create_salt};
use crate::mparticle::Environment;
use crate::pipeline::{self, Accounting};

/// `--mask` and `--mask-salt`, for the commands that can mask.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MaskOptions {
    /// Mask personal data: every value not on the rules' `[mask]` allowlist (identities, email,
    /// phone, name, push token, objectId, date of birth, unknown properties) is replaced by a
    /// stable pseudonym before mapping, so nothing printed or written carries it in clear.
    #[arg(long)]
    pub mask: bool,
    /// The pseudonyms' key, shared by a team so that everyone's tokens agree (default: this
    /// installation's random salt, kept in feedlens's data folder).
    #[arg(long, value_name = "SALT", requires = "mask")]
    pub mask_salt: Option<String>,
}

/// `feedlens mask` options.
#[derive(Debug, Clone, clap::Args)]
pub struct MaskArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Where to write the masked records (NDJSON, one record per line).
    #[arg(short, long, value_name = "OUT", required = true)]
    pub output: PathBuf,
    /// The pseudonyms' key, shared by a team (default: this installation's random salt).
    #[arg(long, value_name = "SALT")]
    pub mask_salt: Option<String>,
}

/// The salt: the team's, else the installation's (made on first use).
pub fn salt(mask_salt: Option<&str>) -> Result<MaskSalt, String> {
    match mask_salt {
        Some(text) if text.trim().is_empty() => {
            Err("--mask-salt is empty: give the team's shared text".into())
        }
        Some(text) => Ok(MaskSalt::from_text(text)),
        None => load_or_create_salt(&default_salt_path()).map_err(|error| error.to_string()),
    }
}

/// The engine with masking switched on when `--mask` is given.
pub fn masked_engine(engine: Engine, options: &MaskOptions) -> Result<Engine, String> {
    if !options.mask {
        return Ok(engine);
    }
    with_masker(engine, options.mask_salt.as_deref(), false)
}

fn with_masker(
    engine: Engine,
    mask_salt: Option<&str>,
    keep_source: bool,
) -> Result<Engine, String> {
    let salt = salt(mask_salt)?;
    let rules = engine.rules().clone();
    let mut options = engine.options().clone();
    options.mask = Some(Arc::new(Masker::new(&salt, &rules)));
    options.keep_source |= keep_source;
    Ok(Engine::new(Arc::new(rules), options))
}

/// What stands for an unreadable record in `feedlens mask`'s output: not JSON (so it is read
/// back as one unreadable record), and without the record's text.
fn unreadable_line(outcome: &Outcome) -> String {
    format!(
        "{{unreadable record from {}:{} left out by feedlens mask}}\n",
        outcome
            .place
            .file
            .file_name()
            .map(|name| name.to_string_lossy())
            .unwrap_or_default()
            .replace(['{', '}', '\n', '\r'], "_"),
        outcome.place.line
    )
}

/// The masked record's line, with the event name the file gave it (its first line or its
/// file name, or `--event-name`) written in, so that it maps the same once out of its file.
fn record_line(outcome: &Outcome, text: &[u8], out: &mut Vec<u8>) {
    let needs_name = outcome.source_event_name.as_deref().filter(|_| {
        let place = &outcome.place;
        crate::clevertap::parse_text(place, text).is_ok_and(|record| {
            let has = |key: &str| record.get(key).is_some();
            let event_keys = ["ts", "eventTime", "eventProps", "event_props", "evtData"];
            !has("eventName")
                && !has("evtName")
                && record.get("type").and_then(|t| t.as_str()) != Some("profile")
                && event_keys
                    .iter()
                    .chain(&["sessionProps", "session_props"])
                    .any(|key| has(key))
        })
    });
    match (needs_name, text.strip_prefix(b"{")) {
        (Some(name), Some(rest)) => {
            out.extend_from_slice(b"{\"eventName\":");
            // Writing into memory cannot fail.
            let _ = sonic_rs::to_writer(&mut *out, name);
            if rest.first() != Some(&b'}') {
                out.push(b',');
            }
            out.extend_from_slice(rest);
        }
        _ => out.extend_from_slice(text),
    }
    out.push(b'\n');
}

/// `feedlens mask`: the source records masked, one per line, in input order.
pub fn mask(args: &MaskArgs) -> ExitCode {
    super::finish(run_mask(args))
}

fn run_mask(args: &MaskArgs) -> Result<ExitCode, super::CliError> {
    let setup = read_setup(&args.input, Environment::Development)?;
    let engine = with_masker(setup.engine, args.mask_salt.as_deref(), true)
        .map_err(super::CliError::Mask)?;
    let (files, edits) = (setup.files, setup.edits);
    let write_error = |source| super::CliError::WriteFile {
        path: args.output.clone(),
        source,
    };
    let file = std::fs::File::create(&args.output).map_err(write_error)?;
    let mut out = std::io::BufWriter::new(file);
    let mut accounting = Accounting::default();
    let mut written = Ok(());
    let digest = |_: &crate::clevertap::FileInfo, chunk: Vec<Outcome>| {
        let mut counted = Accounting::default();
        let mut lines = Vec::with_capacity(chunk.len() * 512);
        for outcome in &chunk {
            counted.add(outcome);
            match (&outcome.source, outcome.status) {
                (Some(text), _) => record_line(outcome, text, &mut lines),
                (None, RecordStatus::Unreadable) => {
                    lines.extend_from_slice(unreadable_line(outcome).as_bytes());
                }
                (None, _) => {}
            }
        }
        (counted, lines)
    };
    let summary = pipeline::run_edited(
        &files,
        &engine,
        edits.as_ref(),
        &AtomicBool::new(false),
        |_| {},
        digest,
        |_, (counted, lines): (Accounting, Vec<u8>)| {
            accounting.merge(counted);
            if written.is_ok() {
                written = out.write_all(&lines);
            }
        },
    );
    written.and_then(|()| out.flush()).map_err(write_error)?;
    report_failures(&summary);
    eprintln!(
        "feedlens mask: {} records read, written masked to {} ({} unreadable, written as unreadable lines)",
        accounting.records_read,
        args.output.display(),
        accounting.unreadable
    );
    Ok(exit_code(&summary, &accounting))
}
