//! Reading folders: SELECT/EXAMINE/STATUS figures, message metadata, bodies,
//! and flag updates.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};
use futures::StreamExt;

use super::session::timed;
use super::{Connection, ImapError, Kind};
use crate::telemetry::Op;

/// The figures that tell whether a folder changed since the last pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FolderStatus {
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub exists: u32,
    pub highest_modseq: Option<u64>,
}

/// One message's metadata, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    pub uid: u32,
    /// System flags (`\Seen`) and keywords, sorted, without `\Recent`.
    pub flags: Vec<String>,
    pub internal_date: Option<DateTime<FixedOffset>>,
    pub size: u32,
}

fn flag_text(flag: &async_imap::types::Flag<'_>) -> Option<String> {
    use async_imap::types::Flag;
    Some(match flag {
        Flag::Seen => "\\Seen".into(),
        Flag::Answered => "\\Answered".into(),
        Flag::Flagged => "\\Flagged".into(),
        Flag::Deleted => "\\Deleted".into(),
        Flag::Draft => "\\Draft".into(),
        Flag::Recent | Flag::MayCreate => return None,
        Flag::Custom(c) => c.to_string(),
    })
}

/// Writes UIDs as a compact IMAP set: `1:5,7,9:12`.
#[must_use]
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            let _ = write!(out, "{start}:{end}");
        }
        i += 1;
    }
    out
}

impl Connection {
    /// Opens a folder: read-only (EXAMINE) on the source so nothing is
    /// marked `\Seen`, read-write (SELECT) where flags will be stored.
    ///
    /// # Errors
    /// A refused SELECT (folder missing), timeouts, connection loss.
    pub async fn open_folder(
        &mut self,
        wire: &str,
        read_only: bool,
    ) -> Result<FolderStatus, ImapError> {
        let session = &mut self.session;
        let condstore = self.caps.condstore;
        let doing = format!("{} {wire}", if read_only { "EXAMINE" } else { "SELECT" });
        let mailbox = timed(
            &self.metrics,
            &self.server,
            self.timeout,
            Op::Select,
            &doing,
            async {
                let result = if read_only {
                    session.examine(wire).await
                } else if condstore {
                    session.select_condstore(wire).await
                } else {
                    session.select(wire).await
                };
                result.map_err(|e| ImapError::from_imap(e, &doing))
            },
        )
        .await?;
        Ok(FolderStatus {
            uidvalidity: mailbox.uid_validity.unwrap_or(0),
            uidnext: mailbox.uid_next.unwrap_or(0),
            exists: mailbox.exists,
            highest_modseq: mailbox.highest_modseq,
        })
    }

    /// STATUS figures of a folder without opening it.
    ///
    /// # Errors
    /// A refused STATUS, timeouts, connection loss.
    pub async fn status(&mut self, wire: &str) -> Result<FolderStatus, ImapError> {
        let items = if self.caps.condstore {
            "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)"
        } else {
            "(MESSAGES UIDNEXT UIDVALIDITY)"
        };
        let session = &mut self.session;
        let doing = format!("STATUS {wire}");
        let mailbox = timed(
            &self.metrics,
            &self.server,
            self.timeout,
            Op::Status,
            &doing,
            async {
                session
                    .status(wire, items)
                    .await
                    .map_err(|e| ImapError::from_imap(e, &doing))
            },
        )
        .await?;
        Ok(FolderStatus {
            uidvalidity: mailbox.uid_validity.unwrap_or(0),
            uidnext: mailbox.uid_next.unwrap_or(0),
            exists: mailbox.exists,
            highest_modseq: mailbox.highest_modseq,
        })
    }

