//! Feed settings: where to send (a pod, any base URL, or the built-in local feed), the
//! credentials (the secret kept out of every log, file and screenshot), the environment, and the
//! sender's tuning. [`FeedSettings::resolve`] turns them into a [`ResolvedTarget`], refusing
//! what is unsafe (plain `http://` with credentials to a host that is not loopback, production
//! without confirmation).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::mparticle::Environment;

/// Environment variable holding the feed's key (the Basic auth user name).
pub const KEY_ENV: &str = "FEEDLENS_API_KEY";
/// Environment variable holding the feed's secret (the Basic auth password).
pub const SECRET_ENV: &str = "FEEDLENS_API_SECRET";
/// The built-in local feed's key when none is given: not a real credential.
pub const DEMO_KEY: &str = "feedlens-local-key";
/// The built-in local feed's secret when none is given: not a real credential.
pub const DEMO_SECRET: &str = "feedlens-local-secret";

/// An mParticle data pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Pod {
    /// `https://s2s.mparticle.com/v2`.
    US1,
    /// `https://s2s.us2.mparticle.com/v2`.
    US2,
    /// `https://s2s.eu1.mparticle.com/v2`.
    EU1,
    /// `https://s2s.au1.mparticle.com/v2`.
    AU1,
}

impl Pod {
    /// Every pod, in the order a picker shows them.
    pub const ALL: [Pod; 4] = [Pod::US1, Pod::US2, Pod::EU1, Pod::AU1];

    /// The pod's Events API base URL (the paths `/bulkevents`… follow it).
    pub fn base_url(self) -> &'static str {
        match self {
            Pod::US1 => "https://s2s.mparticle.com/v2",
            Pod::US2 => "https://s2s.us2.mparticle.com/v2",
            Pod::EU1 => "https://s2s.eu1.mparticle.com/v2",
            Pod::AU1 => "https://s2s.au1.mparticle.com/v2",
        }
    }

    /// `US1`, `US2`, `EU1` or `AU1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Pod::US1 => "US1",
            Pod::US2 => "US2",
            Pod::EU1 => "EU1",
            Pod::AU1 => "AU1",
        }
    }
}

impl std::str::FromStr for Pod {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Pod::ALL
            .into_iter()
            .find(|pod| pod.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("unknown pod `{text}`: use US1, US2, EU1 or AU1"))
    }
}

/// Where batches go.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FeedTarget {
    /// The built-in local feed (the default: works on a fresh machine with no account).
    #[default]
    Local,
    /// An mParticle pod.
    Pod(Pod),
    /// Any base URL, e.g. `https://inbound.mparticle.com/s2s/v2` or a test server.
    Url(String),
}

impl FeedTarget {
    /// A short stable name: `local`, the pod (`US1`) or the URL. The keyring entry's name.
    pub fn label(&self) -> String {
        match self {
            FeedTarget::Local => "local".to_string(),
            FeedTarget::Pod(pod) => pod.as_str().to_string(),
            FeedTarget::Url(url) => url.trim().trim_end_matches('/').to_string(),
        }
    }

    /// The base URL batches go to, as given (not yet checked: [`check_url`]); `None` for the
    /// local feed, whose URL is known once it runs.
    pub fn base_url(&self) -> Option<String> {
        match self {
            FeedTarget::Local => None,
            FeedTarget::Pod(pod) => Some(pod.base_url().to_string()),
            FeedTarget::Url(url) => Some(url.trim().trim_end_matches('/').to_string()),
        }
    }
}

impl fmt::Display for FeedTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeedTarget::Local => f.write_str("local feed"),
            FeedTarget::Pod(pod) => write!(f, "{} ({})", pod.as_str(), pod.base_url()),
            FeedTarget::Url(url) => f.write_str(url),
        }
    }
}

/// A secret that never shows: `Debug` and `Display` print `***`, it has no `Serialize`, and its
/// memory is wiped when dropped. Read it only where it is used ([`Secret::expose`]).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself: only for building the Authorization header or storing it in the
    /// operating system's keyring.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Nothing typed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// A feed's key (Basic auth user name) and secret (password). Not serializable: keep it in
