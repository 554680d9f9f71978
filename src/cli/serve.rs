//! `feedlens serve`: the local feed as a process, until Ctrl-C or SIGTERM.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::send_report::print_received;
use super::{CliError, EXIT_OK, finish};
use crate::feed::{
    Credentials, Faults, KEY_ENV, LocalFeed, LocalFeedConfig, LocalFeedHandle, SECRET_ENV, Secret,
};

/// `feedlens serve` options.
///
/// Runs a local mParticle-compatible feed on 127.0.0.1 (POST /v2/bulkevents,
/// /v2/bulkevents/historical, /v2/events) until Ctrl-C. It checks Basic auth (401/403), parses
/// and validates bodies (400 with mParticle's error body), enforces the size limits (413),
/// answers 202, and counts a repeated source_request_id as a duplicate instead of taking it
/// twice. The key and secret come from --key / --secret, else FEEDLENS_API_KEY /
/// FEEDLENS_API_SECRET; with neither, the demo pair.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0: any free port; the URL is printed).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub port: u16,
    /// The key to accept (default: FEEDLENS_API_KEY).
    #[arg(long, value_name = "K")]
    pub key: Option<String>,
    /// The secret to accept (default: FEEDLENS_API_SECRET, which is better: a command line is
    /// visible to others).
    #[arg(long, value_name = "S", value_parser = secret_arg)]
    pub secret: Option<Secret>,
    /// Write every accepted batch to this NDJSON file (one batch per line).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Share of requests answered 503 (0 to 1).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub fail_rate: f64,
    /// Answer 429 with Retry-After when over N batches per second.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Wait this many milliseconds before answering each request.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency: u64,
    /// Share of requests whose connection is closed without an answer, half before and half
    /// after the batches are taken (0 to 1).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub drop_rate: f64,
    /// Seed for the fault dice (reproducible runs).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

fn probability(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a probability between 0 and 1")),
    }
}

/// `--secret`, kept as a [`Secret`] from the moment it is parsed.
fn secret_arg(text: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret::new(text))
}

/// A variable of the environment, when set and not empty.
fn from_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// The key and secret to accept, and a line saying where they came from (`None`: the demo pair).
fn serve_credentials(args: &ServeArgs) -> Result<(Credentials, Option<String>), CliError> {
    let key = match &args.key {
        Some(key) => Some((key.clone(), "--key")),
        None => from_env(KEY_ENV).map(|key| (key, KEY_ENV)),
    };
    let secret = match &args.secret {
        Some(secret) => Some((secret.clone(), "--secret")),
        None => from_env(SECRET_ENV).map(|secret| (Secret::new(secret), SECRET_ENV)),
    };
    match (key, secret) {
        (None, None) => Ok((Credentials::demo(), None)),
        (Some((key, key_from)), Some((secret, secret_from))) => {
            let said = format!(
                "feedlens serve: accepting the key {key} (from {key_from}) and the secret from {secret_from}"
            );
            Ok((Credentials { key, secret }, Some(said)))
        }
        (Some(_), None) => Err(CliError::ServeHalfCredentials {
            given: "key",
            missing: "secret",
            env: SECRET_ENV,
        }),
        (None, Some(_)) => Err(CliError::ServeHalfCredentials {
            given: "secret",
            missing: "key",
            env: KEY_ENV,
        }),
    }
}

/// Runs `feedlens serve`.
pub fn serve(args: &ServeArgs) -> ExitCode {
    let (credentials, said) = match serve_credentials(args) {
        Ok(credentials) => credentials,
        Err(error) => return finish(Err(error)),
    };
    let config = LocalFeedConfig {
        port: args.port,
        credentials,
        record: args.record.clone(),
        faults: Faults {
            fail_rate: args.fail_rate,
            rate_limit: args.rate_limit,
            latency: Duration::from_millis(args.latency),
            drop_rate: args.drop_rate,
        },
        seed: args.seed,
        ..LocalFeedConfig::default()
    };
    let feed = match LocalFeed::start(config) {
        Ok(feed) => feed,
        Err(error) => return finish(Err(CliError::LocalFeed(error))),
    };
    println!("feedlens serve: listening on {}", feed.url());
    match said {
        Some(said) => println!("{said}"),
        None => println!(
            "feedlens serve: accepting the demo key {} (set FEEDLENS_API_KEY / FEEDLENS_API_SECRET or --key/--secret for others)",
            crate::feed::DEMO_KEY
        ),
    }
    let _ = std::io::stdout().flush();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = Arc::clone(&stop);
    if let Err(error) = ctrlc::set_handler(move || stop_flag.store(true, Ordering::SeqCst)) {
        eprintln!("feedlens serve: cannot catch Ctrl-C ({error}); stop it with a signal");
    }
    serve_until_stopped(&feed, &stop);
    let snapshot = feed.stop();
    print_received(&snapshot, args.record.as_deref());
    ExitCode::from(EXIT_OK)
}

fn serve_until_stopped(feed: &LocalFeedHandle, stop: &AtomicBool) {
    let mut shown = 0;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
        let snapshot = feed.snapshot();
        if snapshot.requests == shown {
            continue;
        }
        // One line per request, as it happened.
        for request in snapshot.recent.iter().filter(|r| r.seq > shown) {
            println!(
                "{} #{} POST {} -> {} {} ({} bytes)",
                request.time,
                request.seq,
                request.path,
                request
                    .status
                    .map_or_else(|| "dropped".to_string(), |s| s.to_string()),
                request.note,
                request.bytes
            );
        }
        shown = snapshot.requests;
        let _ = std::io::stdout().flush();
    }
}
