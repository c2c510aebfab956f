//! Configuration files: finding them, parsing TOML with file/line/field context, validating values.
//!
//! Platforms and workloads are named either by a shipped name (`aws-2020`, `mobilenet`), whose TOML
//! is compiled into the binary from `configs/` so that names work from any directory, or by a path to
//! a TOML file. Every parse or validation error names the file, the line where known, and the dotted
//! field; unknown fields are rejected.

pub mod names;
pub mod spec;

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The shipped platform configurations: (name, repository path, TOML text).
const PLATFORMS: &[(&str, &str, &str)] = &[
    (
        "aws-2020",
        "configs/platforms/aws-2020.toml",
        include_str!("../../configs/platforms/aws-2020.toml"),
    ),
    (
        "aws-2024",
        "configs/platforms/aws-2024.toml",
        include_str!("../../configs/platforms/aws-2024.toml"),
    ),
];

/// The shipped workload configurations: (name, repository path, TOML text).
const WORKLOADS: &[(&str, &str, &str)] = &[
    (
        "espcn",
        "configs/workloads/espcn.toml",
        include_str!("../../configs/workloads/espcn.toml"),
    ),
    (
        "1dcnn",
        "configs/workloads/1dcnn.toml",
        include_str!("../../configs/workloads/1dcnn.toml"),
    ),
    (
        "mobilenet",
        "configs/workloads/mobilenet.toml",
        include_str!("../../configs/workloads/mobilenet.toml"),
    ),
    (
        "resnet50",
        "configs/workloads/resnet50.toml",
        include_str!("../../configs/workloads/resnet50.toml"),
    ),
];

/// Which kind of configuration a name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigKind {
    /// A serverless platform (configs/platforms).
    Platform,
    /// A training workload (configs/workloads).
    Workload,
}

impl ConfigKind {
    fn shipped(self) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            ConfigKind::Platform => PLATFORMS,
            ConfigKind::Workload => WORKLOADS,
        }
    }

    /// The parameter that names a configuration of this kind.
    fn parameter(self) -> &'static str {
        match self {
            ConfigKind::Platform => "platform",
            ConfigKind::Workload => "workload",
        }
    }

    /// Names of the shipped configurations of this kind.
    pub fn shipped_names(self) -> Vec<&'static str> {
        self.shipped().iter().map(|(name, _, _)| *name).collect()
    }
}

/// The text of one configuration and where it came from.
#[derive(Clone, Debug)]
pub struct ConfigSource {
    /// How errors refer to it: the file path, or the repository path of a built-in config.
    pub location: String,
    /// The TOML text.
    pub text: String,
}

impl ConfigSource {
    /// Resolves a shipped name or a path to a TOML file.
    pub fn resolve(kind: ConfigKind, name_or_path: &str) -> Result<ConfigSource> {
        if let Some((_, path, text)) = kind.shipped().iter().find(|(n, _, _)| *n == name_or_path) {
            return Ok(ConfigSource {
                location: format!("{path} (built in)"),
                text: (*text).to_string(),
            });
        }
        let path = Path::new(name_or_path);
        let looks_like_path = name_or_path.contains('/')
            || name_or_path.contains('\\')
            || name_or_path.ends_with(".toml");
        if !looks_like_path && !path.exists() {
            return Err(Error::invalid(
                kind.parameter(),
                format!(
                    "`{name_or_path}` is neither a shipped name ({}) nor an existing TOML file",
                    kind.shipped_names().join(", ")
                ),
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(ConfigSource {
            location: name_or_path.to_string(),
            text,
        })
    }

    /// Parses the TOML into `T`, turning syntax, type and unknown-field errors into one
    /// `file:line:column: field `key`: message` error.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T> {
        toml::from_str(&self.text).map_err(|e| self.toml_error(&e))
    }

    fn toml_error(&self, e: &toml::de::Error) -> Error {
        let message = e.message().trim().replace('\n', " ");
        let Some(span) = e.span() else {
            return Error::Syntax {
                location: self.location.clone(),
                message,
            };
        };
        let (line, column) = line_column(&self.text, span.start);
        let location = format!("{}:{line}:{column}", self.location);
        match field_at(&self.text, span.start, &message) {
            Some(field) => Error::Config {
                location,
                field,
                message,
            },
            None => Error::Syntax { location, message },
        }
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// The dotted key of the field an error at `offset` concerns: the key on that line, qualified by
/// the table header above it; for a "missing field" error, the field named in the message.
fn field_at(text: &str, offset: usize, message: &str) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[line_start..line_end].trim();
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let qualify = |key: &str| match &table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_string(),
    };
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        let header = line.trim_matches(|c| c == '[' || c == ']').trim();
        return Some(if line.starts_with('[') && !header.is_empty() {
            format!("{header}.{missing}")
        } else {
            missing.to_string()
        });
    }
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty()).then(|| qualify(key))
}

