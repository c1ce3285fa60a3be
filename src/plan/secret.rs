//! Passwords: read from the environment or from a private file, never from the
//! plan itself, and never printed.

use std::collections::HashMap;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A password held in memory. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The password itself, for the one place that sends it to a server.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Reads a password from an environment variable.
pub fn from_env(var: &str) -> Result<Secret, String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(Secret(value)),
        Ok(_) => Err(format!("environment variable {var} is empty")),
        Err(_) => Err(format!("environment variable {var} is not set")),
    }
}

/// Reads a private file, refusing it when group or others may read it.
pub fn read_private_file(path: &Path) -> Result<String, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} is readable by group or others (mode {:o}); run chmod 600 on it",
            path.display(),
            mode & 0o777
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Reads a password file: its first line is the password.
pub fn from_file(path: &Path) -> Result<Secret, String> {
    let text = read_private_file(path)?;
    let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if first.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(Secret(first.to_owned()))
}

/// Reads a file of `login password` lines (whitespace separated; `#` comments).
pub fn passwords_file(path: &Path) -> Result<HashMap<String, Secret>, String> {
    let text = read_private_file(path)?;
    let mut out = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((login, password)) = line.split_once(char::is_whitespace) else {
            return Err(format!(
                "{}:{}: expected `login password`",
                path.display(),
                n + 1
            ));
        };
        out.insert(login.to_owned(), Secret(password.trim().to_owned()));
    }
    Ok(out)
}
