//! Operator commands, each applied by its own small method once the action
//! table allowed it. The wording of every refusal is what the caller sees.

use std::sync::Arc;

use super::runtime::Engine;
use super::snapshot::EngineState;
use super::wave::WavePhase;
use crate::control::{Action, Caller};
use crate::journal::{JournalError, MailboxPhase};

type Decision = Result<String, String>;

#[expect(clippy::needless_pass_by_value, reason = "used as a map_err adapter")]
fn journal_err(e: JournalError) -> String {
    e.to_string()
}

impl Engine {
    /// Applies an allowed command.
    pub(super) fn apply(self: &Arc<Self>, caller: &Caller, action: &Action) -> Decision {
        match action {
            Action::HaltNextWave => self.halt(caller),
            Action::Resume => self.resume(caller),
            Action::ExtendWindow { minutes, reason } => self.extend(caller, *minutes, reason),
            Action::PauseMailbox { mailbox } => {
                self.mailbox_command(caller, mailbox, MailboxPhase::Paused)
            }
            Action::SkipMailbox { mailbox } => {
                self.mailbox_command(caller, mailbox, MailboxPhase::Skipped)
            }
            Action::RetryMailbox { mailbox } => {
                self.mailbox_command(caller, mailbox, MailboxPhase::Pending)
            }
            Action::TickStep { wave, step } => {
                let done = self.tick(caller, wave, *step)?;
                self.ctx
                    .journal
                    .event(
                        "runbook",
                        Some(wave),
                        None,
                        &format!("{done} by {}", caller.user),
                    )
                    .map_err(journal_err)?;
                Ok(done)
            }
            Action::UntickStep { wave, step } => {
                self.may_tick(caller, wave, *step)?;
                let journal = &self.ctx.journal;
                journal
                    .set_step_done(wave, *step, None)
                    .map_err(journal_err)?;
                journal
                    .event(
                        "runbook",
                        Some(wave),
                        None,
                        &format!("step {step} reopened by {}", caller.user),
                    )
                    .map_err(journal_err)?;
                Ok(format!("step {step} of wave {wave} reopened"))
            }
            Action::Rollback { wave } => self.start_rollback(caller, wave),
        }
    }

    fn halt(&self, caller: &Caller) -> Decision {
        let journal = &self.ctx.journal;
        let mut live = self.live();
        if let Some(by) = &live.halted {
            return Err(format!("already {by}"));
        }
        let next = live
            .waves
            .iter()
            .find(|w| !w.phase.is_final() && w.phase != WavePhase::CutOver)
            .map_or_else(|| "no wave".to_owned(), |w| w.name.clone());
        self.narrowed(caller, &next, |r| &r.halt)?;
        let reason = format!(
            "halted by {} at {}",
            caller.user,
            chrono::Utc::now().format("%H:%MZ")
        );
        journal.set_flag("halted", &reason).map_err(journal_err)?;
        journal
            .event("halt", Some(&next), None, &reason)
            .map_err(journal_err)?;
        live.halted = Some(reason);
        live.state = EngineState::Halted;
        Ok(format!(
            "halted: wave {next} starts nothing new until resumed"
        ))
    }

    fn resume(&self, caller: &Caller) -> Decision {
        let journal = &self.ctx.journal;
        let mut live = self.live();
        if live.halted.is_none() {
            return Err("nothing is halted".into());
        }
        journal.set_flag("halted", "").map_err(journal_err)?;
        journal
            .event("resume", None, None, &format!("resumed by {}", caller.user))
            .map_err(journal_err)?;
        live.halted = None;
        live.state = EngineState::Running;
        Ok("resumed".into())
    }