    /// UID, flags, INTERNALDATE and size of the messages in `uids`
    /// (an IMAP UID set such as `1:*`) of the open folder.
    ///
    /// # Errors
    /// Timeouts, connection loss, unreadable responses.
    pub async fn fetch_meta(&mut self, uids: &str) -> Result<Vec<MessageMeta>, ImapError> {
        let session = &mut self.session;
        let timeout = self.timeout;
        timed(
            &self.metrics,
            &self.server,
            timeout.saturating_mul(4),
            Op::Fetch,
            "UID FETCH (FLAGS)",
            async {
                let mut stream = session
                    .uid_fetch(uids, "(UID FLAGS INTERNALDATE RFC822.SIZE)")
                    .await
                    .map_err(|e| ImapError::from_imap(e, "UID FETCH"))?;
                let mut out = Vec::new();
                loop {
                    let next = tokio::time::timeout(timeout, stream.next())
                        .await
                        .map_err(|_| ImapError::timeout("UID FETCH"))?;
                    let Some(item) = next else { break };
                    let fetch = item.map_err(|e| ImapError::from_imap(e, "UID FETCH"))?;
                    let Some(uid) = fetch.uid else { continue };
                    let mut flags: Vec<String> =
                        fetch.flags().filter_map(|f| flag_text(&f)).collect();
                    flags.sort();
                    flags.dedup();
                    out.push(MessageMeta {
                        uid,
                        flags,
                        internal_date: fetch.internal_date(),
                        size: fetch.size.unwrap_or(0),
                    });
                }
                out.sort_by_key(|m| m.uid);
                Ok(out)
            },
        )
        .await
    }

    /// Streams the full bytes of each message in `uids` to `each`, one at a
    /// time, without setting `\Seen` (BODY.PEEK). Returns how many arrived.
    ///
    /// # Errors
    /// Timeouts, connection loss, or the first error `each` returns.
    pub async fn fetch_bodies<F>(&mut self, uids: &[u32], mut each: F) -> Result<usize, ImapError>
    where
        F: FnMut(u32, &[u8]) -> Result<(), ImapError>,
    {
        if uids.is_empty() {
            return Ok(0);
        }
        let set = uid_set(uids);
        let session = &mut self.session;
        let timeout = self.timeout;
        let (metrics, server) = (&self.metrics, self.server.as_str());
        // Each message is timed from the previous one (or from the command),
        // so FETCH latency reads per message, comparable to APPEND's.
        let mut last = std::time::Instant::now();
        let mut stream =
            tokio::time::timeout(timeout, session.uid_fetch(&set, "(UID BODY.PEEK[])"))
                .await
                .map_err(|_| ImapError::timeout("UID FETCH BODY"))?
                .map_err(|e| ImapError::from_imap(e, "UID FETCH BODY"))?;
        let mut count = 0;
        loop {
            let next = tokio::time::timeout(timeout, stream.next()).await;
            let item = match next {
                Err(_) => {
                    metrics.record(server, Op::Fetch, last.elapsed(), true);
                    return Err(ImapError::timeout("UID FETCH BODY"));
                }
                Ok(None) => break,
                Ok(Some(item)) => item,
            };
            metrics.record(server, Op::Fetch, last.elapsed(), item.is_err());
            let fetch = item.map_err(|e| ImapError::from_imap(e, "UID FETCH BODY"))?;
            if let (Some(uid), Some(body)) = (fetch.uid, fetch.body()) {
                each(uid, body)?;
                count += 1;
            }
            last = std::time::Instant::now();
        }
        Ok(count)
    }

    /// Replaces the flags of messages in the open (read-write) folder.
    ///
    /// # Errors
    /// A refused STORE, timeouts, connection loss.
    pub async fn store_flags(&mut self, uid: u32, flags: &[String]) -> Result<(), ImapError> {
        let list = flags
            .iter()
            .filter(|f| *f != "\\Recent" && super::append::is_atom(f))
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        let session = &mut self.session;
        let timeout = self.timeout;
        timed(
            &self.metrics,
            &self.server,
            timeout,
            Op::Store,
            "UID STORE",
            async {
                let stream = session
                    .uid_store(uid.to_string(), format!("FLAGS.SILENT ({list})"))
                    .await
                    .map_err(|e| ImapError::from_imap(e, "UID STORE"))?;
                let results: Vec<_> = stream.collect().await;
                for r in results {
                    r.map_err(|e| ImapError::from_imap(e, "UID STORE"))?;
                }
                Ok(())
            },
        )
        .await
    }

    /// Makes sure the connection still answers (between long pauses).
    ///
    /// # Errors
    /// The connection is gone.
    pub async fn noop(&mut self) -> Result<(), ImapError> {
        let session = &mut self.session;
        tokio::time::timeout(self.timeout, session.noop())
            .await
            .map_err(|_| ImapError::timeout("NOOP"))?
            .map_err(|e| ImapError::new(Kind::Connection, format!("NOOP: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8, 9, 12]), "1:3,5,7:9,12");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[3, 1, 2, 2]), "1:3");
    }
}
