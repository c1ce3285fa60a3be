//! Engine failures, each in one of the operator's categories.

use crate::imap::ImapError;
use crate::journal::JournalError;
use crate::telemetry::Category;

/// Why a mailbox (or a whole run) could not go on.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Imap(#[from] ImapError),
    #[error("{0}")]
    Journal(#[from] JournalError),
    #[error("[{0}] {1}")]
    Other(Category, String),
}

impl EngineError {
    #[must_use]
    pub fn category(&self) -> Category {
        match self {
            EngineError::Imap(e) => e.category,
            EngineError::Journal(_) => Category::Journal,
            EngineError::Other(c, _) => *c,
        }
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;
