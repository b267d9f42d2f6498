//! Where the object store is and who we are: resolved once, like the AWS CLI does.
//!
//! Order (first wins): explicit builder arguments; `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
//! `AWS_SESSION_TOKEN` (unless a profile was named explicitly); the profile (`AWS_PROFILE`, else
//! `default`) in `~/.aws/credentials` (`AWS_SHARED_CREDENTIALS_FILE`) and `~/.aws/config`
//! (`AWS_CONFIG_FILE`). Endpoint: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's
//! `endpoint_url`, else Jetstream 2. Region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's
//! `region`, else `RegionOne`. Attempts per request: `AWS_MAX_ATTEMPTS`, the profile's
//! `max_attempts`, else 7. Nothing below this module reads the environment or these files.

mod ini;

use crate::error::{Error, ErrorKind, Result};
use ini::IniFile;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Jetstream 2's object store (Ceph RGW, path-style, SigV4).
pub const JETSTREAM2_ENDPOINT: &str = "https://js2.jetstream-cloud.org:8001";
/// The region name Jetstream 2's RGW expects in signatures and bucket creation.
pub const JETSTREAM2_REGION: &str = "RegionOne";

/// An access key pair. Debug and Display never show the secret, and at most 4 chars of the key id.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Credentials {
    pub(crate) key_id: String,
    pub(crate) secret: String,
    pub(crate) token: Option<String>,
}

impl Credentials {
    /// Credentials from an access key id, a secret and an optional session token.
    pub fn new(key_id: impl Into<String>, secret: impl Into<String>, token: Option<String>) -> Self {
        Credentials { key_id: key_id.into(), secret: secret.into(), token }
    }

    /// The key id shortened for display: its first 4 characters and an ellipsis.
    pub fn key_id_hint(&self) -> String {
        let head: String = self.key_id.chars().take(4).collect();
        format!("{head}…")
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({}, secret: ***)", self.key_id_hint())
    }
}

/// How hard each request tries. Retried: 5xx and 429 answers (S3's `SlowDown` is a 503),
/// refused or reset connections, and timeouts of requests that are safe to repeat; never other
/// 4xx answers. Waits between attempts grow exponentially with jitter (100 ms to 15 s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (`AWS_MAX_ATTEMPTS`; default 7).
    pub max_attempts: u32,
    /// No new attempt starts after this long since the first (default 60 s).
    pub retry_timeout: Duration,
    /// One attempt's limit, from connecting to the last byte (default 120 s).
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 7, retry_timeout: Duration::from_secs(60), timeout: Duration::from_secs(120) }
    }
}

/// A resolved object-store configuration: endpoint, region and credentials (`None`: anonymous).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct S3Config {
    pub(crate) endpoint: String,
    pub(crate) region: String,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) source: String,
    pub(crate) retry: RetryPolicy,
}

impl S3Config {
    /// The endpoint URL, e.g. `https://js2.jetstream-cloud.org:8001`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
    /// The signing region, e.g. `RegionOne`.
    pub fn region(&self) -> &str {
        &self.region
    }
    /// True when requests are never signed.
    pub fn is_anonymous(&self) -> bool {
        self.credentials.is_none()
    }
    /// Where the credentials came from (e.g. `profile default in ~/.aws/credentials`).
    pub fn credentials_source(&self) -> &str {
        &self.source
    }
    /// Attempts, retry budget and timeout of each request.
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }
    /// The directory that stands in for the object store when the endpoint is `file:///dir`.
    pub fn local_root(&self) -> Option<&Path> {
        self.endpoint.strip_prefix("file://").map(Path::new)
    }
    pub(crate) fn allow_http(&self) -> bool {
        self.endpoint.starts_with("http://")
    }
}

impl fmt::Display for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.credentials {
            None => write!(f, "{} (region {}, anonymous)", self.endpoint, self.region),
            Some(c) => {
                write!(f, "{} (region {}, key {} from {})", self.endpoint, self.region, c.key_id_hint(), self.source)
            }
        }
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3Config({self})")
    }
}