/// memory, or in the operating system's keyring through [`super::keyring`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// The feed's key.
    pub key: String,
    /// The feed's secret.
    pub secret: Secret,
}

impl Credentials {
    /// A key and secret.
    pub fn new(key: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            secret: Secret::new(secret),
        }
    }

    /// From `FEEDLENS_API_KEY` and `FEEDLENS_API_SECRET`, when both are set and not empty.
    pub fn from_env() -> Option<Self> {
        let key = std::env::var(KEY_ENV).ok().filter(|k| !k.is_empty())?;
        let secret = std::env::var(SECRET_ENV).ok().filter(|s| !s.is_empty())?;
        Some(Self::new(key, secret))
    }

    /// The local feed's demo pair ([`DEMO_KEY`], [`DEMO_SECRET`]).
    pub fn demo() -> Self {
        Self::new(DEMO_KEY, DEMO_SECRET)
    }

    /// Key or secret missing.
    pub fn is_empty(&self) -> bool {
        self.key.is_empty() || self.secret.is_empty()
    }

    /// The `Authorization` header value. Built only when a request is sent.
    pub fn authorization(&self) -> String {
        use base64::Engine as _;
        let mut pair = format!("{}:{}", self.key, self.secret.expose());
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
        pair.zeroize();
        format!("Basic {encoded}")
    }

    /// A short fingerprint of the key (never of the secret), so the journal can tell feeds
    /// apart (mParticle deduplicates per key) without holding the key itself.
    pub fn key_fingerprint(&self) -> String {
        let digest = Sha256::digest(self.key.as_bytes());
        digest[..6].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// How the sender behaves: concurrency, retries, timeouts, slow-down. Tests shorten the backoff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SendTuning {
    /// Requests in flight at once (worker threads).
    pub concurrency: usize,
    /// Tries per request before it is given up (first try included).
    pub max_attempts: u32,
    /// First retry waits about this long; each retry doubles it (with jitter).
    pub backoff_base: Duration,
    /// No backoff is longer than this (a `Retry-After` may be).
    pub backoff_max: Duration,
    /// A `Retry-After` longer than this gives the request up instead of waiting.
    pub retry_after_max: Duration,
    /// Connecting gives up after this long.
    pub connect_timeout: Duration,
    /// A whole request (send and answer) gives up after this long.
    pub request_timeout: Duration,
    /// From this `X-mp-rate-limit-percentage-used` on, the sender adds a delay between requests
    /// that grows to [`SendTuning::slow_down_max`] at 100 %.
    pub slow_down_from_percent: u8,
    /// The delay at 100 % used.
    pub slow_down_max: Duration,
}

impl Default for SendTuning {
    fn default() -> Self {
        Self {
            concurrency: 4,
            max_attempts: 6,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            retry_after_max: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            slow_down_from_percent: 80,
            slow_down_max: Duration::from_secs(1),
        }
    }
}

/// What the user chose in the send panel (or on the command line). Serializable for the
/// window's preferences: the credentials are kept apart ([`Credentials`]), never in here.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FeedSettings {
    /// Where to send.
    pub target: FeedTarget,
    /// Development (the default) or production.
    pub environment: Environment,
    /// The user explicitly confirmed sending to production (never persisted as true: the
    /// window should ask again each session).
    #[serde(skip)]
    pub production_confirmed: bool,
    /// Send held (invalid) records too.
    pub send_held: bool,
    /// Sender tuning.
    pub tuning: SendTuning,
}

