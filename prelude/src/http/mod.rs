//! The HTTP client under object_store: hyper over TCP sockets that acknowledge what they read at
//! once (TCP_QUICKACK re-armed after every read).
//!
//! Why: Ceph RGW's beast frontend ships with Nagle's algorithm on (`tcp_nodelay` is off unless an
//! operator sets it) and writes a response's headers and its body separately. On a kept-alive
//! connection the body then waits until the client acknowledges the headers, and Linux delays
//! that ACK by 40 ms or more: every small GET after a connection's first one stalls. reqwest keeps
//! its sockets to itself, so this client owns them. With a proxy configured in the environment
//! (which this client does not speak) object_store's reqwest client is used as before.

mod failure;

use crate::error::{error_chain, find_cause};
use failure::{connect_error, http_error, timed_out};
pub(crate) use failure::{Failure, Transport};
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpRequest, HttpRequestBody, HttpResponse, HttpResponseBody, HttpService,
    ReqwestConnector,
};
use object_store::ClientOptions;
use std::collections::HashMap;
use std::future::Future;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;

use http_body::{Body, Frame};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector as TcpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

/// Connection and request limits of the clients this module makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Limits {
    /// Time to open a TCP connection.
    pub connect_timeout: Duration,
    /// Time from sending a request to the end of its response body.
    pub timeout: Duration,
    /// Idle connections kept per host (reused by the next requests).
    pub max_idle_per_host: usize,
    /// TLS, for an https endpoint (only then is the CA store loaded).
    pub tls: bool,
}

/// object_store's [`HttpConnector`] for the prelude: [`QuickAckClient`], or reqwest when the
/// environment names an HTTP proxy.
#[derive(Debug)]
pub(crate) struct PreludeConnector {
    pub limits: Limits,
    /// Re-arm TCP_QUICKACK after each read (off only to show what it fixes).
    pub quickack: bool,
}

impl HttpConnector for PreludeConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        if proxy_configured() {
            return ReqwestConnector::default().connect(options);
        }
        shared_client(self.limits, self.quickack)
            .map_err(|e| object_store::Error::Generic { store: "S3", source: e.into() })
    }
}

/// One pool per set of limits, shared by every bucket's store and the bucket-level calls: the
/// next bucket reuses warm connections (and, over https, the CA store loaded once).
fn shared_client(limits: Limits, quickack: bool) -> Result<HttpClient, rustls::Error> {
    type Clients = Mutex<HashMap<(Limits, bool), HttpClient>>;
    static CLIENTS: OnceLock<Clients> = OnceLock::new();
    let mut clients = CLIENTS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = clients.get(&(limits, quickack)) {
        return Ok(c.clone());
    }
    let client = HttpClient::new(QuickAckClient::new(limits, quickack)?);
    clients.insert((limits, quickack), client.clone());
    Ok(client)
}

/// reqwest reads these; a client that ignored them would bypass a site's proxy.
fn proxy_configured() -> bool {
    ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

type Https = hyper_rustls::HttpsConnector<QuickAckConnect>;

/// hyper's pooled HTTP/1.1 client, over rustls (the system's CA store, as reqwest verifies) for
/// an https endpoint. A plain-HTTP endpoint gets no TLS at all: loading the CA store costs
/// ~14 ms, paid by the first request of every process.
#[derive(Debug, Clone)]
pub(crate) struct QuickAckClient {
    client: Pool,
    timeout: Duration,
}

#[derive(Debug, Clone)]
enum Pool {
    Plain(Client<QuickAckConnect, HttpRequestBody>),
    Tls(Client<Https, HttpRequestBody>),
}

impl QuickAckClient {
    pub(crate) fn new(limits: Limits, quickack: bool) -> Result<Self, rustls::Error> {
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(limits.connect_timeout));
        let tcp = QuickAckConnect { tcp, quickack };
        let mut pool = Client::builder(TokioExecutor::new());
        pool.pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(limits.max_idle_per_host);
        let client = if limits.tls {
            use rustls_platform_verifier::BuilderVerifierExt;
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let tls = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .with_platform_verifier()?
                .with_no_client_auth();
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http()
                .enable_http1()
                .wrap_connector(tcp);
            Pool::Tls(pool.build(https))
        } else {
            Pool::Plain(pool.build(tcp))
        };
        Ok(Self { client, timeout: limits.timeout })
    }
}

#[async_trait::async_trait]
impl HttpService for QuickAckClient {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let sent = match &self.client {
            Pool::Plain(c) => c.request(req),
            Pool::Tls(c) => c.request(req),
        };
        let resp = match tokio::time::timeout_at(deadline, sent).await {
            Ok(r) => r.map_err(|e| http_error(Box::new(e)))?,
            Err(_) => return Err(timed_out(self.timeout)),
        };
        let (parts, body) = resp.into_parts();
        let body = Deadline { body, sleep: Box::pin(tokio::time::sleep_until(deadline)), timeout: self.timeout };
        Ok(HttpResponse::from_parts(parts, HttpResponseBody::new(body)))
    }
}

