//! The object stores behind bucket URLs (one per bucket, kept for the process so that
//! connections and credentials are reused), the runtime their I/O runs on, and an object's
//! body as a blocking [`Read`] that streams it.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::{Buf, Bytes};
use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreScheme};
use url::Url;

use super::BucketError;

/// Body pieces read ahead of the reader (each a network frame, a few to a few hundred KiB).
const READ_AHEAD: usize = 64;

/// The runtime every bucket request runs on: two worker threads, started on first use.
pub(super) fn runtime() -> Result<&'static tokio::runtime::Runtime, BucketError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("feedlens-bucket")
                .enable_all()
                .build()
                .map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|reason| BucketError::Runtime(reason.clone()))
}

/// Where a URL points: its store, the object path inside it, and the URL's store part
/// (`s3://bucket`) to name listed objects with.
pub(super) struct Located {
    pub(super) store: Arc<dyn ObjectStore>,
    pub(super) path: ObjectPath,
    pub(super) base: String,
    /// What to check when the store refuses.
    pub(super) hint: &'static str,
}

/// Finds (or builds, with the cloud's credential chain from the environment) the store for
/// `url`.
pub(super) fn locate(url: &str) -> Result<Located, BucketError> {
    static STORES: OnceLock<Mutex<BTreeMap<String, Arc<dyn ObjectStore>>>> = OnceLock::new();
    let bad = |reason: String| BucketError::BadUrl {
        url: url.to_string(),
        reason,
    };
    let parsed = Url::parse(url).map_err(|error| bad(error.to_string()))?;
    let (scheme, path) =
        ObjectStoreScheme::parse(&parsed).map_err(|error| bad(error.to_string()))?;
    let host = parsed.host_str().unwrap_or_default();
    // https://account.blob.core.windows.net/container/… and path-style S3 URLs
    // (https://s3.region.amazonaws.com/bucket/…) keep the container or bucket in the URL's
    // path, as object_store reads them: it belongs to the store, not to the object path.
    let in_path = parsed.scheme() == "https"
        && (scheme == ObjectStoreScheme::MicrosoftAzure || host.starts_with("s3"));
    let base = if in_path {
        let container = parsed
            .path()
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        format!("https://{host}/{container}")
    } else {
        format!("{}://{host}", parsed.scheme())
    };
    let stores = STORES.get_or_init(|| Mutex::new(BTreeMap::new()));
    let mut stores = stores
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let store = match stores.get(&base) {
        Some(store) => Arc::clone(store),
        None => {
            let failed = |error: object_store::Error| BucketError::Store {
                url: url.to_string(),
                reason: error.to_string(),
                hint: hint(&scheme),
            };
            let store: Arc<dyn ObjectStore> = match scheme {
                ObjectStoreScheme::AmazonS3 => Arc::new(
                    AmazonS3Builder::from_env()
                        .with_url(url)
                        .build()
                        .map_err(failed)?,
                ),
                ObjectStoreScheme::GoogleCloudStorage => Arc::new(
                    GoogleCloudStorageBuilder::from_env()
                        .with_url(url)
                        .build()
                        .map_err(failed)?,
                ),
                ObjectStoreScheme::MicrosoftAzure => Arc::new(
                    MicrosoftAzureBuilder::from_env()
                        .with_url(url)
                        .build()
                        .map_err(failed)?,
                ),
                _ => {
                    return Err(bad(
                        "not a bucket URL: give s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or an object's https URL on S3 or Azure".to_string(),
                    ));
                }
            };
            stores.insert(base.clone(), Arc::clone(&store));
            store
        }
    };
    Ok(Located {
        store,
        path,
        base,
        hint: hint(&scheme),
    })
}

/// What to check when a store cannot be reached or refuses, per cloud.
fn hint(scheme: &ObjectStoreScheme) -> &'static str {
    match scheme {
        ObjectStoreScheme::GoogleCloudStorage => {
            "check the bucket name and the credentials (GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_SERVICE_ACCOUNT, or the instance's service account)"
        }
        ObjectStoreScheme::MicrosoftAzure => {
            "check the account and container names and the credentials (AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY, a SAS token, or a managed identity)"
        }
        _ => {
            "check the bucket name, AWS_REGION and the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a web identity token, or the instance's role)"
        }
    }
}

/// An object's body as a blocking reader: a task on the bucket runtime pulls the body's
/// pieces from the network a few ahead of the reader, so that download and decoding overlap.
/// Dropping the reader stops the download.
pub(super) struct ObjectReader {
    pieces: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl ObjectReader {
    /// Starts streaming `body` on `runtime`.
    pub(super) fn start(
        runtime: &tokio::runtime::Runtime,
        mut body: futures_util::stream::BoxStream<'static, object_store::Result<Bytes>>,
    ) -> Self {
        let (sender, pieces) = tokio::sync::mpsc::channel(READ_AHEAD);
        runtime.spawn(async move {
            while let Some(piece) = body.next().await {
                let piece = piece.map_err(io::Error::other);
                let failed = piece.is_err();
                if sender.send(piece).await.is_err() || failed {
                    break;
                }
            }
        });
        Self {
            pieces,
            current: Bytes::new(),
        }
    }
}

impl Read for ObjectReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.pieces.blocking_recv() {
                Some(Ok(piece)) => self.current = piece,
                Some(Err(error)) => return Err(error),
                None => return Ok(0),
            }
        }
        let n = self.current.len().min(out.len());
        if let (Some(to), Some(from)) = (out.get_mut(..n), self.current.get(..n)) {
            to.copy_from_slice(from);
        }
        self.current.advance(n);
        Ok(n)
    }
}
