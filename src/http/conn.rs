//! A connection that says nothing while no request is in flight is closed
//! after READ_TIMEOUT, so silent or idle keep-alive clients cannot hold the
//! MAX_CONNECTIONS slots. (hyper's header timeout starts only at the first
//! byte; a request's body has its own timeout in `read_timeout`.)
//!
//! A connection hyper is done with closes lingeringly, as nginx's
//! `lingering_close`: see `linger`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Sleep;

/// Requests in flight on one connection.
#[derive(Clone, Default)]
pub struct InFlight(Arc<AtomicUsize>);

/// Held while a request is being served.
pub struct Busy(Arc<AtomicUsize>);

impl InFlight {
    pub fn enter(&self) -> Busy {
        self.0.fetch_add(1, Ordering::AcqRel);
        Busy(self.0.clone())
    }
    fn idle(&self) -> bool {
        self.0.load(Ordering::Acquire) == 0
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The connection's socket as hyper sees it. When hyper drops it, the
/// socket lingers (unless it was closed for silence) and only then gives its
/// MAX_CONNECTIONS slot back.
pub struct IdleTimeout {
    /// `None` once handed to `linger`.
    inner: Option<TcpStream>,
    in_flight: InFlight,
    limit: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
    /// The connection was closed for saying nothing: no lingering.
    timed_out: bool,
    slot: Option<OwnedSemaphorePermit>,
}

impl IdleTimeout {
    pub fn new(
        inner: TcpStream,
        in_flight: InFlight,
        limit: Duration,
        slot: OwnedSemaphorePermit,
    ) -> Self {
        IdleTimeout {
            inner: Some(inner),
            in_flight,
            limit,
            deadline: None,
            timed_out: false,
            slot: Some(slot),
        }
    }

    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(self.inner.as_mut().expect("socket present until drop"))
    }
}

impl Drop for IdleTimeout {
    fn drop(&mut self) {
        let (Some(stream), Ok(runtime)) =
            (self.inner.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let slot = self.slot.take();
        if self.timed_out {
            return;
        }
        let silence = self.limit.min(LINGERING_TIMEOUT);
        runtime.spawn(async move {
            linger(stream, silence).await;
            drop(slot);
        });
    }
}

/// nginx's `lingering_time` (30 s): the longest a closing connection keeps
/// reading what its client still sends.
pub const LINGERING_TIME: Duration = Duration::from_secs(30);
/// nginx's `lingering_timeout` (5 s), or READ_TIMEOUT when shorter: the
/// longest the client may stay silent while the connection lingers.
pub const LINGERING_TIMEOUT: Duration = Duration::from_secs(5);

/// Close as nginx's `lingering_close`: send FIN after the answer, then read
/// and discard until the client closes too. A request refused before its
/// body was read (a field over DATA_UPLOAD_MAX_MEMORY_SIZE, a CSRF 403, …)
/// leaves the client still sending; closing a socket with unread data makes
/// the kernel send RST, which can destroy the answer before the client reads
/// it. Bounds, so a client cannot hold the socket: `LINGERING_TIME` in all
/// and `silence` between reads, as nginx does. There is no byte bound: time
/// bounds the bytes, and a legitimate client sending a large chunk on a
/// fast link must be read to its end to see the answer. The connection
/// keeps its MAX_CONNECTIONS slot meanwhile, so lingering sockets are
/// bounded too.
async fn linger(mut stream: TcpStream, silence: Duration) {
    let _ = stream.shutdown().await;
    let give_up = tokio::time::Instant::now() + LINGERING_TIME;
    let mut discard = vec![0u8; 64 * 1024];
    loop {
        let wait = silence.min(give_up.saturating_duration_since(tokio::time::Instant::now()));
        match tokio::time::timeout(wait, stream.read(&mut discard)).await {
            Ok(Ok(n)) if n > 0 => continue,
            _ => return,
        }
    }
}

impl AsyncRead for IdleTimeout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.stream().poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.deadline = None;
                Poll::Ready(r)
            }
            Poll::Pending if !this.in_flight.idle() => {
                this.deadline = None;
                Poll::Pending
            }
            Poll::Pending => {
                let limit = this.limit;
                let sleep = this
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.timed_out = true;
                        Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "idle connection",
                        )))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl AsyncWrite for IdleTimeout {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream().poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream().poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.as_ref().is_some_and(|s| s.is_write_vectored())
    }
}
