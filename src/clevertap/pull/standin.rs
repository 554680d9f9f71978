//! A CleverTap API stand-in on 127.0.0.1 for tests, benches and trying `feedlens pull`: cursor
//! pages of the records it is given, the count API (answering `partial` first), header checks
//! (401 for a wrong account id or passcode), and faults on request: 429s, connections dropped
//! without an answer, slow pages, a count that differs, cursors of an earlier run refused.
//! Plain std threads, HTTP/1.1 with keep-alive.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the stand-in serves and how it misbehaves.
#[derive(Debug, Clone, Default)]
pub struct StandInConfig {
    /// The account id it accepts.
    pub account_id: String,
    /// The passcode it accepts.
    pub passcode: String,
    /// Per event name, its records as JSON text (served as given, so pretty text stays pretty).
    pub events: BTreeMap<String, Vec<String>>,
    /// Every Nth request is answered 429 "Too many concurrent requests" (0: never).
    pub too_many_every: u64,
    /// Every Nth request's connection is closed without an answer (0: never).
    pub drop_every: u64,
    /// Each page is answered after this long.
    pub page_delay: Duration,
    /// Added to every count (a CleverTap count that differs from the records).
    pub count_offset: i64,
    /// Cursors carry this; a cursor from another generation (an earlier stand-in) is refused
    /// as expired.
    pub generation: u32,
}

/// What the stand-in saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StandInStats {
    /// Requests read.
    pub requests: u64,
    /// Answered 429.
    pub too_many: u64,
    /// Closed unanswered.
    pub dropped: u64,
    /// Refused for their headers (401 or 400).
    pub refused: u64,
    /// Cursors handed out.
    pub cursors: u64,
    /// Pages served.
    pub pages: u64,
    /// Count requests and polls answered.
    pub counts: u64,
    /// Most page requests in flight at once.
    pub max_in_flight: u64,
    /// Most page requests in flight at once for one event's cursor chain.
    pub max_in_flight_per_cursor: u64,
}

struct State {
    config: StandInConfig,
    names: Vec<String>,
    requests: AtomicU64,
    stats: Mutex<StandInStats>,
    in_flight: Mutex<(u64, BTreeMap<usize, u64>)>,
}

/// A running stand-in; stops when dropped.
pub struct StandIn {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

impl StandIn {
    /// Starts on 127.0.0.1, on `port` (0: a free one).
    pub fn start(config: StandInConfig, port: u16) -> std::io::Result<StandIn> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(State {
            names: config.events.keys().cloned().collect(),
            config,
            requests: AtomicU64::new(0),
            stats: Mutex::new(StandInStats::default()),
            in_flight: Mutex::new((0, BTreeMap::new())),
        });
        let thread = {
            let (stop, state) = (Arc::clone(&stop), Arc::clone(&state));
            crate::thread::spawn_named("feedlens-clevertap-standin", move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let state = Arc::clone(&state);
                            // A connection that cannot get a thread is dropped, as a busy
                            // server would: the client retries.
                            let _ =
                                crate::thread::spawn_named("feedlens-clevertap-conn", move || {
                                    serve_connection(stream, &state)
                                });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })?
        };
        Ok(StandIn {
            address,
            stop,
            state,
            thread: Some(thread),
        })
    }

    /// The base URL to give `--url`: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The port it listens on (to start a later stand-in at the same URL).
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// What it saw so far.
    pub fn stats(&self) -> StandInStats {
        lock(&self.state.stats).clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Request {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let (path, query_text) = target.split_once('?').unwrap_or((&target, ""));
    let query = query_text
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect();
    Some(Request {
        method,
        path: path.to_string(),
        query,
        headers,
        body,
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn serve_connection(stream: TcpStream, state: &State) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let number = state.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let every = |n: u64| n > 0 && number.is_multiple_of(n);
        {
            let mut stats = lock(&state.stats);
            stats.requests += 1;
            if every(state.config.drop_every) {
                stats.dropped += 1;
                drop(stats);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
        }
        let (status, body) = if every(state.config.too_many_every) {
            lock(&state.stats).too_many += 1;
            fail(429, "Too many concurrent requests")
        } else {
            answer(state, &request)
        };
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            if status == 200 { "OK" } else { "Error" },
            body.len()
        );
        if writer
            .write_all(head.as_bytes())
            .and_then(|()| writer.write_all(&body))
            .and_then(|()| writer.flush())
            .is_err()
        {
            return;
        }
    }
}

fn fail(status: u16, message: &str) -> (u16, Vec<u8>) {
    let body = serde_json::json!({"status": "fail", "error": message, "code": status});
    (status, body.to_string().into_bytes())
}

fn success(value: serde_json::Value) -> (u16, Vec<u8>) {
    (200, value.to_string().into_bytes())
}

fn answer(state: &State, request: &Request) -> (u16, Vec<u8>) {
    let config = &state.config;
    let header = |name: &str| request.headers.get(name).map(String::as_str);
    if header("x-clevertap-account-id") != Some(&config.account_id)
        || header("x-clevertap-passcode") != Some(&config.passcode)
    {
        lock(&state.stats).refused += 1;
        return fail(401, "Invalid Credentials");
    }
    if header("content-type") != Some("application/json") {
        lock(&state.stats).refused += 1;
        return fail(400, "Content-Type must be application/json");
    }
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/1/events.json") => cursor_for(state, request),
        ("GET", "/1/events.json") => page(state, request),
        ("POST", "/1/counts/events.json") => {
            let Some((event, _)) = range_of(&request.body) else {
                return fail(400, "event_name, from and to are required");
            };
            lock(&state.stats).counts += 1;
            let id = state.names.iter().position(|n| *n == event);
            success(serde_json::json!({"status": "partial", "req_id": id.map_or(-1, |i| i as i64)}))
        }
        ("GET", "/1/counts/events.json") => {
            lock(&state.stats).counts += 1;
            let id = request
                .query
                .get("req_id")
                .and_then(|r| r.parse::<i64>().ok());
            let records = id
                .and_then(|id| usize::try_from(id).ok())
                .and_then(|id| state.names.get(id))
                .and_then(|name| config.events.get(name))
                .map_or(0, Vec::len);
            let count = (records as i64 + config.count_offset).max(0);
            success(serde_json::json!({"status": "success", "count": count}))
        }
        _ => fail(404, "Not found"),
    }
}

/// `{"event_name": …, "from": yyyymmdd, "to": yyyymmdd}`.
fn range_of(body: &[u8]) -> Option<(String, (u64, u64))> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let event = value.get("event_name")?.as_str()?.to_string();
    let from = value.get("from")?.as_u64()?;
    let to = value.get("to")?.as_u64()?;
    (from <= to).then_some((event, (from, to)))
}

