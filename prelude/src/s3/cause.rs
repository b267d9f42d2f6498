//! Why an S3 call failed, read from typed values (the reply's status and S3 error code, the
//! transport's failure), and the one actionable line for each cause.

use crate::config::S3Config;
use crate::error::{error_chain, find_cause, Error, ErrorKind};
use crate::http::{Failure, Transport};
use object_store::client::{HttpError, HttpErrorKind};

/// What went wrong with one S3 request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// The server answered with an error: its HTTP status when known, and the `<Code>` of its
    /// XML error body (`NoSuchBucket`, `SignatureDoesNotMatch`, …) when it sent one.
    Reply { status: Option<u16>, code: Option<String> },
    /// No answer.
    Transport(Failure),
    /// Neither: the text the failure came with.
    Other(String),
}

impl Cause {
    /// A reply of `status` with `body`.
    pub fn of_reply(status: u16, body: &[u8]) -> Cause {
        Cause::Reply { status: Some(status), code: xml_code(body) }
    }

    /// A failure of object_store's HTTP client.
    pub fn of_http(e: &HttpError) -> Cause {
        if let Some(t) = find_cause::<Transport>(e) {
            return Cause::Transport(t.failure);
        }
        // object_store's own (reqwest) client, used behind a proxy.
        Cause::Transport(match e.kind() {
            HttpErrorKind::Timeout => Failure::Timeout,
            HttpErrorKind::Connect => Failure::Connect,
            HttpErrorKind::Request | HttpErrorKind::Interrupted => Failure::Broken,
            _ => Failure::Other,
        })
    }

    /// An error of an object_store call: its variant says the status of the typed ones (404,
    /// 403, 401, 409, 412), its chain holds the transport failure or the server's XML body.
    pub fn of_object_store(e: &object_store::Error) -> Cause {
        use object_store::Error as E;
        if let Some(h) = find_cause::<HttpError>(e) {
            return Cause::of_http(h);
        }
        let text = error_chain(e);
        let status = match e {
            E::NotFound { .. } => Some(404),
            E::PermissionDenied { .. } => Some(403),
            E::Unauthenticated { .. } => Some(401),
            E::AlreadyExists { .. } => Some(409),
            E::Precondition { .. } => Some(412),
            _ => untyped_status(&text),
        };
        match (status, xml_code(text.as_bytes())) {
            (None, None) => Cause::Other(text),
            (status, code) => Cause::Reply { status, code },
        }
    }

    /// The cause of a chunk error that zarrs passed on as text only (zarrs_object_store keeps
    /// an object_store error as its message): the S3 code, the status and the transport
    /// failure are read back from the words object_store and `http::Transport` write.
    pub fn of_text(text: &str) -> Cause {
        let (status, code) = (untyped_status(text), xml_code(text.as_bytes()));
        if status.is_some() || code.is_some() {
            return Cause::Reply { status, code };
        }
        match Failure::ALL.iter().find(|f| text.contains(f.label())) {
            Some(f) => Cause::Transport(*f),
            None => Cause::Other(text.to_string()),
        }
    }
}

/// The status of a reply object_store turned into a `Generic` error (5xx, 429, 400): it keeps
/// that status only in its message ("… non-2xx status code: 503 Service Unavailable: …"), as
/// its `RetryError` is not public.
fn untyped_status(text: &str) -> Option<u16> {
    let i = text.find("status code: ")? + "status code: ".len();
    text.get(i..i + 3)?.parse().ok()
}

/// One actionable line for `cause`, the failure of `what` (e.g. `"cat"`) on `target`.
pub(crate) fn describe(cause: &Cause, what: &str, target: &str, cfg: &S3Config) -> Error {
    let (kind, hint) = match cause {
        Cause::Reply { status, code } => reply(*status, code.as_deref(), cfg),
        Cause::Transport(f) => transport(*f, &cfg.endpoint),
        Cause::Other(text) => {
            // object_store's retry summary names its "retry_timeout" setting: not a timeout.
            let short: String = text.replace("retry_timeout", "retry budget").chars().take(300).collect();
            (ErrorKind::Other, format!("{short}; check the endpoint ({}) and retry", cfg.endpoint))
        }
    };
    Error::new(kind, format!("{what} {target} failed: {hint}"))
}