/// Why settings cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    /// The URL does not parse.
    #[error("not a valid URL ({reason}): {url}")]
    BadUrl {
        /// Why.
        reason: String,
        /// The URL as typed.
        url: String,
    },
    /// Not http or https.
    #[error("only http:// and https:// are supported: {url}")]
    UnsupportedScheme {
        /// The URL as typed.
        url: String,
    },
    /// Plain http to a host that is not loopback would expose the credentials.
    #[error(
        "refusing to send credentials over plain http:// to a host that is not loopback (use https://): {url}"
    )]
    InsecureHttp {
        /// The URL as typed.
        url: String,
    },
    /// A user name or password inside the URL would be shown in the plan and written to the
    /// journal with it; the key and secret have their own fields.
    #[error(
        "the URL holds a user name or password ({url}): give the URL without them, and the key and secret in their own fields or in FEEDLENS_API_KEY and FEEDLENS_API_SECRET"
    )]
    CredentialsInUrl {
        /// The URL with its user name and password masked.
        url: String,
    },
    /// Production needs an explicit confirmation.
    #[error("sending to production needs an explicit confirmation")]
    ProductionNotConfirmed,
    /// Key or secret missing.
    #[error(
        "no key and secret for {target}: type them in, or set FEEDLENS_API_KEY and FEEDLENS_API_SECRET"
    )]
    MissingCredentials {
        /// The target.
        target: String,
    },
    /// The target is the local feed but none is running.
    #[error("the local feed is not running: start it first")]
    LocalFeedNotRunning,
}

/// Where a running local feed listens and what it accepts: all [`FeedSettings::resolve`] needs
/// of it (the running server's handle gives one with `LocalFeedHandle::endpoint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEndpoint {
    /// Its base URL, `http://127.0.0.1:PORT/v2`.
    pub url: String,
    /// The key and secret it accepts.
    pub credentials: Credentials,
}

/// A target ready to send to: base URL checked, credentials chosen.
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    /// Base URL without a trailing slash (`…/v2`); endpoints are appended.
    pub base_url: reqwest::Url,
    /// How the journal names this feed: `local` for the built-in feed, else the base URL.
    pub journal_target: String,
    /// Fingerprint of the key ([`Credentials::key_fingerprint`]).
    pub key_fingerprint: String,
    /// Credentials to send with.
    pub credentials: Credentials,
    /// The environment the batches carry.
    pub environment: Environment,
}

impl ResolvedTarget {
    /// The full URL of an endpoint path (`/bulkevents`).
    pub fn endpoint_url(&self, path: &str) -> String {
        format!("{}{}", self.base_url.as_str().trim_end_matches('/'), path)
    }
}

impl FeedSettings {
    /// Checks the settings and picks the credentials: for the local feed, its own pair (the
    /// running feed's `local` endpoint is required); otherwise `credentials`, which must not be
    /// empty.
    pub fn resolve(
        &self,
        credentials: &Credentials,
        local: Option<&LocalEndpoint>,
    ) -> Result<ResolvedTarget, SettingsError> {
        if self.environment == Environment::Production && !self.production_confirmed {
            return Err(SettingsError::ProductionNotConfirmed);
        }
        let (url_text, journal_target, credentials) = match self.target.base_url() {
            None => {
                let feed = local.ok_or(SettingsError::LocalFeedNotRunning)?;
                (
                    feed.url.clone(),
                    "local".to_string(),
                    feed.credentials.clone(),
                )
            }
            Some(url) => (url.clone(), url, credentials.clone()),
        };
        let base_url = check_url(&url_text)?;
        if credentials.is_empty() {
            return Err(SettingsError::MissingCredentials { target: url_text });
        }
        Ok(ResolvedTarget {
            base_url,
            journal_target,
            key_fingerprint: credentials.key_fingerprint(),
            credentials,
            environment: self.environment,
        })
    }
}

/// Parses a base URL and refuses plain `http://` to anything but loopback (127.0.0.0/8, ::1,
/// `localhost`): credentials always travel with a request. A URL with a user name or password
/// (`https://key:secret@host/v2`) is refused, and no message repeats them.
pub fn check_url(text: &str) -> Result<reqwest::Url, SettingsError> {
    let shown = || mask_user_info(text.trim());
    let url = reqwest::Url::parse(text.trim()).map_err(|error| SettingsError::BadUrl {
        reason: error.to_string(),
        url: shown(),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SettingsError::CredentialsInUrl { url: shown() });
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(SettingsError::InsecureHttp { url: shown() }),
        _ => Err(SettingsError::UnsupportedScheme { url: shown() }),
    }
}

