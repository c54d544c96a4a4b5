//! The crate's one error type.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// An error from a lower layer (socket, TLS, HTTP library), kept as
/// [`std::error::Error::source`]; shared, so that [`Error`] is `Clone`.
///
/// # Examples
///
/// ```
/// let source: kili::ErrorSource = std::sync::Arc::from(Box::<dyn std::error::Error + Send + Sync>::from("refused"));
/// assert_eq!(source.to_string(), "refused");
/// ```
pub type ErrorSource = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in this crate.
///
/// Display strings are lowercase and carry no trailing period. Where a lower-level error caused
/// this one it is returned by [`std::error::Error::source`] and is *not* repeated in `Display`.
/// Errors are cheap to clone (sources are shared), so a subscription can hand the same failure
/// to its lifecycle hook, its state and [`Subscription::wait`](crate::Subscription).
///
/// # Examples
///
/// ```
/// let err = kili::Error::InvalidInput { message: "api key is empty".into() };
/// assert_eq!(err.to_string(), "invalid input: api key is empty");
/// assert!(!err.is_retryable());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The caller's input was rejected before any request was sent.
    InvalidInput {
        /// What is wrong with it.
        message: String,
    },
    /// The server refused the API key (HTTP 401, WebSocket `connection_error` or close 4403).
    Authentication {
        /// What the server said.
        message: String,
    },
    /// The server answered with an HTTP status other than 200.
    Http {
        /// The HTTP status code.
        status: u16,
        /// The response body (truncated to a few KiB).
        body: String,
    },
    /// The server answered with GraphQL errors.
    GraphQl {
        /// The errors, in the server's order; never empty.
        errors: Vec<GraphQlError>,
    },
    /// An operation did not finish in time.
    Timeout {
        /// What timed out (e.g. `"connection_ack"`, `"http request"`).
        operation: String,
        /// The time limit that was exceeded.
        after: Duration,
    },
    /// The connection failed (DNS, TCP, TLS, WebSocket, or an unexpected close).
    Transport {
        /// What was being done.
        context: String,
        /// The cause.
        source: ErrorSource,
    },
    /// A response could not be decoded into the expected shape.
    Decode {
        /// What was being decoded.
        context: String,
        /// The cause.
        source: ErrorSource,
    },
    /// The peer broke the GraphQL-over-WebSocket protocol.
    Protocol {
        /// What it did.
        message: String,
    },
    /// The subscription or server was already closed.
    Closed,
    /// A callback of the program, or a thread of this crate, panicked.
    Panicked {
        /// What panicked (e.g. `"the subscription thread kili-sub-1"`).
        what: String,
        /// The panic's message, if it had one.
        message: String,
    },
    /// A local I/O error (e.g. spawning a thread, cloning a socket).
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: Arc<std::io::Error>,
    },
}

/// One entry of a GraphQL response's `errors` array.
///
/// # Examples
///
/// ```
/// let e = kili::GraphQlError::from_json(&serde_json::json!({"message": "no access", "path": ["data"]}));
/// assert_eq!(e.to_string(), "no access (at data)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct GraphQlError {
    /// The error message.
    pub message: String,
    /// The response path where it happened (field names and list indices), if given.
    #[serde(default)]
    pub path: Vec<serde_json::Value>,
    /// `extensions.code`, if given (e.g. `"GRAPHQL_VALIDATION_FAILED"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl GraphQlError {
    /// Builds an error from a message alone.
    ///
    /// ```
    /// let e = kili::GraphQlError::new("boom");
    /// assert_eq!(e.message, "boom");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        GraphQlError {
            message: message.into(),
            path: Vec::new(),
            code: None,
        }
    }

    /// Parses one entry of a GraphQL `errors` array, tolerating missing fields.
    ///
    /// ```
    /// let v = serde_json::json!({"message": "no", "path": ["data"], "extensions": {"code": "X"}});
    /// let e = kili::GraphQlError::from_json(&v);
    /// assert_eq!(e.code.as_deref(), Some("X"));
    /// ```
    pub fn from_json(value: &serde_json::Value) -> Self {
        let message = match value.get("message").and_then(|m| m.as_str()) {
            Some(m) => m.to_owned(),
            None => value.to_string(),
        };
        let path = value
            .get("path")
            .and_then(|p| p.as_array())
            .cloned()
            .unwrap_or_default();
        let code = value
            .pointer("/extensions/code")
            .and_then(|c| c.as_str())
            .map(str::to_owned);
        GraphQlError {
            message,
            path,
            code,
        }
    }
}

impl fmt::Display for GraphQlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if !self.path.is_empty() {
            let path: Vec<String> = self
                .path
                .iter()
                .map(|p| match p {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            write!(f, " (at {})", path.join("."))?;
        }
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        Ok(())
    }
}

