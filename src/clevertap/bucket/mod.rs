//! Export buckets as input: `s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`
//! or one object's URL (`https://account.blob.core.windows.net/container/…` too), through the
//! `object_store` crate with each cloud's credential chain from the environment.
//!
//! A bucket object is named everywhere by its URL, kept in a `PathBuf` like a file's path: the
//! reader opens it here instead of on disk, and each record's place is `s3://…/chunk.json.gz:7:1`.

mod store;

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use futures_util::TryStreamExt;
use object_store::ObjectStoreExt;

use super::chunks::chunk_order_key;
use super::paths::may_hold_records;

/// URL schemes read as bucket URLs.
const SCHEMES: [&str; 8] = [
    "s3://", "s3a://", "gs://", "az://", "azure://", "abfs://", "abfss://", "https://",
];

/// Whether `path` is a bucket URL rather than a path on disk.
pub fn is_url(path: &Path) -> bool {
    path.to_str().is_some_and(|text| {
        SCHEMES.iter().any(|scheme| {
            text.get(..scheme.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
        })
    })
}

/// Why a bucket URL could not be listed or opened.
#[derive(Debug, thiserror::Error)]
pub enum BucketError {
    /// The URL is not one feedlens reads.
    #[error("{url} is not a bucket URL feedlens reads: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The store refused or could not be reached.
    #[error("cannot read {url}: {reason} ({hint})")]
    Store {
        /// The URL as given.
        url: String,
        /// The store's answer.
        reason: String,
        /// What to check.
        hint: &'static str,
    },
    /// The prefix holds no file that may hold CleverTap records.
    #[error(
        "{url} holds no CleverTap files: check the prefix (the objects under it are listed with the cloud's own CLI)"
    )]
    Empty {
        /// The URL as given.
        url: String,
    },
    /// The runtime for bucket I/O did not start.
    #[error(
        "cannot start the bucket reader: {0} (the system is out of threads or memory: close other programs and try again)"
    )]
    Runtime(String),
}

/// One object under a bucket prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketObject {
    /// The object's full URL, as the records' places name it.
    pub url: PathBuf,
    /// Its size in bytes.
    pub size: u64,
}

fn text_of(url: &Path) -> Result<&str, BucketError> {
    url.to_str().ok_or_else(|| BucketError::BadUrl {
        url: url.to_string_lossy().into_owned(),
        reason: "it is not UTF-8 text".to_string(),
    })
}

/// The objects `url` stands for: the object itself when the URL names one, else every object
/// under the prefix that may hold CleverTap records (hidden, `.toml`, `.md`, `.txt` left out,
/// as in a folder), export chunks in chunk order.
pub fn list(url: &Path) -> Result<Vec<BucketObject>, BucketError> {
    let text = text_of(url)?;
    if let Some(size) = known().get(url) {
        // An object of an earlier listing (the window opens chosen chunks by their URLs): no
        // request needed to know it is one.
        return Ok(vec![BucketObject {
            url: url.to_path_buf(),
            size: *size,
        }]);
    }
    let located = store::locate(text)?;
    let runtime = store::runtime()?;
    let failed = |error: object_store::Error| BucketError::Store {
        url: text.to_string(),
        reason: error.to_string(),
        hint: located.hint,
    };
    if !text.ends_with('/') && located.path.parts().next().is_some() {
        match runtime.block_on(located.store.head(&located.path)) {
            Ok(meta) => {
                return Ok(vec![BucketObject {
                    url: url.to_path_buf(),
                    size: meta.size,
                }]);
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(error) => return Err(failed(error)),
        }
    }
    let prefix = (located.path.parts().next().is_some()).then_some(&located.path);
    let listed: Vec<object_store::ObjectMeta> = runtime
        .block_on(located.store.list(prefix).try_collect())
        .map_err(failed)?;
    let mut objects: Vec<BucketObject> = listed
        .into_iter()
        .map(|meta| BucketObject {
            url: PathBuf::from(format!("{}/{}", located.base, meta.location)),
            size: meta.size,
        })
        .filter(|object| may_hold_records(&object.url))
        .collect();
    objects.sort_by_cached_key(|object| chunk_order_key(&object.url));
    known().extend(
        objects
            .iter()
            .map(|object| (object.url.clone(), object.size)),
    );
    if objects.is_empty() {
        return Err(BucketError::Empty {
            url: text.to_string(),
        });
    }
    Ok(objects)
}

/// The size of an object listed earlier in this process (no request is made).
pub fn known_size(url: &Path) -> Option<u64> {
    known().get(url).copied()
}

/// The size of an input: a file's on disk, a bucket object's as listed.
pub fn input_size(path: &Path) -> Option<u64> {
    if is_url(path) {
        known_size(path)
    } else {
        std::fs::metadata(path).ok().map(|meta| meta.len())
    }
}

/// The objects listed so far in this process, with their sizes.
fn known() -> MutexGuard<'static, BTreeMap<PathBuf, u64>> {
    static KNOWN: OnceLock<Mutex<BTreeMap<PathBuf, u64>>> = OnceLock::new();
    KNOWN
        .get_or_init(|| Mutex::new(BTreeMap::new()))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Opens an object for streaming: its body (fetched piece by piece, never whole) and its size.
pub(crate) fn open(url: &Path) -> io::Result<(Box<dyn Read + Send>, u64)> {
    let to_io = |error: BucketError| io::Error::other(error.to_string());
    let text = text_of(url).map_err(to_io)?;
    let located = store::locate(text).map_err(to_io)?;
    let runtime = store::runtime().map_err(to_io)?;
    let got = runtime
        .block_on(located.store.get(&located.path))
        .map_err(|error| match error {
            object_store::Error::NotFound { .. } => io::Error::new(
                io::ErrorKind::NotFound,
                "no such object in the bucket (list the prefix again: it may have been moved)",
            ),
            other => io::Error::other(format!("{other} ({})", located.hint)),
        })?;
    let size = got.meta.size;
    let reader = store::ObjectReader::start(runtime, got.into_stream());
    Ok((Box::new(reader), size))
}
