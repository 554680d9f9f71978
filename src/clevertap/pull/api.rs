//! The Get Events and Get Event Count APIs over HTTP: headers, one attempt classified, and the
//! retries (the sender's backoff with jitter, [`crate::feed`]'s `backoff_delay`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use crate::feed::{Secret, SendTuning};

/// Longest part of an answer kept for a message.
const MAX_MESSAGE_CHARS: usize = 500;

/// Why a call to CleverTap did not give an answer to use.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401/403: wrong account id, passcode or region. Never retried.
    #[error(
        "CleverTap refused the credentials (HTTP {status} to {what}): {message}. Check FEEDLENS_CLEVERTAP_ACCOUNT_ID, FEEDLENS_CLEVERTAP_PASSCODE and the region"
    )]
    Auth {
        /// The request, e.g. `POST https://eu1.api.clevertap.com/1/events.json`.
        what: String,
        /// The HTTP status.
        status: u16,
        /// CleverTap's `error` text (or the body).
        message: String,
    },
    /// `{"status": "fail"}` or another 4xx: CleverTap's message. Never retried.
    #[error("CleverTap answered fail (HTTP {status}) to {what}: {message}")]
    Fail {
        /// The request.
        what: String,
        /// The HTTP status.
        status: u16,
        /// CleverTap's `error` text (or the body).
        message: String,
    },
    /// 429, 5xx, timeouts and dropped connections, every try.
    #[error("{what} failed {attempts} times, the last: {error}")]
    GaveUp {
        /// The request.
        what: String,
        /// Tries made.
        attempts: u32,
        /// The last failure.
        error: String,
    },
    /// Stopped (Ctrl-C or another event's error) while waiting to retry.
    #[error("stopped")]
    Stopped,
}

/// A retry about to happen, for progress output.
#[derive(Debug, Clone)]
pub struct RetryNote {
    /// The request.
    pub what: String,
    /// The try that failed (1 = the first).
    pub attempt: u32,
    /// Why.
    pub error: String,
    /// The wait before the next try.
    pub wait: Duration,
}

/// The answer to one call: HTTP status and body (a 2xx, or a 4xx other than 401/403/408/429).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: bytes::Bytes,
}

/// CleverTap's envelope: `status`, `error`, and the fields each call needs.
#[derive(serde::Deserialize)]
struct Envelope {
    status: Option<String>,
    error: Option<String>,
    cursor: Option<String>,
    count: Option<u64>,
    req_id: Option<serde_json::Value>,
}

/// A client for one account at one base URL.
pub(crate) struct Api {
    client: reqwest::blocking::Client,
    base: String,
    passcode: Secret,
    tuning: SendTuning,
}

