//! Logs go to a file, never to the screen a front end draws on.

use std::path::Path;

use anyhow::Context as _;
use tracing_subscriber::EnvFilter;

/// Starts logging to `file`, or `<state dir>/cutover.log`.
pub fn init(state_dir: &Path, file: Option<&Path>, level: &str) -> anyhow::Result<()> {
    let path = file.map_or_else(|| state_dir.join("cutover.log"), Path::to_path_buf);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening log file {}", path.display()))?;
    // async-imap logs every command it sends at trace level, LOGIN and
    // AUTHENTICATE included: it never gets more than debug, whatever is asked.
    let mut filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    if let Ok(cap) = "async_imap=debug".parse() {
        filter = filter.add_directive(cap);
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(log))
        .try_init()
        .ok();
    Ok(())
}
