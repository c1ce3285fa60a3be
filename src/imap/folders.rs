//! Folder names: LIST with the hierarchy delimiter, the namespace prefix, and
//! modified UTF-7 (RFC 3501 5.1.3) on the wire.
//!
//! Inside cutover a folder is a path of decoded segments joined with `/`
//! (`Archive/2019`, `Réunions été`); only this module knows the wire forms.

use futures::TryStreamExt;

use super::session::timed;
use super::{Connection, ImapError};
use crate::telemetry::Op;

/// A folder as one server lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFolder {
    /// The name exactly as the server sent it (modified UTF-7, with prefix).
    pub wire: String,
    /// Decoded path with `/` between levels, without the namespace prefix.
    pub path: String,
    /// `\Noselect` or `\NonExistent`: a level in the tree that holds no mail.
    pub selectable: bool,
}

impl Connection {
    /// Lists every folder of the personal namespace.
    ///
    /// # Errors
    /// Timeouts, connection loss or a refused LIST.
    pub async fn list_folders(&mut self) -> Result<Vec<RemoteFolder>, ImapError> {
        let session = &mut self.session;
        let names = timed(
            &self.metrics,
            &self.server,
            self.timeout,
            Op::List,
            "LIST",
            async {
                let stream = session
                    .list(Some(""), Some("*"))
                    .await
                    .map_err(|e| ImapError::from_imap(e, "LIST"))?;
                stream
                    .try_collect::<Vec<_>>()
                    .await
                    .map_err(|e| ImapError::from_imap(e, "LIST"))
            },
        )
        .await?;

        let mut out = Vec::with_capacity(names.len());
        for name in &names {
            let delimiter = name.delimiter().and_then(|d| d.chars().next());
            if self.delimiter.is_none() {
                self.delimiter = delimiter;
            }
            let selectable = !name.attributes().iter().any(|a| match a {
                async_imap::types::NameAttribute::NoSelect => true,
                async_imap::types::NameAttribute::Extension(x) => {
                    x.eq_ignore_ascii_case("\\NonExistent")
                }
                _ => false,
            });
            out.push(RemoteFolder {
                wire: name.name().to_owned(),
                path: self.path_of(name.name(), delimiter),
                selectable,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Decoded `/`-joined path of a wire name.
    fn path_of(&self, wire: &str, delimiter: Option<char>) -> String {
        if wire.eq_ignore_ascii_case("INBOX") {
            return "INBOX".into();
        }
        let stripped = wire.strip_prefix(self.prefix.as_str()).unwrap_or(wire);
        let decoded = decode_mutf7(stripped);
        match delimiter {
            Some(d) if d != '/' => decoded.split(d).collect::<Vec<_>>().join("/"),
            _ => decoded,
        }
    }

    /// The wire name on this server for a `/`-joined path.
    pub fn wire_name(&self, path: &str) -> String {
        if path.eq_ignore_ascii_case("INBOX") {
            return "INBOX".into();
        }
        let delimiter = self.delimiter.unwrap_or('/');
        let joined = path
            .split('/')
            .collect::<Vec<_>>()
            .join(&delimiter.to_string());
        let encoded = encode_mutf7(&joined);
        if path.starts_with("INBOX/") && self.prefix.starts_with("INBOX") {
            encoded
        } else {
            format!("{}{}", self.prefix, encoded)
        }
    }

    /// Creates a folder (and, as servers do, its parents).
    ///
    /// # Errors
    /// A refused CREATE other than "already exists".
    pub async fn create_folder(&mut self, wire: &str) -> Result<(), ImapError> {
        let session = &mut self.session;
        let result = timed(
            &self.metrics,
            &self.server,
            self.timeout,
            Op::Create,
            "CREATE",
            async {
                session
                    .create(wire)
                    .await
                    .map_err(|e| ImapError::from_imap(e, &format!("CREATE {wire}")))
            },
        )
        .await;
        match result {
            Err(e)
                if e.message.contains("ALREADYEXISTS")
                    || e.message.to_ascii_lowercase().contains("already exists") =>
            {
                Ok(())
            }
            other => other,
        }
    }
}

/// Decodes modified UTF-7; a name that is not valid stays as it was.
///
/// Decoded here rather than with `utf7_imap::decode_utf7_imap`, which panics
/// on invalid base64 (`&!!-`), a name any server may send in a LIST.
#[must_use]
pub fn decode_mutf7(wire: &str) -> String {
    if wire.contains('&') {
        decode_strict(wire).unwrap_or_else(|| wire.to_owned())
    } else {
        wire.to_owned()
    }
}

/// RFC 3501 5.1.3: `&-` is `&`; `&...-` is modified base64 of UTF-16BE.
fn decode_strict(wire: &str) -> Option<String> {
    let mut out = String::with_capacity(wire.len());
    let mut rest = wire;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find('-')?;
        if end == 0 {
            out.push('&');
        } else {
            let bytes = modified_base64(&after[..end])?;
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            out.push_str(&String::from_utf16(&units).ok()?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Base64 with `,` for `/` and no padding; `None` on any other character.
fn modified_base64(text: &str) -> Option<Vec<u8>> {
    let (mut bits, mut held, mut out) = (0u32, 0u32, Vec::with_capacity(text.len()));
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b',' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push(u8::try_from(bits >> held).ok()?);
            bits &= (1 << held) - 1;
        }
    }
    // A dangling character or non-zero padding bits: not what an encoder writes.
    (held < 6 && bits == 0).then_some(out)
}

/// Encodes a name in modified UTF-7.
#[must_use]
pub fn encode_mutf7(name: &str) -> String {
    utf7_imap::encode_utf7_imap(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_utf7_round_trips() {
        for (plain, wire) in [
            ("Réunions été", "R&AOk-unions &AOk-t&AOk-"),
            ("日本語 & Co", "&ZeVnLIqe- &- Co"),
            ("INBOX", "INBOX"),
            ("Old Stuff", "Old Stuff"),
        ] {
            assert_eq!(encode_mutf7(plain), wire, "encode {plain}");
            assert_eq!(decode_mutf7(wire), plain, "decode {wire}");
        }
    }

    #[test]
    fn invalid_modified_utf7_stays_as_sent() {
        for wire in ["&!!-", "&A-", "&AAAA", "&2D0-", "AT&T", "&AAB-"] {
            assert_eq!(decode_mutf7(wire), wire, "decode {wire}");
        }
    }
}
