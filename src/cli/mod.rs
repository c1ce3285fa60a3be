//! Command line: every flag also readable from a `CUTOVER_*` variable.

mod attach;
mod check;
mod ctl;
mod exit;
mod handoff;
mod logging;
mod manifest;
mod outputs;
mod rollback;
mod run;
mod sync;

/// War room flags shared by `run` and `attach`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TuiFlags {
    /// Lower your role for this session (never raises it): viewer, operator, lead.
    #[arg(long, env = "CUTOVER_ROLE")]
    pub role: Option<String>,
    /// Hide every action: a screen to watch, not to steer.
    #[arg(long, env = "CUTOVER_READ_ONLY")]
    pub read_only: bool,
    /// Wall-screen mode: read-only, ignores keys, large figures.
    #[arg(long, env = "CUTOVER_KIOSK")]
    pub kiosk: bool,
    /// ASCII only: no box drawing, no braille, no Unicode glyphs.
    #[arg(long, env = "CUTOVER_ASCII")]
    pub ascii: bool,
    /// Most frames per second sent to the terminal.
    #[arg(long, env = "CUTOVER_FPS", default_value_t = 4)]
    pub fps: u32,
    /// Theme name (default, light, high-contrast, colour-blind-safe, monochrome) or a TOML file.
    #[arg(long, env = "CUTOVER_THEME")]
    pub theme: Option<String>,
}

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use exit::Exit;

/// Moves mailboxes between IMAP servers in waves and proves every message arrived.
#[derive(Debug, Parser)]
#[command(name = "cutover", version, about)]
pub struct Args {
    /// Folder for journals and logs (default: $`XDG_STATE_HOME/cutover`).
    #[arg(long, global = true, env = "CUTOVER_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Log file (default: <state dir>/cutover.log). Logs never go to the screen.
    #[arg(long, global = true, env = "CUTOVER_LOG_FILE")]
    pub log_file: Option<PathBuf>,
    /// Log filter, e.g. `info` or `cutover=debug`.
    #[arg(long, global = true, env = "CUTOVER_LOG", default_value = "info")]
    pub log_level: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a plan; with --connect, also log in to every mailbox.
    Check {
        plan: PathBuf,
        /// Log in to both sides of every mailbox and count folders and messages.
        #[arg(long, env = "CUTOVER_CONNECT")]
        connect: bool,
        /// Print the per-mailbox report as JSON.
        #[arg(long, env = "CUTOVER_JSON")]
        json: bool,
    },
    /// Copy (pre-sync, or delta sync after one), then validate checksums.
    Sync {
        plan: PathBuf,
        /// Only the mailboxes of this wave.
        #[arg(long, env = "CUTOVER_WAVE")]
        wave: Option<String>,
        /// Only this mailbox (source login); may be repeated.
        #[arg(long, env = "CUTOVER_MAILBOX", value_delimiter = ',')]
        mailbox: Vec<String>,
        /// JSON Lines events on standard output instead of progress bars.
        #[arg(long, env = "CUTOVER_JSON")]
        json: bool,
        /// Copy without the validation pass.
        #[arg(long, env = "CUTOVER_NO_VERIFY")]
        no_verify: bool,
    },
    /// Validate checksums only: read both sides back, copy nothing.
    Verify {
        plan: PathBuf,
        #[arg(long, env = "CUTOVER_MAILBOX", value_delimiter = ',')]
        mailbox: Vec<String>,
        #[arg(long, env = "CUTOVER_JSON")]
        json: bool,
    },
    /// Run the waves: the war room on a terminal, headless otherwise.
    Run {
        plan: PathBuf,
        /// No war room: print wave transitions (automatic when not a terminal).
        #[arg(long, env = "CUTOVER_HEADLESS")]
        headless: bool,
        /// Headless output as JSON Lines.
        #[arg(long, env = "CUTOVER_JSON")]
        json: bool,
        #[command(flatten)]
        tui: TuiFlags,
    },
    /// Talk to the running engine: status, halt, resume, extend, pause, skip, retry, rollback.
    Ctl {
        plan: PathBuf,
        /// The engine's socket (default: beside the plan's journal).
        #[arg(long, env = "CUTOVER_SOCKET")]
        socket: Option<PathBuf>,
        #[command(subcommand)]
        command: ctl::CtlCommand,
    },
    /// Open the war room of an engine running in another session.
    Attach {
        plan: PathBuf,
        /// The engine's socket (default: beside the plan's journal).
        #[arg(long, env = "CUTOVER_SOCKET")]
        socket: Option<PathBuf>,
        #[command(flatten)]
        tui: TuiFlags,
    },
    /// Roll a cut-over wave back (through the running engine if there is one).
    Rollback { plan: PathBuf, wave: String },
    /// Write the helpdesk hand-off (CSV and Markdown) for a wave.
    Handoff {
        plan: PathBuf,
        wave: String,
        /// Folder for the files (default: <state dir>/handoff).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Serve the public status page's directory read-only over HTTP.
    StatusPage {
        plan: PathBuf,
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long, env = "CUTOVER_SERVE", default_value = "127.0.0.1:8080")]
        serve: std::net::SocketAddr,
    },
    /// Print the stored manifest(s) as JSON.
    Manifest {
        plan: PathBuf,
        /// One mailbox (source login); all when omitted.
        mailbox: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// Parses arguments, runs the command, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(exit) => exit.code(),
        Err(e) => {
            eprintln!("cutover: {e:#}");
            Exit::Internal.code()
        }
    }
}

