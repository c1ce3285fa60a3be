//! IMAP failures, sorted into the categories the operator sees.

use std::fmt;

use crate::telemetry::Category;

/// An IMAP failure with its category and, when the server said something,
/// the server's own words.
#[derive(Debug, Clone)]
pub struct ImapError {
    pub category: Category,
    pub message: String,
}

impl ImapError {
    pub fn new(category: Category, message: impl Into<String>) -> Self {
        Self {
            category,
            message: bounded(message.into()),
        }
    }

    /// Maps an async-imap error, keeping the server's text.
    #[must_use]
    pub fn from_imap(e: async_imap::error::Error, doing: &str) -> Self {
        use async_imap::error::Error as E;
        match e {
            E::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                Self::new(Category::Timeout, format!("{doing}: {io}"))
            }
            E::Io(io) => Self::new(io_category(&io), format!("{doing}: {io}")),
            E::ConnectionLost => {
                Self::new(Category::Connection, format!("{doing}: connection lost"))
            }
            E::No(text) => {
                let text = server_words(&text);
                Self::new(
                    classify_text(&text, Category::ServerNo),
                    format!("{doing}: NO {text}"),
                )
            }
            E::Bad(text) => Self::new(
                Category::ServerBad,
                format!("{doing}: BAD {}", server_words(&text)),
            ),
            E::Parse(p) => Self::new(
                Category::Protocol,
                format!("{doing}: unreadable response: {p}"),
            ),
            E::Validate(v) => Self::new(Category::Protocol, format!("{doing}: {v}")),
            other => Self::new(Category::ServerNo, format!("{doing}: {other}")),
        }
    }

    #[must_use]
    pub fn timeout(doing: &str) -> Self {
        Self::new(Category::Timeout, format!("{doing}: no answer in time"))
    }
}

impl fmt::Display for ImapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.category, self.message)
    }
}

impl std::error::Error for ImapError {}

/// Longest error text kept: an error may quote what the server sent, and a
/// hostile server's megabyte of garbage must not be copied whole into the
/// log, the journal and every snapshot.
const MAX_TEXT: usize = 1000;

fn bounded(mut text: String) -> String {
    if text.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(" ... (truncated)");
    }
    text
}

/// An I/O error from the response reader: a response it could not parse
/// (async-imap reports those as `Other` errors "... during parsing of ...")
/// is a protocol fault, anything else a connection fault.
pub(super) fn io_category(e: &std::io::Error) -> Category {
    if e.kind() == std::io::ErrorKind::Other && e.to_string().contains("during parsing of") {
        Category::Protocol
    } else {
        Category::Connection
    }
}

/// The server's own words from async-imap's error text, which wraps them as
/// `code: None, info: Some("...")`.
fn server_words(text: &str) -> String {
    text.split_once("info: Some(\"")
        .and_then(|(_, rest)| rest.rsplit_once("\")"))
        .map_or_else(|| text.to_owned(), |(words, _)| words.replace("\\\"", "\""))
}

/// Recognises quota and size refusals (RFC 5530 codes and common wording).
#[must_use]
pub fn classify_text(text: &str, otherwise: Category) -> Category {
    let upper = text.to_ascii_uppercase();
    if upper.contains("[OVERQUOTA]")
        || upper.contains("QUOTA EXCEEDED")
        || upper.contains("OVER QUOTA")
    {
        Category::OverQuota
    } else if upper.contains("[LIMIT]")
        || upper.contains("TOOBIG")
        || upper.contains("TOO LARGE")
        || upper.contains("TOO BIG")
    {
        Category::TooBig
    } else if upper.contains("[AUTHENTICATIONFAILED]") || upper.contains("[AUTHORIZATIONFAILED]") {
        Category::Authentication
    } else {
        otherwise
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut() {
        let e = ImapError::new(Category::Protocol, "é".repeat(5000));
        assert!(e.message.len() < MAX_TEXT + 20, "{}", e.message.len());
        assert!(e.message.ends_with("(truncated)"));
    }

    #[test]
    fn server_words_are_unwrapped() {
        assert_eq!(
            server_words("code: None, info: Some(\"[AUTHORIZATIONFAILED] Authorization failed\")"),
            "[AUTHORIZATIONFAILED] Authorization failed"
        );
        assert_eq!(server_words("plain words"), "plain words");
    }

    #[test]
    fn refusals_are_categorised() {
        for (text, expected) in [
            (
                "[OVERQUOTA] Quota exceeded (mailbox for user is full)",
                Category::OverQuota,
            ),
            ("Quota exceeded", Category::OverQuota),
            (
                "[LIMIT] Mail size is larger than the maximum size allowed",
                Category::TooBig,
            ),
            ("[TOOBIG] Message too large", Category::TooBig),
            (
                "[AUTHENTICATIONFAILED] Authentication failed.",
                Category::Authentication,
            ),
            ("[TRYCREATE] Mailbox doesn't exist", Category::ServerNo),
        ] {
            assert_eq!(classify_text(text, Category::ServerNo), expected, "{text}");
        }
    }
}
