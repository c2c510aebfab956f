//! The one error type of lambdasim.
//!
//! Every error a user can cause (a bad flag, a bad or missing configuration file, a plan the
//! platform cannot run) carries the file and field or the flag it concerns, and maps to exit status 2.
//! Internal failures map to exit status 1.

use std::path::PathBuf;

/// What went wrong, with enough context to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file is malformed or holds an invalid value. `location` is `file` or
    /// `file:line:column`; `field` is the dotted TOML key (`network.ps_bandwidth_mb_per_s`).
    #[error("{location}: field `{field}`: {message}")]
    Config {
        /// `path` or `path:line:column`.
        location: String,
        /// Dotted key of the offending field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A configuration file is malformed in a way that does not belong to one field.
    #[error("{location}: {message}")]
    Syntax {
        /// `path` or `path:line:column`.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A command-line flag has an invalid value, or a plan does not fit the platform or workload.
    #[error("{flag}: {message}")]
    Invalid {
        /// The flag (`--memory`) or the plan element concerned.
        flag: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A bug in lambdasim, not in the user's input.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Exit status for this error: 2 for anything the user can fix, 1 for internal failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal(_) => 1,
            _ => 2,
        }
    }

    /// A flag or plan error.
    pub fn invalid(flag: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            flag: flag.into(),
            message: message.into(),
        }
    }
}

/// Result with lambdasim's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
