//! `cutover check PLAN [--connect]`.

use std::path::Path;
use std::sync::Arc;

use cutover::engine::{Context, probe_mailbox};
use cutover::journal::Journal;
use cutover::telemetry::Metrics;

use super::{Exit, load_plan};

pub async fn run(
    path: &Path,
    connect: bool,
    json: bool,
    _state_dir: &Path,
) -> anyhow::Result<Exit> {
    let plan = match load_plan(path) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    if !connect {
        println!(
            "{}: plan {:?} is valid: {} mailbox(es), {} tenant(s), {} wave(s)",
            path.display(),
            plan.name,
            plan.mailboxes.len(),
            plan.tenants.len(),
            plan.waves.len()
        );
        return Ok(Exit::Ok);
    }

    // Probing writes nothing: an in-memory journal stands in for the real one.
    let journal = Arc::new(Journal::open(Path::new(":memory:"))?);
    let plan = Arc::new(plan);
    let ctx = Arc::new(Context::new(
        plan.clone(),
        journal,
        Arc::new(Metrics::new()),
    ));
    let limit = Arc::new(tokio::sync::Semaphore::new(
        plan.concurrency.connections_per_server.max(1),
    ));
    let tasks = plan.mailboxes.iter().cloned().map(|m| {
        let (ctx, limit) = (ctx.clone(), limit.clone());
        tokio::spawn(async move {
            let _slot = limit.acquire_owned().await;
            probe_mailbox(&ctx, &m).await
        })
    });
    let mut failed = 0;
    let mut reports = Vec::new();
    for joined in futures::future::join_all(tasks).await {
        let report = joined?;
        if !report.source.ok || !report.destination.ok {
            failed += 1;
        }
        reports.push(report);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        println!("{:<24} {:<40} {:<40}", "MAILBOX", "SOURCE", "DESTINATION");
        for r in &reports {
            let side = |s: &cutover::engine::MailboxProbe, src: bool| {
                let p = if src { &s.source } else { &s.destination };
                match &p.error {
                    None => format!("ok, {} folders, {} messages", p.folders, p.messages),
                    Some(e) => format!("FAILED {e}"),
                }
            };
            println!(
                "{:<24} {:<40} {:<40}",
                r.mailbox,
                side(r, true),
                side(r, false)
            );
        }
        println!(
            "{} of {} mailbox(es) reachable on both sides",
            reports.len() - failed,
            reports.len()
        );
    }
    Ok(if failed == 0 { Exit::Ok } else { Exit::Access })
}