/// Builds an `S3FileSystem` (`S3FileSystem::builder()`): endpoint, region, profile, keys,
/// anonymous, retries. Every setting is optional and falls back as the module docs say.
#[derive(Clone, Default)]
pub struct S3FileSystemBuilder {
    anon: bool,
    anon_if_no_credentials: bool,
    key_id: Option<String>,
    secret: Option<String>,
    token: Option<String>,
    profile: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    max_attempts: Option<u32>,
    retry_timeout: Option<Duration>,
    timeout: Option<Duration>,
    env: Option<HashMap<String, String>>,
}

impl fmt::Debug for S3FileSystemBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3FileSystemBuilder")
            .field("anon", &self.anon)
            .field("profile", &self.profile)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl S3FileSystemBuilder {
    /// A builder with nothing set.
    pub fn new() -> Self {
        Self::default()
    }
    /// Never sign requests, even when credentials exist in the environment or files.
    pub fn anon(mut self, anon: bool) -> Self {
        self.anon = anon;
        self
    }
    /// Use this access key pair.
    pub fn key(mut self, key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self.secret = Some(secret.into());
        self
    }
    /// Use this session token with the key pair.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
    /// Read this profile from the AWS files (overrides `AWS_PROFILE` and env keys).
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }
    /// Use this endpoint URL (`https://…`, or `http://…` for a local test server).
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }
    /// Use this region (Jetstream 2: `RegionOne`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
    /// Attempts per request, the first included (1: never retry).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n.max(1));
        self
    }
    /// Stop retrying a request this long after its first attempt.
    pub fn retry_timeout(mut self, d: Duration) -> Self {
        self.retry_timeout = Some(d);
        self
    }
    /// Give up on one attempt after this long.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }
    /// Resolve against this environment instead of the process's (tests, reproducible setups).
    pub fn env(mut self, vars: HashMap<String, String>) -> Self {
        self.env = Some(vars);
        self
    }
    /// Anonymous when no credentials are found, instead of an error: what reading a public
    /// `s3://` URL without a file system uses.
    pub(crate) fn anon_if_no_credentials(mut self) -> Self {
        self.anon_if_no_credentials = true;
        self
    }

    /// Resolve the configuration (`build()`, in fs.rs, makes the file system from it). Warns on
    /// stderr when the credentials file is readable by others.
    pub(crate) fn resolve(self) -> Result<S3Config> {
        let env = match &self.env {
            Some(vars) => vars.clone(),
            None => std::env::vars().collect(),
        };
        let get = |k: &str| env.get(k).filter(|v| !v.trim().is_empty()).map(|v| v.trim().to_string());
        let home = get("HOME").map(PathBuf::from);
        let aws_file = |var: &str, name: &str| -> Option<PathBuf> {
            get(var).map(PathBuf::from).or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
        };
        let creds_path = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
        let config_path = aws_file("AWS_CONFIG_FILE", "config");
        let creds_file = creds_path.as_deref().map(IniFile::load).transpose()?.flatten();
        let config_file = config_path.as_deref().map(IniFile::load).transpose()?.flatten();

        let profile_explicit = self.profile.is_some();
        let profile = self
            .profile
            .clone()
            .or_else(|| get("AWS_PROFILE"))
            .or_else(|| get("AWS_DEFAULT_PROFILE"))
            .unwrap_or_else(|| "default".to_string());
        let cred_section = creds_file.as_ref().and_then(|f| f.section(&profile));
        let conf_name = if profile == "default" { "default".to_string() } else { format!("profile {profile}") };
        let conf_section = config_file.as_ref().and_then(|f| f.section(&conf_name));
        let profile_named = profile_explicit || get("AWS_PROFILE").is_some();
        if profile_named && cred_section.is_none() && conf_section.is_none() && !self.anon {
            let known: Vec<String> = creds_file.iter().chain(config_file.iter()).flat_map(|f| f.names()).collect();
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "profile '{profile}' not found in {} or {} (profiles there: {}); add a [{profile}] section or set AWS_PROFILE to one of those",
                    show(creds_path.as_deref()),
                    show(config_path.as_deref()),
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ),
            ));
        }
        let from_profile = |key: &str| -> Option<String> {
            cred_section.and_then(|s| s.get(key)).or_else(|| conf_section.and_then(|s| s.get(key))).cloned()
        };

        let endpoint = self
            .endpoint
            .clone()
            .or_else(|| get("AWS_ENDPOINT_URL_S3"))
            .or_else(|| get("AWS_ENDPOINT_URL"))
            .or_else(|| conf_section.and_then(|s| s.get("s3.endpoint_url").or_else(|| s.get("endpoint_url"))).cloned())
            .unwrap_or_else(|| JETSTREAM2_ENDPOINT.to_string());
        let endpoint = check_endpoint(&endpoint)?;
        let region = self
            .region
            .clone()
            .or_else(|| get("AWS_REGION"))
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .or_else(|| conf_section.and_then(|s| s.get("region")).cloned())
            .unwrap_or_else(|| JETSTREAM2_REGION.to_string());

        let attempts_text =
            get("AWS_MAX_ATTEMPTS").or_else(|| conf_section.and_then(|s| s.get("max_attempts")).cloned());
        let max_attempts = match (self.max_attempts, attempts_text) {
            (Some(n), _) => n,
            (None, Some(t)) => match t.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(Error::new(
                        ErrorKind::Config,
                        format!("max_attempts '{t}' (AWS_MAX_ATTEMPTS or the profile's max_attempts) is not a whole number >= 1; set e.g. 5"),
                    ))
                }
            },
            (None, None) => RetryPolicy::default().max_attempts,
        };
        let retry = RetryPolicy {
            max_attempts,
            retry_timeout: self.retry_timeout.unwrap_or(RetryPolicy::default().retry_timeout),
            timeout: self.timeout.unwrap_or(RetryPolicy::default().timeout),
        };
        let (credentials, source) = if self.anon {
            (None, String::new())
        } else if let (Some(k), Some(s)) = (&self.key_id, &self.secret) {
            (Some(Credentials::new(k, s, self.token.clone())), "arguments".to_string())
        } else if let (false, Some(k), Some(s)) =
            (profile_explicit, get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"))
        {
            (Some(Credentials::new(k, s, get("AWS_SESSION_TOKEN"))), "environment (AWS_ACCESS_KEY_ID)".to_string())
        } else {
            match (from_profile("aws_access_key_id"), from_profile("aws_secret_access_key")) {
                (Some(k), Some(s)) => {
                    let file = if cred_section.and_then(|c| c.get("aws_access_key_id")).is_some() {
                        creds_path.as_deref()
                    } else {
                        config_path.as_deref()
                    };
                    if let Some(f) = file {
                        warn_if_shared(f);
                    }
                    (Some(Credentials::new(k, s, from_profile("aws_session_token"))), format!("profile {profile} in {}", show(file)))
                }
                (Some(_), None) | (None, Some(_)) => {
                    return Err(Error::new(
                        ErrorKind::Config,
                        format!(
                            "profile '{profile}' in {} has only one of aws_access_key_id / aws_secret_access_key; add the missing line",
                            show(creds_path.as_deref())
                        ),
                    ))
                }
                (None, None) => (None, String::new()),
            }
        };
        let source = match &credentials {
            Some(_) => source,
            None if self.anon || self.anon_if_no_credentials => "anonymous".into(),
            // A local directory store has nothing to sign.
            None if endpoint.starts_with("file://") => "none needed (local directory store)".into(),
            None => {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "no credentials found (looked at explicit keys, AWS_ACCESS_KEY_ID, profile '{profile}' in {}); \
                         for public data use S3FileSystem::anon(), else put keys in ~/.aws/credentials \
                         (on Jetstream 2: openstack ec2 credentials create)",
                        show(creds_path.as_deref())
                    ),
                ))
            }
        };
        Ok(S3Config { endpoint, region, credentials, source, retry })
    }
}

