//! Operator control: the action table, callers and their roles, and the
//! Unix socket through which other sessions watch and command the engine.

pub mod actions;
pub mod attach;
pub mod client;
pub mod delta;
pub mod identity;
pub mod lock;
pub mod protocol;
pub mod socket;

pub use actions::{ACTIONS, Action, ActionKind, ActionSpec, Role, allowed, spec};
pub use identity::{Caller, role_of, user_name};
