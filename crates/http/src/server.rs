//! The HTTP server: actix-web's application behind an HTTP/1 service whose connections pass
//! through [`GuardedIo`], so that the few errors actix-http answers by itself, below the
//! application (a request head over its 128 KiB buffer → 431, a URI longer than 65 534 bytes
//! or a malformed head → 400, a head that does not arrive in time → 408), are answered in the
//! family's JSON error format with `X-Correlation-ID` and an access-log line like every other
//! response (contract §4.1), instead of an empty body.
//!
//! actix-http has no hook for these answers. The wrapper recognises them on their way out: a
//! response head that is an error and carries no `X-Correlation-ID` can only come from the
//! dispatcher, because the observing middleware puts the header on every response of the
//! application. It replaces that response with the family's (the family is read from the
//! request line of the request being answered) and swallows whatever actix writes after it
//! on that connection (nothing: such a connection is closed).

use crate::error::admin::AdminErrorBody;
use crate::error::project::envelope;
use crate::middleware::{is_admin_path, CORRELATION_HEADER};
use crate::state::AppState;
use actix_service::ServiceFactoryExt as _;
use actix_web::dev::{AppConfig, Server};
use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::{web, App};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How the server runs.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// Worker threads, each with its own event loop.
    pub workers: usize,
    /// How long in-flight requests may take to finish after a stop signal.
    pub shutdown_timeout: Duration,
    /// How long a request head may take to arrive.
    pub head_timeout: Duration,
    /// How long an idle keep-alive connection is kept.
    pub keep_alive: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            workers: 2,
            shutdown_timeout: Duration::from_secs(30),
            head_timeout: Duration::from_secs(5),
            keep_alive: Duration::from_secs(5),
        }
    }
}

/// Starts serving the whole application on `listener` (not yet awaited: the returned server
/// runs when polled, and stops gracefully on SIGINT/SIGTERM or through its handle).
pub fn serve(listener: std::net::TcpListener, data: web::Data<AppState>, options: ServerOptions) -> io::Result<Server> {
    let local = listener.local_addr()?;
    Ok(actix_server::Server::build()
        .workers(options.workers.max(1))
        .shutdown_timeout(options.shutdown_timeout.as_secs())
        .listen(format!("xclade-{local}"), listener, move || {
            let data = data.clone();
            let app =
                App::new().app_data(data.clone()).wrap(from_fn(crate::middleware::observe)).configure(crate::configure);
            let http = actix_http::HttpService::build()
                .keep_alive(options.keep_alive)
                .client_request_timeout(options.head_timeout)
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(local)
                .h1(actix_service::map_config(app, |_| AppConfig::default()));
            actix_service::fn_service(move |io: TcpStream| {
                let peer = io.peer_addr().ok();
                let metrics = data.metrics.clone();
                async move { Ok::<_, actix_http::error::DispatchError>((GuardedIo::new(io, metrics), peer)) }
            })
            .and_then(http)
        })?
        .run())
}

/// Bytes of a request line kept to name the family (method, path and some more).
const SNIFF_BYTES: usize = 512;
/// The longest URI the HTTP layer accepts (the `http` crate's limit).
const MAX_URI_BYTES: usize = 65_534;

/// The start of the request the connection is reading, as far as the dispatcher's own error
/// answers need it.
#[derive(Default)]
struct RequestLine {
    start: Vec<u8>,
    /// Length of the request line so far (up to its CR/LF).
    length: usize,
    complete: bool,
}

impl RequestLine {
    fn feed(&mut self, mut bytes: &[u8]) {
        if self.complete {
            return;
        }
        if self.length == 0 {
            // Empty lines before a request line are allowed.
            bytes = &bytes[bytes.iter().take_while(|&&b| b == b'\r' || b == b'\n').count()..];
        }
        let end = bytes.iter().position(|&b| b == b'\r' || b == b'\n');
        let line = &bytes[..end.unwrap_or(bytes.len())];
        let room = SNIFF_BYTES.saturating_sub(self.start.len());
        self.start.extend_from_slice(&line[..line.len().min(room)]);
        self.length += line.len();
        self.complete = end.is_some();
    }

