//! The masking salt: random per installation (a small file beside the send journal, created on
//! first use), or given by a team so that everyone's tokens agree (`--mask-salt`).

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// The key of the pseudonyms. Whoever has it can check a guessed value against a token, so it
/// is kept out of logs and messages (its Debug is masked) and zeroed when dropped.
#[derive(Clone)]
pub struct MaskSalt(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for MaskSalt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MaskSalt(***)")
    }
}

impl MaskSalt {
    /// A salt from a team's shared text (`--mask-salt`).
    pub fn from_text(text: &str) -> MaskSalt {
        MaskSalt(Zeroizing::new(text.as_bytes().to_vec()))
    }

    /// A new random salt (32 bytes from the operating system).
    pub fn random() -> Result<MaskSalt, SaltError> {
        let mut bytes = Zeroizing::new(vec![0; 32]);
        getrandom::fill(&mut bytes).map_err(|error| SaltError::Random(error.to_string()))?;
        Ok(MaskSalt(bytes))
    }

    /// The salt's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The salt as hex text, as it is kept in its file and in the window's preferences.
    pub fn to_hex(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(self.0.len() * 2));
        for byte in self.0.iter() {
            text.push_str(&format!("{byte:02x}"));
        }
        text
    }

    /// A salt from [`MaskSalt::to_hex`] text.
    pub fn from_hex(text: &str) -> Option<MaskSalt> {
        let text = text.trim();
        if text.len() < 32 || !text.len().is_multiple_of(2) {
            return None;
        }
        let bytes = (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        Some(MaskSalt(Zeroizing::new(bytes)))
    }
}

/// The salt could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum SaltError {
    /// The operating system gave no random bytes.
    #[error(
        "cannot make a masking salt: no random bytes from the system ({0}); pass --mask-salt TEXT"
    )]
    Random(String),
    /// The salt file could not be read or written.
    #[error(
        "cannot use the masking salt file {path}: {source}; fix its permissions, delete it to make a new one, or pass --mask-salt TEXT"
    )]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The salt file holds something else than a salt.
    #[error(
        "the masking salt file {path} does not hold a salt (hex text); delete it to make a new one (tokens will change), or pass --mask-salt TEXT"
    )]
    Invalid {
        /// The file.
        path: String,
    },
}

/// Where the installation's salt is kept: `mask-salt` in feedlens's data folder (beside the
/// send journal).
pub fn default_salt_path() -> PathBuf {
    salt_beside(&crate::feed::default_journal_path())
}

/// The salt's file beside the send journal `journal`.
pub fn salt_beside(journal: &Path) -> PathBuf {
    journal.with_file_name("mask-salt")
}

/// The salt in `path`, made (random) and written there on first use, readable by the user only.
pub fn load_or_create_salt(path: &Path) -> Result<MaskSalt, SaltError> {
    let io = |source| SaltError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => MaskSalt::from_hex(&Zeroizing::new(text)).ok_or_else(|| SaltError::Invalid {
            path: path.display().to_string(),
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let salt = MaskSalt::random()?;
            if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            write_private(path, salt.to_hex().as_bytes()).map_err(io)?;
            Ok(salt)
        }
        Err(error) => Err(io(error)),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
