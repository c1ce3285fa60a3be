//! Per-message state, and the intent protocol that makes a copy safe
//! against `kill -9`.
//!
//! Before an APPEND the message is written down as an `intent`, with the
//! destination folder's UIDNEXT at that moment. After the server confirms,
//! the row becomes `copied` with its destination UID. A crash in between
//! leaves the intent; the next pass hashes what the destination holds at or
//! above that UIDNEXT and claims matching messages before appending again.

use std::collections::HashMap;

use rusqlite::params;

use super::{Journal, Result};

/// Where one message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageState {
    /// About to be appended; may or may not have reached the destination.
    Intent,
    /// On the destination at `dst_uid`.
    Copied,
    /// Refused by the destination (too big, over quota); not copied.
    Failed,
}

impl MessageState {
    fn as_str(self) -> &'static str {
        match self {
            MessageState::Intent => "intent",
            MessageState::Copied => "copied",
            MessageState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "copied" => MessageState::Copied,
            "failed" => MessageState::Failed,
            _ => MessageState::Intent,
        }
    }
}

/// One message's journal row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: i64,
    pub folder: String,
    pub src_uidvalidity: u32,
    pub src_uid: u32,
    pub size: u64,
    /// SHA-256 of the bytes as the source served them.
    pub sha256: Option<String>,
    /// SHA-256 of the canonical form (CRLF line endings).
    pub canonical: Option<String>,
    pub flags: Vec<String>,
    pub internal_date: Option<String>,
    pub dst_uidvalidity: Option<u32>,
    pub dst_uid: Option<u32>,
    pub intent_uidnext: Option<u32>,
    pub state: MessageState,
    pub error_category: Option<String>,
}

/// A message about to be appended.
#[derive(Debug, Clone)]
pub struct Intent {
    pub src_uidvalidity: u32,
    pub src_uid: u32,
    pub size: u64,
    pub sha256: String,
    pub canonical: String,
    pub flags: Vec<String>,
    pub internal_date: Option<String>,
}

const COLUMNS: &str =
    "id, folder, src_uidvalidity, src_uid, size, sha256, canonical, flags, internal_date,
                       dst_uidvalidity, dst_uid, intent_uidnext, state, error_category";

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRow> {
    let flags: String = r.get(7)?;
    Ok(MessageRow {
        id: r.get(0)?,
        folder: r.get(1)?,
        src_uidvalidity: r.get(2)?,
        src_uid: r.get(3)?,
        size: r.get(4)?,
        sha256: r.get(5)?,
        canonical: r.get(6)?,
        flags: flags
            .split(' ')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        internal_date: r.get(8)?,
        dst_uidvalidity: r.get(9)?,
        dst_uid: r.get(10)?,
        intent_uidnext: r.get(11)?,
        state: MessageState::parse(&r.get::<_, String>(12)?),
        error_category: r.get(13)?,
    })
}

