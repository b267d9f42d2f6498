//! Failures of the HTTP client, typed: for object_store's retry loop (`HttpErrorKind`) and for
//! the one-line errors (`Failure`, carried under object_store's `HttpError` as [`Transport`]).

use crate::error::{error_chain, find_cause};
use hyper::Uri;
use object_store::client::{HttpError, HttpErrorKind};
use std::time::Duration;

pub(super) fn timed_out(after: Duration) -> HttpError {
    let text = format!("request timed out after {after:?} (no complete response)");
    HttpError::new(HttpErrorKind::Timeout, Transport { failure: Failure::Timeout, text })
}

/// Classify a hyper failure the way object_store's retry loop needs: connection-level failures
/// (refused, reset, closed mid-message) are retried, the rest are not.
pub(super) fn http_error(e: Box<dyn std::error::Error + Send + Sync>) -> HttpError {
    let mut kind = HttpErrorKind::Unknown;
    if let Some(c) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
        if c.is_connect() {
            kind = HttpErrorKind::Connect;
        }
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e.as_ref());
    while let (HttpErrorKind::Unknown, Some(c)) = (kind, cause) {
        if let Some(h) = c.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                kind = HttpErrorKind::Timeout;
            } else if h.is_closed() || h.is_incomplete_message() || h.is_body_write_aborted() || h.is_canceled() {
                kind = HttpErrorKind::Request;
            }
        } else if let Some(io) = c.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            kind = match io.kind() {
                K::TimedOut => HttpErrorKind::Timeout,
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                    HttpErrorKind::Interrupted
                }
                _ => kind,
            };
        }
        cause = c.source();
    }
    let failure = find_cause::<Transport>(e.as_ref()).map(|t| t.failure).unwrap_or_else(|| match kind {
        _ if find_cause::<rustls::Error>(e.as_ref()).is_some() => Failure::Tls,
        HttpErrorKind::Timeout => Failure::Timeout,
        HttpErrorKind::Request | HttpErrorKind::Interrupted => Failure::Broken,
        HttpErrorKind::Connect => Failure::Connect,
        _ => Failure::Other,
    });
    // The whole chain ("client error (Connect) | tcp connect error | Connection refused") for
    // text, not hyper's outermost layer alone; the failure, typed, for the one-line errors.
    HttpError::new(kind, Transport { failure, text: error_chain(e.as_ref()) })
}

/// Why a request got no answer, as the one-line errors tell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The endpoint's host name does not resolve.
    Dns,
    /// Nothing listens at the endpoint's host and port.
    Refused,
    /// Connecting failed otherwise (e.g. through a proxy).
    Connect,
    /// The TLS handshake failed (certificate, or TLS spoken to a plain-HTTP port).
    Tls,
    /// The connection broke mid-request (reset, closed, aborted).
    Broken,
    /// No complete answer in time.
    Timeout,
    /// Anything else.
    Other,
}

impl Failure {
    /// Every failure, in the order `label`s are looked for in text.
    pub const ALL: [Failure; 7] = [
        Failure::Dns,
        Failure::Refused,
        Failure::Connect,
        Failure::Tls,
        Failure::Broken,
        Failure::Timeout,
        Failure::Other,
    ];

    /// How a [`Transport`] error's text starts, the only form in which the failure survives a
    /// library that keeps errors as text (zarrs' storage errors).
    pub fn label(self) -> &'static str {
        match self {
            Failure::Dns => "host not resolved",
            Failure::Refused => "connection refused",
            Failure::Connect => "cannot connect",
            Failure::Tls => "TLS failure",
            Failure::Broken => "connection broken",
            Failure::Timeout => "timed out",
            Failure::Other => "transport failure",
        }
    }
}

/// A transport failure under object_store's `HttpError`: what it was, typed, and the chain of
/// messages it came with (its `Display`).
#[derive(Debug)]
pub(crate) struct Transport {
    pub failure: Failure,
    text: String,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.failure.label(), self.text)
    }
}

impl std::error::Error for Transport {}

/// A failed TCP connect, typed: refused by the OS, or a host name that does not resolve (hyper
/// tells these apart only in text, so the name is looked up again, which costs only on failure).
pub(super) async fn connect_error(uri: &Uri, io: Option<std::io::ErrorKind>, text: String) -> Transport {
    let failure = match (io, uri.host()) {
        (Some(std::io::ErrorKind::ConnectionRefused), _) => Failure::Refused,
        (Some(std::io::ErrorKind::TimedOut), _) => Failure::Timeout,
        (_, Some(host)) if host.parse::<std::net::IpAddr>().is_err() => {
            let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("https") { 443 } else { 80 });
            match tokio::net::lookup_host((host, port)).await.map(|mut addrs| addrs.next().is_some()) {
                Ok(true) => Failure::Connect,
                _ => Failure::Dns,
            }
        }
        _ => Failure::Connect,
    };
    Transport { failure, text }
}
