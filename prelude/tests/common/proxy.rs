//! A fault-injecting HTTP proxy on loopback, in front of the RGW: it answers some requests with
//! S3's `503 SlowDown`, drops connections before or after the server acts, delays others, and
//! cuts responses short. One request per connection (it forces `Connection: close`), so every
//! request meets the plan afresh. Counts what it did, and how many requests carried a signature.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forward it unchanged.
    None,
    /// Answer `503 SlowDown` without forwarding.
    SlowDown,
    /// Close the connection without forwarding or answering.
    Drop,
    /// Wait 200 ms, then forward.
    Delay,
    /// Forward, then send only half of a GET's response body.
    Truncate,
    /// Forward (the server acts), then close without answering.
    DropAfterForward,
}

/// Every fifth request meets a fault, in rotation.
pub fn mixed(n: u64) -> Fault {
    match n % 25 {
        3 => Fault::SlowDown,
        8 => Fault::Drop,
        13 => Fault::Delay,
        18 => Fault::Truncate,
        23 => Fault::DropAfterForward,
        _ => Fault::None,
    }
}

/// Every request gets `503 SlowDown`: a server that never recovers.
pub fn always_slow_down(_: u64) -> Fault {
    Fault::SlowDown
}

#[derive(Default, Debug)]
pub struct Stats {
    pub requests: AtomicU64,
    pub slow_down: AtomicU64,
    pub dropped: AtomicU64,
    pub delayed: AtomicU64,
    pub truncated: AtomicU64,
    pub dropped_after_forward: AtomicU64,
    pub signed: AtomicU64,
}

impl Stats {
    pub fn faults(&self) -> u64 {
        [&self.slow_down, &self.dropped, &self.delayed, &self.truncated, &self.dropped_after_forward]
            .iter()
            .map(|c| c.load(Relaxed))
            .sum()
    }
    pub fn summary(&self) -> String {
        format!(
            "{} requests; faults: {} SlowDown, {} dropped, {} delayed, {} truncated, {} dropped after the server acted",
            self.requests.load(Relaxed),
            self.slow_down.load(Relaxed),
            self.dropped.load(Relaxed),
            self.delayed.load(Relaxed),
            self.truncated.load(Relaxed),
            self.dropped_after_forward.load(Relaxed)
        )
    }
}

pub struct Proxy {
    /// `http://127.0.0.1:PORT`, to use as the endpoint.
    pub endpoint: String,
    pub stats: Arc<Stats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Listen on a free loopback port and forward to `upstream` (`http://host:port`).
    pub fn start(upstream: &str, plan: fn(u64) -> Fault) -> Proxy {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let stats = Arc::new(Stats::default());
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel();
        let st = stats.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        conn = listener.accept() => {
                            let Ok((client, _)) = conn else { continue };
                            tokio::spawn(serve(client, upstream.clone(), plan, st.clone()));
                        }
                    }
                }
            });
        });
        let addr = rx.recv().unwrap();
        Proxy { endpoint: format!("http://{addr}"), stats, stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(mut client: TcpStream, upstream: String, plan: fn(u64) -> Fault, stats: Arc<Stats>) {
    let Some((head, body)) = read_request(&mut client).await else { return };
    let n = stats.requests.fetch_add(1, Relaxed);
    let text = String::from_utf8_lossy(&head).to_string();
    if text.lines().any(|l| l.to_ascii_lowercase().starts_with("authorization:")) {
        stats.signed.fetch_add(1, Relaxed);
    }
    let is_get = text.starts_with("GET ");
    let is_object = text.split_whitespace().nth(1).is_some_and(|p| p.trim_start_matches('/').contains('/'));
    let fault = match plan(n) {
        Fault::Truncate if !is_get => Fault::None,
        Fault::DropAfterForward if !is_object => Fault::None,
        f => f,
    };
    match fault {
        Fault::SlowDown => {
            stats.slow_down.fetch_add(1, Relaxed);
            let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
            let reply = format!(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                xml.len()
            );
            let _ = client.write_all(reply.as_bytes()).await;
            return;
        }
        Fault::Drop => {
            stats.dropped.fetch_add(1, Relaxed);
            return;
        }
        Fault::Delay => {
            stats.delayed.fetch_add(1, Relaxed);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        _ => {}
    }
    let Ok(mut up) = TcpStream::connect(&upstream).await else { return };
    if up.write_all(&with_close(&head)).await.is_err() || up.write_all(&body).await.is_err() {
        return;
    }
    let mut response = Vec::new();
    if up.read_to_end(&mut response).await.is_err() {
        return;
    }
    let Some(split) = find(&response, b"\r\n\r\n") else { return };
    let (rhead, rbody) = (&response[..split + 4], &response[split + 4..]);
    match fault {
        Fault::DropAfterForward => {
            stats.dropped_after_forward.fetch_add(1, Relaxed);
        }
        Fault::Truncate if rbody.len() >= 64 => {
            stats.truncated.fetch_add(1, Relaxed);
            let _ = client.write_all(&with_close(rhead)).await;
            let _ = client.write_all(&rbody[..rbody.len() / 2]).await;
        }
        _ => {
            let _ = client.write_all(&with_close(rhead)).await;
            let _ = client.write_all(rbody).await;
        }
    }
    let _ = client.shutdown().await;
}

/// The request head (through the blank line) and its `Content-Length` body.
async fn read_request(s: &mut TcpStream) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let split = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    assert!(
        !head.to_ascii_lowercase().contains("transfer-encoding: chunked"),
        "proxy handles Content-Length bodies only"
    );
    let mut body = buf[split..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((buf[..split].to_vec(), body))
}

/// The same head with `Connection: close` (and no keep-alive).
fn with_close(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<&str> = text
        .trim_end_matches("\r\n")
        .split("\r\n")
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            !l.starts_with("connection:") && !l.starts_with("keep-alive:")
        })
        .collect();
    lines.push("Connection: close");
    format!("{}\r\n\r\n", lines.join("\r\n")).into_bytes()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