/// A number as error messages show it: plainly in the usual range, in scientific notation when
/// very large or very small (`1e300`, not three hundred digits).
pub fn num(value: f64) -> String {
    let magnitude = value.abs();
    if value.is_finite() && magnitude != 0.0 && !(1e-4..1e7).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// Checks applied to numeric fields after parsing; each error names the file and the dotted field.
pub struct FieldCheck<'a> {
    location: &'a str,
}

impl<'a> FieldCheck<'a> {
    /// Checks for the configuration at `location`.
    pub fn new(location: &'a str) -> Self {
        FieldCheck { location }
    }

    /// An error about `field`.
    pub fn error(&self, field: &str, message: impl Into<String>) -> Error {
        Error::Config {
            location: self.location.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// `value` must be finite and strictly positive.
    pub fn positive(&self, field: &str, value: f64) -> Result<()> {
        if value.is_finite() && value > 0.0 {
            Ok(())
        } else {
            Err(self.error(
                field,
                format!("must be a positive finite number, got {}", num(value)),
            ))
        }
    }

    /// `value` must be finite and zero or positive.
    pub fn non_negative(&self, field: &str, value: f64) -> Result<()> {
        if value.is_finite() && value >= 0.0 {
            Ok(())
        } else {
            Err(self.error(
                field,
                format!("must be a finite number >= 0, got {}", num(value)),
            ))
        }
    }

    /// `value` must be finite (any sign).
    pub fn finite(&self, field: &str, value: f64) -> Result<()> {
        if value.is_finite() {
            Ok(())
        } else {
            Err(self.error(
                field,
                format!("must be a finite number, got {}", num(value)),
            ))
        }
    }

    /// `value` must lie in `lo..=hi`.
    pub fn within(&self, field: &str, value: f64, lo: f64, hi: f64) -> Result<()> {
        if value.is_finite() && (lo..=hi).contains(&value) {
            Ok(())
        } else {
            Err(self.error(
                field,
                format!(
                    "must lie between {} and {}, got {}",
                    num(lo),
                    num(hi),
                    num(value)
                ),
            ))
        }
    }

    /// An integer that must lie in `lo..=hi`.
    pub fn count(&self, field: &str, value: u64, lo: u64, hi: u64) -> Result<()> {
        if (lo..=hi).contains(&value) {
            Ok(())
        } else {
            Err(self.error(
                field,
                format!("must be a whole number between {lo} and {hi}, got {value}"),
            ))
        }
    }

    /// An integer that must be at least 1.
    pub fn at_least_one(&self, field: &str, value: u64) -> Result<()> {
        if value >= 1 {
            Ok(())
        } else {
            Err(self.error(field, "must be at least 1, got 0"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        top: f64,
        inner: Inner,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        rate_mb_per_s: f64,
    }

    fn source(text: &str) -> ConfigSource {
        ConfigSource {
            location: "x.toml".into(),
            text: text.into(),
        }
    }

    #[test]
    fn wrong_type_names_line_and_field() {
        let err = source("top = 1.0\n[inner]\nrate_mb_per_s = \"fast\"\n")
            .parse::<Doc>()
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("x.toml:3:17: field `inner.rate_mb_per_s`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_field_names_the_field() {
        let err = source("top = 1.0\nbogus = 2\n[inner]\nrate_mb_per_s = 1.0\n")
            .parse::<Doc>()
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("x.toml:2:1: field `bogus`: unknown field"),
            "{err}"
        );
    }

    #[test]
    fn missing_field_names_the_field() {
        let err = source("top = 1.0\n[inner]\n")
            .parse::<Doc>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("field `inner.rate_mb_per_s`"), "{err}");
        assert!(err.contains("missing field"), "{err}");
    }

    #[test]
    fn shipped_names_resolve_without_files() {
        for kind in [ConfigKind::Platform, ConfigKind::Workload] {
            for name in kind.shipped_names() {
                let src = ConfigSource::resolve(kind, name).unwrap();
                assert!(src.location.ends_with("(built in)"));
            }
        }
        let err = ConfigSource::resolve(ConfigKind::Workload, "alexnet").unwrap_err();
        assert!(err.to_string().contains("mobilenet"), "{err}");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn field_checks_reject_nan_zero_and_negative() {
        let check = FieldCheck::new("f.toml");
        assert!(check.positive("a", 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = check.positive("a.b", bad).unwrap_err().to_string();
            assert!(
                e.starts_with("f.toml: field `a.b`: must be a positive"),
                "{e}"
            );
        }
        assert!(check.non_negative("a", 0.0).is_ok());
        assert!(check.non_negative("a", -0.5).is_err());
        assert!(check.within("a", 0.5, 0.0, 1.0).is_ok());
        assert!(check.within("a", 1.5, 0.0, 1.0).is_err());
        assert!(check.at_least_one("n", 0).is_err());
    }
}