/// A response body that fails with a timeout once the request's deadline passes (reqwest's
/// `timeout` covers the body too; a server that stalls mid-body must not hang a read).
struct Deadline {
    body: hyper::body::Incoming,
    sleep: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl Body for Deadline {
    type Data = bytes::Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, HttpError>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(|e| http_error(Box::new(e)))));
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(timed_out(self.timeout)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// hyper's TCP connector, with each connection wrapped in [`QuickAck`].
#[derive(Debug, Clone)]
pub(crate) struct QuickAckConnect {
    tcp: TcpConnector,
    quickack: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Uri> for QuickAckConnect {
    type Response = QuickAck;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<QuickAck, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.tcp.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.tcp.call(uri.clone());
        let quickack = self.quickack;
        Box::pin(async move {
            match connecting.await {
                Ok(io) => Ok(QuickAck { io, quickack }),
                Err(e) => {
                    let (io, text) = (find_cause::<std::io::Error>(&e).map(std::io::Error::kind), error_chain(&e));
                    Err(Box::new(connect_error(&uri, io, text).await) as BoxError)
                }
            }
        })
    }
}

/// A TCP connection that acknowledges received data immediately: Linux leaves quick-ACK mode
/// on its own (it is not a sticky option), so it is set again after every read.
#[derive(Debug)]
pub(crate) struct QuickAck {
    io: TokioIo<TcpStream>,
    quickack: bool,
}

impl QuickAck {
    fn ack_now(&self) {
        if !self.quickack {
            return;
        }
        let fd = self.io.inner().as_raw_fd();
        let on: libc::c_int = 1;
        // SAFETY: a valid socket fd and a c_int option of the right size. A failure only means
        // the delayed-ACK default stays, so it is ignored.
        unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_QUICKACK,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

impl Read for QuickAck {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: ReadBufCursor<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if r.is_ready() {
            self.ack_now();
        }
        r
    }
}

impl Write for QuickAck {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

impl Connection for QuickAck {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};

    /// Requests on one kept-alive connection; the first is quick-ACKed by Linux anyway.
    const REQUESTS: usize = 6;

    /// A server like Ceph's stock beast frontend: Nagle on, a response's headers and body in two
    /// writes. For each request on a reused connection (the ones Linux delays ACKs on) it records
    /// whether the client acknowledged the headers within 30 ms, before the delayed ACK (40 ms at
    /// least) would have. Serves every connection the client opens (a pool may open a second).
    fn stock_beast() -> (u16, std::thread::JoinHandle<Vec<bool>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let served = Arc::new(Mutex::new((0usize, Vec::new())));
            let mut handlers = Vec::new();
            while served.lock().unwrap().0 < REQUESTS {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let served = served.clone();
                        handlers.push(std::thread::spawn(move || serve(conn, &served)));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(1)),
                }
            }
            drop(handlers); // idle connections stay open until the client drops them
            let acked = served.lock().unwrap().1.clone();
            acked
        });
        (port, server)
    }

    /// Answer requests on `conn` until it closes, recording the reused ones' ACK times.
    fn serve(mut conn: std::net::TcpStream, served: &Mutex<(usize, Vec<bool>)>) {
        conn.set_nonblocking(false).unwrap();
        for n in 0.. {
            let mut req = Vec::new();
            let mut byte = [0u8; 1];
            while !req.ends_with(b"\r\n\r\n") {
                if conn.read_exact(&mut byte).is_err() {
                    return;
                }
                req.push(byte[0]);
            }
            conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 16\r\n\r\n").unwrap();
            let t = std::time::Instant::now();
            let fast = loop {
                let mut unacked: libc::c_int = 0;
                // SAFETY: TIOCOUTQ writes one c_int, the bytes not yet acknowledged.
                unsafe { libc::ioctl(conn.as_raw_fd(), libc::TIOCOUTQ, &mut unacked) };
                if unacked == 0 {
                    break true;
                }
                if t.elapsed() > Duration::from_millis(30) {
                    break false;
                }
                std::thread::sleep(Duration::from_micros(200));
            };
            {
                let mut s = served.lock().unwrap();
                s.0 += 1;
                if n > 0 {
                    s.1.push(fast);
                }
            }
            if conn.write_all(b"0123456789abcdef").is_err() {
                return;
            }
        }
    }

    /// Whether each request's headers were acknowledged at once, with quick ACKs on or off.
    fn acks(quickack: bool) -> Vec<bool> {
        let (port, server) = stock_beast();
        let limits = Limits {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            max_idle_per_host: 4,
            tls: false,
        };
        let client = QuickAckClient::new(limits, quickack).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        rt.block_on(async {
            for _ in 0..REQUESTS {
                let req =
                    http::Request::get(format!("http://127.0.0.1:{port}/k")).body(HttpRequestBody::empty()).unwrap();
                let body = client.call(req).await.unwrap().into_body().bytes().await.unwrap();
                assert_eq!(&body[..], b"0123456789abcdef");
                // Let the pool take the connection back, so the next request reuses it.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        });
        server.join().unwrap()
    }

    #[test]
    fn headers_are_acknowledged_at_once_on_a_reused_connection() {
        // Without quick ACKs the stall is real on this kernel (else the test proves nothing)...
        let off = acks(false);
        assert!(off.len() >= 3, "too few requests reused a connection: {off:?}");
        assert!(off.iter().filter(|&&fast| !fast).count() * 5 >= off.len() * 3, "no delayed ACK to fix here: {off:?}");
        // ... and with them the server never waits for the delayed ACK.
        let on = acks(true);
        assert!(on.len() >= 3, "too few requests reused a connection: {on:?}");
        assert!(
            on.iter().filter(|&&fast| fast).count() * 5 >= on.len() * 4,
            "headers waited for a delayed ACK: {on:?}"
        );
    }
}