impl Journal {
    /// Every message row of one folder, keyed by source UID (for the given
    /// UIDVALIDITY) — what a pass compares the source's listing against.
    ///
    /// # Errors
    /// The read failed.
    pub fn folder_messages(&self, mailbox: &str, folder: &str) -> Result<Vec<MessageRow>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM messages WHERE mailbox = ?1 AND folder = ?2 ORDER BY src_uid"
            ))
            .map_err(|e| self.wrap(e))?;
        stmt.query_map(params![mailbox, folder], message_row)
            .and_then(Iterator::collect)
            .map_err(|e| self.wrap(e))
    }

    /// Writes intents for a batch before it is appended.
    ///
    /// # Errors
    /// The write failed; the batch must then not be appended.
    pub fn record_intents(
        &self,
        mailbox: &str,
        folder: &str,
        uidnext: u32,
        batch: &[Intent],
    ) -> Result<Vec<i64>> {
        self.transaction(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO messages (mailbox, folder, src_uidvalidity, src_uid, size, sha256, canonical,
                                       flags, internal_date, intent_uidnext, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'intent')
                 ON CONFLICT (mailbox, folder, src_uidvalidity, src_uid) DO UPDATE SET
                   size = ?5, sha256 = ?6, canonical = ?7, flags = ?8, internal_date = ?9,
                   intent_uidnext = ?10, state = 'intent', error_category = NULL, error_text = NULL
                 RETURNING id",
            )?;
            let mut ids = Vec::with_capacity(batch.len());
            for m in batch {
                let id = stmt.query_row(
                    params![
                        mailbox,
                        folder,
                        m.src_uidvalidity,
                        m.src_uid,
                        m.size,
                        m.sha256,
                        m.canonical,
                        m.flags.join(" "),
                        m.internal_date,
                        uidnext
                    ],
                    |r| r.get(0),
                )?;
                ids.push(id);
            }
            Ok(ids)
        })
    }

    /// Marks messages as on the destination at the given UIDs.
    ///
    /// # Errors
    /// The write failed.
    pub fn mark_copied(&self, placed: &[(i64, Option<u32>)], dst_uidvalidity: u32) -> Result<()> {
        self.transaction(|tx| {
            let mut stmt = tx.prepare_cached(
                "UPDATE messages SET state = 'copied', dst_uid = ?2, dst_uidvalidity = ?3,
                        error_category = NULL, error_text = NULL WHERE id = ?1",
            )?;
            for (id, uid) in placed {
                stmt.execute(params![id, uid, dst_uidvalidity])?;
            }
            Ok(())
        })
    }

    /// Marks one message as refused by the destination.
    ///
    /// # Errors
    /// The write failed.
    pub fn mark_failed(&self, id: i64, category: &str, text: &str) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "UPDATE messages SET state = 'failed', error_category = ?2, error_text = ?3 WHERE id = ?1",
                params![id, category, text],
            )
            .map(drop)
        })
    }

    /// Records flags carried over to the destination.
    ///
    /// # Errors
    /// The write failed.
    pub fn set_flags(&self, id: i64, flags: &[String]) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "UPDATE messages SET flags = ?2 WHERE id = ?1",
                params![id, flags.join(" ")],
            )
            .map(drop)
        })
    }

    /// Points rows at new source UIDs after a source UIDVALIDITY change.
    ///
    /// # Errors
    /// The write failed.
    pub fn remap_source(&self, moves: &[(i64, u32, u32)]) -> Result<()> {
        self.transaction(|tx| {
            let mut stmt = tx.prepare_cached(
                "UPDATE messages SET src_uidvalidity = ?2, src_uid = ?3 WHERE id = ?1",
            )?;
            for (id, validity, uid) in moves {
                stmt.execute(params![id, validity, uid])?;
            }
            Ok(())
        })
    }

    /// Drops rows whose message no longer exists anywhere it could be found
    /// (an intent that never reached the destination), so it is copied anew.
    ///
    /// # Errors
    /// The write failed.
    pub fn forget_messages(&self, ids: &[i64]) -> Result<()> {
        self.transaction(|tx| {
            let mut stmt =
                tx.prepare_cached("DELETE FROM messages WHERE id = ?1 AND state != 'copied'")?;
            for id in ids {
                stmt.execute([id])?;
            }
            Ok(())
        })
    }

    /// Counts per state and copied bytes for one mailbox.
    ///
    /// # Errors
    /// The read failed.
    pub fn message_counts(&self, mailbox: &str) -> Result<HashMap<&'static str, (u64, u64)>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT state, COUNT(*), COALESCE(SUM(size), 0) FROM messages WHERE mailbox = ?1 GROUP BY state")
            .map_err(|e| self.wrap(e))?;
        let rows: Vec<(String, u64, u64)> = stmt
            .query_map([mailbox], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(Iterator::collect)
            .map_err(|e| self.wrap(e))?;
        Ok(rows
            .into_iter()
            .map(|(s, n, b)| (MessageState::parse(&s).as_str(), (n, b)))
            .collect())
    }
}

impl Journal {
    /// Deletes rows outright (a message gone from the source after a
    /// UIDVALIDITY change, or gone from a recreated destination folder).
    ///
    /// # Errors
    /// The write failed.
    pub fn delete_messages(&self, ids: &[i64]) -> Result<()> {
        self.transaction(|tx| {
            let mut stmt = tx.prepare_cached("DELETE FROM messages WHERE id = ?1")?;
            for id in ids {
                stmt.execute([id])?;
            }
            Ok(())
        })
    }
}
