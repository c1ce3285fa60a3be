//! The war room: a ratatui dashboard over the engine's snapshots.
//!
//! Rendering is one pure function, [`render_frame`], of a snapshot, the view
//! state and the options; the live loop in [`run`] only feeds it and sends
//! the commands that keys produce. Keys are data: dispatch, footer hints and
//! help all read [`crate::control::ACTIONS`], filtered by role and mode.

pub mod app;
pub mod dialog;
pub mod dns;
pub mod errors;
pub mod events;
pub mod figures;
pub mod fixture;
pub mod footer;
pub mod format;
pub mod glyphs;
pub mod header;
pub mod help;
pub mod keys;
pub mod latency;
mod layout;
mod live;
pub mod mailboxes;
pub mod outputs;
pub mod phase;
mod prompt;
pub mod runbook;
pub mod screen;
mod text;
pub mod theme;
pub mod view;
pub mod waves;

use chrono::{DateTime, Utc};

pub use app::{App, Effect};
pub use fixture::demo_snapshot;
pub use layout::{MIN_HEIGHT, MIN_WIDTH, render_frame};
pub use live::{Command, run};
pub use screen::Screen;
pub use theme::Theme;
pub use view::ViewState;

use crate::control::{ActionSpec, Role, allowed};
use crate::engine::ConnectionState;

/// How the war room was asked to run.
#[derive(Debug, Clone)]
pub struct TuiOptions {
    /// The Unix user at this terminal.
    pub user: String,
    /// The role the plan gives the user, possibly lowered by `--role`.
    pub role: Role,
    /// Offer and send no action at all.
    pub read_only: bool,
    /// Wall screen: read-only, ignores every key but Ctrl-C, larger figures.
    pub kiosk: bool,
    /// No box-drawing, block or other non-ASCII characters.
    pub ascii: bool,
    /// The most frames a second; nothing is drawn when nothing changed.
    pub fps: u32,
    pub theme: Theme,
    pub plan_name: String,
}

/// Frames a second unless asked otherwise: enough for a war room, cheap
/// over SSH.
pub const DEFAULT_FPS: u32 = 4;

impl TuiOptions {
    /// Options with the defaults: not read-only, not kiosk, Unicode, 4 fps,
    /// the default theme.
    #[must_use]
    pub fn new(user: String, role: Role, plan_name: String) -> Self {
        TuiOptions {
            user,
            role,
            read_only: false,
            kiosk: false,
            ascii: false,
            fps: DEFAULT_FPS,
            theme: Theme::default(),
            plan_name,
        }
    }

    /// What this session may do.
    #[must_use]
    pub fn access(&self) -> Access {
        Access {
            role: self.role,
            read_only: self.read_only || self.kiosk,
            kiosk: self.kiosk,
        }
    }
}

/// Who is at the keyboard and what the mode allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub role: Role,
    /// No action is offered or sent (always set in kiosk mode).
    pub read_only: bool,
    /// Every key but Ctrl-C is ignored.
    pub kiosk: bool,
}

impl Access {
    /// Whether the action is offered: the role allows it and the mode
    /// allows actions at all. The engine checks the role again.
    #[must_use]
    pub fn offers(self, spec: &ActionSpec) -> bool {
        !self.read_only && !self.kiosk && allowed(spec.kind, self.role).is_ok()
    }
}

/// What a frame shows besides the snapshot and the view.
#[derive(Debug, Clone, Copy)]
pub struct Chrome<'a> {
    pub opts: &'a TuiOptions,
    pub connection: &'a ConnectionState,
    pub now: DateTime<Utc>,
}
