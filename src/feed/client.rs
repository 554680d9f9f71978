//! One HTTP attempt against a feed, classified as the Events API says: 2xx accepted; 400, 401,
//! 403 and other 4xx rejected (never retried); 429, 5xx, timeouts and connection errors retried.

use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};

use super::settings::{ResolvedTarget, SendTuning};

/// Longest part of an error body kept for display and the journal.
const MAX_BODY_CHARS: usize = 2000;

/// How one attempt ended, before any retry decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttemptResult {
    /// 2xx.
    Accepted {
        http_status: u16,
        /// `X-mp-rate-limit-percentage-used`, when sent.
        rate_limit_percent: Option<u32>,
    },
    /// Must not be retried: the body says why.
    Rejected { http_status: u16, body: String },
    /// May be retried.
    Retry {
        http_status: Option<u16>,
        /// `Retry-After`, when sent (whole seconds).
        retry_after: Option<Duration>,
        error: String,
    },
}

/// A client for one resolved target. Cheap to share between worker threads.
///
/// The secret goes into the `Authorization` header only (marked sensitive, so it is not shown
/// in debug output); no message is built from it, so none needs masking afterwards. A URL with
/// a user name or password never gets this far ([`super::check_url`]).
pub(crate) struct FeedClient {
    client: reqwest::blocking::Client,
}
/// The HTTP client every outside call starts from (the feed, CleverTap's API): these headers,
/// our user agent, the tuning's timeouts, no redirects, https only for an https base, and no
/// proxy for plain http (which is loopback only).
pub(crate) fn client_builder(
    headers: HeaderMap,
    tuning: &SendTuning,
    base_url: &reqwest::Url,
) -> reqwest::blocking::ClientBuilder {
    let builder = reqwest::blocking::Client::builder()
        .default_headers(headers)
        .user_agent(concat!("feedlens/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(tuning.connect_timeout)
        .timeout(tuning.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .https_only(base_url.scheme() == "https");
    if base_url.scheme() == "http" {
        builder.no_proxy()
    } else {
        builder
    }
}

impl FeedClient {
    /// Builds the client. TLS is always verified (there is deliberately no switch to turn
    /// that off); redirects are not followed, so credentials never travel elsewhere; a loopback
    /// target bypasses any configured proxy.
    pub(crate) fn new(
        target: &ResolvedTarget,
        tuning: &SendTuning,
    ) -> Result<FeedClient, reqwest::Error> {
        let mut authorization = HeaderValue::from_str(&target.credentials.authorization())
            .unwrap_or_else(|_| HeaderValue::from_static(""));
        authorization.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, authorization);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let builder = client_builder(headers, tuning, &target.base_url)
            .pool_max_idle_per_host(tuning.concurrency.max(1));
        Ok(FeedClient {
            client: builder.build()?,
        })
    }

    /// Posts one body and classifies the answer. Returns the result and the latency.
    pub(crate) fn post(&self, url: &str, body: bytes::Bytes) -> (AttemptResult, Duration) {
        let started = Instant::now();
        let response = self.client.post(url).body(body).send();
        let result = match response {
            Ok(response) => self.classify(response),
            Err(error) => AttemptResult::Retry {
                http_status: None,
                retry_after: None,
                error: error_chain(&error),
            },
        };
        (result, started.elapsed())
    }

    fn classify(&self, response: reqwest::blocking::Response) -> AttemptResult {
        let status = response.status();
        let http_status = status.as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
        };
        let rate_limit_percent =
            header("x-mp-rate-limit-percentage-used").and_then(|v| v.parse::<u32>().ok());
        let retry_after = header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let exceeded = header("x-mp-rate-limit-exceeded");
        if status.is_success() {
            // Drain the (empty) body so the connection can be reused.
            let _ = response.bytes();
            return AttemptResult::Accepted {
                http_status,
                rate_limit_percent,
            };
        }
        let body = body_text(response);
        if http_status == 429 || status.is_server_error() || http_status == 408 {
            let mut error = format!("HTTP {status}");
            if let Some(scope) = exceeded {
                error.push_str(&format!(" (rate limit exceeded: {scope})"));
            }
            if !body.is_empty() {
                error.push_str(": ");
                error.push_str(&body);
            }
            AttemptResult::Retry {
                http_status: Some(http_status),
                retry_after,
                error,
            }
        } else {
            AttemptResult::Rejected {
                http_status,
                body: if body.is_empty() {
                    format!("HTTP {status}")
                } else {
                    body
                },
            }
        }
    }
}

fn body_text(response: reqwest::blocking::Response) -> String {
    let text = response.text().unwrap_or_default();
    let mut text = text.trim().to_string();
    if text.chars().count() > MAX_BODY_CHARS {
        text = text.chars().take(MAX_BODY_CHARS).collect::<String>() + "…";
    }
    text
}

/// An error with its causes, e.g. `error sending request for url (…): connection closed`.
pub(crate) fn error_chain(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        format!("timed out: {error}")
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
