//! memgate's error type: everything that stops memgate from doing its job (exit code 2).
//! A benchmark that fails is not an error here; it is a result.

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
    /// Several errors, each on a line of its own (every mistake in a config).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many(Vec<Error>),
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

    /// One error as it is, several as [`Error::Many`].
    pub fn many(mut errors: Vec<Error>) -> Self {
        if errors.len() == 1 {
            errors.remove(0)
        } else {
            Error::Many(errors)
        }
    }

    /// The errors one by one.
    pub fn each(&self) -> Vec<&Error> {
        match self {
            Error::Many(errors) => errors.iter().flat_map(Error::each).collect(),
            other => vec![other],
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
