//! Reading CleverTap input: format detection, NDJSON / Get Events pages / JSON arrays / CSV /
//! gzip, profile exports, and where each record came from.

/// Export buckets (`s3://`, `gs://`, `az://`) as input.
pub mod bucket;
mod chunks;
mod csv_rows;
mod detect;
mod file_name;
mod limit;
mod lines;
mod parse;
mod paths;
mod place;
/// Pulling from the Get Events API (`feedlens pull`).
pub mod pull;
mod reader;
mod scan;
mod source;

pub use bucket::BucketError;
pub use chunks::{ChunkReport, ExportRun, MissingChunk, RunChunk, chunk_order_key};
pub use limit::MAX_RECORD_BYTES;
pub(crate) use parse::kind_of;
pub use parse::parse_record as parse_text;
#[cfg(test)]
pub(crate) use parse::parse_record;
pub use parse::{Json, JsonObject, MAX_DEPTH, json_from_serde};
pub use paths::{expand_paths, folder_files};
pub use place::Place;
pub use reader::{
    FileInfo, NotText, RawPayload, RawRecord, ReadError, ReadItem, RecordReader, Shape, open,
};

#[cfg(test)]
mod tests;
