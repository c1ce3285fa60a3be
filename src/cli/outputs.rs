//! Starts the plan's telemetry outputs beside a running engine: their health
//! goes into the snapshot, a `CloudWatch` alarm in ALARM can hold a wave, and
//! at the end they get a moment to deliver what is queued.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cutover::engine::snapshot::OutputView;
use cutover::engine::{Engine, Handle, Stage};
use cutover::plan::Plan;
use cutover::telemetry::{Metrics, Outputs};

/// Starts the outputs the plan configures; `None` when it configures none.
pub fn start(
    plan: &Plan,
    engine: &Arc<Engine>,
    handle: &Handle,
    metrics: Arc<Metrics>,
) -> Option<Arc<Outputs>> {
    let section = plan.telemetry.as_ref()?;
    let plan_dir = plan.path.parent().unwrap_or(Path::new("."));
    let tenants: Vec<(String, String)> = plan
        .mailboxes
        .iter()
        .map(|m| (m.tenant.clone(), plan.waves[m.wave].name.clone()))
        .collect();
    let outputs = Arc::new(cutover::telemetry::start(
        section,
        &plan.name,
        plan_dir,
        tenants,
        handle.snapshots.clone(),
        metrics,
    ));
    let view = outputs.clone();
    *engine
        .outputs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Box::new(move || {
        let mut out: Vec<OutputView> = view
            .status()
            .into_iter()
            .map(|s| OutputView {
                name: s.name.clone(),
                state: s.state.as_str().to_owned(),
                detail: s.last_error.clone(),
            })
            .collect();
        out.extend(view.alarms().into_iter().map(|a| OutputView {
            name: format!("alarm {}", a.name),
            state: a.state.clone(),
            detail: a.reason.clone(),
        }));
        out
    }));
    let gate = outputs.clone();
    engine
        .external_gates
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Box::new(move |_wave, stage| {
            match (stage, gate.alarm_gate()) {
                (Stage::BeforeDelta | Stage::BeforeCutover, Some(reason)) => {
                    vec![(
                        "alarm".to_owned(),
                        reason.trim_start_matches("held: ").to_owned(),
                    )]
                }
                _ => Vec::new(),
            }
        }));
    Some(outputs)
}

/// Lets the outputs deliver their last figures and notices.
pub async fn finish(engine: &Arc<Engine>, outputs: Option<Arc<Outputs>>) {
    let Some(outputs) = outputs else { return };
    engine
        .outputs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    engine
        .external_gates
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clear();
    if let Ok(outputs) = Arc::try_unwrap(outputs) {
        outputs.finish(Duration::from_secs(10)).await;
    }
}
