//! The war room, embedded in `cutover run` or attached to a running engine
//! with `cutover attach`. Either way it renders snapshots and sends
//! commands; the engine decides who may do what.

use std::path::Path;

use cutover::control::client::Client;
use cutover::control::protocol::{ClientMessage, ServerMessage};
use cutover::control::{Action, Caller, Role, attach, socket};
use cutover::engine::{ConnectionState, Handle, Reply};
use cutover::plan::Plan;
use cutover::tui::{Theme, TuiOptions};
use tokio::sync::{mpsc, oneshot, watch};

use super::{Exit, TuiFlags, load_plan_for_control, state_dir_for};

/// The role to show: the plan's, lowered by `--role`, never raised.
fn effective_role(plan_role: Role, asked: Option<&str>) -> Result<Role, String> {
    let Some(asked) = asked else {
        return Ok(plan_role);
    };
    let wanted = match asked {
        "viewer" => Role::Viewer,
        "operator" => Role::Operator,
        "lead" => Role::Lead,
        other => {
            return Err(format!(
                "unknown role {other:?}: use viewer, operator or lead"
            ));
        }
    };
    Ok(wanted.min(plan_role))
}

fn options(plan_name: &str, flags: &TuiFlags, caller: &Caller) -> Result<TuiOptions, String> {
    let role = effective_role(caller.role, flags.role.as_deref())?;
    let theme_name = flags.theme.clone().unwrap_or_else(|| "default".into());
    let theme = Theme::load(&theme_name).map_err(|e| e.to_string())?;
    Ok(TuiOptions {
        user: caller.user.clone(),
        role,
        read_only: flags.read_only || flags.kiosk,
        kiosk: flags.kiosk,
        ascii: flags.ascii,
        fps: flags.fps.clamp(1, 30),
        theme,
        plan_name: plan_name.to_owned(),
    })
}

/// The war room over an engine in this process. Commands carry this
/// process's user; a lowered `--role` is applied here, before the engine's
/// own check.
pub async fn embedded(handle: Handle, plan: &Plan, flags: TuiFlags) -> anyhow::Result<Exit> {
    let mut caller = Caller::current(&plan.roles);
    let opts = match options(&plan.name, &flags, &caller) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cutover: {e}");
            return Ok(Exit::Internal);
        }
    };
    caller.role = if opts.read_only {
        Role::Viewer
    } else {
        opts.role
    };
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<(Action, oneshot::Sender<Reply>)>(16);
    let engine = handle.clone();
    tokio::spawn(async move {
        while let Some((action, reply)) = cmd_rx.recv().await {
            let answer = engine.send(caller.clone(), action).await;
            let _ = reply.send(answer);
        }
    });
    let (_state_tx, state_rx) = watch::channel(ConnectionState::Embedded);
    cutover::tui::run(opts, handle.snapshots.clone(), state_rx, cmd_tx).await?;
    Ok(Exit::Ok)
}

/// `cutover attach PLAN`: the same war room fed by a running engine's socket.
/// With `--socket` the plan file is not read at all (it may not be readable
/// by an on-call engineer's account): the engine says who the caller is.
pub async fn remote(
    plan_path: &Path,
    state_dir: &Path,
    socket_path: Option<&Path>,
    flags: TuiFlags,
) -> anyhow::Result<Exit> {
    let (path, plan) = if let Some(p) = socket_path {
        (p.to_path_buf(), None)
    } else {
        let plan = match load_plan_for_control(plan_path) {
            Ok(p) => p,
            Err(exit) => return Ok(exit),
        };
        let journal = cutover::journal_path(&state_dir_for(&plan, state_dir), &plan.name);
        (socket::socket_path(&journal), Some(plan))
    };
    // The role shown is the engine's view of this uid; the engine decides
    // again for every command.
    let caller = if let Some(c) = whoami(&path).await {
        c
    } else {
        let roles = plan.as_ref().map(|p| p.roles.clone()).unwrap_or_default();
        Caller::current(&roles)
    };
    let plan_name = plan
        .as_ref()
        .map_or_else(|| "(attached)".to_owned(), |p| p.name.clone());
    let opts = match options(&plan_name, &flags, &caller) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cutover: {e}");
            return Ok(Exit::Internal);
        }
    };
    let (snap_tx, snap_rx) = watch::channel(None);
    let (state_tx, state_rx) = watch::channel(ConnectionState::Reconnecting {
        next_try_secs: 0,
        attempt: 0,
    });
    let (cmd_tx, cmd_rx) = mpsc::channel(16);
    let link = tokio::spawn(attach::link(path, snap_tx, state_tx, cmd_rx));
    let result = cutover::tui::run(opts, snap_rx, state_rx, cmd_tx).await;
    link.abort();
    result?;
    Ok(Exit::Ok)
}

/// Asks the engine who this process is, if an engine is listening.
async fn whoami(path: &Path) -> Option<Caller> {
    let mut client = Client::connect(path).await.ok()?;
    match client.ask(&ClientMessage::Whoami).await.ok()? {
        ServerMessage::Whoami { caller } => Some(caller),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_flag_lowers_never_raises() {
        assert_eq!(effective_role(Role::Lead, Some("viewer")), Ok(Role::Viewer));
        assert_eq!(effective_role(Role::Viewer, Some("lead")), Ok(Role::Viewer));
        assert_eq!(effective_role(Role::Operator, None), Ok(Role::Operator));
        assert!(effective_role(Role::Lead, Some("admin")).is_err());
    }
}
