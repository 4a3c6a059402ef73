//! A minimal, fast mock OpenAI upstream for load tests (`bench/run.sh`).
//!
//! Any `POST` gets a fixed small `chat.completion`; a body containing
//! `"stream":true` gets `--stream-events` chunk events then `data: [DONE]`,
//! either written in one go or paced by `--event-delay-us`. Everything is
//! rendered once at start-up so that the mock costs as little CPU as possible
//! and the benchmark measures the proxy, not the mock.

use std::convert::Infallible;
use std::io::Write as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use http::{HeaderValue, Request, Response, header};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "mock-upstream",
    about = "A fast mock OpenAI upstream for load tests"
)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one, printed as the first line of stdout.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Worker threads (1: a single-threaded runtime, the cheapest).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Chunk events per streamed response, before `data: [DONE]`.
    #[arg(long, default_value_t = 20)]
    stream_events: usize,
    /// Microseconds between streamed events; 0 writes the whole stream in one go.
    #[arg(long, default_value_t = 0)]
    event_delay_us: u64,
}

const CHAT: &str = r#"{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from mock"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":4,"total_tokens":14}}"#;

/// Responses rendered once.
#[derive(Debug)]
struct Canned {
    chat: Bytes,
    /// The whole stream, `[DONE]` included, for unpaced streams.
    stream: Bytes,
    /// One entry per event, `[DONE]` last, for paced streams.
    events: Vec<Bytes>,
    event_delay: Duration,
}

impl Canned {
    fn new(stream_events: usize, event_delay: Duration) -> Self {
        let mut events: Vec<Bytes> = (0..stream_events)
            .map(|i| {
                let (delta, finish) = match i {
                    0 => (r#"{"role":"assistant","content":""}"#.to_owned(), "null"),
                    i if i + 1 == stream_events => ("{}".to_owned(), r#""stop""#),
                    i => (format!(r#"{{"content":"tok{i} "}}"#), "null"),
                };
                Bytes::from(format!(
                    "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":{finish}}}]}}\n\n"
                ))
            })
            .collect();
        events.push(Bytes::from_static(b"data: [DONE]\n\n"));
        let stream = Bytes::from(events.concat());
        Self {
            chat: Bytes::from_static(CHAT.as_bytes()),
            stream,
            events,
            event_delay,
        }
    }
}

/// A fixed body, or a paced stream. Streams have no size hint so they go out
/// chunked, as real upstreams send them.
#[derive(Debug)]
enum Out {
    Full(Option<Bytes>),
    Stream(Option<Bytes>),
    Paced {
        events: std::vec::IntoIter<Bytes>,
        delay: Duration,
        sleep: Option<Pin<Box<Sleep>>>,
        first: bool,
    },
}

impl Body for Out {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut *self {
            Out::Full(b) | Out::Stream(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Out::Paced {
                events,
                delay,
                sleep,
                first,
            } => {
                if !*first {
                    let s = sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(*delay)));
                    if s.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    *sleep = None;
                }
                *first = false;
                Poll::Ready(events.next().map(|b| Ok(Frame::data(b))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Out::Full(b) | Out::Stream(b) => b.is_none(),
            Out::Paced { events, .. } => events.len() == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Out::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Out::Full(None) => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

async fn answer(
    canned: &'static Canned,
    request: Request<Incoming>,
) -> Result<Response<Out>, hyper::Error> {
    let body = request.into_body().collect().await?.to_bytes();
    let streamed = memchr::memmem::find(&body, b"\"stream\":true").is_some()
        || memchr::memmem::find(&body, b"\"stream\": true").is_some();
    let (out, content_type) = if !streamed {
        (Out::Full(Some(canned.chat.clone())), "application/json")
    } else if canned.event_delay.is_zero() {
        (
            Out::Stream(Some(canned.stream.clone())),
            "text/event-stream",
        )
    } else {
        let events = canned.events.clone().into_iter();
        (
            Out::Paced {
                events,
                delay: canned.event_delay,
                sleep: None,
                first: true,
            },
            "text/event-stream",
        )
    };
    let mut response = Response::new(out);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

async fn serve_connection(stream: TcpStream, canned: &'static Canned, stop: CancellationToken) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |request| answer(canned, request));
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        () = stop.cancelled() => {}
    }
}

async fn run(listener: TcpListener, canned: &'static Canned) {
    let stop = CancellationToken::new();
    let tracker = TaskTracker::new();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tracker.spawn(serve_connection(stream, canned, stop.clone()));
                }
                Err(e) => {
                    eprintln!("mock-upstream: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
    stop.cancel();
    tracker.close();
    tracker.wait().await;
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Lives for the whole process; leaking it saves an Arc clone per request.
    let canned: &'static Canned = Box::leak(Box::new(Canned::new(
        args.stream_events.max(1),
        Duration::from_micros(args.event_delay_us),
    )));
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(async {
        let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
        let port = listener.local_addr()?.port();
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{port}")?;
        stdout.flush()?;
        drop(stdout);
        run(listener, canned).await;
        anyhow::Ok(())
    })
}
