//! The local feed's HTTP side: hyper on a small tokio runtime of its own (nothing async leaks
//! out), one task per connection, keep-alive.

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use super::validate::{self, Route};
use super::{
    FeedShared, FeedState, LocalFeedConfig, LocalFeedError, LocalFeedHandle, RECENT_REQUESTS,
    ReceivedBatch, ReceivedRequest, ReceivedSnapshot,
};
use crate::mparticle::limits;

/// Stops the server thread.
pub(super) struct Stopper {
    signal: tokio::sync::watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Stopper {
    pub(super) fn stop(mut self) {
        let _ = self.signal.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The connection is closed without an answer (an injected drop).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (--drop-rate)")
    }
}

impl std::error::Error for Dropped {}

type Answer = Result<Response<Full<Bytes>>, Dropped>;

pub(super) fn start(config: LocalFeedConfig) -> Result<LocalFeedHandle, LocalFeedError> {
    let port = config.port;
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .map_err(|source| LocalFeedError::Bind { port, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| LocalFeedError::Bind { port, source })?;
    listener
        .set_nonblocking(true)
        .map_err(LocalFeedError::Start)?;
    let record = match &config.record {
        Some(path) => Some(BufWriter::new(File::create(path).map_err(|source| {
            LocalFeedError::Record {
                path: path.clone(),
                source,
            }
        })?)),
        None => None,
    };
    let rng = config
        .seed
        .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
    let shared = Arc::new(FeedShared {
        config,
        state: Mutex::new(FeedState {
            snapshot: ReceivedSnapshot::default(),
            recent: VecDeque::new(),
            seen: HashSet::new(),
            batches: Vec::new(),
            record,
            rate_second: 0,
            rate_count: 0,
            rng,
        }),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("feedlens-local-feed")
        .enable_all()
        .build()
        .map_err(LocalFeedError::Start)?;
    let (signal, shutdown) = tokio::sync::watch::channel(false);
    let server_shared = Arc::clone(&shared);
    let thread = crate::thread::spawn_named("feedlens-local-feed", move || {
        runtime.block_on(accept_loop(listener, server_shared, shutdown));
        runtime.shutdown_timeout(Duration::from_millis(200));
    })
    .map_err(LocalFeedError::Start)?;
    tracing::info!("local feed listening on http://{addr}/v2");
    Ok(LocalFeedHandle {
        addr,
        shared,
        stop: Some(Stopper {
            signal,
            thread: Some(thread),
        }),
    })
}

async fn accept_loop(
    listener: std::net::TcpListener,
    shared: Arc<FeedShared>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!("local feed cannot listen: {error}");
            return;
        }
    };
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let connection_shared = Arc::clone(&shared);
                let mut connection_shutdown = shutdown.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        handle(Arc::clone(&connection_shared), request)
                    });
                    let connection = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::select! {
                        result = connection => {
                            if let Err(error) = result {
                                tracing::trace!("local feed connection ended: {error}");
                            }
                        }
                        _ = connection_shutdown.changed() => {}
                    }
                });
            }
            _ = shutdown.changed() => break,
        }
    }
}