    /// The request path, when the line has one.
    fn path(&self) -> &str {
        let text = std::str::from_utf8(&self.start)
            .unwrap_or_else(|e| std::str::from_utf8(&self.start[..e.valid_up_to()]).unwrap_or_default());
        let mut parts = text.split(' ');
        let _method = parts.next();
        parts.next().unwrap_or("").split('?').next().unwrap_or("")
    }

    fn method(&self) -> &str {
        let text = std::str::from_utf8(&self.start).unwrap_or_default();
        text.split(' ').next().filter(|m| !m.is_empty() && m.len() <= 16).unwrap_or("-")
    }
}

/// A connection whose dispatcher-made error answers are rewritten (module documentation).
pub struct GuardedIo {
    io: TcpStream,
    metrics: std::sync::Arc<crate::Metrics>,
    line: RequestLine,
    /// A response was written since the request line was read: the next bytes start a new one.
    answered: bool,
    /// The replacement answer and how much of it is written; set once per connection.
    replacement: Option<(Vec<u8>, usize)>,
}

impl GuardedIo {
    fn new(io: TcpStream, metrics: std::sync::Arc<crate::Metrics>) -> Self {
        GuardedIo { io, metrics, line: RequestLine::default(), answered: false, replacement: None }
    }

    /// Writes what is left of the replacement; `Ready(Ok)` once all of it is out.
    fn flush_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((bytes, written)) = &mut self.replacement else { return Poll::Ready(Ok(())) };
        while *written < bytes.len() {
            match Pin::new(&mut self.io).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// Where a dispatcher-made error response starts in `buf`, and its status. Such a response is
/// the last thing written on its connection and has no body, so it is the tail of the buffer
/// (responses to pipelined requests may precede it in the same write).
fn dispatcher_error_tail(buf: &[u8]) -> Option<(usize, StatusCode)> {
    if !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let head_start = buf.windows(7).rposition(|w| w == b"HTTP/1.")?;
    let head = &buf[head_start..];
    let head_end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    // The head found must be the whole tail: no body follows it.
    (head_end + 4 == head.len()).then_some(())?;
    dispatcher_error(head).map(|status| (head_start, status))
}

/// The status of a dispatcher-made error response at the start of `buf`, if it is one: an
/// error status line whose head has no correlation header.
fn dispatcher_error(buf: &[u8]) -> Option<StatusCode> {
    let rest = buf.strip_prefix(b"HTTP/1.1 ").or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let status = StatusCode::from_bytes(rest.get(..3)?).ok()?;
    if !(status.is_client_error() || status.is_server_error()) {
        return None;
    }
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let tagged = head
        .split("\r\n")
        .any(|line| line.starts_with(CORRELATION_HEADER) && line[CORRELATION_HEADER.len()..].starts_with(':'));
    (!tagged).then_some(status)
}

/// The family's answer for a dispatcher-made error, as raw HTTP/1.1 bytes (connection closed).
fn render(line: &RequestLine, status: StatusCode, correlation: &str) -> Vec<u8> {
    // The http crate refuses URIs over 65 534 bytes as malformed; say what it was.
    let status = if status == StatusCode::BAD_REQUEST && line.length > MAX_URI_BYTES {
        StatusCode::URI_TOO_LONG
    } else {
        status
    };
    let message = match status {
        StatusCode::URI_TOO_LONG => format!("The request URI is longer than {MAX_URI_BYTES} bytes."),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "The request head is larger than 131072 bytes.".to_owned(),
        StatusCode::REQUEST_TIMEOUT => "The request was not received in time.".to_owned(),
        StatusCode::BAD_REQUEST => "The request could not be parsed.".to_owned(),
        s => s.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let body = if is_admin_path(line.path()) {
        let kind = if status.is_server_error() { "unknown_error" } else { "invalid_data" };
        serde_json::to_vec(&AdminErrorBody { kind, message, code: None })
    } else {
        let code = if status.is_server_error() { "General" } else { "InvalidInput" };
        serde_json::to_vec(&envelope(status, code, &message, Default::default(), Default::default()))
    }
    .unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{CORRELATION_HEADER}: {correlation}\r\nconnection: close\r\n\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

impl AsyncRead for GuardedIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        let result = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            let new = &buf.filled()[before..];
            if !new.is_empty() {
                if this.answered {
                    this.line = RequestLine::default();
                    this.answered = false;
                }
                this.line.feed(new);
            }
        }
        result
    }
}

impl AsyncWrite for GuardedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.replacement.is_some() {
            // The dispatcher's error answer was replaced; nothing else belongs on this connection.
            return match this.flush_replacement(cx) {
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                _ => Poll::Ready(Ok(buf.len())),
            };
        }
        if let Some((start, status)) = dispatcher_error_tail(buf) {
            let correlation = crate::middleware::new_correlation_id();
            let answer = render(&this.line, status, &correlation);
            let shown = StatusCode::from_bytes(answer.get(9..12).unwrap_or_default()).unwrap_or(status);
            let mut bytes = buf[..start].to_vec();
            bytes.extend_from_slice(&answer);
            this.metrics.observe(this.line.method(), "unparsed", shown.as_u16(), Duration::ZERO);
            tracing::info!(
                target: "xclade::access",
                method = this.line.method(),
                route = "unparsed",
                status = shown.as_u16(),
                latency_ms = 0.0,
                correlation_id = correlation.as_str(),
                "request"
            );
            this.replacement = Some((bytes, 0));
            return match this.flush_replacement(cx) {
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                _ => Poll::Ready(Ok(buf.len())),
            };
        }
        this.answered = true;
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.flush_replacement(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.io).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.flush_replacement(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.io).poll_shutdown(cx),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_untagged_error_heads() {
        let plain = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        assert_eq!(dispatcher_error(plain), Some(StatusCode::BAD_REQUEST));
        let big = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(dispatcher_error(big), Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\nx-correlation-id: abc\r\n\r\n{}";
        assert_eq!(dispatcher_error(ours), None);
        assert_eq!(dispatcher_error(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"), None);
        assert_eq!(dispatcher_error(b"{\"HTTP/1.1 400 \"}"), None);
        // After the answer to a pipelined request, in the same write.
        let both = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 12\r\nx-correlation-id: a\r\n\r\nUnauthorizedHTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(dispatcher_error_tail(both), Some((82, StatusCode::BAD_REQUEST)));
        assert_eq!(dispatcher_error_tail(plain), Some((0, StatusCode::BAD_REQUEST)));
        assert_eq!(dispatcher_error_tail(ours), None);
    }

    #[test]
    fn names_the_family_and_the_status() {
        let mut line = RequestLine::default();
        line.feed(b"GET /admin/customers?q=");
        line.feed(&vec![b'a'; 70_000]);
        line.feed(b" HTTP/1.1\r\nhost: x\r\n");
        assert_eq!(line.path(), "/admin/customers");
        assert_eq!(line.method(), "GET");
        let text = String::from_utf8(render(&line, StatusCode::BAD_REQUEST, "c1")).expect("utf8");
        assert!(text.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{text}");
        assert!(text.contains("x-correlation-id: c1\r\n"));
        assert!(
            text.ends_with(r#"{"type":"invalid_data","message":"The request URI is longer than 65534 bytes."}"#),
            "{text}"
        );

        let mut line = RequestLine::default();
        line.feed(b"\r\nGET /acme/customer-groups HTTP/1.1\r\n");
        assert_eq!(line.path(), "/acme/customer-groups");
        let text = String::from_utf8(render(&line, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "c2")).expect("utf8");
        assert!(text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{text}");
        assert!(text.contains(r#""statusCode":431"#) && text.contains(r#""code":"InvalidInput""#), "{text}");
    }
}
