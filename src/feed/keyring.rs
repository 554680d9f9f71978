//! Keeping the credentials in the operating system's keyring, only when the user asks (the
//! Secret Service on Linux/BSD, Keychain on macOS, Credential Manager on Windows). Pure Rust:
//! nothing to install to build. On a machine with no keyring service these return an error the
//! window can show; the credentials then stay in memory only.

use super::settings::{Credentials, Secret};

/// The keyring service name feedlens stores under.
pub const SERVICE: &str = "feedlens";

/// Keyring trouble.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's keyring is not available or refused: {0}")]
pub struct KeyringError(String);

fn entry(name: &str) -> Result<::keyring::Entry, KeyringError> {
    ::keyring::Entry::new(SERVICE, name).map_err(|error| KeyringError(error.to_string()))
}

/// The keyring entry name for a feed (its target label, e.g. `US1` or a base URL).
fn entry_name(feed: &str) -> String {
    format!("feed:{feed}")
}

/// Stores the key and secret for `feed` (one keyring entry holding `key\nsecret`).
pub fn store(feed: &str, credentials: &Credentials) -> Result<(), KeyringError> {
    let mut value = format!("{}\n{}", credentials.key, credentials.secret.expose());
    let result = entry(&entry_name(feed))?
        .set_password(&value)
        .map_err(|error| KeyringError(error.to_string()));
    zeroize::Zeroize::zeroize(&mut value);
    result
}

/// Loads the key and secret stored for `feed`; `Ok(None)` when there are none.
pub fn load(feed: &str) -> Result<Option<Credentials>, KeyringError> {
    match entry(&entry_name(feed))?.get_password() {
        Ok(value) => {
            let secret = Secret::new(value);
            Ok(secret
                .expose()
                .split_once('\n')
                .map(|(key, secret)| Credentials::new(key, secret)))
        }
        Err(::keyring::Error::NoEntry) => Ok(None),
        Err(error) => Err(KeyringError(error.to_string())),
    }
}

/// Removes what is stored for `feed` (nothing stored is not an error).
pub fn forget(feed: &str) -> Result<(), KeyringError> {
    match entry(&entry_name(feed))?.delete_credential() {
        Ok(()) | Err(::keyring::Error::NoEntry) => Ok(()),
        Err(error) => Err(KeyringError(error.to_string())),
    }
}
