//! Who is asking: a Unix uid turned into a user name and a plan role.
//! The uid comes from the kernel (the socket's peer credentials, or the
//! process's own uid for the embedded war room), never from the client.

use serde::{Deserialize, Serialize};

use super::actions::Role;
use crate::plan::Roles;

/// A caller as the engine sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    pub uid: u32,
    pub user: String,
    pub role: Role,
}

impl Caller {
    /// Resolves a uid against the plan's roles; unknown users are viewers.
    #[must_use]
    pub fn from_uid(uid: u32, roles: &Roles) -> Self {
        let user = user_name(uid).unwrap_or_else(|| format!("uid{uid}"));
        let role = role_of(&user, roles);
        Self { uid, user, role }
    }

    /// The user running this process.
    #[must_use]
    pub fn current(roles: &Roles) -> Self {
        Self::from_uid(current_uid(), roles)
    }
}

/// The uid of this process.
#[must_use]
pub fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// The highest role the plan gives a user name.
#[must_use]
pub fn role_of(user: &str, roles: &Roles) -> Role {
    let has = |list: &[String]| list.iter().any(|u| u == user);
    if has(&roles.lead) {
        Role::Lead
    } else if has(&roles.operator) {
        Role::Operator
    } else {
        Role::Viewer
    }
}

/// Looks a uid up in the user database.
#[must_use]
pub fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0u8; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: buffers are valid for the lengths given; result is checked before use.
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &raw mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &raw mut result,
        )
    };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name points into `buf`, NUL-terminated by getpwuid_r.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    Some(name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_from_the_plan() {
        let roles = Roles {
            lead: vec!["alice".into()],
            operator: vec!["bob".into()],
            viewer: vec!["wall".into()],
        };
        assert_eq!(role_of("alice", &roles), Role::Lead);
        assert_eq!(role_of("bob", &roles), Role::Operator);
        assert_eq!(role_of("wall", &roles), Role::Viewer);
        assert_eq!(role_of("mallory", &roles), Role::Viewer);
    }

    #[test]
    fn root_has_a_name() {
        assert_eq!(user_name(0).as_deref(), Some("root"));
    }
}
