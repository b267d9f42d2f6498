//! The S3 clients: object_store's for objects (one per bucket, cached), and SigV4-signed
//! requests (object_store's own signer and HTTP client, so one HTTP/TLS stack) for the
//! bucket-level calls it lacks.

use super::cause::{describe, Cause};
use crate::config::{Credentials, S3Config};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Failure, Limits, PreludeConnector};
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

/// The prelude's HTTP stack (src/http/). `ZK_QUICKACK=0` turns the quick ACKs off: a
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

/// The client of bucket-level calls: the same pool as the bucket stores' (src/http/).
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
                    Ok(body) => Cause::of_reply(status, &body),
                    Err(e) => Cause::of_http(&e),
                }
            }
            Ok(Err(e)) => {
                use object_store::client::HttpErrorKind as K;
                if !matches!(e.kind(), K::Connect | K::Request | K::Interrupted | K::Timeout) {
                    return Err(describe(&Cause::of_http(&e), method.as_str(), &url, cfg));
                }
                Cause::of_http(&e)
            }
            Err(_) => Cause::Transport(Failure::Timeout),
        };
        if !may_retry {
            return Err(describe(&failure, method.as_str(), &url, cfg));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::S3FileSystemBuilder;

    #[test]
    fn a_stores_debug_shows_no_key() {
        let (id, secret) = ("AKIAZKEXAMPLEKEYID42", "zk-secret-example-1234567890");
        let cfg = S3FileSystemBuilder::new().key(id, secret).env(HashMap::new()).resolve().unwrap();
        let text = format!("{:?}", bucket_store(&cfg, "b").unwrap());
        assert!(!text.contains(id) && !text.contains(secret), "{text}");
        assert!(text.contains("AKIA…"), "the key id's first 4 characters, as everywhere: {text}");
    }
}
