//! One engine per journal: an exclusive `flock` on `<journal>.lock`, held
//! for the engine's life. The kernel drops it when the process dies, even by
//! `kill -9`, so a stale lock file is simply taken over.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Holds the lock until dropped.
#[derive(Debug)]
pub struct EngineLock {
    _file: File,
    pub path: PathBuf,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another engine is running on this journal (lock {0})")]
    Held(PathBuf),
    #[error("cannot open lock file {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// Takes the journal's lock without waiting.
///
/// # Errors
/// Another live process holds it, or the file cannot be opened.
pub fn acquire(journal: &Path) -> Result<EngineLock, LockError> {
    let path = journal.with_extension("lock");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| LockError::Io(path.clone(), e))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| LockError::Io(path.clone(), e))?;
    // SAFETY: the fd is valid for the life of `file`.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        return Err(LockError::Held(path));
    }
    let _ = std::fs::write(&path, format!("{}\n", std::process::id()));
    Ok(EngineLock { _file: file, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_and_a_released_one_taken() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("p.journal");
        let first = acquire(&journal).unwrap();
        assert!(matches!(acquire(&journal), Err(LockError::Held(_))));
        drop(first);
        assert!(acquire(&journal).is_ok());
    }
}