/// An answer with mParticle's error body.
fn error_answer(status: StatusCode, code: &str, messages: &[String]) -> Response<Full<Bytes>> {
    let errors: Vec<Value> = messages
        .iter()
        .map(|message| json!({"code": code, "message": message}))
        .collect();
    let body = json!({ "errors": errors }).to_string();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn empty_answer(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// What the fault dice decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Normal,
    DropBefore,
    DropAfter,
    Fail,
}

async fn handle(shared: Arc<FeedShared>, request: Request<Incoming>) -> Answer {
    let faults = &shared.config.faults;
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    let path = request.uri().path().to_string();
    let mut log = ReceivedRequest {
        seq: 0,
        time: String::new(),
        path: path.clone(),
        status: None,
        batches: 0,
        new_batches: 0,
        duplicates: 0,
        bytes: 0,
        note: String::new(),
    };
    let route = validate::route(&path);
    let Some(route) = route else {
        log.note = "no such endpoint".into();
        return finish(
            &shared,
            log,
            Ok(error_answer(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                &[format!(
                    "no endpoint at {path}: use /v2/events, /v2/bulkevents or /v2/bulkevents/historical"
                )],
            )),
        );
    };
    if request.method() != Method::POST {
        log.note = "method not allowed".into();
        return finish(
            &shared,
            log,
            Ok(error_answer(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                &["use POST".to_string()],
            )),
        );
    }
    let expected = shared.config.credentials.authorization();
    let refusal = match request.headers().get(AUTHORIZATION) {
        None => Some((
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Authorization header missing: use Basic auth with the feed's key and secret",
            "no Authorization header",
        )),
        Some(value) if value.as_bytes() != expected.as_bytes() => Some((
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "the key and secret are not valid for this feed",
            "wrong credentials",
        )),
        Some(_) => None,
    };
    let fate = if refusal.is_none() {
        roll(&shared)
    } else {
        Fate::Normal
    };
    if fate == Fate::DropBefore {
        log.note = "dropped before taking the batches".into();
        return finish(&shared, log, Err(Dropped));
    }
    // The whole body is read whatever the answer, so the connection stays usable (keep-alive).
    let body = match read_body(request.into_body()).await {
        Ok(body) => body,
        Err(BodyTrouble::TooLarge(bytes)) => {
            log.bytes = bytes;
            return finish(&shared, log, Ok(too_large()));
        }
        Err(BodyTrouble::Broken(error)) => {
            log.note = format!("body not read: {error}");
            return finish(&shared, log, Err(Dropped));
        }
    };
    log.bytes = body.len();
    if let Some((status, code, message, note)) = refusal {
        log.note = note.into();
        return finish(
            &shared,
            log,
            Ok(error_answer(status, code, &[message.to_string()])),
        );
    }
    if fate == Fate::Fail {
        log.note = "injected 503".into();
        return finish(
            &shared,
            log,
            Ok(error_answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                &["injected failure (--fail-rate)".to_string()],
            )),
        );
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(error) => {
            log.note = "malformed JSON".into();
            return finish(
                &shared,
                log,
                Ok(error_answer(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    &[format!("malformed JSON: {error}")],
                )),
            );
        }
    };
    let now_millis = chrono::Utc::now().timestamp_millis();
    let batches = match validate::validate_body(route, &parsed, now_millis) {
        Ok(batches) => batches,
        Err(messages) => {
            log.note = format!("invalid: {}", messages.first().cloned().unwrap_or_default());
            return finish(
                &shared,
                log,
                Ok(error_answer(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    &messages,
                )),
            );
        }
    };
    log.batches = batches.len();
    // Checked and counted in one step, so requests arriving together cannot all slip in.
    if let Some(retry) = rate_limited(&shared, batches.len()) {
        log.note = "over the rate limit".into();
        return finish(&shared, log, Ok(retry));
    }
    take_batches(&shared, route, batches, &mut log);
    if fate == Fate::DropAfter {
        log.note = "dropped after taking the batches".into();
        return finish(&shared, log, Err(Dropped));
    }
    let mut response = empty_answer(StatusCode::ACCEPTED);
    if let Some(limit) = shared.config.faults.rate_limit.filter(|l| *l > 0) {
        let used = u64::from(shared.state().rate_count) * 100 / u64::from(limit);
        if let Ok(value) = HeaderValue::from_str(&used.to_string()) {
            response
                .headers_mut()
                .insert("x-mp-rate-limit-percentage-used", value);
        }
    }
    finish(&shared, log, Ok(response))
}

enum BodyTrouble {
    /// Over the limit (the whole body was read and thrown away, so the client sees the answer).
    TooLarge(usize),
    /// The connection broke, or the body is absurdly large.
    Broken(String),
}

/// Reads a body, keeping at most the request limit; a larger body is read to its end (up to
/// 64 MB) and discarded so the 413 reaches a client still writing.
async fn read_body(mut body: Incoming) -> Result<Bytes, BodyTrouble> {
    const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| BodyTrouble::Broken(error.to_string()))?;
        if let Ok(data) = frame.into_data() {
            total += data.len();
            if total < limits::MAX_REQUEST_BYTES {
                kept.extend_from_slice(&data);
            } else if total > DRAIN_LIMIT {
                return Err(BodyTrouble::Broken(format!(
                    "body over {DRAIN_LIMIT} bytes"
                )));
            }
        }
    }
    if total >= limits::MAX_REQUEST_BYTES {
        Err(BodyTrouble::TooLarge(total))
    } else {
        Ok(Bytes::from(kept))
    }
}

fn too_large() -> Response<Full<Bytes>> {
    error_answer(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        &[format!(
            "request body must be under {} bytes",
            limits::MAX_REQUEST_BYTES
        )],
    )
}

fn roll(shared: &FeedShared) -> Fate {
    let faults = &shared.config.faults;
    if faults.drop_rate <= 0.0 && faults.fail_rate <= 0.0 {
        return Fate::Normal;
    }
    let mut state = shared.state();
    if state.rng.f64() < faults.drop_rate {
        if state.rng.bool() {
            Fate::DropBefore
        } else {
            Fate::DropAfter
        }
    } else if state.rng.f64() < faults.fail_rate {
        Fate::Fail
    } else {
        Fate::Normal
    }
}