fn reply(status: Option<u16>, code: Option<&str>, cfg: &S3Config) -> (ErrorKind, String) {
    let ep = &cfg.endpoint;
    let server_failing = || {
        (
            ErrorKind::Connection,
            format!("{ep} kept answering with server errors (busy or failing) through every retry; retry later, or allow more attempts with AWS_MAX_ATTEMPTS"),
        )
    };
    match (code, status) {
        (Some("SignatureDoesNotMatch"), _) => (
            ErrorKind::Auth,
            format!(
                "the secret key does not match the key id (SignatureDoesNotMatch); check aws_secret_access_key for {}",
                cfg.source
            ),
        ),
        (Some("InvalidAccessKeyId"), _) => (ErrorKind::Auth, format!("the server does not know this access key id (InvalidAccessKeyId); check aws_access_key_id from {} and that {ep} is the right endpoint", cfg.source)),
        (Some("AuthorizationHeaderMalformed" | "InvalidRegion"), _) => (ErrorKind::Config, format!("region '{}' was rejected; set AWS_REGION or .region(...) to the server's region (Jetstream 2: RegionOne)", cfg.region)),
        (Some("InvalidLocationConstraint" | "IllegalLocationConstraint"), _) => (ErrorKind::Config, format!("the server rejected region '{}' as the bucket location; set the region to the server's (Jetstream 2: RegionOne)", cfg.region)),
        (Some("NoSuchBucket"), _) => {
            (ErrorKind::NotFound, "no such bucket; fs.ls(\"\") lists your buckets, fs.mkdir(\"name\") creates one".to_string())
        }
        (Some("NoSuchKey"), _) | (None, Some(404)) => {
            (ErrorKind::NotFound, "no such key; check the path with fs.ls(...)".to_string())
        }
        (Some("AccessDenied"), _) | (None, Some(401 | 403)) => {
            let who = if cfg.is_anonymous() {
                "anonymous access is not allowed; use S3FileSystem::new() with credentials, or ask the owner to make it public"
            } else {
                "these credentials are not allowed to do this; check the bucket owner and its policy"
            };
            (ErrorKind::AccessDenied, format!("access denied: {who}"))
        }
        (Some("BucketAlreadyExists"), _) => (
            ErrorKind::AlreadyExists,
            "that bucket name is taken by another user; bucket names are global, pick another".to_string(),
        ),
        (Some("BucketAlreadyOwnedByYou"), _) => (ErrorKind::AlreadyExists, "you already own this bucket".to_string()),
        (Some("BucketNotEmpty"), _) => (
            ErrorKind::InvalidInput,
            "the bucket is not empty; fs.rm_r(\"bucket\") removes it with its contents".to_string(),
        ),
        (Some("InvalidBucketName"), _) => {
            (ErrorKind::InvalidInput, "invalid bucket name; use 3-63 lowercase letters, digits, '-' and '.'".to_string())
        }
        (Some("SlowDown" | "InternalError" | "ServiceUnavailable"), _) => server_failing(),
        (_, Some(s)) if s >= 500 || s == 429 => server_failing(),
        (code, status) => {
            let what = code.map_or_else(|| format!("HTTP {}", status.unwrap_or(0)), str::to_string);
            (ErrorKind::Other, format!("the server answered {what}; check the endpoint ({ep}) and retry"))
        }
    }
}

