//! `cutover sync` and `cutover verify`: headless runs with progress bars on a
//! terminal, or JSON Lines events with `--json`.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use cutover::engine::{Context, MailboxRun, Progress, SyncReport, register, run_all};
use cutover::journal::{Journal, MailboxPhase};
use cutover::plan::{Mailbox, Plan};
use cutover::telemetry::Metrics;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use super::{Exit, load_plan, state_dir_for};

pub struct Options {
    pub wave: Option<String>,
    pub mailboxes: Vec<String>,
    pub json: bool,
    pub copy: bool,
    pub verify: bool,
}

fn select(plan: &Plan, opts: &Options) -> Result<Vec<Mailbox>, String> {
    let wave = match &opts.wave {
        Some(name) => Some(
            plan.wave_index(name)
                .ok_or_else(|| format!("the plan has no wave {name:?}"))?,
        ),
        None => None,
    };
    for m in &opts.mailboxes {
        if plan.mailbox(m).is_none() {
            return Err(format!("the plan has no mailbox {m:?}"));
        }
    }
    Ok(plan
        .mailboxes
        .iter()
        .filter(|m| wave.is_none_or(|w| m.wave == w))
        .filter(|m| opts.mailboxes.is_empty() || opts.mailboxes.contains(&m.source))
        .cloned()
        .collect())
}

pub async fn run(path: &Path, state_dir: &Path, opts: Options) -> anyhow::Result<Exit> {
    let plan = match load_plan(path) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let mailboxes = match select(&plan, &opts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("cutover: {e}");
            return Ok(Exit::Plan);
        }
    };
    let journal_path = cutover::journal_path(&state_dir_for(&plan, state_dir), &plan.name);
    let journal = Arc::new(Journal::open(&journal_path)?);
    tracing::info!(plan = %plan.name, journal = %journal_path.display(), mailboxes = mailboxes.len(), "sync starting");

    let (tx, rx) = mpsc::unbounded_channel();
    let ctx = Context::new(Arc::new(plan), journal, Arc::new(Metrics::new())).with_progress(tx);
    register(&ctx, &mailboxes)?;
    let ctx = Arc::new(ctx);
    let total = mailboxes.len();
    let bytes_total: u64 = 0;
    let printer = tokio::spawn(show_progress(rx, opts.json, total, bytes_total));
    let run = MailboxRun {
        copy: opts.copy,
        verify: opts.verify,
    };
    let (report, results) = run_all(ctx.clone(), mailboxes, run).await;
    drop(ctx);
    let _ = printer.await;

    print_report(&report, opts.json);
    let exit = Exit::for_failures(results.iter().filter_map(|r| r.error.as_ref().map(|e| e.0)));
    let unfinished = results
        .iter()
        .any(|r| opts.verify && r.phase != MailboxPhase::Verified);
    Ok(if exit == Exit::Ok && unfinished {
        Exit::Validation
    } else {
        exit
    })
}

async fn show_progress(
    mut rx: mpsc::UnboundedReceiver<Progress>,
    json: bool,
    total: usize,
    _bytes: u64,
) {
    let bar = (!json && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} mailboxes  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let (mut messages, mut bytes) = (0u64, 0u64);
    while let Some(event) = rx.recv().await {
        if json {
            if let Ok(line) = serde_json::to_string(&event) {
                println!("{line}");
            }
            continue;
        }
        match &event {
            Progress::Copied {
                messages: n,
                bytes: b,
                ..
            } => {
                messages += n;
                bytes += b;
                if let Some(bar) = &bar {
                    bar.set_message(format!("{messages} messages, {:.1} MB", mb(bytes)));
                }
            }
            Progress::Finished {
                mailbox,
                phase,
                text,
                ..
            } => {
                let line = match text {
                    Some(t) => format!("{mailbox}: {} — {t}", phase.as_str()),
                    None => format!("{mailbox}: {}", phase.as_str()),
                };
                match &bar {
                    Some(bar) => {
                        bar.inc(1);
                        bar.println(line);
                    }
                    None => eprintln!("{line}"),
                }
            }
            Progress::Retry {
                mailbox,
                category,
                text,
                attempt,
            } => {
                let line = format!("{mailbox}: retry {attempt} after [{category}] {text}");
                match &bar {
                    Some(bar) => bar.println(line),
                    None => eprintln!("{line}"),
                }
            }
            Progress::Phase { .. } => {}
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

#[expect(clippy::cast_precision_loss, reason = "display only")]
fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

fn print_report(r: &SyncReport, json: bool) {
    if json {
        if let Ok(line) =
            serde_json::to_string(&serde_json::json!({ "event": "summary", "summary": r }))
        {
            println!("{line}");
        }
        return;
    }
    println!(
        "mailboxes           {} ({} verified, {} failed)",
        r.mailboxes, r.verified, r.failed
    );
    println!("messages copied     {}", r.copied);
    println!(
        "messages skipped    {} (already on the destination)",
        r.skipped
    );
    println!("messages refused    {}", r.refused);
    println!("flags carried over  {}", r.flags_updated);
    println!("folders unchanged   {}", r.folders_unchanged);
    println!("bytes copied        {} ({:.1} MB)", r.bytes, mb(r.bytes));
    println!("time                {:.1} s", r.seconds);
    println!(
        "throughput          {:.0} messages/s, {:.1} MB/s",
        r.messages_per_second, r.megabytes_per_second
    );
    if r.errors.is_empty() {
        println!("errors              none");
    } else {
        let list: Vec<String> = r.errors.iter().map(|(c, n)| format!("{c} {n}")).collect();
        println!("errors              {}", list.join(", "));
    }
    for (mailbox, category, text) in &r.failures {
        println!("FAILED {mailbox} [{category}] {text}");
    }
}
