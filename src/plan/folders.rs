//! Folder rules: which source folders are left behind and what the others
//! are called on the destination.

use super::types::FolderRules;

/// Applies a plan's folder rules to source folder paths written with `/`.
#[derive(Debug, Clone)]
pub struct FolderMap {
    rules: FolderRules,
}

impl FolderMap {
    #[must_use]
    pub fn new(rules: FolderRules) -> Self {
        Self { rules }
    }

    /// Whether a folder (path with `/` between levels) stays behind.
    #[must_use]
    pub fn excluded(&self, path: &str) -> bool {
        self.rules.exclude.iter().any(|p| glob_match(p, path))
    }

    /// The destination path (with `/` between levels) for a source path.
    /// The longest matching rename wins; it applies to the folder and below.
    #[must_use]
    pub fn map(&self, path: &str) -> String {
        let best = self
            .rules
            .renames
            .iter()
            .filter(|r| path == r.from || path.starts_with(&format!("{}/", r.from)))
            .max_by_key(|r| r.from.len());
        match best {
            Some(rule) => format!("{}{}", rule.to, &path[rule.from.len()..]),
            None => path.to_owned(),
        }
    }
}

/// Matches `*` (any run of characters, `/` included) and `?` (one character).
#[must_use]
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::FolderRename;

    #[test]
    fn globs() {
        for (pattern, text, expected) in [
            ("Trash", "Trash", true),
            ("Junk*", "Junk E-mail", true),
            ("Archive/*", "Archive/2019", true),
            ("Archive/*", "Archive", false),
            ("?ent", "Sent", true),
            ("*", "", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
        ] {
            assert_eq!(glob_match(pattern, text), expected, "{pattern} vs {text}");
        }
    }

    #[test]
    fn renames_apply_below_and_longest_wins() {
        let map = FolderMap::new(FolderRules {
            exclude: vec!["Junk*".into()],
            renames: vec![
                FolderRename {
                    from: "Sent Items".into(),
                    to: "Sent".into(),
                },
                FolderRename {
                    from: "Old".into(),
                    to: "Archive/Old".into(),
                },
                FolderRename {
                    from: "Old/Keep".into(),
                    to: "Keep".into(),
                },
            ],
        });
        assert_eq!(map.map("Sent Items"), "Sent");
        assert_eq!(map.map("Sent Items/2020"), "Sent/2020");
        assert_eq!(map.map("Old/x"), "Archive/Old/x");
        assert_eq!(map.map("Old/Keep/y"), "Keep/y");
        assert_eq!(map.map("Older"), "Older");
        assert!(map.excluded("Junk"));
        assert!(!map.excluded("INBOX"));
    }
}
