//! The crate's one error type: starting a server can fail on its settings or on the system.

use std::fmt;

/// Why a [`LocalServer`](crate::LocalServer) could not start.
///
/// Display strings are lowercase; an I/O cause is the error's
/// [`source`](std::error::Error::source), not repeated in `Display`.
///
/// # Examples
///
/// ```
/// let err = kili_local_server::LocalServer::builder().api_key(" ").start().unwrap_err();
/// assert!(matches!(err, kili_local_server::Error::InvalidSettings { .. }));
/// assert_eq!(err.to_string(), "invalid settings: api keys must not be empty");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A setting cannot be used (an empty API key, no connection allowed, ...).
    InvalidSettings {
        /// What is wrong.
        message: String,
    },
    /// The data file cannot be replayed: a line other than a cut-short last one is not a write
    /// this server wrote.
    DataFile {
        /// The data file.
        path: std::path::PathBuf,
        /// The line (from 1).
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The system refused (binding the port, spawning a thread, reading the data file, ...).
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl Error {
    /// Makes an [`Error::InvalidSettings`].
    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::InvalidSettings {
            message: message.into(),
        }
    }

    /// Makes an [`Error::DataFile`] about line `line` of the data file at `path`.
    pub(crate) fn data_file(
        path: &std::path::Path,
        line: usize,
        message: impl Into<String>,
    ) -> Error {
        Error::DataFile {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// Returns a function that wraps an I/O error into an [`Error::Io`] with this context.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidSettings { message } => write!(f, "invalid settings: {message}"),
            Error::DataFile {
                path,
                line,
                message,
            } => write!(
                f,
                "data file {} line {line} cannot be replayed: {message}",
                path.display()
            ),
            Error::Io { context, .. } => write!(f, "i/o error while {context}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::InvalidSettings { .. } | Error::DataFile { .. } => None,
        }
    }
}

/// This crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
