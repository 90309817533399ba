//! memgate's error type: everything that stops memgate from doing its job (exit code 2).
//! A benchmark that fails is not an error here; it is a result.

use std::path::Path;

/// An error that ends the command. Its message names the file, key or value at fault and
/// the fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad config value with its place in the file.
    #[error("{file}:{line}:{column}: {message}")]
    ConfigAt {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// A bad config file as a whole, or a value whose place serde cannot give.
    #[error("{file}: {message}")]
    Config { file: String, message: String },
    /// Bad arguments or a missing file the user named.
    #[error("{0}")]
    Usage(String),
    /// A git operation failed, or git holds something memgate cannot use.
    #[error("{0}")]
    Git(String),
    /// A system call or file operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The user pressed Ctrl-C (or memgate got SIGTERM); the runs were stopped.
    #[error("interrupted: every benchmark process was stopped")]
    Interrupted,
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn config(file: &Path, message: impl Into<String>) -> Self {
        Error::Config {
            file: file.display().to_string(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
