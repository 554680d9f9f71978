//! mParticle's documented service limits (`../shared/spec/events-api.md`).

/// Most batches in one `/bulkevents` request.
pub const MAX_BATCHES_PER_REQUEST: usize = 100;
/// A request body must stay under this many bytes (256 KB).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// One batch may be at most this many bytes (128 KB).
pub const MAX_BATCH_BYTES: usize = 128 * 1024;
/// Event names longer than this are truncated by the server.
pub const MAX_EVENT_NAME_CHARS: usize = 256;
/// Longest attribute name.
pub const MAX_ATTRIBUTE_NAME_CHARS: usize = 256;
/// Longest attribute value.
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 4096;
/// Most attributes on one event (older documentation).
pub const MAX_ATTRIBUTES_PER_EVENT: usize = 100;
/// Most user attributes on one batch.
pub const MAX_USER_ATTRIBUTES: usize = 100;
/// Data older than this many days belongs on the historical endpoint.
pub const HISTORICAL_AFTER_DAYS: i64 = 30;
/// The historical endpoint only takes data at least this many hours old.
pub const HISTORICAL_MIN_AGE_HOURS: i64 = 72;
