//! Reading CleverTap input: format detection, NDJSON / Get Events pages / JSON arrays / CSV /
//! gzip, profile exports, and where each record came from.

mod place;
mod reader;

pub use place::Place;
pub use reader::{FileInfo, RawPayload, RawRecord, ReadError, ReadItem, RecordReader, Shape, open};
