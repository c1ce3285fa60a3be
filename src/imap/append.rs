//! APPEND written by hand on the session's stream, because async-imap's
//! APPEND sends one message per round trip and drops both the APPENDUID
//! response code and the server's reason for a refusal.
//!
//! With MULTIAPPEND (RFC 3502) a batch is one command: the server stores it
//! in one transaction (one fsync on Dovecot) and answers with one APPENDUID
//! set. Without it, the batch is sent as pipelined APPENDs. LITERAL+ lets
//! literals go out without waiting for `+`; without it each literal waits.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};
use imap_proto::rfc4315::UidSetMember;
use imap_proto::{Response, Status};
use tokio::io::AsyncWriteExt;

use super::session::timed;
use super::{Connection, ImapError, Kind, classify_text};
use crate::telemetry::Op;

/// One message to append.
#[derive(Debug)]
pub struct Outgoing<'a> {
    pub bytes: &'a [u8],
    pub flags: &'a [String],
    pub internal_date: Option<DateTime<FixedOffset>>,
}

impl Outgoing<'_> {
    /// `(flags) "date" ` in APPEND syntax; `\Recent` cannot be set by a client.
    fn attributes(&self) -> String {
        let flags: Vec<&str> = self
            .flags
            .iter()
            .map(String::as_str)
            .filter(|f| *f != "\\Recent" && is_atom(f))
            .collect();
        let mut out = format!("({})", flags.join(" "));
        if let Some(date) = self.internal_date {
            let _ = write!(out, " \"{}\"", date.format("%d-%b-%Y %H:%M:%S %z"));
        }
        out
    }
}

/// Whether a keyword can be sent as an IMAP atom (flags cannot be quoted).
pub(super) fn is_atom(flag: &str) -> bool {
    let body = flag.strip_prefix('\\').unwrap_or(flag);
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b > 0x20 && b < 0x7f && !b"(){%*\"\\]".contains(&b))
}

pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn io_err(e: &std::io::Error) -> ImapError {
    ImapError::new(super::error::io_category(e), format!("APPEND: {e}"))
}

fn expand(set: &[UidSetMember]) -> Vec<u32> {
    let mut out = Vec::new();
    for member in set {
        match member {
            UidSetMember::Uid(u) => out.push(*u),
            UidSetMember::UidRange(r) => out.extend(r.clone()),
        }
    }
    out
}

/// What a tagged APPEND answer said.
struct Answer {
    ok: bool,
    uidvalidity: Option<u32>,
    uids: Vec<u32>,
    text: String,
}

impl Connection {
    /// Appends a batch to a folder and returns, per message, the UID the
    /// server gave it (when it supports UIDPLUS). Either every message is
    /// stored or the call fails; with MULTIAPPEND the server guarantees that,
    /// otherwise the error names how many were stored before the refusal.
    ///
    /// # Errors
    /// Over quota, too big (also checked against APPENDLIMIT before sending),
    /// other refusals with the server's text, timeouts, connection loss.
    pub async fn append_batch(
        &mut self,
        wire: &str,
        batch: &[Outgoing<'_>],
    ) -> Result<Vec<Option<u32>>, ImapError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(limit) = self.caps.append_limit
            && let Some(big) = batch.iter().find(|m| m.bytes.len() as u64 > limit)
        {
            return Err(ImapError::new(
                Kind::TooBig,
                format!(
                    "message of {} bytes exceeds the server's APPENDLIMIT of {limit}",
                    big.bytes.len()
                ),
            ));
        }
        let timeout = self
            .timeout
            .saturating_mul(u32::try_from(batch.len().clamp(1, 20)).unwrap_or(20));
        let metrics = self.metrics.clone();
        let server = self.server.clone();
        if self.caps.multiappend && batch.len() > 1 {
            timed(
                &metrics,
                &server,
                timeout,
                Op::Append,
                "MULTIAPPEND",
                self.multiappend(wire, batch),
            )
            .await
        } else {
            timed(
                &metrics,
                &server,
                timeout,
                Op::Append,
                "APPEND",
                self.pipelined(wire, batch),
            )
            .await
        }
    }

