//! Connections: letting them in ([`super::admission`]), serving each with hyper, closing
//! them in stages so a client still sending reads its answer, and the idle watchdog that
//! closes one doing nothing (hyper bounds only the wait for a request head, not a keep-alive
//! connection left open or a client that stops reading).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::Response;
use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::admission::{Admission, Phase, Refused, Slot};
use super::answer::{Style, closing, unavailable};
use super::service::Service;

/// How often a connection's watchdog looks at its activity.
const WATCH_PERIOD: Duration = Duration::from_millis(250);

/// How long a connection taken to make room may take to finish writing before it is dropped.
const EVICT_GRACE: Duration = Duration::from_millis(250);

/// Accepts connections until `stopping` turns true.
pub(super) async fn accept_loop(
    socket: TcpListener,
    service: Arc<Service>,
    admission: Arc<Admission>,
    mut stopping: watch::Receiver<bool>,
) {
    let saturated = AtomicBool::new(false);
    loop {
        tokio::select! {
            _ = stopping.changed() => return,
            accepted = socket.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors, say: wait rather than spin.
                        log::warn!("receiver '{}': accepting a connection failed: {e}", service.listener.code);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let slot = match admission.admit(peer.ip()) {
                    Ok(slot) => slot,
                    Err(refused) => {
                        if !saturated.swap(true, Ordering::Relaxed) {
                            let limits = &service.listener.limits;
                            let why = match refused {
                                Refused::Full => format!("{} connections are open, the limit", limits.max_connections),
                                Refused::Share => format!("{} holds {} connections, its share", peer.ip(), limits.connections_per_client()),
                            };
                            log::warn!(
                                "receiver '{}': {why}, all serving requests; closing new ones until some end",
                                service.listener.code
                            );
                        }
                        drop(stream);
                        continue;
                    }
                };
                saturated.store(false, Ordering::Relaxed);
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, Arc::clone(&service), stopping.clone(), slot));
            }
        }
    }
}

/// Serves one connection until it ends, goes idle, is taken to make room, or the receiver
/// stops.
async fn serve(
    stream: TcpStream,
    service: Arc<Service>,
    mut stopping: watch::Receiver<bool>,
    slot: Slot,
) {
    let limits = service.listener.limits.clone();
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked::new(
        stream,
        Arc::clone(&activity),
        limits.request_timeout,
    ));
    let handler = Arc::clone(&service);
    let phase = Arc::clone(&slot.phase);
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.request_timeout)
        .max_buf_size(limits.max_header_bytes)
        // A client may shut down its sending side once the request is out (HTTP/1.0 tools,
        // `nc -N`): it still gets its answer. Without this, hyper drops the connection on
        // that EOF while the request is being stored, and the sender never learns it was.
        .half_close(true)
        .serve_connection(
            io,
            service_fn(move |request| {
                let (handler, phase) = (Arc::clone(&handler), Arc::clone(&phase));
                async move {
                    let answer = if phase.serving() {
                        handler.serve(request).await
                    } else {
                        closing(unavailable(
                            Style::Text,
                            "the receiver closed this connection to make room for another",
                            Duration::from_secs(1),
                        ))
                    };
                    Ok::<_, Infallible>(served(answer, phase))
                }
            }),
        );
    tokio::pin!(connection);
    let mut closing = false;
    let mut watch = tokio::time::interval(WATCH_PERIOD);
    loop {
        tokio::select! {
            ended = &mut connection => {
                if let Err(e) = ended {
                    log::debug!("receiver '{}': connection ended: {e}", service.listener.code);
                }
                return;
            }
            () = slot.phase.evicted() => {
                // Taken to make room: a keep-alive connection closes once it wrote what it
                // had to; one still sending a request head is dropped.
                activity.close_quietly();
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(EVICT_GRACE, connection.as_mut()).await;
                return;
            }
            _ = stopping.changed(), if !closing => {
                activity.close_quietly();
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = watch.tick() => {
                if activity.idle() > limits.idle_timeout {
                    if closing {
                        // Still nothing moving after a graceful close: drop it.
                        return;
                    }
                    activity.close_quietly();
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                    activity.touch();
                }
            }
        }
    }
}

/// `answer`, with a body that marks the connection waiting for its next request once hyper
/// is done with it.
fn served(answer: Response<Full<Bytes>>, phase: Arc<Phase>) -> Response<Served> {
    answer.map(|body| Served { body, phase })
}

/// An answer's body; dropped once written, when its connection waits for a request again.
struct Served {
    body: Full<Bytes>,
    phase: Arc<Phase>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.phase.waiting();
    }
}

impl Body for Served {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// When a connection last moved bytes, and whether it may end without lingering.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    /// Closed by the receiver itself (idle, stopping, making room): the client is sending
    /// nothing that needs reading out before the close.
    quiet: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            quiet: AtomicBool::new(false),
        }
    }

    /// The connection is being closed by the receiver itself: no lingering.
    fn close_quietly(&self) {
        self.quiet.store(true, Ordering::Relaxed);
    }

    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// The connection's socket as hyper sees it: it records each read or write that moves
/// bytes, and closes in stages (RFC 9112 §9.6). Once hyper has written its last answer and
/// shuts the connection down, only the sending side is shut; what the client still sends
/// (the rest of a body the server did not read) is read and dropped until the client closes
/// its side too, for at most `linger`. Closing at once would reset the connection while the
/// client still sends, and it could lose the answer. A connection the receiver closes itself
/// (idle, stopping, making room) closes at once.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
    linger: Duration,
    /// Once the sending side is shut: when lingering ends.
    lingering: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Tracked {
    fn new(inner: TcpStream, activity: Arc<Activity>, linger: Duration) -> Self {
        Tracked {
            inner,
            activity,
            linger,
            lingering: None,
        }
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let lingering = match &mut this.lingering {
            Some(until) => until,
            None => {
                std::task::ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
                if this.activity.quiet.load(Ordering::Relaxed) {
                    return Poll::Ready(Ok(()));
                }
                this.lingering
                    .insert(Box::pin(tokio::time::sleep(this.linger)))
            }
        };
        let mut sink = [0u8; 4096];
        loop {
            if lingering.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(()));
            }
            let mut read = ReadBuf::new(&mut sink);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) if !read.filled().is_empty() => this.activity.touch(),
                // The client closed its side too, or the connection failed: done.
                Poll::Ready(_) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
