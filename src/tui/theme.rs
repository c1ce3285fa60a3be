//! Themes: named styles read from TOML files in `themes/`.
//!
//! The five themes that ship are compiled into the binary, so the war room
//! looks the same on a jump host without the source tree. A theme only
//! chooses colours and emphasis; what a status means is always carried by a
//! word or a glyph as well (see `glyphs`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Block;
use serde::Deserialize;

use super::glyphs::Glyphs;

/// Why a theme could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("no theme named {name:?}; built in: {}", Theme::BUILTIN.join(", "))]
    Unknown { name: String },
    #[error("cannot read theme {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("theme {origin}: {message}")]
    Parse { origin: String, message: String },
}

/// How the war room looks: one style per role a piece of text plays, and
/// the glyph set (Unicode or ASCII).
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub text: Style,
    pub muted: Style,
    pub title: Style,
    pub heading: Style,
    pub border: Style,
    pub border_focus: Style,
    pub ok: Style,
    pub warn: Style,
    pub bad: Style,
    pub info: Style,
    pub selected: Style,
    pub badge: Style,
    pub stale: Style,
    pub gauge: Style,
    pub gauge_empty: Style,
    pub threshold: Style,
    pub glyphs: &'static Glyphs,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    styles: StylesFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct StylesFile {
    text: StyleSpec,
    muted: StyleSpec,
    title: StyleSpec,
    heading: StyleSpec,
    border: StyleSpec,
    border_focus: StyleSpec,
    ok: StyleSpec,
    warn: StyleSpec,
    bad: StyleSpec,
    info: StyleSpec,
    selected: StyleSpec,
    badge: StyleSpec,
    stale: StyleSpec,
    gauge: StyleSpec,
    gauge_empty: StyleSpec,
    threshold: StyleSpec,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

const BUILTIN_FILES: [(&str, &str); 5] = [
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    (
        "colour-blind-safe",
        include_str!("../../themes/colour-blind-safe.toml"),
    ),
    ("monochrome", include_str!("../../themes/monochrome.toml")),
];

impl Theme {
    /// The names of the themes compiled into the binary.
    pub const BUILTIN: [&'static str; 5] = [
        "default",
        "light",
        "high-contrast",
        "colour-blind-safe",
        "monochrome",
    ];

    /// A built-in theme by name (`color-blind-safe` is accepted too).
    #[must_use]
    pub fn builtin(name: &str) -> Option<Theme> {
        let name = if name == "color-blind-safe" {
            "colour-blind-safe"
        } else {
            name
        };
        let (_, source) = BUILTIN_FILES.iter().find(|(n, _)| *n == name)?;
        Theme::parse(source, name).ok()
    }

    /// A built-in theme by name, or else a TOML file by path.
    ///
    /// # Errors
    /// Neither a built-in name nor a readable, valid theme file.
    pub fn load(name_or_path: &str) -> Result<Theme, ThemeError> {
        if let Some(theme) = Theme::builtin(name_or_path) {
            return Ok(theme);
        }
        let path = Path::new(name_or_path);
        let looks_like_path = name_or_path.contains(std::path::MAIN_SEPARATOR)
            || path.extension().is_some_and(|e| e == "toml");
        if !looks_like_path && !path.exists() {
            return Err(ThemeError::Unknown {
                name: name_or_path.to_string(),
            });
        }
        let source = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Theme::parse(&source, &path.display().to_string())
    }

    /// The theme to use on this terminal: `NO_COLOR` (set and not empty)
    /// wins over any choice, as <https://no-color.org> asks.
    ///
    /// # Errors
    /// As [`Theme::load`].
    pub fn for_terminal(name_or_path: &str) -> Result<Theme, ThemeError> {
        if no_color() {
            return Ok(Theme::monochrome());
        }
        Theme::load(name_or_path)
    }

    /// Parses a theme file's text; `origin` names it in errors.
    ///
    /// # Errors
    /// The TOML is invalid, has unknown keys, or names an unknown colour or
    /// modifier.
    pub fn parse(source: &str, origin: &str) -> Result<Theme, ThemeError> {
        let parse_error = |message: String| ThemeError::Parse {
            origin: origin.to_string(),
            message,
        };
        let file: ThemeFile = toml::from_str(source).map_err(|e| parse_error(e.to_string()))?;
        let s = &file.styles;
        let style = |slot: &str, spec: &StyleSpec| spec.to_style(slot).map_err(parse_error);
        Ok(Theme {
            name: file.name,
            text: style("text", &s.text)?,
            muted: style("muted", &s.muted)?,
            title: style("title", &s.title)?,
            heading: style("heading", &s.heading)?,
            border: style("border", &s.border)?,
            border_focus: style("border-focus", &s.border_focus)?,
            ok: style("ok", &s.ok)?,
            warn: style("warn", &s.warn)?,
            bad: style("bad", &s.bad)?,
            info: style("info", &s.info)?,
            selected: style("selected", &s.selected)?,
            badge: style("badge", &s.badge)?,
            stale: style("stale", &s.stale)?,
            gauge: style("gauge", &s.gauge)?,
            gauge_empty: style("gauge-empty", &s.gauge_empty)?,
            threshold: style("threshold", &s.threshold)?,
            glyphs: Glyphs::for_mode(false),
        })
    }