    async fn multiappend(
        &mut self,
        wire: &str,
        batch: &[Outgoing<'_>],
    ) -> Result<Vec<Option<u32>>, ImapError> {
        let tag = self.tag();
        let plus = self.caps.literal_plus;
        let mut head = format!("{tag} APPEND {}", quote(wire));
        for message in batch {
            head.push(' ');
            head.push_str(&message.attributes());
            let _ = write!(
                head,
                " {{{}{}}}\r\n",
                message.bytes.len(),
                if plus { "+" } else { "" }
            );
            self.send_literal(head.as_bytes(), message.bytes, plus)
                .await?;
            head.clear();
        }
        self.write(b"\r\n").await?;
        let answer = self.read_answer(&tag).await?;
        if !answer.ok {
            return Err(refusal(&answer.text, batch.len()));
        }
        let uids = answer.uids;
        Ok(
            if uids.len() == batch.len() && answer.uidvalidity.is_some() {
                uids.into_iter().map(Some).collect()
            } else {
                vec![None; batch.len()]
            },
        )
    }

    async fn pipelined(
        &mut self,
        wire: &str,
        batch: &[Outgoing<'_>],
    ) -> Result<Vec<Option<u32>>, ImapError> {
        let plus = self.caps.literal_plus;
        let mut tags = Vec::with_capacity(batch.len());
        let mut out = Vec::with_capacity(batch.len());
        for message in batch {
            let tag = self.tag();
            let head = format!(
                "{tag} APPEND {} {} {{{}{}}}\r\n",
                quote(wire),
                message.attributes(),
                message.bytes.len(),
                if plus { "+" } else { "" }
            );
            self.send_literal(head.as_bytes(), message.bytes, plus)
                .await?;
            self.write(b"\r\n").await?;
            if plus {
                tags.push(tag);
            } else {
                out.push(self.read_answer(&tag).await?);
            }
        }
        for tag in &tags {
            out.push(self.read_answer(tag).await?);
        }
        if let Some(stored) = out.iter().position(|a| !a.ok) {
            return Err(
                refusal(&out[stored].text, batch.len() - stored).with_note(&format!(
                    "{stored} of {} were stored before the refusal",
                    batch.len()
                )),
            );
        }
        Ok(out.iter().map(|a| a.uids.first().copied()).collect())
    }

    /// Sends a command line ending in a literal announcement, then the literal.
    /// Without LITERAL+ it waits for the server's `+` in between.
    async fn send_literal(
        &mut self,
        head: &[u8],
        literal: &[u8],
        plus: bool,
    ) -> Result<(), ImapError> {
        self.write(head).await?;
        if !plus {
            self.await_continuation().await?;
        }
        self.write(literal).await
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), ImapError> {
        let raw = self.session.get_mut();
        raw.write_all(bytes).await.map_err(|e| io_err(&e))?;
        raw.flush().await.map_err(|e| io_err(&e))
    }

    async fn await_continuation(&mut self) -> Result<(), ImapError> {
        loop {
            let response = self.session.read_response().await.map_err(|e| io_err(&e))?;
            let Some(response) = response else {
                return Err(ImapError::new(
                    Kind::Connection,
                    "APPEND: connection closed",
                ));
            };
            match response.parsed() {
                Response::Continue(_) => return Ok(()),
                Response::Done {
                    status, outcome, ..
                } if *status != Status::Ok => {
                    let text = outcome.information.as_deref().unwrap_or("").to_owned();
                    return Err(refusal(&text, 1));
                }
                _ => {}
            }
        }
    }

    async fn read_answer(&mut self, tag: &str) -> Result<Answer, ImapError> {
        loop {
            let response = self.session.read_response().await.map_err(|e| io_err(&e))?;
            let Some(response) = response else {
                return Err(ImapError::new(
                    Kind::Connection,
                    "APPEND: connection closed",
                ));
            };
            if let Response::Done {
                tag: done,
                status,
                outcome,
            } = response.parsed()
            {
                let (code, information) = (&outcome.code, &outcome.information);
                if done.0 != tag {
                    continue;
                }
                let (uidvalidity, uids) = match code {
                    Some(imap_proto::ResponseCode::AppendUid(validity, set)) => {
                        (Some(*validity), expand(set))
                    }
                    _ => (None, Vec::new()),
                };
                let mut text = information.as_deref().unwrap_or("").to_owned();
                if let Some(code) = code
                    && !matches!(code, imap_proto::ResponseCode::AppendUid(..))
                {
                    text = format!("{code:?} {text}");
                }
                return Ok(Answer {
                    ok: *status == Status::Ok,
                    uidvalidity,
                    uids,
                    text,
                });
            }
        }
    }
}

fn refusal(text: &str, count: usize) -> ImapError {
    let category = classify_text(text, Kind::ServerNo);
    ImapError::new(
        category,
        format!("APPEND of {count} message(s) refused: {text}"),
    )
}

impl ImapError {
    fn with_note(mut self, note: &str) -> Self {
        self.message = format!("{} ({note})", self.message);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_keep_keywords_and_date() {
        let flags = vec![
            "\\Seen".to_owned(),
            "$Label1".to_owned(),
            "\\Recent".to_owned(),
            "bad(flag".to_owned(),
        ];
        let date = DateTime::parse_from_rfc3339("2019-03-05T07:08:09+01:00").ok();
        let m = Outgoing {
            bytes: b"x",
            flags: &flags,
            internal_date: date,
        };
        assert_eq!(
            m.attributes(),
            "(\\Seen $Label1) \"05-Mar-2019 07:08:09 +0100\""
        );
    }

    #[test]
    fn quoting_escapes() {
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
