//! The journal: every piece of migration state, in one `SQLite` file per plan.
//!
//! The engine is the only writer. Each state change is one call here, in
//! portable SQL, so a shared `PostgreSQL` journal can replace `SQLite` later
//! without touching the engine. WAL mode with `synchronous = NORMAL`: a
//! killed process loses nothing that was committed (the OS holds the WAL);
//! a power cut may lose the last commits, which the intent records below
//! then re-discover on the destination.

mod control_state;
mod folders;
mod mailboxes;
mod messages;
mod schema;
mod steps;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;

pub use control_state::{AuditEntry, Extension, WaveRow};
pub use folders::FolderRow;
pub use mailboxes::{MailboxPhase, MailboxRow};
pub use messages::{Intent, MessageRow, MessageState};
pub use steps::StepRow;

/// A journal failure: the database could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
#[error("journal {path}: {source}")]
pub struct JournalError {
    pub path: PathBuf,
    #[source]
    pub source: rusqlite::Error,
}

pub type Result<T> = std::result::Result<T, JournalError>;

/// The open journal of one plan. Calls are short and serialised.
pub struct Journal {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens (creating if needed) the journal file and brings its schema up to date.
    ///
    /// # Errors
    /// The file cannot be opened or its schema cannot be created.
    pub fn open(path: &Path) -> Result<Self> {
        let wrap = |source| JournalError {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| wrap(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        }
        let conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(wrap)?;
        schema::migrate(&conn).map_err(wrap)?;
        Ok(Self {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wrap(&self, source: rusqlite::Error) -> JournalError {
        JournalError {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs `f` in one transaction on the journal's connection.
    fn transaction<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.wrap(e))?;
        let out = f(&tx).map_err(|e| self.wrap(e))?;
        tx.commit().map_err(|e| self.wrap(e))?;
        Ok(out)
    }

    /// Records an event (phase change, error, note) with the current UTC time.
    ///
    /// # Errors
    /// The write failed.
    pub fn event(
        &self,
        kind: &str,
        wave: Option<&str>,
        mailbox: Option<&str>,
        text: &str,
    ) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO events (at, kind, wave, mailbox, text) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![now(), kind, wave, mailbox, text],
            )
            .map(drop)
        })
    }

    /// The most recent events, oldest first.
    ///
    /// # Errors
    /// The read failed.
    pub fn recent_events(&self, limit: usize) -> Result<Vec<EventRow>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT at, kind, wave, mailbox, text FROM events ORDER BY id DESC LIMIT ?1")
            .map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(|e| self.wrap(e))?;
        Ok(rows.into_iter().rev().collect())
    }
}

/// An event as stored: time, kind, wave, mailbox, text.
pub type EventRow = (String, String, Option<String>, Option<String>, String);

/// Current UTC time as RFC 3339, the journal's one time format.
#[must_use]
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