fn cursor_for(state: &State, request: &Request) -> (u16, Vec<u8>) {
    let batch = request
        .query
        .get("batch_size")
        .and_then(|b| b.parse::<usize>().ok())
        .unwrap_or(10);
    if batch == 0 || batch > 5000 {
        return fail(400, "batch_size must be between 1 and 5000");
    }
    let Some((event, _)) = range_of(&request.body) else {
        return fail(400, "event_name, from and to are required");
    };
    // An event with no records still gets a cursor: its one page is empty.
    let index = state
        .names
        .iter()
        .position(|n| *n == event)
        .unwrap_or(usize::MAX);
    lock(&state.stats).cursors += 1;
    success(serde_json::json!({"status": "success", "cursor": cursor(state, index, 0, batch)}))
}

/// Opaque-looking, with `%2F` in it as CleverTap's are: a client must send it back as is.
fn cursor(state: &State, event: usize, offset: usize, batch: usize) -> String {
    format!(
        "c%2F{}%2F{event}%2F{offset}%2F{batch}",
        state.config.generation
    )
}

fn page(state: &State, request: &Request) -> (u16, Vec<u8>) {
    let parsed = request.query.get("cursor").and_then(|cursor| {
        let mut parts = cursor.strip_prefix("c/")?.split('/');
        let generation: u32 = parts.next()?.parse().ok()?;
        let event: usize = parts.next()?.parse().ok()?;
        let offset: usize = parts.next()?.parse().ok()?;
        let batch: usize = parts.next()?.parse().ok()?;
        Some((generation, event, offset, batch))
    });
    let Some((generation, event, offset, batch)) = parsed else {
        return fail(400, "Invalid cursor");
    };
    if generation != state.config.generation {
        return fail(400, "Cursor expired");
    }
    {
        let mut in_flight = lock(&state.in_flight);
        in_flight.0 += 1;
        let per = in_flight.1.entry(event).or_insert(0);
        *per += 1;
        let per = *per;
        let all = in_flight.0;
        let mut stats = lock(&state.stats);
        stats.max_in_flight = stats.max_in_flight.max(all);
        stats.max_in_flight_per_cursor = stats.max_in_flight_per_cursor.max(per);
    }
    std::thread::sleep(state.config.page_delay);
    let records = state
        .names
        .get(event)
        .and_then(|name| state.config.events.get(name))
        .map_or(&[][..], Vec::as_slice);
    let end = (offset + batch).min(records.len());
    let slice = records.get(offset..end).unwrap_or_default();
    let mut body = Vec::with_capacity(slice.iter().map(|r| r.len() + 1).sum::<usize>() + 200);
    body.extend_from_slice(b"{\"status\":\"success\",");
    if offset > 0 {
        let previous = cursor(state, event, offset.saturating_sub(batch), batch);
        body.extend_from_slice(format!("\"previous_cursor\":\"{previous}\",").as_bytes());
    }
    if end < records.len() {
        let next = cursor(state, event, end, batch);
        body.extend_from_slice(format!("\"next_cursor\":\"{next}\",").as_bytes());
    }
    body.extend_from_slice(b"\"records\":[");
    for (i, record) in slice.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(record.as_bytes());
    }
    body.extend_from_slice(b"]}");
    {
        let mut in_flight = lock(&state.in_flight);
        in_flight.0 = in_flight.0.saturating_sub(1);
        if let Some(per) = in_flight.1.get_mut(&event) {
            *per = per.saturating_sub(1);
        }
    }
    lock(&state.stats).pages += 1;
    (200, body)
}