    /// No colour at all: emphasis only (bold, reversed, underlined).
    pub fn monochrome() -> Theme {
        Theme::builtin("monochrome").unwrap_or_else(Theme::plain)
    }

    /// This theme with the ASCII or the Unicode glyph set.
    #[must_use]
    pub fn with_ascii(mut self, ascii: bool) -> Theme {
        self.glyphs = Glyphs::for_mode(ascii);
        self
    }

    /// The same theme with the glyph set `ascii` asks for, borrowed when
    /// it already has it.
    #[must_use]
    pub fn for_glyphs(&self, ascii: bool) -> Cow<'_, Theme> {
        if self.glyphs.ascii == ascii {
            Cow::Borrowed(self)
        } else {
            Cow::Owned(self.clone().with_ascii(ascii))
        }
    }

    /// A panel's frame: the glyph set's border, brighter when focused.
    pub fn block<'a>(&self, title: impl Into<Line<'a>>, focused: bool) -> Block<'a> {
        let (border, title_style) = if focused {
            (self.border_focus, self.title)
        } else {
            (self.border, self.heading)
        };
        Block::bordered()
            .border_set(self.glyphs.border)
            .border_style(border)
            .title(title.into().style(title_style))
    }

    fn plain() -> Theme {
        let none = Style::new();
        let strong = Style::new().add_modifier(Modifier::BOLD);
        let inverse = Style::new().add_modifier(Modifier::REVERSED);
        Theme {
            name: "plain".into(),
            text: none,
            muted: none,
            title: strong,
            heading: strong,
            border: none,
            border_focus: strong,
            ok: none,
            warn: strong,
            bad: strong,
            info: none,
            selected: inverse,
            badge: inverse,
            stale: inverse,
            gauge: none,
            gauge_empty: none,
            threshold: strong,
            glyphs: Glyphs::for_mode(false),
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::builtin("default").unwrap_or_else(Theme::plain)
    }
}

/// Whether the `NO_COLOR` convention asks for no colour.
#[must_use]
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl StyleSpec {
    fn to_style(&self, slot: &str) -> Result<Style, String> {
        let colour = |value: &String| {
            value
                .parse::<Color>()
                .map_err(|_| format!("styles.{slot}: unknown colour {value:?}"))
        };
        let mut style = Style::new();
        if let Some(fg) = &self.fg {
            style = style.fg(colour(fg)?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(colour(bg)?);
        }
        for name in &self.modifiers {
            let modifier = match name.as_str() {
                "bold" => Modifier::BOLD,
                "dim" => Modifier::DIM,
                "italic" => Modifier::ITALIC,
                "underlined" => Modifier::UNDERLINED,
                "reversed" => Modifier::REVERSED,
                "crossed-out" => Modifier::CROSSED_OUT,
                other => return Err(format!("styles.{slot}: unknown modifier {other:?}")),
            };
            style = style.add_modifier(modifier);
        }
        Ok(style)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses() {
        for (name, source) in BUILTIN_FILES {
            let theme = Theme::parse(source, name).unwrap();
            assert_eq!(theme.name, name);
        }
        assert!(Theme::builtin("color-blind-safe").is_some());
    }

    #[test]
    fn monochrome_has_no_colour() {
        let theme = Theme::monochrome();
        let styles = [
            theme.text,
            theme.muted,
            theme.title,
            theme.heading,
            theme.border,
            theme.border_focus,
            theme.ok,
            theme.warn,
            theme.bad,
            theme.info,
            theme.selected,
            theme.badge,
            theme.stale,
            theme.gauge,
            theme.gauge_empty,
            theme.threshold,
        ];
        for style in styles {
            assert!(style.fg.is_none_or(|c| c == Color::Reset), "{style:?}");
            assert!(style.bg.is_none_or(|c| c == Color::Reset), "{style:?}");
        }
    }

    #[test]
    fn colour_blind_safe_uses_no_red_or_green() {
        let theme = Theme::builtin("colour-blind-safe").unwrap();
        let reds_and_greens = [Color::Red, Color::LightRed, Color::Green, Color::LightGreen];
        for style in [theme.ok, theme.warn, theme.bad, theme.gauge] {
            assert!(
                !style.fg.is_some_and(|c| reds_and_greens.contains(&c)),
                "{style:?}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_colours_are_refused() {
        let unknown_key = "name = \"x\"\n[styles]\nsparkle = { fg = \"red\" }\n";
        assert!(Theme::parse(unknown_key, "t").is_err());
        let unknown_colour = "name = \"x\"\n[styles]\nok = { fg = \"chartreuse-ish\" }\n";
        let err = Theme::parse(unknown_colour, "t").unwrap_err().to_string();
        assert!(err.contains("styles.ok"), "{err}");
    }

    #[test]
    fn unknown_names_list_the_builtins() {
        let err = Theme::load("solarized").unwrap_err().to_string();
        assert!(err.contains("high-contrast"), "{err}");
    }
}