impl Api {
    /// Builds the client: the account and passcode headers on every request (the passcode
    /// marked sensitive), TLS verified, no redirects, no proxy for loopback.
    pub(crate) fn new(
        base_url: &reqwest::Url,
        account_id: &str,
        passcode: &Secret,
        tuning: &SendTuning,
    ) -> Result<Api, reqwest::Error> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Ok(value) = HeaderValue::from_str(account_id) {
            headers.insert(HeaderName::from_static("x-clevertap-account-id"), value);
        }
        if let Ok(mut value) = HeaderValue::from_str(passcode.expose()) {
            value.set_sensitive(true);
            headers.insert(HeaderName::from_static("x-clevertap-passcode"), value);
        }
        Ok(Api {
            client: crate::feed::client_builder(headers, tuning, base_url).build()?,
            base: base_url.as_str().trim_end_matches('/').to_string(),
            passcode: passcode.clone(),
            tuning: tuning.clone(),
        })
    }

    /// Step 1: a cursor for `event` from `from` to `to` (yyyymmdd, inclusive).
    pub(crate) fn request_cursor(
        &self,
        event: &str,
        range: (u32, u32),
        batch_size: u32,
        stop: &AtomicBool,
        on_retry: &dyn Fn(RetryNote),
    ) -> Result<String, ApiError> {
        let url = format!(
            "{}/1/events.json?batch_size={batch_size}&app=true&events=true&profile=true",
            self.base
        );
        let what = format!("POST {}/1/events.json (cursor for {event:?})", self.base);
        let body = range_body(event, range);
        let answer = self.call(&what, stop, on_retry, || {
            self.client.post(&url).body(body.clone())
        })?;
        let envelope = self.envelope(&what, &answer)?;
        envelope.cursor.ok_or_else(|| ApiError::Fail {
            what,
            status: answer.status,
            message: "the answer holds no cursor".to_string(),
        })
    }

    /// Step 2: one page. The body is returned whole (the caller parses its records); a fail is
    /// an error.
    pub(crate) fn page(
        &self,
        cursor: &str,
        stop: &AtomicBool,
        on_retry: &dyn Fn(RetryNote),
    ) -> Result<bytes::Bytes, ApiError> {
        let url = format!("{}/1/events.json?cursor={cursor}", self.base);
        let what = format!("GET {}/1/events.json?cursor=…", self.base);
        let answer = self.call(&what, stop, on_retry, || self.client.get(&url))?;
        if answer.status >= 300 || !status_is_success(&answer.body) {
            // Only a failure's envelope is parsed here; a page is parsed once, by the caller.
            self.envelope(&what, &answer)?;
        }
        Ok(answer.body)
    }

    /// The Get Event Count API's count, polling while it answers `partial`.
    pub(crate) fn count(
        &self,
        event: &str,
        range: (u32, u32),
        poll: Duration,
        stop: &AtomicBool,
        on_retry: &dyn Fn(RetryNote),
    ) -> Result<u64, ApiError> {
        let url = format!("{}/1/counts/events.json", self.base);
        let what = format!("POST {url} ({event:?})");
        let body = range_body(event, range);
        let mut answer = self.call(&what, stop, on_retry, || {
            self.client.post(&url).body(body.clone())
        })?;
        loop {
            let envelope = self.envelope(&what, &answer)?;
            match (envelope.status.as_deref(), envelope.count, envelope.req_id) {
                (Some("success"), Some(count), _) => return Ok(count),
                (Some("partial"), _, Some(req_id)) => {
                    let req_id = match req_id {
                        serde_json::Value::String(text) => text,
                        other => other.to_string(),
                    };
                    if !sleep_unless_stopped(poll, stop) {
                        return Err(ApiError::Stopped);
                    }
                    let poll_url = format!("{url}?req_id={req_id}");
                    answer = self.call(&what, stop, on_retry, || self.client.get(&poll_url))?;
                }
                _ => {
                    return Err(ApiError::Fail {
                        what,
                        status: answer.status,
                        message: format!(
                            "neither a count nor a req_id to poll: {}",
                            self.shown(&answer.body)
                        ),
                    });
                }
            }
        }
    }

    /// Sends with retries: 429, 408, 5xx, timeouts and connection errors are retried with the
    /// sender's backoff and jitter; 401/403 stop at once.
    fn call(
        &self,
        what: &str,
        stop: &AtomicBool,
        on_retry: &dyn Fn(RetryNote),
        request: impl Fn() -> reqwest::blocking::RequestBuilder,
    ) -> Result<Answer, ApiError> {
        let max_attempts = self.tuning.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match request().send().and_then(|r| {
                let status = r.status().as_u16();
                r.bytes().map(|body| (status, body))
            }) {
                Ok((status, body)) => match status {
                    401 | 403 => {
                        return Err(ApiError::Auth {
                            what: what.to_string(),
                            status,
                            message: self.message(&body),
                        });
                    }
                    408 | 429 | 500..=599 => format!("HTTP {status}: {}", self.message(&body)),
                    _ => return Ok(Answer { status, body }),
                },
                Err(error) => self.redact(&crate::feed::error_chain(&error)),
            };
            if attempt >= max_attempts {
                return Err(ApiError::GaveUp {
                    what: what.to_string(),
                    attempts: attempt,
                    error,
                });
            }
            let wait = crate::feed::backoff_delay(&self.tuning, attempt, None, fastrand::f64());
            on_retry(RetryNote {
                what: what.to_string(),
                attempt,
                error,
                wait,
            });
            if !sleep_unless_stopped(wait, stop) {
                return Err(ApiError::Stopped);
            }
        }
    }

    /// The envelope of an answer; a `fail` (or any non-2xx) is an error with CleverTap's text.
    fn envelope(&self, what: &str, answer: &Answer) -> Result<Envelope, ApiError> {
        let fail = |message: String| ApiError::Fail {
            what: what.to_string(),
            status: answer.status,
            message,
        };
        let envelope: Envelope = match serde_json::from_slice(&answer.body) {
            Ok(envelope) => envelope,
            Err(error) if answer.status < 300 => {
                return Err(fail(format!(
                    "not CleverTap's JSON answer ({error}): {}",
                    self.shown(&answer.body)
                )));
            }
            Err(_) => return Err(fail(self.shown(&answer.body))),
        };
        if answer.status >= 300 || envelope.status.as_deref() == Some("fail") {
            return Err(fail(envelope.error.as_deref().map_or_else(
                || self.shown(&answer.body),
                |text| self.redact(text),
            )));
        }
        Ok(envelope)
    }

    /// CleverTap's `error` text when the body is its envelope, else the body.
    fn message(&self, body: &[u8]) -> String {
        match serde_json::from_slice::<Envelope>(body) {
            Ok(Envelope {
                error: Some(error), ..
            }) => self.redact(&error),
            _ => self.shown(body),
        }
    }

    /// A body for a message: trimmed, cut, never holding the passcode.
    fn shown(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let cut: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
        let cut = if cut.len() < text.len() {
            cut + "…"
        } else {
            cut
        };
        if cut.is_empty() {
            "(empty answer)".to_string()
        } else {
            self.redact(&cut)
        }
    }

    /// Never let the passcode through, even if a server echoes it.
    fn redact(&self, text: &str) -> String {
        if self.passcode.is_empty() {
            text.to_string()
        } else {
            text.replace(self.passcode.expose(), "***")
        }
    }
}

fn range_body(event: &str, (from, to): (u32, u32)) -> bytes::Bytes {
    serde_json::json!({"event_name": event, "from": from, "to": to})
        .to_string()
        .into()
}

/// Whether a page's body says `"status": "success"`, checked without parsing the page: the
/// envelope's key comes first in CleverTap's answers; anything else goes through the envelope.
fn status_is_success(body: &[u8]) -> bool {
    let head = &body[..body.len().min(64)];
    let compact: Vec<u8> = head
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    compact.starts_with(b"{\"status\":\"success\"")
}

/// Sleeps `wait` in short steps; false when `stop` was set meanwhile.
pub(crate) fn sleep_unless_stopped(wait: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + wait;
    loop {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}
