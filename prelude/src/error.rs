//! One error type for the notebook API.
//!
//! Every message is one line that says what failed, where, and what to try: a notebook user reads
//! it once, in a cell's output, and should not need a backtrace. Messages never contain secrets.

use std::fmt;
use zarr_kernel_protocol::error_line;

/// What kind of failure an [`Error`] is, for code that wants to react to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad configuration: endpoint, region, profile, AWS config files.
    Config,
    /// The server could not be reached (DNS, refused connection, timeout).
    Connection,
    /// TLS handshake or certificate failure.
    Tls,
    /// The server rejected the credentials (wrong secret, unknown key id).
    Auth,
    /// The credentials are valid but not allowed to do this.
    AccessDenied,
    /// A bucket, key, array or group does not exist.
    NotFound,
    /// Something already exists where it would be created.
    AlreadyExists,
    /// An argument is invalid (bucket name, slice, shape, dtype name).
    InvalidInput,
    /// Stored Zarr metadata is corrupt or not understood.
    Metadata,
    /// A chunk could not be encoded or decoded.
    Codec,
    /// Local file I/O failed.
    Io,
    /// The kernel's interrupt stopped the call (Kernel → Interrupt); nothing after it ran.
    Interrupted,
    /// Anything else the server or a library reported.
    Other,
}

/// The error every prelude call returns: one actionable line.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// `Result` with the prelude's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` whose message is `message` (one line: what, where, what to try).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let message: String = message.into();
        // Keep it one line whatever the source said.
        let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
        Error { kind, message }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    pub(crate) fn other(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Other, message)
    }

    /// The call was stopped by the kernel's interrupt; `what` says what stopped and what state it
    /// left (e.g. "the store into s3://b/a.zarr stopped after 12 of 100 chunks; …").
    pub(crate) fn interrupted(what: impl std::fmt::Display) -> Self {
        Error::new(ErrorKind::Interrupted, format!("{what}; variables from earlier cells are kept"))
    }

    pub(crate) fn io(what: &str, path: &std::path::Path, e: std::io::Error) -> Self {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound => "check the path",
            std::io::ErrorKind::PermissionDenied => "check the file's permissions",
            _ => "check the path and free disk space",
        };
        Error::new(ErrorKind::Io, format!("{what} {}: {e}; {hint}", path.display()))
    }
}

/// `{}` is the message; `{:#}` is `Kind: message` (`zarr_kernel_protocol::error_line`), which the
/// kernel shows as the cell's error (ename = the kind) when a `?` returns this error.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.write_str(&error_line::format(&format!("{:?}", self.kind), &self.message))
        } else {
            f.write_str(&self.message)
        }
    }
}

// Debug is what `?` at the end of a notebook cell prints: keep it the same single line.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `e` and its sources, outermost first.
pub(crate) fn sources<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |c| c.source())
}

/// An error and all its sources, `" | "`-separated: the causes (refused, reset, TLS alert) are
/// often only in the sources, and the classification of a failure needs to see them.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    sources(e).map(|c| c.to_string()).collect::<Vec<_>>().join(" | ")
}

/// The first error of type `T` in `e`'s source chain (`e` included). Looks inside
/// `std::io::Error`s too, whose `source()` skips the error they wrap.
pub(crate) fn find_cause<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    sources(e).find_map(|c| {
        let inner = c.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref());
        c.downcast_ref::<T>().or_else(|| inner.and_then(|i| find_cause::<T>(i)))
    })
}

/// The text a panic carried (`panic!("…")` gives a `&str` or a `String`), if it carried text.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alternate_form_names_the_kind() {
        let e = Error::new(ErrorKind::NotFound, "no array at s3://b/a.zarr;\n check the path");
        assert_eq!(e.to_string(), "no array at s3://b/a.zarr; check the path");
        assert_eq!(format!("{e:#}"), "NotFound: no array at s3://b/a.zarr; check the path");
        assert_eq!(format!("{e:?}"), e.to_string());
        // What the kernel looks for: this type's name, and the kind before the message.
        assert_eq!(std::any::type_name::<Error>(), error_line::PRELUDE_ERROR);
        assert_eq!(error_line::parse(&format!("{e:#}")), Some(("NotFound", e.to_string().as_str())));
    }
}
