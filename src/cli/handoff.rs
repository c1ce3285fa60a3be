//! `cutover handoff PLAN WAVE`: the helpdesk's file for a wave — who moves,
//! when, and how each kind of mail client is reconfigured; after cutover,
//! the result per mailbox.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use cutover::journal::{Journal, MailboxPhase};
use cutover::plan::{Handoff, Plan};

use super::{Exit, load_plan_for_control, state_dir_for};

/// One user moving in the wave.
struct Row {
    source: String,
    destination: String,
    tenant: String,
    planned: String,
    verified: String,
    digest: String,
    cutover_at: String,
}

fn fill(step: &str, handoff: &Handoff) -> String {
    step.replace("{imap-host}", &handoff.imap_host)
        .replace("{smtp-host}", &handoff.smtp_host)
        .replace("{webmail-url}", &handoff.webmail_url)
}

pub fn run(path: &Path, state_dir: &Path, wave: &str, out: Option<&Path>) -> anyhow::Result<Exit> {
    let plan = match load_plan_for_control(path) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let Some(index) = plan.wave_index(wave) else {
        eprintln!("cutover: the plan has no wave {wave:?}");
        return Ok(Exit::Plan);
    };
    let journal_path = cutover::journal_path(&state_dir_for(&plan, state_dir), &plan.name);
    let journal = if journal_path.exists() {
        Some(Journal::open(&journal_path)?)
    } else {
        None
    };
    let rows = rows(&plan, index, journal.as_ref())?;
    let dir = out.map_or_else(
        || state_dir_for(&plan, state_dir).join("handoff"),
        Path::to_path_buf,
    );
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    let csv_path = dir.join(format!("{wave}-handoff.csv"));
    let mut csv = csv::Writer::from_path(&csv_path)?;
    csv.write_record([
        "user",
        "new login",
        "tenant",
        "planned",
        "verified",
        "manifest digest",
        "cut over at",
    ])?;
    for r in &rows {
        csv.write_record([
            &r.source,
            &r.destination,
            &r.tenant,
            &r.planned,
            &r.verified,
            &r.digest,
            &r.cutover_at,
        ])?;
    }
    csv.flush()?;

    let md_path = dir.join(format!("{wave}-handoff.md"));
    std::fs::write(&md_path, markdown(&plan, index, &rows))?;
    println!("{}\n{}", csv_path.display(), md_path.display());
    Ok(Exit::Ok)
}

fn rows(plan: &Plan, index: usize, journal: Option<&Journal>) -> anyhow::Result<Vec<Row>> {
    let wave = &plan.waves[index];
    let planned = wave
        .planned_at
        .or(plan.window.map(|w| w.start))
        .map_or_else(
            || "not planned".to_owned(),
            |t| t.format("%Y-%m-%d %H:%MZ").to_string(),
        );
    let cutover_at = journal
        .map(Journal::waves)
        .transpose()?
        .and_then(|ws| ws.into_iter().find(|w| w.name == wave.name))
        .and_then(|w| w.cutover_at);
    let mut out = Vec::new();
    for m in plan.wave_mailboxes(index) {
        let row = journal.map(|j| j.mailbox(&m.source)).transpose()?.flatten();
        let cut = row.as_ref().is_some_and(|r| r.cutover);
        out.push(Row {
            source: m.source.clone(),
            destination: m.destination.clone(),
            tenant: m.tenant.clone(),
            planned: planned.clone(),
            verified: match &row {
                Some(r)
                    if r.phase == MailboxPhase::Verified || (cut && r.root_digest.is_some()) =>
                {
                    "yes".into()
                }
                Some(r) if cut => format!("no ({})", r.phase.as_str()),
                _ => "not yet".into(),
            },
            digest: row
                .as_ref()
                .and_then(|r| r.root_digest.clone())
                .filter(|_| cut)
                .unwrap_or_default(),
            cutover_at: if cut {
                cutover_at.clone().unwrap_or_default()
            } else {
                String::new()
            },
        });
    }
    Ok(out)
}

fn markdown(plan: &Plan, index: usize, rows: &[Row]) -> String {
    let wave = &plan.waves[index];
    let mut md = String::new();
    let _ = writeln!(md, "# Wave {}: helpdesk hand-off\n", wave.name);
    let _ = writeln!(md, "- Plan: {}", plan.name);
    let _ = writeln!(
        md,
        "- Planned: {}",
        rows.first().map_or("", |r| r.planned.as_str())
    );
    if let Some(owner) = &wave.owner {
        let _ = writeln!(
            md,
            "- Owner: {owner}{}",
            wave.contact
                .as_ref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default()
        );
    }
    let cut = rows.iter().any(|r| !r.cutover_at.is_empty());
    let _ = writeln!(
        md,
        "- State: {}\n",
        if cut { "cut over" } else { "not cut over yet" }
    );
    let _ = writeln!(md, "## Users moving ({})\n", rows.len());
    if cut {
        let _ = writeln!(
            md,
            "| user | new login | tenant | verified | manifest digest | cut over at |\n|---|---|---|---|---|---|"
        );
        for r in rows {
            let short = r.digest.get(..16).unwrap_or(&r.digest);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | `{short}` | {} |",
                r.source, r.destination, r.tenant, r.verified, r.cutover_at
            );
        }
    } else {
        let _ = writeln!(md, "| user | new login | tenant |\n|---|---|---|");
        for r in rows {
            let _ = writeln!(md, "| {} | {} | {} |", r.source, r.destination, r.tenant);
        }
    }
    let h = &plan.handoff;
    if !h.clients.is_empty() {
        let _ = writeln!(md, "\n## Client reconfiguration\n");
        for client in &h.clients {
            let _ = writeln!(md, "### {}\n", client.kind);
            for (i, step) in client.steps.iter().enumerate() {
                let _ = writeln!(md, "{}. {}", i + 1, fill(step, h));
            }
            md.push('\n');
        }
    }
    md
}
