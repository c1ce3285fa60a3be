//! Runbook steps: who ticked what and when, and the last check's result.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Journal, Result, now};

/// A step's stored state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRow {
    pub wave: String,
    pub step: u32,
    pub title: String,
    pub done: bool,
    pub ticked_by: Option<String>,
    pub ticked_at: Option<String>,
    pub check_exit: Option<i32>,
    pub check_output: Option<String>,
    pub checked_at: Option<String>,
}

impl Journal {
    /// Makes sure a row exists for each plan step (titles follow the plan).
    ///
    /// # Errors
    /// The write failed.
    pub fn ensure_step(&self, wave: &str, step: u32, title: &str) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO steps (wave, step, title) VALUES (?1, ?2, ?3)
                 ON CONFLICT (wave, step) DO UPDATE SET title = ?3",
                params![wave, step, title],
            )
            .map(drop)
        })
    }

    /// Ticks (`Some(user)`) or unticks (`None`) a step.
    ///
    /// # Errors
    /// The write failed.
    pub fn set_step_done(&self, wave: &str, step: u32, by: Option<&str>) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "UPDATE steps SET done = ?3, ticked_by = ?4, ticked_at = ?5 WHERE wave = ?1 AND step = ?2",
                params![wave, step, by.is_some(), by, by.map(|_| now())],
            )
            .map(drop)
        })
    }

    /// Keeps the result of a step's check command.
    ///
    /// # Errors
    /// The write failed.
    pub fn set_step_check(&self, wave: &str, step: u32, exit: i32, output: &str) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "UPDATE steps SET check_exit = ?3, check_output = ?4, checked_at = ?5 WHERE wave = ?1 AND step = ?2",
                params![wave, step, exit, output, now()],
            )
            .map(drop)
        })
    }

    /// Every step row, in wave and step order.
    ///
    /// # Errors
    /// The read failed.
    pub fn steps(&self) -> Result<Vec<StepRow>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT wave, step, title, done, ticked_by, ticked_at, check_exit, check_output, checked_at
                 FROM steps ORDER BY wave, step",
            )
            .map_err(|e| self.wrap(e))?;
        stmt.query_map([], |r| {
            Ok(StepRow {
                wave: r.get(0)?,
                step: r.get(1)?,
                title: r.get(2)?,
                done: r.get(3)?,
                ticked_by: r.get(4)?,
                ticked_at: r.get(5)?,
                check_exit: r.get(6)?,
                check_output: r.get(7)?,
                checked_at: r.get(8)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.wrap(e))
    }
}
