//! S3 clients: object_store for object operations, and SigV4-signed requests (object_store's own
//! signer and HTTP client, so one HTTP/TLS stack) for the bucket-level calls it lacks.

use crate::config::{Credentials, S3Config};
use crate::error::{error_chain, Error, ErrorKind, Result};
use crate::http::{Limits, PreludeConnector};
use bytes::Bytes;
use http::{Method, Request};
use object_store::aws::{AmazonS3Builder, AwsAuthorizer, AwsCredential};
use object_store::client::{HttpClient, HttpConnector, HttpRequestBody};
use object_store::{ClientOptions, CredentialProvider, ObjectStore, RetryConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Requests in flight for chunk-parallel work: enough to hide object-store latency on 2 cores.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Idle connections kept per host: every chunk request in flight finds one to reuse.
const MAX_IDLE_PER_HOST: usize = 64;

fn limits(cfg: &S3Config) -> Limits {
    Limits {
        connect_timeout: cfg.retry.timeout.min(Duration::from_secs(10)),
        timeout: cfg.retry.timeout,
        max_idle_per_host: MAX_IDLE_PER_HOST,
        tls: !cfg.allow_http(),
    }
}

/// The same limits for the reqwest client used when a proxy is configured.
fn client_options(cfg: &S3Config) -> ClientOptions {
    let l = limits(cfg);
    ClientOptions::new()
        .with_allow_http(cfg.allow_http())
        .with_connect_timeout(l.connect_timeout)
        .with_timeout(l.timeout)
        .with_pool_max_idle_per_host(l.max_idle_per_host)
}

/// The prelude's HTTP stack (src/http.rs). `ZK_QUICKACK=0` turns the quick ACKs off: a
/// diagnostic for comparing against a server's delayed-ACK stalls, not a setting to tune.
fn connector(cfg: &S3Config) -> PreludeConnector {
    let quickack = std::env::var("ZK_QUICKACK").map_or(true, |v| v != "0");
    PreludeConnector { limits: limits(cfg), quickack }
}

/// object_store's retry loop (exponential backoff with decorrelated jitter, 100 ms to 15 s),
/// bounded by the configured attempts and time.
fn retry_config(cfg: &S3Config) -> RetryConfig {
    RetryConfig {
        max_retries: cfg.retry.max_attempts.saturating_sub(1) as usize,
        retry_timeout: cfg.retry.retry_timeout,
        ..Default::default()
    }
}

/// The same policy for the bucket-level requests sent here: the wait before retry `attempt`.
fn backoff(attempt: u32) -> Duration {
    use rand::{RngExt, SeedableRng};
    let cap = 100u64 << attempt.min(7);
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let ms = rand::rngs::SmallRng::seed_from_u64(seed).random_range(cap / 2..=cap);
    Duration::from_millis(ms.min(15_000))
}

/// The object_store client for one bucket, cached per configuration (this copy of the prelude).
pub(crate) fn bucket_store(cfg: &S3Config, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
    type Cache = Mutex<HashMap<(S3Config, String), Arc<dyn ObjectStore>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (cfg.clone(), bucket.to_string());
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = cache.get(&key) {
        return Ok(s.clone());
    }
    let mut b = AmazonS3Builder::new()
        .with_endpoint(&cfg.endpoint)
        .with_region(&cfg.region)
        .with_bucket_name(bucket)
        .with_virtual_hosted_style_request(false)
        .with_client_options(client_options(cfg))
        .with_http_connector(connector(cfg))
        .with_retry(retry_config(cfg));
    b = match &cfg.credentials {
        // Never fall through to instance-metadata lookups: anonymous means unsigned.
        None => b.with_skip_signature(true),
        Some(c) => b.with_credentials(Arc::new(Keys::new(c))),
    };
    let store: Arc<dyn ObjectStore> = Arc::new(b.build().map_err(|e| {
        Error::new(
            ErrorKind::Config,
            format!("cannot configure S3 client for bucket '{bucket}' at {}: {e}", cfg.endpoint),
        )
    })?);
    cache.insert(key, store.clone());
    Ok(store)
}

/// The keys a bucket's store signs with. object_store's own provider shows the whole key id in
/// the store's `Debug` (`format!("{:?}", fs.store("b")?)`); this one shows what `Credentials`
/// shows, at most 4 characters of it.
struct Keys {
    shown: Credentials,
    signing: Arc<AwsCredential>,
}

impl Keys {
    fn new(c: &Credentials) -> Keys {
        let signing = AwsCredential { key_id: c.key_id.clone(), secret_key: c.secret.clone(), token: c.token.clone() };
        Keys { shown: c.clone(), signing: Arc::new(signing) }
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.shown.fmt(f)
    }
}

#[async_trait::async_trait]
impl CredentialProvider for Keys {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        Ok(self.signing.clone())
    }
}

