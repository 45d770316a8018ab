//! What is wrong with a configuration, and where: every error names the file, the line and the
//! key, so that the hall's IT person can fix it without reading code.

use std::fmt;

/// What is wrong with a configuration, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}: {}", self.file, line, self.key, self.message),
            None => write!(f, "{}: {}: {}", self.file, self.key, self.message),
        }
    }
}

/// Every problem found in one file.
#[derive(Debug, Clone)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects the problems of one file while its sections are checked, so that one run reports
/// all of them.
pub(crate) struct Problems<'a> {
    file: &'a str,
    text: &'a str,
    pub(crate) errors: Vec<ConfigError>,
}

impl<'a> Problems<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        Self {
            file,
            text,
            errors: Vec::new(),
        }
    }

    /// A problem with `key` (`windows[2].services[1]`), located in the file.
    pub(crate) fn at(&mut self, key: impl Into<String>, message: impl Into<String>) {
        let key = key.into();
        self.errors.push(ConfigError {
            file: self.file.to_owned(),
            line: locate(self.text, &key),
            key,
            message: message.into(),
        });
    }

    /// A problem found in another file (a calendar year).
    pub(crate) fn push(&mut self, error: ConfigError) {
        self.errors.push(error);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub(crate) fn into_errors(mut self) -> ConfigErrors {
        self.errors.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
        ConfigErrors(self.errors)
    }
}

/// A TOML syntax error, located.
pub(crate) fn syntax_error(file: &str, text: &str, error: &toml::de::Error) -> ConfigErrors {
    ConfigErrors(vec![ConfigError {
        file: file.to_owned(),
        line: error.span().map(|span| line_of(text, span.start)),
        key: key_at(text, error.span().map(|s| s.start)),
        message: error.message().trim().to_owned(),
    }])
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The `key` of the line an offset falls on, for syntax errors.
fn key_at(text: &str, offset: Option<usize>) -> String {
    let Some(offset) = offset else {
        return "(file)".into();
    };
    let line = text[..offset.min(text.len())]
        .rsplit('\n')
        .next()
        .unwrap_or("")
        .to_owned()
        + text[offset.min(text.len())..]
            .split('\n')
            .next()
            .unwrap_or("");
    line.split('=')
        .next()
        .map(|k| k.trim().trim_matches(['[', ']']).to_owned())
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "(file)".into())
}

/// Finds the line of a key path like `windows[2].services[1]` or `hall.time_zone` in a file
/// laid out the usual way (`[hall]`, `[[windows]]`, `key = value`).
pub fn locate(text: &str, path: &str) -> Option<usize> {
    // A table named by a (quoted, often Chinese) key: `[departments."税务"]`.
    if let Some(name) = path.strip_prefix("departments.") {
        let headers = [
            format!("[departments.\"{name}\"]"),
            format!("[departments.'{name}']"),
            format!("[departments.{name}]"),
        ];
        return text
            .lines()
            .position(|line| headers.iter().any(|h| line.trim() == h))
            .map(|number| number + 1);
    }
    let mut parts = path.split('.');
    let section = parts.next()?;
    let key = parts.next();
    let (name, index) = match section.split_once('[') {
        Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()?),
        None => (section, 0),
    };
    let key_name = key.map(|k| k.split('[').next().unwrap_or(k));
    let lines: Vec<&str> = text.lines().collect();
    let headers = [format!("[[{name}]]"), format!("[{name}]")];
    let mut seen = 0;
    let mut start = None;
    for (number, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if headers.iter().any(|h| trimmed == h) {
            if seen == index {
                start = Some(number);
                break;
            }
            seen += 1;
        }
    }
    let start = start?;
    let Some(key_name) = key_name else {
        return Some(start + 1);
    };
    for (offset, line) in lines[start + 1..].iter().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            break;
        }
        if let Some((candidate, _)) = trimmed.split_once('=') {
            if candidate.trim() == key_name {
                return Some(start + offset + 2);
            }
        }
    }
    Some(start + 1)
}