fn show(p: Option<&Path>) -> String {
    p.map(|p| p.display().to_string()).unwrap_or_else(|| "~/.aws (HOME unset)".into())
}

fn check_endpoint(url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    if let Some(dir) = url.trim().strip_prefix("file://") {
        // A directory standing in for the object store: each subdirectory is a bucket.
        return match dir.trim_end_matches('/') {
            d if d.starts_with('/') && d.len() > 1 => Ok(format!("file://{d}")),
            _ => Err(Error::new(
                ErrorKind::Config,
                format!("invalid endpoint URL '{url}'; a local directory store needs an absolute path, e.g. file:///home/me/s3"),
            )),
        };
    }
    let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) && !host.contains('/') => {
            Ok(trimmed.to_string())
        }
        _ => Err(Error::new(
            ErrorKind::Config,
            format!("invalid endpoint URL '{url}'; use scheme://host[:port] with no path, e.g. {JETSTREAM2_ENDPOINT}"),
        )),
    }
}

fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            eprintln!(
                "warning: {} is readable by other users (mode {mode:o}); run: chmod 600 {}",
                path.display(),
                path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_to_jetstream2_anonymous() {
        let c = S3FileSystemBuilder::new().anon(true).env(env(&[])).resolve().unwrap();
        assert_eq!(c.endpoint(), JETSTREAM2_ENDPOINT);
        assert_eq!(c.region(), JETSTREAM2_REGION);
        assert!(c.is_anonymous());
    }

    #[test]
    fn no_credentials_is_an_error_unless_reading_may_go_anonymous() {
        let e = S3FileSystemBuilder::new().env(env(&[])).resolve().unwrap_err();
        assert!(e.kind() == ErrorKind::Config && e.message().contains("S3FileSystem::anon()"), "{e}");
        let c = S3FileSystemBuilder::new().anon_if_no_credentials().env(env(&[])).resolve().unwrap();
        assert!(c.is_anonymous());
        let keys = env(&[("AWS_ACCESS_KEY_ID", "AKIAK"), ("AWS_SECRET_ACCESS_KEY", "s")]);
        assert!(!S3FileSystemBuilder::new().anon_if_no_credentials().env(keys).resolve().unwrap().is_anonymous());
    }

    #[test]
    fn attempts_from_env_then_profile_then_default() {
        let home = std::env::temp_dir().join(format!("zk-cfg-{}", std::process::id()));
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        std::fs::write(home.join(".aws/config"), "[default]\nmax_attempts = 3\n").unwrap();
        let h = home.display().to_string();
        let c = S3FileSystemBuilder::new().anon(true).env(env(&[("HOME", &h)])).resolve().unwrap();
        assert_eq!(c.retry().max_attempts, 3);
        let c = S3FileSystemBuilder::new()
            .anon(true)
            .env(env(&[("HOME", &h), ("AWS_MAX_ATTEMPTS", "5")]))
            .resolve()
            .unwrap();
        assert_eq!(c.retry().max_attempts, 5);
        let c = S3FileSystemBuilder::new().anon(true).max_attempts(1).env(env(&[("HOME", &h)])).resolve().unwrap();
        assert_eq!(c.retry().max_attempts, 1);
        assert_eq!(
            S3FileSystemBuilder::new().anon(true).env(env(&[])).resolve().unwrap().retry(),
            RetryPolicy::default()
        );
        std::fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn endpoint_must_be_scheme_and_host() {
        assert!(check_endpoint("js2.jetstream-cloud.org:8001").is_err());
        assert!(check_endpoint("https://host/path").is_err());
        assert_eq!(check_endpoint("http://127.0.0.1:80/").unwrap(), "http://127.0.0.1:80");
        assert_eq!(check_endpoint("file:///tmp/s3/").unwrap(), "file:///tmp/s3");
        assert!(check_endpoint("file://relative/dir").is_err());
    }

    #[test]
    fn debug_never_shows_secret() {
        let c = Credentials::new("AKIAEXAMPLE", "supersecretvalue", Some("tok".into()));
        let s = format!("{c:?}");
        assert!(!s.contains("supersecret") && !s.contains("AKIAEX") && s.contains("AKIA"), "{s}");
    }
}
