//! The one error type of lambdasim.
//!
//! Every error a user can cause (a bad value, a bad or missing configuration file, a plan the
//! platform cannot run) carries the file and field, or the model parameter it concerns (`memory`,
//! `jitter`, `deadline`: the names of [`crate::point::PointSpec`]'s fields and of sweep
//! parameters), and maps to exit status 2. The command line renames parameters to its flags
//! (`--memory`). Internal failures map to exit status 1.

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
    /// A parameter has an invalid value, or a plan does not fit the platform or workload.
    #[error("{parameter}: {message}")]
    Invalid {
        /// The parameter concerned (`memory`, `jitter`), or the flag once the command line has
        /// renamed it (`--memory`).
        parameter: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A check the run was asked to make did not pass (`validate`): the output says which.
    #[error("{failed} of {total} checks failed")]
    ChecksFailed {
        /// Checks that failed.
        failed: usize,
        /// Checks made.
        total: usize,
    },
    /// A bug in lambdasim, not in the user's input.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Exit status for this error: 2 for anything the user can fix, 1 for internal failures and
    /// failed checks.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal(_) | Error::ChecksFailed { .. } => 1,
            _ => 2,
        }
    }

    /// An error about a parameter's value.
    pub fn invalid(parameter: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            parameter: parameter.into(),
            message: message.into(),
        }
    }

    /// The same error seen from `context` (a sweep point, a file): user errors become one message
    /// located at `context`; internal errors stay internal (exit status 1), with the context.
    pub fn in_context(self, context: &str) -> Error {
        match self {
            Error::Internal(m) => Error::Internal(format!("{context}: {m}")),
            other => Error::Syntax {
                location: context.to_string(),
                message: other.to_string(),
            },
        }
    }

    /// The same error with its parameter renamed by `rename` (the command line maps `memory` to
    /// `--memory`); other errors are unchanged.
    pub fn renamed(self, rename: impl Fn(&str) -> Option<String>) -> Error {
        match self {
            Error::Invalid { parameter, message } => Error::Invalid {
                parameter: rename(&parameter).unwrap_or(parameter),
                message,
            },
            other => other,
        }
    }
}

/// Result with lambdasim's [`Error`].
///
/// Errors name what a user would change:
///
/// ```
/// use lambdasim::Error;
/// let e = Error::invalid("memory", "4000 MB is not offered by aws-2020");
/// assert_eq!(e.exit_code(), 2);
/// let cli = e.renamed(|p| (p == "memory").then(|| "--memory".to_string()));
/// assert_eq!(cli.to_string(), "--memory: 4000 MB is not offered by aws-2020");
/// let internal = Error::Internal("bug".into()).in_context("sweep.toml: point 3");
/// assert_eq!(internal.exit_code(), 1);
/// ```
pub type Result<T> = std::result::Result<T, Error>;