    fn extend(&self, caller: &Caller, minutes: u32, reason: &str) -> Decision {
        if self.ctx.plan.window.is_none() {
            return Err("the plan has no maintenance window to extend".into());
        }
        if minutes == 0 || minutes > 24 * 60 {
            return Err(format!("{minutes} minutes is not between 1 and 1440"));
        }
        if reason.trim().is_empty() {
            return Err("an extension needs a reason".into());
        }
        let running = self
            .live()
            .waves
            .iter()
            .find(|w| !w.phase.is_final())
            .map(|w| w.name.clone());
        if let Some(wave) = running {
            self.narrowed(caller, &wave, |r| &r.extend)?;
        }
        let journal = &self.ctx.journal;
        journal
            .add_extension(minutes, reason, &caller.user)
            .map_err(journal_err)?;
        let mut live = self.live();
        live.extensions = journal.extensions().map_err(journal_err)?;
        let end = live
            .window(&self.ctx)
            .map(|(_, e)| e.format("%Y-%m-%d %H:%MZ").to_string())
            .unwrap_or_default();
        let text = format!(
            "window extended {minutes} min by {}: {reason}; ends {end}",
            caller.user
        );
        journal
            .event("extend", None, None, &text)
            .map_err(journal_err)?;
        Ok(format!("maintenance window now ends {end}"))
    }

    /// Pause (`Paused`), skip (`Skipped`) or retry (`Pending`) a mailbox.
    fn mailbox_command(&self, caller: &Caller, mailbox: &str, phase: MailboxPhase) -> Decision {
        if self.ctx.plan.mailbox(mailbox).is_none() {
            return Err(format!("the plan has no mailbox {mailbox}"));
        }
        let mut live = self.live();
        let word = match phase {
            MailboxPhase::Paused => {
                live.paused.insert(mailbox.to_owned());
                "paused"
            }
            MailboxPhase::Skipped => {
                live.skipped.insert(mailbox.to_owned());
                "skipped"
            }
            _ => {
                live.paused.remove(mailbox);
                live.skipped.remove(mailbox);
                "queued for retry"
            }
        };
        let journal = &self.ctx.journal;
        journal.set_phase(mailbox, phase).map_err(journal_err)?;
        journal
            .event(
                "mailbox",
                None,
                Some(mailbox),
                &format!("{word} by {}", caller.user),
            )
            .map_err(journal_err)?;
        if let Some(m) = live.mailbox_mut(mailbox) {
            m.phase = phase;
        }
        Ok(format!("{mailbox} {word}"))
    }

    fn start_rollback(self: &Arc<Self>, caller: &Caller, wave: &str) -> Decision {
        let Some(index) = self.ctx.plan.wave_index(wave) else {
            return Err(format!("the plan has no wave {wave}"));
        };
        let phase = self.live().waves[index].phase;
        if !matches!(phase, WavePhase::CutOver | WavePhase::Done) {
            return Err(format!(
                "wave {wave} is {}; only a cut-over wave can be rolled back",
                phase.as_str()
            ));
        }
        self.set_wave(
            index,
            WavePhase::CutOver,
            Some(format!("rolling back (asked by {})", caller.user)),
        );
        let e = self.clone();
        tokio::spawn(async move { e.rollback(index).await });
        Ok(format!("rollback of wave {wave} started"))
    }

    /// A wave's runbook may narrow who holds a decision right: when its list
    /// is not empty, the caller must be on it (`owner` names the wave's owner).
    fn narrowed(
        &self,
        caller: &Caller,
        wave: &str,
        list: impl Fn(&crate::plan::DecisionRights) -> &Vec<String>,
    ) -> Result<(), String> {
        let Some(index) = self.ctx.plan.wave_index(wave) else {
            return Ok(());
        };
        let plan_wave = &self.ctx.plan.waves[index];
        let allowed = list(&plan_wave.decision_rights);
        if allowed.is_empty() {
            return Ok(());
        }
        let owner = plan_wave.owner.as_deref();
        let listed = allowed.iter().any(|who| {
            who == &caller.user || (who == "owner" && owner == Some(caller.user.as_str()))
        });
        if listed {
            Ok(())
        } else {
            Err(format!(
                "wave {wave}'s runbook gives this decision to {} only",
                allowed.join(", ")
            ))
        }
    }
}