/// A 429 when `batches` more would take this second past the limit; otherwise they are counted.
/// A request alone in its second always passes, or a request over the limit could never pass.
fn rate_limited(shared: &FeedShared, batches: usize) -> Option<Response<Full<Bytes>>> {
    let limit = shared.config.faults.rate_limit.filter(|l| *l > 0)?;
    let second = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default();
    let mut state = shared.state();
    if state.rate_second != second {
        state.rate_second = second;
        state.rate_count = 0;
    }
    let batches = u32::try_from(batches).unwrap_or(u32::MAX);
    if state.rate_count == 0 || state.rate_count.saturating_add(batches) <= limit {
        state.rate_count = state.rate_count.saturating_add(batches);
        return None;
    }
    drop(state);
    let mut response = error_answer(
        StatusCode::TOO_MANY_REQUESTS,
        "TOO_MANY_REQUESTS",
        &[format!("over {limit} batches per second (--rate-limit)")],
    );
    let headers = response.headers_mut();
    headers.insert("retry-after", HeaderValue::from_static("1"));
    headers.insert("x-mp-rate-limit-exceeded", HeaderValue::from_static("feed"));
    Some(response)
}

/// Takes valid batches: new ones are kept (and recorded), repeated ones counted as duplicates.
fn take_batches(
    shared: &FeedShared,
    route: Route,
    batches: Vec<&Value>,
    log: &mut ReceivedRequest,
) {
    let keep_bodies = shared.config.keep_bodies;
    let mut state = shared.state();
    let state = &mut *state;
    let seq = state.snapshot.requests + 1;
    for batch in batches {
        let id = batch
            .get("source_request_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(id) = &id
            && !state.seen.insert(id.clone())
        {
            log.duplicates += 1;
            state.snapshot.duplicate_batches += 1;
            continue;
        }
        let text = batch.to_string();
        if let Some(record) = &mut state.record
            && let Err(error) = record
                .write_all(text.as_bytes())
                .and_then(|()| record.write_all(b"\n"))
        {
            state.snapshot.record_error = Some(error.to_string());
            state.record = None;
        }
        let identities = batch.get("user_identities");
        let identity = |name: &str| {
            identities
                .and_then(|ids| ids.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let events = batch
            .get("events")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        state.snapshot.accepted_batches += 1;
        state.snapshot.events += events as u64;
        log.new_batches += 1;
        let keep = state.batches.len() < keep_bodies;
        state.batches.push(ReceivedBatch {
            request_seq: seq,
            source_request_id: id,
            endpoint: route.path().to_string(),
            customer_id: identity("customer_id"),
            email: identity("email"),
            events,
            bytes: text.len(),
            body: keep.then(|| Arc::from(text.as_str())),
        });
    }
    if let Some(record) = &mut state.record
        && let Err(error) = record.flush()
    {
        state.snapshot.record_error = Some(error.to_string());
        state.record = None;
    }
    state.snapshot.bytes += log.bytes as u64;
    log.note = if log.duplicates > 0 {
        format!("{} new, {} duplicates", log.new_batches, log.duplicates)
    } else {
        format!("{} batches", log.new_batches)
    };
}

/// Counts the request, keeps it in the recent list, and answers.
fn finish(shared: &FeedShared, mut log: ReceivedRequest, answer: Answer) -> Answer {
    let mut state = shared.state();
    let snapshot = &mut state.snapshot;
    snapshot.requests += 1;
    log.seq = snapshot.requests;
    log.time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    match &answer {
        Ok(response) => {
            let status = response.status();
            log.status = Some(status.as_u16());
            match status.as_u16() {
                202 => snapshot.accepted_requests += 1,
                400 => snapshot.bad_requests += 1,
                401 => snapshot.unauthorized += 1,
                403 => snapshot.forbidden += 1,
                413 => {
                    snapshot.too_large += 1;
                    log.note = "body too large".into();
                }
                404 | 405 => snapshot.not_found += 1,
                429 => snapshot.rate_limited += 1,
                503 => snapshot.injected_failures += 1,
                _ => {}
            }
        }
        Err(Dropped) => {
            if log.new_batches > 0 || log.duplicates > 0 {
                snapshot.dropped_after += 1;
            } else {
                snapshot.dropped_before += 1;
            }
        }
    }
    tracing::debug!(
        seq = log.seq,
        path = %log.path,
        status = log.status,
        batches = log.batches,
        duplicates = log.duplicates,
        "local feed request"
    );
    state.recent.push_back(log);
    while state.recent.len() > RECENT_REQUESTS {
        state.recent.pop_front();
    }
    answer
}
