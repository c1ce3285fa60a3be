//! Message hashes: the raw SHA-256 as served, and the SHA-256 of a canonical
//! form that survives servers rewriting line endings.
//!
//! Dovecot (and Zimbra) store bare-LF messages with CRLF and collapse
//! "CR CR LF" to "CR LF", so the raw hash of a faithful copy can differ. The
//! canonical form turns every run of CRs followed by LF, and every bare LF,
//! into CRLF; any other difference is a real change and shows as a mismatch.

use sha2::{Digest, Sha256};

/// Both hashes of one message, hex encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHash {
    pub raw: String,
    pub canonical: String,
}

/// Hashes a message both ways in one pass over its bytes.
#[must_use]
pub fn hash_message(bytes: &[u8]) -> MessageHash {
    let raw = hex::encode(Sha256::digest(bytes));
    MessageHash {
        raw,
        canonical: canonical_sha256(bytes),
    }
}

/// SHA-256 of the canonical (CRLF) form, without building that form in memory.
#[must_use]
pub fn canonical_sha256(bytes: &[u8]) -> String {
    let mut hasher = Sha256::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            let mut end = i;
            while end > start && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            hasher.update(&bytes[start..end]);
            hasher.update(b"\r\n");
            start = i + 1;
        }
    }
    hasher.update(&bytes[start..]);
    hex::encode(hasher.finalize())
}

/// SHA-256 over lines of text, for folder and mailbox digests.
pub fn digest_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut hasher = Sha256::new();
    for line in lines {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_do_not_change_the_canonical_hash() {
        let crlf = canonical_sha256(b"a: b\r\n\r\nbody\r\n");
        assert_eq!(canonical_sha256(b"a: b\n\nbody\n"), crlf);
        assert_eq!(canonical_sha256(b"a: b\r\r\n\r\nbody\r\n"), crlf);
        assert_ne!(canonical_sha256(b"a: c\r\n\r\nbody\r\n"), crlf);
        assert_ne!(canonical_sha256(b"a: b\r\n\r\nbody"), crlf);
    }

    #[test]
    fn raw_hash_is_plain_sha256() {
        assert_eq!(
            hash_message(b"abc").raw,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