/// The client of bucket-level calls: the same pool as the bucket stores' (src/http.rs).
fn http_client(cfg: &S3Config) -> Result<HttpClient> {
    connector(cfg)
        .connect(&client_options(cfg))
        .map_err(|e| Error::new(ErrorKind::Config, format!("cannot create HTTP client: {e}")))
}

/// A response to a bucket-level request.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Bytes,
}

/// Send one signed (or, anonymous, unsigned) request to `{endpoint}/{path}?{query}`.
pub(crate) async fn request(
    cfg: &S3Config,
    method: Method,
    path: &str,
    query: &str,
    body: Bytes,
    content_md5: bool,
) -> Result<Reply> {
    let mut url = format!("{}/{}", cfg.endpoint, path);
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    let mut req = Request::builder().method(method.clone()).uri(&url);
    if content_md5 {
        use base64::Engine;
        use md5::Digest;
        let digest = md5::Md5::digest(&body);
        req = req.header("content-md5", base64::engine::general_purpose::STANDARD.encode(digest));
    }
    let mut req = req
        .body(HttpRequestBody::from(body))
        .map_err(|e| Error::invalid(format!("cannot build request for {url}: {e}")))?;
    if let Some(c) = &cfg.credentials {
        let cred = AwsCredential { key_id: c.key_id.clone(), secret_key: c.secret.clone(), token: c.token.clone() };
        AwsAuthorizer::new(&cred, "s3", &cfg.region)
            .try_authorize(&mut req, None)
            .map_err(|e| Error::new(ErrorKind::Auth, format!("cannot sign request for {url}: {e}")))?;
    }
    let client = http_client(cfg)?;
    // Bucket-level calls (list, create, delete, policy) are all safe to repeat.
    let start = std::time::Instant::now();
    let mut attempt = 1;
    loop {
        let may_retry = attempt < cfg.retry.max_attempts && start.elapsed() < cfg.retry.retry_timeout;
        let r = tokio::time::timeout(cfg.retry.timeout, client.execute(clone_request(&req))).await;
        let failure = match r {
            Ok(Ok(resp)) => {
                let status = resp.status().as_u16();
                let body = resp.into_body().bytes().await;
                match body {
                    Ok(body) if !(status >= 500 || status == 429) || !may_retry => return Ok(Reply { status, body }),
                    Ok(_) => format!("HTTP {status}"),
                    Err(e) => format!("{e}"),
                }
            }
            Ok(Err(e)) => {
                use object_store::client::HttpErrorKind as K;
                let text = error_chain(&e);
                if !matches!(e.kind(), K::Connect | K::Request | K::Interrupted | K::Timeout) {
                    return Err(classify(&text, method.as_str(), &url, cfg));
                }
                text
            }
            Err(_) => "timeout".to_string(),
        };
        if !may_retry {
            let tries = format!("{failure} (after {attempt} attempts)");
            return Err(classify(&tries, method.as_str(), &url, cfg));
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

fn clone_request(req: &Request<HttpRequestBody>) -> Request<HttpRequestBody> {
    let body = req.body().as_bytes().cloned().unwrap_or_default();
    let mut r = Request::new(HttpRequestBody::from(body));
    *r.method_mut() = req.method().clone();
    *r.uri_mut() = req.uri().clone();
    *r.headers_mut() = req.headers().clone();
    r
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

/// Turn any S3 failure text (an S3 error code, a status, a transport error) into one
/// actionable line. `what` is the operation, `target` the URL or `s3://` path it was on.
pub(crate) fn classify(text: &str, what: &str, target: &str, cfg: &S3Config) -> Error {
    // object_store's retry summary names its "retry_timeout" setting: not a timeout itself.
    let text = &text.replace("retry_timeout", "retry budget");
    let has = |s: &str| text.contains(s);
    // A status as servers and object_store write it ("403 Forbidden", "HTTP 403"), never a bare
    // number: retry summaries carry durations ("after 3 retries in 403.7ms").
    let status = |code: &str, reason: &str| has(&format!("{code} {reason}")) || has(&format!("HTTP {code}"));
    let ep = &cfg.endpoint;
    let server_failing =
        ["HTTP 5", "SlowDown", "500 Internal", "502 Bad", "503 Service", "504 Gateway", "HTTP 429", "429 Too"]
            .iter()
            .any(|p| has(p));
    let (kind, hint) = if has("SignatureDoesNotMatch") {
        (
            ErrorKind::Auth,
            format!(
                "the secret key does not match the key id (SignatureDoesNotMatch); check aws_secret_access_key for {}",
                cfg.source
            ),
        )
    } else if has("InvalidAccessKeyId") {
        (ErrorKind::Auth, format!("the server does not know this access key id (InvalidAccessKeyId); check aws_access_key_id from {} and that {ep} is the right endpoint", cfg.source))
    } else if has("AuthorizationHeaderMalformed") || has("InvalidRegion") {
        (ErrorKind::Config, format!("region '{}' was rejected; set AWS_REGION or .region(...) to the server's region (Jetstream 2: RegionOne)", cfg.region))
    } else if has("InvalidLocationConstraint") || has("IllegalLocationConstraint") {
        (ErrorKind::Config, format!("the server rejected region '{}' as the bucket location; set the region to the server's (Jetstream 2: RegionOne)", cfg.region))
    } else if has("NoSuchBucket") {
        (
            ErrorKind::NotFound,
            "no such bucket; fs.ls(\"\") lists your buckets, fs.mkdir(\"name\") creates one".to_string(),
        )
    } else if has("NoSuchKey") || has("not found") || status("404", "Not Found") && !status("403", "Forbidden") {
        (ErrorKind::NotFound, "no such key; check the path with fs.ls(...)".to_string())
    } else if has("AccessDenied") || status("403", "Forbidden") {
        let who = if cfg.is_anonymous() {
            "anonymous access is not allowed; use S3FileSystem::new() with credentials, or ask the owner to make it public".to_string()
        } else {
            "these credentials are not allowed to do this; check the bucket owner and its policy".to_string()
        };
        (ErrorKind::AccessDenied, format!("access denied: {who}"))
    } else if has("BucketAlreadyExists") {
        (
            ErrorKind::AlreadyExists,
            "that bucket name is taken by another user; bucket names are global, pick another".to_string(),
        )
    } else if has("BucketAlreadyOwnedByYou") {
        (ErrorKind::AlreadyExists, "you already own this bucket".to_string())
    } else if has("BucketNotEmpty") {
        (
            ErrorKind::InvalidInput,
            "the bucket is not empty; fs.rm_r(\"bucket\") removes it with its contents".to_string(),
        )
    } else if has("InvalidBucketName") {
        (ErrorKind::InvalidInput, "invalid bucket name; use 3-63 lowercase letters, digits, '-' and '.'".to_string())
    } else if has("dns error") || has("failed to lookup address") || has("Name or service not known") {
        (
            ErrorKind::Connection,
            format!("cannot resolve the host of {ep}; check the endpoint URL (AWS_ENDPOINT_URL) and your network"),
        )
    } else if has("Connection refused") || has("ConnectionRefused") || has("tcp connect error") {
        (
            ErrorKind::Connection,
            format!("connection refused by {ep}; check the endpoint's host and port and that the server is running"),
        )
    } else if ["certificate", "tls", "TLS", "InvalidContentType", "InvalidMessage", "HandshakeFailure", "AlertReceived"]
        .iter()
        .any(|p| has(p))
    {
        (ErrorKind::Tls, format!("TLS failure talking to {ep}; check the URL's scheme and port (https vs http) and the system's CA certificates"))
    } else if ["error sending request", "connection closed", "Connection reset", "onnection aborted", "Broken pipe"]
        .iter()
        .any(|p| has(p))
    {
        (
            ErrorKind::Connection,
            format!("the connection to {ep} broke through every retry (server down or restarting?); check that it is running, then retry"),
        )
    } else if server_failing {
        (
            ErrorKind::Connection,
            format!("{ep} kept answering with server errors (busy or failing) through every retry; retry later, or allow more attempts with AWS_MAX_ATTEMPTS"),
        )
    } else if has("timed out") || has("timeout") || has("Timeout") {
        (ErrorKind::Connection, format!("{ep} did not answer in time; retry, or check the network and endpoint"))
    } else {
        let short: String = text.chars().take(300).collect();
        (ErrorKind::Other, format!("{short}; check the endpoint ({ep}) and retry"))
    };
    Error::new(kind, format!("{what} {target} failed: {hint}"))
}

/// Map an object_store error on `target` to one actionable line.
pub(crate) fn from_object_store(e: &object_store::Error, what: &str, target: &str, cfg: &S3Config) -> Error {
    let text = error_chain(e);
    if matches!(e, object_store::Error::NotFound { .. }) && !text.contains("NoSuchBucket") {
        return Error::new(
            ErrorKind::NotFound,
            format!("{what} {target} failed: no such key; check the path with fs.ls(...)"),
        );
    }
    classify(&text, what, target, cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::S3ConfigBuilder;

    #[test]
    fn statuses_are_read_as_statuses_not_as_numbers_in_durations() {
        let cfg = S3ConfigBuilder::new().key("k", "s").env(HashMap::new()).build().unwrap();
        let kind = |text: &str| classify(text, "cat", "s3://b/k", &cfg).kind();
        let retried = "Error after 2 retries in 403.117ms, max_retries: 2, retry_timeout: 60s, source: Server \
                       returned non-2xx status code: 503 Service Unavailable: <Code>SlowDown</Code>";
        assert_eq!(kind(retried), ErrorKind::Connection);
        assert_eq!(kind(&retried.replace("403.117", "404.2")), ErrorKind::Connection);
        assert_eq!(kind("Client error with status 403 Forbidden: <Code>AccessDenied</Code>"), ErrorKind::AccessDenied);
        assert_eq!(kind("HTTP 403"), ErrorKind::AccessDenied);
        assert_eq!(kind("Client error with status 404 Not Found: "), ErrorKind::NotFound);
    }

    #[test]
    fn a_stores_debug_shows_no_key() {
        let (id, secret) = ("AKIAZKEXAMPLEKEYID42", "zk-secret-example-1234567890");
        let cfg = S3ConfigBuilder::new().key(id, secret).env(HashMap::new()).build().unwrap();
        let text = format!("{:?}", bucket_store(&cfg, "b").unwrap());
        assert!(!text.contains(id) && !text.contains(secret), "{text}");
        assert!(text.contains("AKIA…"), "the key id's first 4 characters, as everywhere: {text}");
    }
}
