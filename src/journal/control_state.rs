//! Wave phases, the operator audit log, maintenance window extensions,
//! engine-wide flags (halted) and rollback copies.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Journal, Result, now};

/// One audit entry: a command, accepted or refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: String,
    pub uid: u32,
    pub user: String,
    pub role: String,
    pub action: String,
    pub arguments: String,
    pub decision: String,
    pub reason: Option<String>,
}

/// One extension of the maintenance window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub at: String,
    pub minutes: u32,
    pub reason: String,
    pub user: String,
}

/// A wave's stored phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveRow {
    pub name: String,
    pub phase: String,
    pub reason: Option<String>,
    pub cutover_at: Option<String>,
}

impl Journal {
    /// Makes sure a wave row exists (phase `planned`).
    ///
    /// # Errors
    /// The write failed.
    pub fn ensure_wave(&self, name: &str) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO waves (name, updated_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                params![name, now()],
            )
            .map(drop)
        })
    }

    /// Moves a wave to a phase and records the transition as an event.
    ///
    /// # Errors
    /// The write failed.
    pub fn set_wave_phase(&self, name: &str, phase: &str, reason: &str) -> Result<()> {
        self.transaction(|tx| {
            let at = now();
            tx.execute(
                "UPDATE waves SET phase = ?2, reason = ?3, updated_at = ?4,
                        cutover_at = CASE WHEN ?2 = 'cut-over' THEN ?4 ELSE cutover_at END
                 WHERE name = ?1",
                params![name, phase, reason, at],
            )?;
            tx.execute(
                "INSERT INTO events (at, kind, wave, mailbox, text) VALUES (?1, 'wave', ?2, NULL, ?3)",
                params![at, name, format!("{phase}: {reason}")],
            )
            .map(drop)
        })
    }

    /// # Errors
    /// The read failed.
    pub fn waves(&self) -> Result<Vec<WaveRow>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT name, phase, reason, cutover_at FROM waves")
            .map_err(|e| self.wrap(e))?;
        stmt.query_map([], |r| {
            Ok(WaveRow {
                name: r.get(0)?,
                phase: r.get(1)?,
                reason: r.get(2)?,
                cutover_at: r.get(3)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.wrap(e))
    }

    /// Appends an audit entry. The table is only ever inserted into.
    ///
    /// # Errors
    /// The write failed.
    pub fn audit(&self, entry: &AuditEntry) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO audit (at, uid, user, role, action, arguments, decision, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    entry.at,
                    entry.uid,
                    entry.user,
                    entry.role,
                    entry.action,
                    entry.arguments,
                    entry.decision,
                    entry.reason
                ],
            )
            .map(drop)
        })
    }

    /// The latest audit entries, oldest first.
    ///
    /// # Errors
    /// The read failed.
    pub fn recent_audit(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT at, uid, user, role, action, arguments, decision, reason FROM audit
                 ORDER BY id DESC LIMIT ?1",
            )
            .map_err(|e| self.wrap(e))?;
        let mut rows: Vec<AuditEntry> = stmt
            .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                Ok(AuditEntry {
                    at: r.get(0)?,
                    uid: r.get(1)?,
                    user: r.get(2)?,
                    role: r.get(3)?,
                    action: r.get(4)?,
                    arguments: r.get(5)?,
                    decision: r.get(6)?,
                    reason: r.get(7)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(|e| self.wrap(e))?;
        rows.reverse();
        Ok(rows)
    }

    /// # Errors
    /// The write failed.
    pub fn add_extension(&self, minutes: u32, reason: &str, user: &str) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO window_extensions (at, minutes, reason, user) VALUES (?1, ?2, ?3, ?4)",
                params![now(), minutes, reason, user],
            )
            .map(drop)
        })
    }

    /// # Errors
    /// The read failed.
    pub fn extensions(&self) -> Result<Vec<Extension>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT at, minutes, reason, user FROM window_extensions ORDER BY id")
            .map_err(|e| self.wrap(e))?;
        stmt.query_map([], |r| {
            Ok(Extension {
                at: r.get(0)?,
                minutes: r.get(1)?,
                reason: r.get(2)?,
                user: r.get(3)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.wrap(e))
    }

    /// # Errors
    /// The write failed.
    pub fn set_flag(&self, name: &str, value: &str) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO flags (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = ?2",
                params![name, value],
            )
            .map(drop)
        })
    }

    /// # Errors
    /// The read failed.
    pub fn flag(&self, name: &str) -> Result<Option<String>> {
        let conn = self.lock();
        conn.query_row("SELECT value FROM flags WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| self.wrap(e))
    }

    /// Destination messages already copied back to the source by a rollback.
    ///
    /// # Errors
    /// The read failed.
    pub fn reversed(
        &self,
        mailbox: &str,
        folder: &str,
        dst_uidvalidity: u32,
    ) -> Result<HashSet<u32>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT dst_uid FROM reverse_messages WHERE mailbox = ?1 AND folder = ?2 AND dst_uidvalidity = ?3")
            .map_err(|e| self.wrap(e))?;
        stmt.query_map(params![mailbox, folder, dst_uidvalidity], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(|e| self.wrap(e))
    }

    /// Records a message copied back to the source.
    ///
    /// # Errors
    /// The write failed.
    pub fn record_reversed(
        &self,
        mailbox: &str,
        folder: &str,
        dst_uidvalidity: u32,
        dst_uid: u32,
        src_uid: Option<u32>,
        canonical: &str,
    ) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO reverse_messages (mailbox, folder, dst_uidvalidity, dst_uid, src_uid, canonical)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                params![mailbox, folder, dst_uidvalidity, dst_uid, src_uid, canonical],
            )
            .map(drop)
        })
    }
}
