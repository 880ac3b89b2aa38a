//! The one HTTP client used for every measurement (hyper 1 + hyper-util's
//! pooled client, keep-alive, TCP_NODELAY), request bodies made of `Bytes`
//! pieces (multipart preamble + a slice of the shared data buffer + epilogue,
//! no copies), and the in-process sink server for the loopback ceiling.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{HeaderMap, Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// A request body sent as a sequence of `Bytes` frames (each written as is).
pub struct Parts {
    frames: VecDeque<Bytes>,
    remaining: u64,
}

impl Parts {
    pub fn new<I: IntoIterator<Item = Bytes>>(frames: I) -> Self {
        let frames: VecDeque<Bytes> = frames.into_iter().filter(|b| !b.is_empty()).collect();
        let remaining = frames.iter().map(|b| b.len() as u64).sum();
        Parts { frames, remaining }
    }
    pub fn empty() -> Self {
        Parts {
            frames: VecDeque::new(),
            remaining: 0,
        }
    }
    pub fn len(&self) -> u64 {
        self.remaining
    }
}

impl Body for Parts {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.frames.pop_front() {
            Some(b) => {
                self.remaining -= b.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(b))))
            }
            None => Poll::Ready(None),
        }
    }
    fn is_end_stream(&self) -> bool {
        self.frames.is_empty()
    }
    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

pub type HttpClient = Client<HttpConnector, Parts>;

pub fn new_client() -> HttpClient {
    let mut conn = HttpConnector::new();
    conn.set_nodelay(true);
    conn.set_connect_timeout(Some(Duration::from_secs(10)));
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(256)
        .pool_idle_timeout(Duration::from_secs(30))
        .build(conn)
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    /// The body for error messages (first 300 bytes, lossy).
    pub fn excerpt(&self) -> String {
        let b = &self.body[..self.body.len().min(300)];
        String::from_utf8_lossy(b).replace('\n', " ")
    }
    /// name -> value of every Set-Cookie.
    pub fn set_cookies(&self) -> Vec<(String, String)> {
        self.headers
            .get_all(hyper::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| {
                let first = v.split(';').next()?;
                let (k, val) = first.split_once('=')?;
                Some((k.trim().to_string(), val.trim().to_string()))
            })
            .collect()
    }
}

/// Send one request and read the whole answer, within `timeout`.
pub async fn send(client: &HttpClient, req: Request<Parts>, timeout: Duration) -> Result<Resp> {
    let what = format!("{} {}", req.method(), req.uri());
    let fut = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| anyhow!("{what}: {e:?}"))?;
        let (head, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .with_context(|| format!("{what}: reading the answer"))?
            .to_bytes();
        Ok::<_, anyhow::Error>(Resp {
            status: head.status,
            headers: head.headers,
            body,
        })
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(anyhow!("{what}: no complete answer within {timeout:?}")),
    }
}

async fn sink(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let mut body = req.into_body();
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(d) = frame?.into_data() {
            n += d.len() as u64;
        }
    }
    Ok(Response::new(Full::new(Bytes::from(format!(
        "{{\"received\": {n}}}"
    )))))
}

/// A trivial HTTP/1.1 server on 127.0.0.1 that reads and discards request
/// bodies, on its own thread with its own single-threaded runtime (like a
/// separate one-core server process, but inside the bench process: its CPU
/// counts as client CPU). Returns its port; it lives until the process exits.
pub fn start_sink() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    std::thread::Builder::new()
        .name("sink".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("sink runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("sink listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(
                                TokioIo::new(stream),
                                hyper::service::service_fn(sink),
                            )
                            .await;
                    });
                }
            });
        })?;
    Ok(port)
}
