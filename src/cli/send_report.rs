//! What `feedlens send` prints while and after it sends: progress, problems, the summary and
//! what the local feed received.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::feed::{
    AttemptStatus, ReceivedSnapshot, RequestOutcome, SendEvent, SendHandle, SendPlan, SendSummary,
};

/// Prints progress and problems until the send finishes; returns its summary.
pub(super) fn follow(handle: &SendHandle, plan: &SendPlan) -> Option<SendSummary> {
    let terminal = std::io::stderr().is_terminal();
    let bar = terminal.then(|| {
        let bar = indicatif::ProgressBar::new(plan.batch_count() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} batches {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut last_line = Instant::now();
    let summary = loop {
        let event = handle.next_event(Duration::from_millis(200));
        match event {
            Some(SendEvent::Finished(summary)) => break Some(summary),
            Some(SendEvent::Attempt(report)) => {
                let request = &plan.requests[report.request];
                let message = match report.status {
                    AttemptStatus::Rejected => Some(format!(
                        "request {} ({} batches) rejected: HTTP {}: {}",
                        report.request,
                        request.batches.len(),
                        report.http_status.unwrap_or_default(),
                        report.error.clone().unwrap_or_default()
                    )),
                    AttemptStatus::GivenUp => Some(format!(
                        "request {} ({} batches) given up after {} tries: {}",
                        report.request,
                        request.batches.len(),
                        report.attempt,
                        report.error.clone().unwrap_or_default()
                    )),
                    AttemptStatus::Retrying => {
                        tracing::info!(
                            "request {} try {} failed ({}), retrying in {} ms",
                            report.request,
                            report.attempt,
                            report.error.clone().unwrap_or_default(),
                            report.retry_in.unwrap_or_default().as_millis()
                        );
                        None
                    }
                    _ => None,
                };
                if let Some(message) = message {
                    match &bar {
                        Some(bar) => bar.println(format!("feedlens send: {message}")),
                        None => eprintln!("feedlens send: {message}"),
                    }
                }
            }
            Some(SendEvent::JournalFailed(message)) => {
                eprintln!("feedlens send: {message}: stopping");
            }
            Some(SendEvent::RequestFinished { .. }) => {}
            None if handle.is_finished() => break None,
            None => {}
        }
        let progress = handle.progress();
        if let Some(bar) = &bar {
            bar.set_position(progress.batches_accepted as u64);
            bar.set_message(format!(
                "{}/{} requests, {} retries, {:.0} batches/s",
                progress.requests_done(),
                progress.requests_total,
                progress.retries,
                progress.batches_per_second()
            ));
        } else if last_line.elapsed() >= Duration::from_secs(5) {
            last_line = Instant::now();
            eprintln!(
                "feedlens send: {}/{} requests done, {}/{} batches accepted, {} retries, {:.0} batches/s",
                progress.requests_done(),
                progress.requests_total,
                progress.batches_accepted,
                progress.batches_total,
                progress.retries,
                progress.batches_per_second()
            );
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    summary
}

pub(super) fn print_summary(summary: &SendSummary, journal: &Path) {
    let progress = &summary.progress;
    let count =
        |wanted: fn(&RequestOutcome) -> bool| summary.outcomes.iter().filter(|o| wanted(o)).count();
    eprintln!(
        "feedlens send: {} requests: {} accepted, {} rejected, {} given up, {} cancelled; {}/{} batches and {} events accepted, {} bytes sent ({} retries) in {:.1} s, {:.0} batches/s",
        summary.outcomes.len(),
        count(|o| matches!(o, RequestOutcome::Accepted)),
        count(|o| matches!(o, RequestOutcome::Rejected { .. })),
        count(|o| matches!(o, RequestOutcome::GivenUp { .. })),
        count(|o| matches!(o, RequestOutcome::Cancelled)),
        progress.batches_accepted,
        progress.batches_total,
        progress.events_accepted,
        progress.bytes_sent,
        progress.retries,
        progress.elapsed.as_secs_f64(),
        progress.batches_per_second()
    );
    if let Some(error) = &summary.journal_error {
        eprintln!("feedlens send: the journal failed: {error}");
    }
    if !summary.all_accepted() {
        eprintln!(
            "feedlens send: run again with --resend-failed to send what was not accepted (journal: {})",
            journal.display()
        );
    }
}

pub(super) fn print_received(snapshot: &ReceivedSnapshot, record: Option<&Path>) {
    eprintln!(
        "local feed received: {} requests, {} batches taken ({} events), {} duplicates ignored, {} rejected{}",
        snapshot.requests,
        snapshot.accepted_batches,
        snapshot.events,
        snapshot.duplicate_batches,
        snapshot.bad_requests + snapshot.unauthorized + snapshot.forbidden + snapshot.too_large,
        record.map_or_else(String::new, |path| format!(
            "; recorded to {}",
            path.display()
        ))
    );
}
