//! The live loop: terminal setup and teardown, and one `select!` over key
//! presses, snapshots, the connection state, the engine's replies and a
//! frame tick. It only reads the engine's channels and never waits on the
//! engine: commands are queued without blocking and their replies arrive
//! as they come.

use std::io::{self, Stdout};
use std::panic::{self, PanicHookInfo};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{Event, EventStream, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{
    EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode,
    enable_raw_mode,
};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::MissedTickBehavior;

use super::TuiOptions;
use super::app::{App, Effect};
use super::screen::Screen;
use super::theme::{Theme, no_color};
use super::view::Tone;
use crate::control::{Action, spec};
use crate::engine::{ConnectionState, Reply, Snapshot};

/// A command on its way to the engine, with where its answer goes.
pub type Command = (Action, oneshot::Sender<Reply>);

type PendingReply = BoxFuture<'static, (&'static str, Reply)>;

/// Runs the war room until the user quits or the terminal closes.
///
/// # Errors
/// The terminal could not be set up, read or written.
pub async fn run(
    mut opts: TuiOptions,
    mut snapshots: watch::Receiver<Option<Snapshot>>,
    mut connection: watch::Receiver<ConnectionState>,
    commands: mpsc::Sender<Command>,
) -> io::Result<()> {
    if no_color() {
        opts.theme = Theme::monochrome();
    }
    RELEASED_BY_PANIC.store(false, Ordering::SeqCst);
    let _terminal = TerminalGuard::enter()?;
    let mut screen = Screen::fullscreen(io::stdout())?;
    let mut app = App::new(opts.access());
    app.observe(snapshots.borrow_and_update().clone());
    let mut link = connection.borrow_and_update().clone();

    let frame_time = Duration::from_secs_f64(1.0 / f64::from(opts.fps.clamp(1, 60)));
    let mut tick = tokio::time::interval(frame_time);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut keys = EventStream::new();
    let mut replies: FuturesUnordered<PendingReply> = FuturesUnordered::new();
    let (mut snapshots_open, mut connection_open) = (true, true);
    let mut last_draw: Option<Instant> = None;

    loop {
        let mut draw_now = false;
        tokio::select! {
            _ = tick.tick() => draw_now = true,
            event = keys.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => {
                    match app.on_key(key) {
                        Some(Effect::Quit) => return Ok(()),
                        Some(Effect::Send(action)) => send(&mut app, &commands, &replies, action),
                        None => {}
                    }
                    draw_now = last_draw.is_none_or(|at| at.elapsed() >= frame_time);
                }
                Some(Ok(Event::Resize(..))) => draw_now = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
            changed = snapshots.changed(), if snapshots_open => {
                if changed.is_ok() {
                    app.observe(snapshots.borrow_and_update().clone());
                } else {
                    snapshots_open = false;
                }
            }
            changed = connection.changed(), if connection_open => {
                if changed.is_ok() {
                    link = connection.borrow_and_update().clone();
                } else {
                    connection_open = false;
                    link = ConnectionState::Gone { reason: "the engine closed the connection".into() };
                }
            }
            Some((name, reply)) = replies.next(), if !replies.is_empty() => {
                app.on_reply(name, &reply);
                draw_now = last_draw.is_none_or(|at| at.elapsed() >= frame_time);
            }
        }
        if TerminalGuard::reclaim_after_panic(&mut screen)? {
            draw_now = true;
        }
        if draw_now {
            screen.draw(app.snapshot.as_ref(), &app.view, &opts, &link, Utc::now())?;
            last_draw = Some(Instant::now());
            // The next tick comes a whole frame after this draw, so a key
            // drawn at once never makes two frames inside one frame time.
            tick.reset();
        }
    }
}

/// Queues a command without waiting; a full queue or a stopped engine is
/// reported in the status line instead of stalling the screen.
fn send(
    app: &mut App,
    commands: &mpsc::Sender<Command>,
    replies: &FuturesUnordered<PendingReply>,
    action: Action,
) {
    let name = spec(action.kind()).name;
    let (tx, rx) = oneshot::channel();
    match commands.try_send((action, tx)) {
        Ok(()) => replies.push(Box::pin(async move {
            let reply = rx
                .await
                .unwrap_or_else(|_| Reply::refused("the engine stopped before answering"));
            (name, reply)
        })),
        Err(TrySendError::Full(_)) => {
            app.view.say(
                Tone::Bad,
                format!("{name} not sent: the engine is busy; try again"),
            );
        }
        Err(TrySendError::Closed(_)) => {
            app.view.say(
                Tone::Bad,
                format!("{name} not sent: the engine has stopped"),
            );
        }
    }
}

type PanicHook = Arc<dyn Fn(&PanicHookInfo<'_>) + Send + Sync + 'static>;

/// Raw mode and the alternate screen for as long as it lives; a panic
/// hook puts the terminal back before the panic message is printed, so a
/// crash never leaves a shell unusable.
struct TerminalGuard {
    previous_hook: PanicHook,
}

impl TerminalGuard {
    fn enter() -> io::Result<Self> {
        let previous_hook: PanicHook = Arc::from(panic::take_hook());
        let chained = Arc::clone(&previous_hook);
        panic::set_hook(Box::new(move |info| {
            restore(&mut io::stdout());
            RELEASED_BY_PANIC.store(true, Ordering::SeqCst);
            chained(info);
        }));
        let guard = TerminalGuard { previous_hook };
        TerminalGuard::claim()?;
        Ok(guard)
    }

    fn claim() -> io::Result<()> {
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen, crossterm::cursor::Hide)
    }

    /// Takes the terminal back after a panic elsewhere in the process
    /// (an engine task that tokio caught) made the hook hand it back; the
    /// panic message stays readable on the main screen.
    fn reclaim_after_panic(screen: &mut Screen<Stdout>) -> io::Result<bool> {
        if !RELEASED_BY_PANIC.swap(false, Ordering::SeqCst) {
            return Ok(false);
        }
        TerminalGuard::claim()?;
        screen.redraw_all()?;
        Ok(true)
    }
}

/// Set by the panic hook when it restored the terminal.
static RELEASED_BY_PANIC: AtomicBool = AtomicBool::new(false);

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore(&mut io::stdout());
        if std::thread::panicking() {
            return;
        }
        let previous = Arc::clone(&self.previous_hook);
        let _ours = panic::take_hook();
        panic::set_hook(Box::new(move |info| previous(info)));
    }
}

fn restore(out: &mut Stdout) {
    // Nothing useful can be done if the terminal refuses; keep restoring.
    let _ = disable_raw_mode();
    let _ = execute!(
        out,
        EndSynchronizedUpdate,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}