fn transport(f: Failure, ep: &str) -> (ErrorKind, String) {
    let hint = match f {
        Failure::Dns => {
            format!("cannot resolve the host of {ep}; check the endpoint URL (AWS_ENDPOINT_URL) and your network")
        }
        Failure::Refused => {
            format!("connection refused by {ep}; check the endpoint's host and port and that the server is running")
        }
        Failure::Connect => {
            format!("cannot connect to {ep}; check the endpoint's host and port, the network and any proxy setting")
        }
        Failure::Tls => {
            return (ErrorKind::Tls, format!("TLS failure talking to {ep}; check the URL's scheme and port (https vs http) and the system's CA certificates"));
        }
        Failure::Broken => format!(
            "the connection to {ep} broke through every retry (server down or restarting?); check that it is running, then retry"
        ),
        Failure::Timeout => format!("{ep} did not answer in time; retry, or check the network and endpoint"),
        Failure::Other => format!("the request to {ep} failed; check the endpoint and the network, then retry"),
    };
    (ErrorKind::Connection, hint)
}

/// The `<Code>` of an S3 XML error body.
pub(crate) fn xml_code(body: &[u8]) -> Option<String> {
    xml_values(&String::from_utf8_lossy(body), "Code").into_iter().next()
}

/// Every text value of `<tag>…</tag>` in a small S3 XML document.
pub(crate) fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(unescape(&after[..j]));
        rest = &after[j + close.len()..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::S3FileSystemBuilder;
    use std::collections::HashMap;

    fn cfg() -> S3Config {
        S3FileSystemBuilder::new().key("k", "s").env(HashMap::new()).resolve().unwrap()
    }

    #[test]
    fn object_store_variants_and_codes_decide_the_kind() {
        let body = |code: &str| std::io::Error::other(format!("<Error><Code>{code}</Code></Error>"));
        let denied = object_store::Error::PermissionDenied { path: "k".into(), source: Box::new(body("AccessDenied")) };
        let kind = |e: &object_store::Error| describe(&Cause::of_object_store(e), "cat", "s3://b/k", &cfg()).kind();
        assert_eq!(kind(&denied), ErrorKind::AccessDenied);
        let sig =
            object_store::Error::PermissionDenied { path: "k".into(), source: Box::new(body("SignatureDoesNotMatch")) };
        assert_eq!(kind(&sig), ErrorKind::Auth);
        let bucket = object_store::Error::NotFound { path: "k".into(), source: Box::new(body("NoSuchBucket")) };
        let e = describe(&Cause::of_object_store(&bucket), "cat", "s3://b/k", &cfg());
        assert!(e.kind() == ErrorKind::NotFound && e.message().contains("no such bucket"), "{e}");
        let plain = object_store::Error::NotFound { path: "k".into(), source: Box::new(std::io::Error::other("x")) };
        assert_eq!(Cause::of_object_store(&plain), Cause::Reply { status: Some(404), code: None });
    }

    #[test]
    fn transport_failures_are_read_from_the_http_error() {
        let refused = HttpError::new(HttpErrorKind::Connect, std::io::Error::other("no"));
        assert_eq!(Cause::of_http(&refused), Cause::Transport(Failure::Connect));
        let gen = object_store::Error::Generic { store: "S3", source: Box::new(refused) };
        assert_eq!(describe(&Cause::of_object_store(&gen), "ls", "s3://b", &cfg()).kind(), ErrorKind::Connection);
    }

    #[test]
    fn statuses_are_read_as_statuses_not_as_numbers_in_durations() {
        let retried = "Error after 2 retries in 403.117ms, max_retries: 2, retry_timeout: 60s, source: Server \
                       returned non-2xx status code: 503 Service Unavailable: <Code>SlowDown</Code>";
        assert_eq!(Cause::of_text(retried), Cause::Reply { status: Some(503), code: Some("SlowDown".into()) });
        let bare = "Error performing GET in 3s - Server returned non-2xx status code: 502 Bad Gateway: <html>";
        assert_eq!(describe(&Cause::of_text(bare), "read", "s3://b/k", &cfg()).kind(), ErrorKind::Connection);
        assert_eq!(
            Cause::of_text("HTTP error: connection refused: tcp connect error"),
            Cause::Transport(Failure::Refused)
        );
    }
}
