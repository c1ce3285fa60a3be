//! The action table: every operator command, the least role allowed to run
//! it, and whether it is dangerous enough to confirm. Key dispatch, footer
//! hints, the help overlay and the engine's own check all read this table.

use serde::{Deserialize, Serialize};

/// Who someone is in the war room, from the plan's `[roles]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Viewer,
    Operator,
    Lead,
}

impl Role {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Lead => "lead",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of operator action, without their arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    HaltNextWave,
    Resume,
    ExtendWindow,
    PauseMailbox,
    SkipMailbox,
    RetryMailbox,
    Rollback,
    TickStep,
    UntickStep,
}

/// One row of the action table.
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    pub kind: ActionKind,
    /// The word used on the command line and in the audit log.
    pub name: &'static str,
    /// The least role that may perform it.
    pub least_role: Role,
    /// Asks for confirmation in the war room.
    pub dangerous: bool,
    /// The key in the war room.
    pub key: char,
    /// What it does, for hints and help.
    pub summary: &'static str,
}

/// The action table.
pub const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        kind: ActionKind::HaltNextWave,
        name: "halt",
        least_role: Role::Lead,
        dangerous: true,
        key: 'h',
        summary: "halt the next wave (the running phase finishes; nothing new starts)",
    },
    ActionSpec {
        kind: ActionKind::Resume,
        name: "resume",
        least_role: Role::Lead,
        dangerous: false,
        key: 'r',
        summary: "lift a halt",
    },
    ActionSpec {
        kind: ActionKind::ExtendWindow,
        name: "extend",
        least_role: Role::Lead,
        dangerous: true,
        key: 'e',
        summary: "extend the maintenance window by N minutes, with a reason",
    },
    ActionSpec {
        kind: ActionKind::PauseMailbox,
        name: "pause",
        least_role: Role::Operator,
        dangerous: false,
        key: 'p',
        summary: "pause a mailbox (it is left out until retried)",
    },
    ActionSpec {
        kind: ActionKind::SkipMailbox,
        name: "skip",
        least_role: Role::Operator,
        dangerous: true,
        key: 's',
        summary: "skip a mailbox for this run",
    },
    ActionSpec {
        kind: ActionKind::RetryMailbox,
        name: "retry",
        least_role: Role::Operator,
        dangerous: false,
        key: 't',
        summary: "retry a failed, paused or skipped mailbox",
    },
    ActionSpec {
        kind: ActionKind::Rollback,
        name: "rollback",
        least_role: Role::Lead,
        dangerous: true,
        key: 'R',
        summary: "roll a wave back: reverse delta sync, then flip its cutover flags back",
    },
    ActionSpec {
        kind: ActionKind::TickStep,
        name: "tick",
        least_role: Role::Operator,
        dangerous: false,
        key: 'x',
        summary: "tick a runbook step (runs its check first, when it has one)",
    },
    ActionSpec {
        kind: ActionKind::UntickStep,
        name: "untick",
        least_role: Role::Operator,
        dangerous: true,
        key: 'X',
        summary: "reopen a runbook step",
    },
];

/// The table row of an action kind.
#[must_use]
pub fn spec(kind: ActionKind) -> &'static ActionSpec {
    ACTIONS
        .iter()
        .find(|a| a.kind == kind)
        .unwrap_or(&ACTIONS[0])
}

/// Whether `role` may perform `kind`; `Err` carries the refusal in words.
///
/// # Errors
/// The role is below the action's least role.
pub fn allowed(kind: ActionKind, role: Role) -> Result<(), String> {
    let spec = spec(kind);
    if role >= spec.least_role {
        Ok(())
    } else {
        Err(format!(
            "{} needs the {} role; you are {}",
            spec.name,
            spec.least_role,
            article(role)
        ))
    }
}

fn article(role: Role) -> String {
    match role {
        Role::Operator => "an operator".into(),
        other => format!("a {other}"),
    }
}

/// A command with its arguments, as the engine receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    HaltNextWave,
    Resume,
    ExtendWindow { minutes: u32, reason: String },
    PauseMailbox { mailbox: String },
    SkipMailbox { mailbox: String },
    RetryMailbox { mailbox: String },
    Rollback { wave: String },
    TickStep { wave: String, step: u32 },
    UntickStep { wave: String, step: u32 },
}

impl Action {
    #[must_use]
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::HaltNextWave => ActionKind::HaltNextWave,
            Action::Resume => ActionKind::Resume,
            Action::ExtendWindow { .. } => ActionKind::ExtendWindow,
            Action::PauseMailbox { .. } => ActionKind::PauseMailbox,
            Action::SkipMailbox { .. } => ActionKind::SkipMailbox,
            Action::RetryMailbox { .. } => ActionKind::RetryMailbox,
            Action::Rollback { .. } => ActionKind::Rollback,
            Action::TickStep { .. } => ActionKind::TickStep,
            Action::UntickStep { .. } => ActionKind::UntickStep,
        }
    }

    /// The arguments as the audit log shows them.
    #[must_use]
    pub fn arguments(&self) -> String {
        match self {
            Action::HaltNextWave | Action::Resume => String::new(),
            Action::ExtendWindow { minutes, reason } => format!("{minutes}m reason={reason:?}"),
            Action::PauseMailbox { mailbox }
            | Action::SkipMailbox { mailbox }
            | Action::RetryMailbox { mailbox } => mailbox.clone(),
            Action::Rollback { wave } => wave.clone(),
            Action::TickStep { wave, step } | Action::UntickStep { wave, step } => {
                format!("{wave} step {step}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_for_every_role() {
        let roles = [Role::Viewer, Role::Operator, Role::Lead];
        for spec in ACTIONS {
            for role in roles {
                let expected = match spec.kind {
                    ActionKind::HaltNextWave
                    | ActionKind::Resume
                    | ActionKind::ExtendWindow
                    | ActionKind::Rollback => role == Role::Lead,
                    ActionKind::PauseMailbox
                    | ActionKind::SkipMailbox
                    | ActionKind::RetryMailbox
                    | ActionKind::TickStep
                    | ActionKind::UntickStep => role != Role::Viewer,
                };
                assert_eq!(
                    allowed(spec.kind, role).is_ok(),
                    expected,
                    "{} as {role}",
                    spec.name
                );
            }
        }
    }

    #[test]
    fn viewers_can_do_nothing_and_refusals_say_why() {
        for spec in ACTIONS {
            let refusal = allowed(spec.kind, Role::Viewer).unwrap_err();
            assert!(refusal.contains(spec.least_role.as_str()), "{refusal}");
        }
    }

    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<char> = ACTIONS.iter().map(|a| a.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ACTIONS.len());
    }
}