/// The URL as typed, with anything between `scheme://` and the last `@` of the authority (a
/// user name and password) replaced by `***`; parsed or not, so that even a URL that does not
/// parse is never shown with its secret.
fn mask_user_info(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => {
            let host = authority.get(at + 1..).unwrap_or_default();
            format!("{scheme}://***@{host}{path}")
        }
        None => text.to_string(),
    }
}

/// Whether the URL's host is this machine.
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => {
            let name = host.to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let credentials = Credentials::new("k", "hunter2-very-secret");
        let shown = format!("{credentials:?} {}", credentials.secret);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn a_url_with_credentials_is_refused_without_repeating_them() {
        for (url, shown) in [
            (
                "http://key:s3cr3t-pw@127.0.0.1:8080/v2",
                "http://***@127.0.0.1:8080/v2",
            ),
            (
                "https://s3cr3t-pw@s2s.mparticle.com/v2",
                "https://***@s2s.mparticle.com/v2",
            ),
            (
                "https://k:s3cr3t-pw@feed.example.com",
                "https://***@feed.example.com",
            ),
        ] {
            let error = check_url(url).unwrap_err();
            assert_eq!(
                error,
                SettingsError::CredentialsInUrl {
                    url: shown.to_string()
                },
                "{url}"
            );
            let message = error.to_string();
            assert!(!message.contains("s3cr3t"), "{message}");
            assert!(message.contains("FEEDLENS_API_SECRET"), "{message}");
        }
        // A URL that does not parse is masked as well.
        let message = check_url("http://key:s3cr3t-pw@127.0.0.1:99999/v2")
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("not a valid URL"), "{message}");
        assert!(
            message.ends_with("http://***@127.0.0.1:99999/v2"),
            "{message}"
        );
        // An `@` in the path is not user information.
        assert_eq!(
            check_url("https://feed.example.com/v2/a@b").map(|u| u.to_string()),
            Ok("https://feed.example.com/v2/a@b".to_string())
        );
    }

    #[test]
    fn authorization_is_basic_base64() {
        let credentials = Credentials::new("key", "secret");
        assert_eq!(credentials.authorization(), "Basic a2V5OnNlY3JldA==");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080/v2",
            "http://127.5.6.7/v2",
            "http://[::1]:9/v2",
            "http://localhost:1/v2",
            "https://s2s.mparticle.com/v2",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://s2s.mparticle.com/v2",
            "http://10.0.0.1/v2",
            "http://localhost.example.com/v2",
            "http://[::2]/v2",
        ] {
            assert!(
                matches!(check_url(bad), Err(SettingsError::InsecureHttp { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            check_url("ftp://x/y"),
            Err(SettingsError::UnsupportedScheme { .. })
        ));
    }

    #[test]
    fn production_needs_confirmation() {
        let mut settings = FeedSettings {
            target: FeedTarget::Pod(Pod::EU1),
            environment: Environment::Production,
            ..FeedSettings::default()
        };
        let credentials = Credentials::new("k", "s");
        assert_eq!(
            settings.resolve(&credentials, None).err(),
            Some(SettingsError::ProductionNotConfirmed)
        );
        settings.production_confirmed = true;
        let resolved = settings.resolve(&credentials, None).unwrap();
        assert_eq!(
            resolved.endpoint_url("/bulkevents"),
            "https://s2s.eu1.mparticle.com/v2/bulkevents"
        );
    }

    #[test]
    fn settings_serialize_without_credentials() {
        let settings = FeedSettings {
            target: FeedTarget::Url("https://example.com/v2".into()),
            ..FeedSettings::default()
        };
        let text = serde_json::to_string(&settings).unwrap();
        let back: FeedSettings = serde_json::from_str(&text).unwrap();
        assert_eq!(back, settings);
        let old: FeedSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(old.target, FeedTarget::Local);
    }
}
