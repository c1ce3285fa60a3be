//! The runbook: people's steps beside the machine's. A wave may not pass a
//! stage while a step of that stage is open. Steps with a check command are
//! done only while the check passes; it runs on a timer and when ticked.

use std::sync::Arc;
use std::time::Duration;

use super::gates::Stage;
use super::runtime::Engine;
use super::snapshot::StepView;
use crate::control::{Caller, Role};
use crate::plan::{StepStage, StepWho};

/// Longest a check command may run.
const CHECK_TIMEOUT: Duration = Duration::from_mins(1);
/// Lines of check output kept.
const OUTPUT_LINES: usize = 5;

fn stage_of(stage: Stage) -> StepStage {
    match stage {
        Stage::BeforeDelta => StepStage::BeforeDelta,
        Stage::BeforeCutover => StepStage::BeforeCutover,
        Stage::AfterCutover => StepStage::AfterCutover,
    }
}

fn who_text(who: &StepWho) -> String {
    match who {
        StepWho::Role(role) => format!("any {role}"),
        StepWho::User(user) => user.clone(),
    }
}

/// Runs a check as `sh -c CHECK`, returning its exit code and first lines.
async fn run_check(command: &str) -> (i32, String) {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(CHECK_TIMEOUT, child).await {
        Err(_) => (-1, format!("timed out after {} s", CHECK_TIMEOUT.as_secs())),
        Ok(Err(e)) => (-1, format!("could not start: {e}")),
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            let lines: Vec<&str> = text.lines().take(OUTPUT_LINES).collect();
            (out.status.code().unwrap_or(-1), lines.join("\n"))
        }
    }
}

impl Engine {
    /// Closed-gate reasons for the wave's open steps of a stage.
    pub(super) fn runbook_gate(&self, index: usize, stage: Stage) -> Vec<(String, String)> {
        let wave = &self.ctx.plan.waves[index];
        let rows = self.ctx.journal.steps().unwrap_or_default();
        wave.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.stage == stage_of(stage))
            .filter(|(i, _)| {
                !rows
                    .iter()
                    .any(|r| r.wave == wave.name && r.step as usize == *i && r.done)
            })
            .map(|(_, s)| {
                let gate = if stage == Stage::AfterCutover {
                    "after-cutover runbook"
                } else {
                    "runbook"
                };
                (
                    gate.to_owned(),
                    format!("step \"{}\" is open (owner: {})", s.title, who_text(&s.who)),
                )
            })
            .collect()
    }

    /// Every wave's steps with their journaled state, for the snapshot.
    pub(super) fn runbook_view(&self) -> Vec<StepView> {
        let rows = self.ctx.journal.steps().unwrap_or_default();
        let mut out = Vec::new();
        for wave in &self.ctx.plan.waves {
            for (i, step) in wave.steps.iter().enumerate() {
                let index = u32::try_from(i).unwrap_or(0);
                let row = rows.iter().find(|r| r.wave == wave.name && r.step == index);
                out.push(StepView {
                    wave: wave.name.clone(),
                    step: index,
                    title: step.title.clone(),
                    stage: step.stage.as_str().to_owned(),
                    owner: who_text(&step.who),
                    done: row.is_some_and(|r| r.done),
                    ticked_by: row.and_then(|r| r.ticked_by.clone()),
                    ticked_at: row.and_then(|r| r.ticked_at.clone()),
                    check: step.check.clone(),
                    check_exit: row.and_then(|r| r.check_exit),
                    check_output: row.and_then(|r| r.check_output.clone()),
                    checked_at: row.and_then(|r| r.checked_at.clone()),
                });
            }
        }
        out
    }

    /// Whether `caller` may tick or untick a step; the refusal in words.
    pub(super) fn may_tick(&self, caller: &Caller, wave: &str, step: u32) -> Result<(), String> {
        let index = self
            .ctx
            .plan
            .wave_index(wave)
            .ok_or_else(|| format!("the plan has no wave {wave}"))?;
        let plan_step = self.ctx.plan.waves[index]
            .steps
            .get(step as usize)
            .ok_or_else(|| format!("wave {wave} has no step {step}"))?;
        match &plan_step.who {
            StepWho::Role(role) => {
                let needed = if role == "lead" {
                    Role::Lead
                } else {
                    Role::Operator
                };
                if caller.role >= needed {
                    Ok(())
                } else {
                    Err(format!(
                        "step \"{}\" needs the {needed} role",
                        plan_step.title
                    ))
                }
            }
            StepWho::User(user) if &caller.user == user || caller.role == Role::Lead => Ok(()),
            StepWho::User(user) => Err(format!("step \"{}\" belongs to {user}", plan_step.title)),
        }
    }

    /// Ticks a step: at once when it has no check, otherwise when its check
    /// passes (run now, in the background).
    pub(super) fn tick(
        self: &Arc<Self>,
        caller: &Caller,
        wave: &str,
        step: u32,
    ) -> Result<String, String> {
        self.may_tick(caller, wave, step)?;
        let index = self.ctx.plan.wave_index(wave).unwrap_or(0);
        let plan_step = self.ctx.plan.waves[index].steps[step as usize].clone();
        match plan_step.check {
            None => {
                self.ctx
                    .journal
                    .set_step_done(wave, step, Some(&caller.user))
                    .map_err(|e| e.to_string())?;
                Ok(format!("step \"{}\" ticked", plan_step.title))
            }
            Some(check) => {
                let (e, wave, user) = (self.clone(), wave.to_owned(), caller.user.clone());
                tokio::spawn(async move { e.check_step(&wave, step, &check, Some(&user)).await });
                Ok(format!(
                    "running the check of step \"{}\"; it closes when the check passes",
                    plan_step.title
                ))
            }
        }
    }

    /// Runs a step's check and records the result; a pass ticks the step
    /// (for `user`, or for "check"), a failure reopens it.
    async fn check_step(&self, wave: &str, step: u32, command: &str, user: Option<&str>) {
        let (exit, output) = run_check(command).await;
        let journal = &self.ctx.journal;
        let result = journal
            .set_step_check(wave, step, exit, &output)
            .and_then(|()| {
                if exit == 0 {
                    let already = journal
                        .steps()?
                        .iter()
                        .any(|r| r.wave == wave && r.step == step && r.done);
                    if already {
                        Ok(())
                    } else {
                        journal.set_step_done(wave, step, Some(user.unwrap_or("check")))
                    }
                } else {
                    journal.set_step_done(wave, step, None)
                }
            });
        if let Err(e) = result {
            tracing::error!("journal write failed: {e}");
        }
        self.wake.notify_waiters();
    }

    /// Runs every step's check on its timer, for the engine's life.
    pub(super) fn start_checks(self: &Arc<Self>) {
        for wave in &self.ctx.plan.waves {
            for (i, step) in wave.steps.iter().enumerate() {
                if let Err(e) = self.ctx.journal.ensure_step(
                    &wave.name,
                    u32::try_from(i).unwrap_or(0),
                    &step.title,
                ) {
                    tracing::error!("journal write failed: {e}");
                }
                let Some(check) = step.check.clone() else {
                    continue;
                };
                let (e, name, every) = (self.clone(), wave.name.clone(), step.check_interval_secs);
                let index = u32::try_from(i).unwrap_or(0);
                tokio::spawn(async move {
                    loop {
                        e.check_step(&name, index, &check, None).await;
                        tokio::time::sleep(Duration::from_secs(every)).await;
                    }
                });
            }
        }
    }
}