/// What the constructors accept as a cause (any error, or a message).
type BoxedSource = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    /// Builds a [`Error::Transport`] from a context and any error.
    pub(crate) fn transport(context: impl Into<String>, source: impl Into<BoxedSource>) -> Self {
        Error::Transport {
            context: context.into(),
            source: Arc::from(source.into()),
        }
    }

    /// Builds a [`Error::Decode`] from a context and any error.
    pub(crate) fn decode(context: impl Into<String>, source: impl Into<BoxedSource>) -> Self {
        Error::Decode {
            context: context.into(),
            source: Arc::from(source.into()),
        }
    }

    /// Builds an [`Error::Io`] from a context, for `map_err`.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Error::Io {
            context,
            source: Arc::new(source),
        }
    }

    /// Builds an [`Error::Panicked`] from what panicked and the panic's payload.
    pub(crate) fn panicked(what: impl Into<String>, payload: &(dyn std::any::Any + Send)) -> Self {
        Error::Panicked {
            what: what.into(),
            message: panic_message(payload),
        }
    }

    /// Builds a [`Error::InvalidInput`].
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
        }
    }

    /// Returns whether trying the same thing again later may succeed: transport failures, timeouts and
    /// the HTTP statuses Kili uses for overload (429, 502, 503, 504, 520-522).
    ///
    /// Authentication, GraphQL and input errors are never retryable.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(kili::Error::Http { status: 503, body: String::new() }.is_retryable());
    /// assert!(!kili::Error::Http { status: 400, body: String::new() }.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::Http { status, .. } => is_transient_status(*status),
            _ => false,
        }
    }

    /// Returns whether this is an authentication failure.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(kili::Error::Authentication { message: "bad key".into() }.is_authentication());
    /// ```
    pub fn is_authentication(&self) -> bool {
        matches!(self, Error::Authentication { .. })
    }

    /// Returns the GraphQL errors, if this is a [`Error::GraphQl`].
    ///
    /// # Examples
    ///
    /// ```
    /// let e = kili::Error::GraphQl { errors: vec![kili::GraphQlError::new("boom")] };
    /// assert_eq!(e.graphql_errors().unwrap()[0].message, "boom");
    /// assert!(kili::Error::Closed.graphql_errors().is_none());
    /// ```
    pub fn graphql_errors(&self) -> Option<&[GraphQlError]> {
        match self {
            Error::GraphQl { errors } => Some(errors),
            _ => None,
        }
    }
}

/// Returns the message a panic carried: its `&str` or `String` payload, or nothing.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::new()
    }
}

/// Returns whether `status` is one of the HTTP statuses that mean "try again later" (the
/// official SDK's list).
pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504 | 520..=522)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput { message } => write!(f, "invalid input: {message}"),
            Error::Authentication { message } => write!(f, "authentication failed: {message}"),
            Error::Http { status, body } => {
                let body = body.trim();
                if body.is_empty() {
                    write!(f, "http status {status}")
                } else {
                    write!(f, "http status {status}: {body}")
                }
            }
            Error::GraphQl { errors } => {
                let first = errors.first().map(|e| e.to_string()).unwrap_or_default();
                if errors.len() > 1 {
                    write!(f, "graphql error: {first} (and {} more)", errors.len() - 1)
                } else {
                    write!(f, "graphql error: {first}")
                }
            }
            Error::Timeout { operation, after } => {
                write!(f, "{operation} timed out after {} ms", after.as_millis())
            }
            Error::Transport { context, .. } => write!(f, "transport error while {context}"),
            Error::Decode { context, .. } => write!(f, "could not decode {context}"),
            Error::Protocol { message } => write!(f, "protocol error: {message}"),
            Error::Closed => f.write_str("closed"),
            Error::Panicked { what, message } if message.is_empty() => write!(f, "{what} panicked"),
            Error::Panicked { what, message } => write!(f, "{what} panicked: {message}"),
            Error::Io { context, .. } => write!(f, "i/o error while {context}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } | Error::Decode { source, .. } => Some(source.as_ref()),
            Error::Io { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// `Result` with this crate's [`Error`].
///
/// # Examples
///
/// ```
/// fn count() -> kili::Result<u64> {
///     Ok(3)
/// }
/// assert_eq!(count().unwrap(), 3);
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn display_is_lowercase_and_source_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = Error::transport("connecting to 127.0.0.1:1", io);
        assert_eq!(
            e.to_string(),
            "transport error while connecting to 127.0.0.1:1"
        );
        assert_eq!(
            e.source().map(|s| s.to_string()).as_deref(),
            Some("refused")
        );
        assert!(e.is_retryable());
    }

    #[test]
    fn transient_statuses() {
        for s in [429, 502, 503, 504, 520, 521, 522] {
            assert!(
                Error::Http {
                    status: s,
                    body: String::new()
                }
                .is_retryable(),
                "{s}"
            );
        }
        for s in [400, 401, 403, 404, 500, 523] {
            assert!(
                !Error::Http {
                    status: s,
                    body: String::new()
                }
                .is_retryable(),
                "{s}"
            );
        }
    }

    #[test]
    fn graphql_error_display() {
        let e = Error::GraphQl {
            errors: vec![GraphQlError::from_json(&serde_json::json!({
                "message": "nope", "path": ["data", 0], "extensions": {"code": "FORBIDDEN"}
            }))],
        };
        assert_eq!(e.to_string(), "graphql error: nope (at data.0) [FORBIDDEN]");
    }

    #[test]
    fn panics_keep_their_message() {
        let payload = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        let e = Error::panicked("the callback", payload.as_ref());
        assert_eq!(e.to_string(), "the callback panicked: boom 1");
        assert!(!e.is_retryable());
        let silent = std::panic::catch_unwind(|| std::panic::panic_any(7)).unwrap_err();
        assert_eq!(
            Error::panicked("a thread", silent.as_ref()).to_string(),
            "a thread panicked"
        );
    }
}
