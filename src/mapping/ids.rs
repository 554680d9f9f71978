//! Deterministic ids: a record's digest of its content, and the UUIDs (v5) made from it for
//! events (`source_message_id`) and batches (`source_request_id`). Journals keep them and
//! mParticle deduplicates by them, so they must not change from version to version.

use uuid::Uuid;

use super::values::Record;

/// The namespace of feedlens's deterministic ids (UUID v5).
pub(crate) const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a3e_8d4b_4f0a_9e57_c1e4_d2b3_a901);

/// The name-based UUID (version 5) of `parts` joined, exactly as [`Uuid::new_v5`] makes it,
/// without joining them first and with the processor's SHA-1 instructions where it has them:
/// every record, batch and bulk request gets one.
pub(crate) fn uuid_v5(namespace: &Uuid, parts: &[&[u8]]) -> Uuid {
    use sha1::{Digest, Sha1};
    let mut hasher = Sha1::new();
    hasher.update(namespace.as_bytes());
    for part in parts {
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut bytes = [0; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// A stable digest of a record's content: its compact JSON text in source order (so the same
/// record gives the same id whether it came pretty-printed or on one line). `text` is the
/// record as read, used as it is when that gives the same compact text.
pub(super) fn record_id(
    record: &Record<'_>,
    text: Option<&[u8]>,
    fallback_name: Option<&str>,
) -> [u8; 64] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(fallback_name.unwrap_or("").as_bytes());
    hasher.update(b"\n");
    match text.and_then(compact_source) {
        Some(compact) => {
            debug_assert_eq!(
                compact,
                sonic_rs::to_vec(record.object).unwrap_or_default(),
                "the compact source text differs from the record written out"
            );
            hasher.update(compact);
        }
        None => {
            let mut buffer = Vec::with_capacity(1024);
            // Writing a parsed value into memory cannot fail.
            let _ = sonic_rs::to_writer(&mut buffer, record.object);
            hasher.update(&buffer);
        }
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = hasher.finalize();
    // Lower-case hex, on the stack.
    let mut text = [0; 64];
    for (pair, byte) in text.chunks_exact_mut(2).zip(digest) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0xf)];
    }
    text
}

/// A record's compact JSON text taken from its text as read, when that is exactly what writing
/// the parsed record out gives: an object on one line with no escape, no control character and
/// no space between tokens. `None` otherwise (the record is written out instead).
fn compact_source(text: &[u8]) -> Option<&[u8]> {
    if text.first() != Some(&b'{') {
        return None;
    }
    // No escape and no control character: one pass the compiler turns into vector code.
    if text
        .iter()
        .fold(false, |found, &b| found | (b < 0x20) | (b == b'\\'))
    {
        return None;
    }
    // A space is allowed only inside a string, where the quotes before it are odd (with no
    // escape, every quote opens or closes a string). Spaces are few: the quotes are counted
    // from one to the next, again in vector code.
    let (mut quotes, mut from) = (0, 0);
    for at in memchr::memchr_iter(b' ', text) {
        quotes += count_quotes(&text[from..at]);
        if quotes % 2 == 0 {
            return None;
        }
        from = at;
    }
    Some(text)
}

/// The quotes in `bytes`, counted 32 bytes at a time into a byte-wide sum (which the compiler
/// turns into a few vector instructions a block, where counting into a `usize` is not).
fn count_quotes(bytes: &[u8]) -> usize {
    let mut blocks = bytes.chunks_exact(32);
    let mut quotes = 0;
    for block in &mut blocks {
        let in_block: u8 = block.iter().map(|&b| u8::from(b == b'"')).sum();
        quotes += usize::from(in_block);
    }
    quotes + blocks.remainder().iter().filter(|&&b| b == b'"').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_parts_are_the_uuids_of_the_joined_text() {
        // Record and batch ids are kept in journals and deduplicated by mParticle: they must
        // stay what `Uuid::new_v5` of the joined text gives.
        let namespace = ID_NAMESPACE;
        let cases: [&[&[u8]]; 5] = [
            &[],
            &[b""],
            &[b"App Launched", b"\n", b"0123abcd"],
            &[b"profile\n", "é 😀".as_bytes()],
            &[&[b'x'; 200], b"\n", &[b'y'; 77]],
        ];
        for parts in cases {
            let joined = parts.concat();
            assert_eq!(
                uuid_v5(&namespace, parts),
                Uuid::new_v5(&namespace, &joined),
                "{parts:?}"
            );
        }
    }

    proptest::proptest! {
        /// The text as read stands for the record's compact text only when it is that text:
        /// one written compactly gives itself (unless it holds an escape), one written with
        /// spaces between tokens gives nothing; and the quotes are counted as one by one.
        #[test]
        fn the_source_text_is_used_only_when_it_is_the_compact_text(
            members in proptest::collection::vec(("[ a-z\"\\\n]{0,40}", "[ a-z\"é]{0,70}"), 1..12),
            number in proptest::num::i64::ANY,
        ) {
            let mut object = sonic_rs::Object::new();
            for (key, value) in &members {
                object.insert(key, value.as_str());
            }
            object.insert(&"n", number);
            let compact = sonic_rs::to_vec(&object).unwrap();
            let escaped = compact.contains(&b'\\');
            proptest::prop_assert_eq!(compact_source(&compact), (!escaped).then_some(&compact[..]));
            // The same members with a space after each colon and comma, as some exports write.
            let spaced = object
                .iter()
                .map(|(key, value)| {
                    let key = sonic_rs::to_string(key).unwrap();
                    format!("{key}: {}", sonic_rs::to_string(value).unwrap())
                })
                .collect::<Vec<_>>()
                .join(", ");
            let spaced = format!("{{{spaced}}}").into_bytes();
            proptest::prop_assert_eq!(compact_source(&spaced), None);
            for text in [&compact, &spaced] {
                let naive = text.iter().filter(|&&b| b == b'"').count();
                proptest::prop_assert_eq!(count_quotes(text), naive);
            }
        }

        /// The text is taken exactly when a byte-by-byte reading takes it: strings (spaces
        /// inside them), bare tokens and at most one stray byte (a space, a quote, an escape, a
        /// control character) anywhere, in and across the 32-byte blocks quotes are counted in.
        #[test]
        fn the_text_is_taken_as_a_byte_by_byte_reading_takes_it(
            tokens in proptest::collection::vec((proptest::bool::ANY, "[a é:,0-9]{0,19}"), 0..12),
            stray in proptest::option::of((proptest::num::usize::ANY, proptest::sample::select(
                vec![b' ', b'"', b'\\', b'\n', 0x01, 0x1f, 0x7f, 0x80, 0xff],
            ))),
        ) {
            let mut text = vec![b'{'];
            for (quoted, token) in &tokens {
                if *quoted {
                    text.push(b'"');
                    text.extend(token.as_bytes());
                    text.push(b'"');
                } else {
                    text.extend(token.bytes().filter(|&b| b != b' '));
                }
            }
            if let Some((at, byte)) = stray {
                text.insert(1 + at % text.len(), byte);
            }
            let mut odd = false;
            let byte_by_byte = text.iter().all(|&b| {
                odd ^= b == b'"';
                !(b < 0x20 || b == b'\\' || (b == b' ' && !odd))
            });
            proptest::prop_assert_eq!(compact_source(&text).is_some(), byte_by_byte, "{:?}", text);
        }
    }
}