fn run(args: Args) -> anyhow::Result<Exit> {
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(cutover::default_state_dir);
    logging::init(&state_dir, args.log_file.as_deref(), &args.log_level)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.command {
        Command::Check {
            plan,
            connect,
            json,
        } => runtime.block_on(check::run(&plan, connect, json, &state_dir)),
        Command::Sync {
            plan,
            wave,
            mailbox,
            json,
            no_verify,
        } => {
            let opts = sync::Options {
                wave,
                mailboxes: mailbox,
                json,
                copy: true,
                verify: !no_verify,
            };
            runtime.block_on(sync::run(&plan, &state_dir, opts))
        }
        Command::Verify {
            plan,
            mailbox,
            json,
        } => {
            let opts = sync::Options {
                wave: None,
                mailboxes: mailbox,
                json,
                copy: false,
                verify: true,
            };
            runtime.block_on(sync::run(&plan, &state_dir, opts))
        }
        Command::Run {
            plan,
            headless,
            json,
            tui,
        } => {
            let view = run::RunView {
                headless,
                json,
                tui,
            };
            runtime.block_on(run::run(&plan, &state_dir, view))
        }
        Command::Ctl {
            plan,
            socket,
            command,
        } => runtime.block_on(ctl::run(&plan, &state_dir, socket.as_deref(), command)),
        Command::Attach { plan, socket, tui } => {
            runtime.block_on(attach::remote(&plan, &state_dir, socket.as_deref(), tui))
        }
        Command::Rollback { plan, wave } => {
            runtime.block_on(rollback::run(&plan, &state_dir, &wave))
        }
        Command::Handoff { plan, wave, out } => {
            handoff::run(&plan, &state_dir, &wave, out.as_deref())
        }
        Command::StatusPage { plan, serve } => runtime.block_on(status_page(&plan, serve)),
        Command::Manifest {
            plan,
            mailbox,
            output,
        } => manifest::run(&plan, &state_dir, mailbox.as_deref(), output.as_deref()),
    }
}

/// Loads a plan, printing every problem and returning the plan exit code on failure.
pub fn load_plan(path: &std::path::Path) -> Result<cutover::plan::Plan, Exit> {
    report_plan(path, cutover::plan::load(path))
}

/// Loads a plan without its secrets, for commands that never log in.
pub fn load_plan_for_control(path: &std::path::Path) -> Result<cutover::plan::Plan, Exit> {
    report_plan(path, cutover::plan::load_without_secrets(path))
}

fn report_plan(
    path: &std::path::Path,
    loaded: Result<cutover::plan::Plan, cutover::plan::PlanError>,
) -> Result<cutover::plan::Plan, Exit> {
    match loaded {
        Ok(plan) => Ok(plan),
        Err(cutover::plan::PlanError::Invalid(found)) => {
            for d in &found {
                eprintln!("{d}");
            }
            eprintln!("{} problem(s) in {}", found.len(), path.display());
            Err(Exit::Plan)
        }
        Err(e) => {
            eprintln!("cutover: {e}");
            Err(Exit::Plan)
        }
    }
}

/// The state directory the plan asks for, else the one given on the command line.
pub fn state_dir_for(plan: &cutover::plan::Plan, cli: &std::path::Path) -> PathBuf {
    if std::env::var_os("CUTOVER_STATE_DIR").is_some() {
        return cli.to_path_buf();
    }
    plan.state_dir.clone().unwrap_or_else(|| cli.to_path_buf())
}

/// `cutover status-page PLAN --serve ADDR`: a quick look at the page the
/// engine writes; any web server can serve the same directory.
async fn status_page(path: &std::path::Path, addr: std::net::SocketAddr) -> anyhow::Result<Exit> {
    let plan = match load_plan_for_control(path) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let Some(page) = plan.telemetry.as_ref().and_then(|t| t.status_page.as_ref()) else {
        eprintln!("cutover: the plan has no [telemetry.status-page] table");
        return Ok(Exit::Plan);
    };
    let dir = page.resolved_dir(plan.path.parent().unwrap_or(std::path::Path::new(".")));
    println!("serving {} on http://{addr}/", dir.display());
    cutover::telemetry::status_page::serve(dir, addr).await?;
    Ok(Exit::Ok)
}
