//! The one size limit of the reader: how much of a single record (or line) it holds in memory.

/// The longest record, or line of a line-per-record file, the reader keeps in memory: 16 MiB.
///
/// A CleverTap event is a few KB and mParticle takes at most 128 KB per batch, so anything longer
/// is garbage (a file cut and glued, a missing newline, a binary blob). Without a limit such a
/// line would be buffered whole, so memory followed the largest broken line instead of the rows
/// the user sees. A longer record becomes one unreadable item with its place and size; the reader
/// passes over the rest of it without keeping it, and the records after it load as usual.
/// Records inside a page or array on one line still stream one by one, whatever the line's length.
/// A CSV row over the limit (usually a quote never closed) ends the file's reading there, as the
/// rows after it cannot be told apart reliably.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// What to tell the user about a `what` ("line", "record") of `bytes` bytes over the limit.
pub(crate) fn too_long(what: &str, bytes: u64) -> String {
    let mib = |n: f64| n / (1024.0 * 1024.0);
    format!(
        "the {what} is {:.1} MiB ({bytes} bytes), longer than any CleverTap record (at most {:.0} MiB are read): split or remove it",
        mib(bytes as f64),
        mib(MAX_RECORD_BYTES as f64),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_says_the_size_and_what_to_do() {
        assert_eq!(
            too_long("line", 100 * 1024 * 1024 + 3),
            "the line is 100.0 MiB (104857603 bytes), longer than any CleverTap record (at most 16 MiB are read): split or remove it"
        );
    }
}
