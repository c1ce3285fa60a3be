//! Per-mailbox state: phase, last error, manifest root, cutover flag.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Journal, Result, now};

/// Where a mailbox stands in its migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MailboxPhase {
    Pending,
    PreSyncing,
    PreSynced,
    DeltaSyncing,
    Verifying,
    Verified,
    Failed,
    Paused,
    Skipped,
}

impl MailboxPhase {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MailboxPhase::Pending => "pending",
            MailboxPhase::PreSyncing => "pre-syncing",
            MailboxPhase::PreSynced => "pre-synced",
            MailboxPhase::DeltaSyncing => "delta-syncing",
            MailboxPhase::Verifying => "verifying",
            MailboxPhase::Verified => "verified",
            MailboxPhase::Failed => "failed",
            MailboxPhase::Paused => "paused",
            MailboxPhase::Skipped => "skipped",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> MailboxPhase {
        match s {
            "pre-syncing" => MailboxPhase::PreSyncing,
            "pre-synced" => MailboxPhase::PreSynced,
            "delta-syncing" => MailboxPhase::DeltaSyncing,
            "verifying" => MailboxPhase::Verifying,
            "verified" => MailboxPhase::Verified,
            "failed" => MailboxPhase::Failed,
            "paused" => MailboxPhase::Paused,
            "skipped" => MailboxPhase::Skipped,
            _ => MailboxPhase::Pending,
        }
    }
}

/// One mailbox's journal row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxRow {
    pub source: String,
    pub destination: String,
    pub tenant: String,
    pub wave: String,
    pub phase: MailboxPhase,
    /// A full pre-sync finished once; later passes are delta syncs.
    pub presynced: bool,
    pub error_category: Option<String>,
    pub error_text: Option<String>,
    pub root_digest: Option<String>,
    pub cutover: bool,
}

impl Journal {
    /// Makes sure a row exists for a plan mailbox; keeps the state of one that does.
    ///
    /// # Errors
    /// The write failed.
    pub fn ensure_mailbox(
        &self,
        source: &str,
        destination: &str,
        tenant: &str,
        wave: &str,
    ) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO mailboxes (source, destination, tenant, wave, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (source) DO UPDATE SET destination = ?2, tenant = ?3, wave = ?4",
                params![source, destination, tenant, wave, now()],
            )
            .map(drop)
        })
    }

    /// # Errors
    /// The write failed.
    pub fn set_phase(&self, source: &str, phase: MailboxPhase) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "UPDATE mailboxes SET phase = ?2, updated_at = ?3 WHERE source = ?1",
                params![source, phase.as_str(), now()],
            )
            .map(drop)
        })
    }

    /// Records the mailbox's latest error (or clears it with `None`).
    ///
    /// # Errors
    /// The write failed.
    pub fn set_mailbox_error(&self, source: &str, error: Option<(&str, &str)>) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "UPDATE mailboxes SET error_category = ?2, error_text = ?3, updated_at = ?4 WHERE source = ?1",
                params![source, error.map(|e| e.0), error.map(|e| e.1), now()],
            )
            .map(drop)
        })
    }

    /// # Errors
    /// The write failed.
    pub fn set_presynced(&self, source: &str) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "UPDATE mailboxes SET presynced = 1 WHERE source = ?1",
                params![source],
            )
            .map(drop)
        })
    }

    /// # Errors
    /// The write failed.
    pub fn set_cutover(&self, source: &str, cutover: bool) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "UPDATE mailboxes SET cutover = ?2, updated_at = ?3 WHERE source = ?1",
                params![source, cutover, now()],
            )
            .map(drop)
        })
    }

    /// # Errors
    /// The read failed.
    pub fn mailbox(&self, source: &str) -> Result<Option<MailboxRow>> {
        let conn = self.lock();
        conn.query_row(
            "SELECT source, destination, tenant, wave, phase, presynced, error_category, error_text,
                    root_digest, cutover FROM mailboxes WHERE source = ?1",
            [source],
            row,
        )
        .optional()
        .map_err(|e| self.wrap(e))
    }

    /// Every mailbox row, in source-login order.
    ///
    /// # Errors
    /// The read failed.
    pub fn mailboxes(&self) -> Result<Vec<MailboxRow>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT source, destination, tenant, wave, phase, presynced, error_category, error_text,
                        root_digest, cutover FROM mailboxes ORDER BY source",
            )
            .map_err(|e| self.wrap(e))?;
        stmt.query_map([], row)
            .and_then(Iterator::collect)
            .map_err(|e| self.wrap(e))
    }

    /// Stores a mailbox's manifest (JSON) and whether it proved the copy.
    ///
    /// # Errors
    /// The write failed.
    pub fn store_manifest(
        &self,
        source: &str,
        root: &str,
        verified: bool,
        body: &str,
    ) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO manifests (mailbox, root_digest, verified, body, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (mailbox) DO UPDATE SET root_digest = ?2, verified = ?3, body = ?4, created_at = ?5",
                params![source, root, verified, body, now()],
            )?;
            tx.execute(
                "UPDATE mailboxes SET root_digest = ?2 WHERE source = ?1",
                params![source, if verified { Some(root) } else { None }],
            )
            .map(drop)
        })
    }

    /// The stored manifest JSON of a mailbox.
    ///
    /// # Errors
    /// The read failed.
    pub fn manifest(&self, source: &str) -> Result<Option<String>> {
        let conn = self.lock();
        conn.query_row(
            "SELECT body FROM manifests WHERE mailbox = ?1",
            [source],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| self.wrap(e))
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MailboxRow> {
    Ok(MailboxRow {
        source: r.get(0)?,
        destination: r.get(1)?,
        tenant: r.get(2)?,
        wave: r.get(3)?,
        phase: MailboxPhase::parse(&r.get::<_, String>(4)?),
        presynced: r.get(5)?,
        error_category: r.get(6)?,
        error_text: r.get(7)?,
        root_digest: r.get(8)?,
        cutover: r.get(9)?,
    })
}
