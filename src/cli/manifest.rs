//! `cutover manifest PLAN [MAILBOX]`: the stored proof, as JSON.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use cutover::journal::Journal;

use super::{Exit, load_plan_for_control, state_dir_for};

pub fn run(
    path: &Path,
    state_dir: &Path,
    mailbox: Option<&str>,
    output: Option<&Path>,
) -> anyhow::Result<Exit> {
    let plan = match load_plan_for_control(path) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let journal_path = cutover::journal_path(&state_dir_for(&plan, state_dir), &plan.name);
    if !journal_path.exists() {
        eprintln!(
            "cutover: no journal at {}: run `cutover sync` first",
            journal_path.display()
        );
        return Ok(Exit::Internal);
    }
    let journal = Journal::open(&journal_path)?;
    let names: Vec<String> = match mailbox {
        Some(m) => vec![m.to_owned()],
        None => journal.mailboxes()?.into_iter().map(|r| r.source).collect(),
    };
    let mut manifests = Vec::new();
    for name in &names {
        match journal.manifest(name)? {
            Some(body) => manifests.push(serde_json::from_str::<serde_json::Value>(&body)?),
            None if mailbox.is_some() => {
                eprintln!("cutover: mailbox {name} has no manifest yet (not validated)");
                return Ok(Exit::Validation);
            }
            None => {}
        }
    }
    let text = if mailbox.is_some() {
        serde_json::to_string_pretty(&manifests[0])?
    } else {
        serde_json::to_string_pretty(&manifests)?
    };
    match output {
        Some(file) => std::fs::write(file, text + "\n")
            .with_context(|| format!("writing {}", file.display()))?,
        None => writeln!(std::io::stdout(), "{text}")?,
    }
    Ok(Exit::Ok)
}
