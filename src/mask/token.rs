//! The shapes of masked values: typed tokens, numbers of the same length, positions that stay
//! valid, lists that stay lists; and how a masked identity is recognised.

use crate::mparticle::UserIdentities;

/// The domain of masked e-mails and URLs. `.invalid` is reserved (RFC 2606, RFC 6761): no real
/// address or site ever ends so, which is what makes a masked identity recognisable.
pub const EMAIL_DOMAIN: &str = "masked.invalid";

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The first `bytes` bytes of a digest in lower-case hex.
pub(super) fn hex(digest: &[u8; 32], bytes: usize) -> String {
    let mut text = String::with_capacity(bytes * 2);
    for byte in &digest[..bytes.min(digest.len())] {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 15)]));
    }
    text
}

/// A masked e-mail: still e-mail-shaped, so it is still picked as the user's email.
pub(super) fn email(digest: &[u8; 32]) -> String {
    format!("email:{}@{EMAIL_DOMAIN}", hex(digest, 6))
}

/// Text that identifies no one and that the mapping reads by value: blank, or a boolean's
/// spelling (opt-in flags written as `"true"`).
pub(super) fn kept_as_is(text: &str) -> bool {
    // The longest flag has five letters: longer text that starts and ends with a letter or
    // digit (most values) is no flag, without trimming it.
    let bytes = text.as_bytes();
    if bytes.len() > 5
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let text = text.trim();
    text.is_empty()
        || ["true", "false", "yes", "no", "1", "0"]
            .iter()
            .any(|flag| text.eq_ignore_ascii_case(flag))
}

/// A number's text with every digit after the first significant one replaced from the digest:
/// the same sign, length, first digit, decimal point and exponent, so it stays a number of the
/// same size (`918879382967` → `9…` of 12 digits). Text that is no number is masked digit by
/// digit the same way.
pub(super) fn number(text: &str, digest: &[u8; 32]) -> String {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let mut out = String::with_capacity(text.len());
    let mut seen_significant = false;
    let mut next = 0;
    for c in mantissa.chars() {
        match c.to_digit(10) {
            Some(0) if !seen_significant => out.push('0'),
            Some(_) if !seen_significant => {
                seen_significant = true;
                out.push(c);
            }
            Some(_) => {
                let byte = digest[next % digest.len()];
                next += 1;
                out.push(char::from(b'0' + byte % 10));
            }
            None => out.push(c),
        }
    }
    out.push_str(exponent);
    out
}

/// A latitude or longitude (`bound` 90 or 180) masked to another valid position with as many
/// decimals, or `None` when the value is not a valid one (it is then masked as a number).
pub(super) fn position(text: &str, bound: f64, digest: &[u8; 32]) -> Option<String> {
    let value: f64 = text.trim().parse().ok()?;
    if !value.is_finite() || value.abs() > bound {
        return None;
    }
    let decimals = text
        .trim()
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.len())
        .min(9);
    let scale = 10_u64.pow(decimals as u32);
    let mut seed = [0; 8];
    seed.copy_from_slice(&digest[..8]);
    // Below the bound itself, so that the position is valid whatever the decimals.
    let units = u64::from_le_bytes(seed) % (bound as u64 * scale);
    let sign = if value.is_sign_negative() { "-" } else { "" };
    let whole = units / scale;
    Some(match decimals {
        0 => format!("{sign}{whole}"),
        _ => format!("{sign}{whole}.{:0width$}", units % scale, width = decimals),
    })
}

/// A comma-joined or bracketed list with each entry replaced by `mask(entry)`, separators,
/// brackets and spaces kept.
pub(super) fn each_entry(text: &str, mut mask: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    for (index, part) in text.split(',').enumerate() {
        if index > 0 {
            out.push(',');
        }
        let lead = part.len() - part.trim_start().len();
        let core = part.trim();
        let (open, core) = match core.strip_prefix('[') {
            Some(rest) => ("[", rest),
            None => ("", core),
        };
        let (core, close) = match core.strip_suffix(']') {
            Some(rest) => (rest, "]"),
            None => (core, ""),
        };
        out.push_str(&part[..lead]);
        out.push_str(open);
        if !core.trim().is_empty() {
            out.push_str(&mask(core.trim()));
        }
        out.push_str(close);
        out.push_str(&part[lead + part.trim_start().trim_end().len()..]);
    }
    out
}

/// A token padded to the original's length when the original is over mParticle's value limit,
/// so the masked record still meets the same limit check.
pub(super) fn padded(mut masked: String, original: &str) -> String {
    let limit = crate::mparticle::limits::MAX_ATTRIBUTE_VALUE_CHARS;
    // No more characters than bytes: short text is not counted.
    if original.len() <= limit {
        return masked;
    }
    let length = original.chars().count();
    if length > limit {
        let have = masked.chars().count();
        masked.extend(std::iter::repeat_n('~', length.saturating_sub(have)));
    }
    masked
}

/// Whether a user's identities are masked ones (an e-mail at `masked.invalid`, or a customer id
/// shaped `id:` and 12 hex digits, as [`super::Masker`] writes them): such batches would reach
/// the wrong users, or none, and are never sent.
pub fn is_masked_identity(identities: &UserIdentities) -> bool {
    let masked_email = identities.email.as_deref().is_some_and(|email| {
        email
            .trim()
            .to_ascii_lowercase()
            .ends_with(&format!("@{EMAIL_DOMAIN}"))
    });
    let masked_id = identities.customer_id.as_deref().is_some_and(|id| {
        id.strip_prefix("id:")
            .is_some_and(|hex| hex.len() == 12 && hex.bytes().all(|b| HEX.contains(&b)))
    });
    masked_email || masked_id
}
