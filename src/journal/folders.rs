//! Per-folder figures from the last complete pass, which let an unchanged
//! folder be skipped with one STATUS.

use rusqlite::{OptionalExtension, params};

use super::{Journal, Result};

/// What a folder looked like on the source after the last complete pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderRow {
    pub path: String,
    pub dst_path: String,
    pub src_uidvalidity: u32,
    pub src_uidnext: u32,
    pub src_exists: u32,
    pub src_modseq: Option<u64>,
    pub dst_uidvalidity: Option<u32>,
    /// The pass that wrote these figures finished without leaving work behind.
    pub complete: bool,
}

impl Journal {
    /// # Errors
    /// The read failed.
    pub fn folder(&self, mailbox: &str, path: &str) -> Result<Option<FolderRow>> {
        let conn = self.lock();
        conn.query_row(
            "SELECT path, dst_path, src_uidvalidity, src_uidnext, src_exists, src_modseq, dst_uidvalidity, complete
             FROM folders WHERE mailbox = ?1 AND path = ?2",
            params![mailbox, path],
            folder_row,
        )
        .optional()
        .map_err(|e| self.wrap(e))
    }

    /// Every folder recorded for a mailbox.
    ///
    /// # Errors
    /// The read failed.
    pub fn folders(&self, mailbox: &str) -> Result<Vec<FolderRow>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT path, dst_path, src_uidvalidity, src_uidnext, src_exists, src_modseq, dst_uidvalidity, complete
                 FROM folders WHERE mailbox = ?1 ORDER BY path",
            )
            .map_err(|e| self.wrap(e))?;
        stmt.query_map([mailbox], folder_row)
            .and_then(Iterator::collect)
            .map_err(|e| self.wrap(e))
    }

    /// # Errors
    /// The write failed.
    pub fn put_folder(&self, mailbox: &str, row: &FolderRow) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO folders (mailbox, path, dst_path, src_uidvalidity, src_uidnext, src_exists,
                                      src_modseq, dst_uidvalidity, complete)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (mailbox, path) DO UPDATE SET dst_path = ?3, src_uidvalidity = ?4,
                   src_uidnext = ?5, src_exists = ?6, src_modseq = ?7, dst_uidvalidity = ?8, complete = ?9",
                params![
                    mailbox,
                    row.path,
                    row.dst_path,
                    row.src_uidvalidity,
                    row.src_uidnext,
                    row.src_exists,
                    row.src_modseq.and_then(|m| i64::try_from(m).ok()),
                    row.dst_uidvalidity,
                    row.complete
                ],
            )
            .map(drop)
        })
    }
}

fn folder_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FolderRow> {
    Ok(FolderRow {
        path: r.get(0)?,
        dst_path: r.get(1)?,
        src_uidvalidity: r.get(2)?,
        src_uidnext: r.get(3)?,
        src_exists: r.get(4)?,
        src_modseq: r
            .get::<_, Option<i64>>(5)?
            .and_then(|m| u64::try_from(m).ok()),
        dst_uidvalidity: r.get(6)?,
        complete: r.get(7)?,
    })
}
