//! Structured logging: one JSON object per line on stderr, filtered by `RUST_LOG` (default info).
//!
//! A line is `{"timestamp", "level", "fields": {…}, "target"}`, and a line logged while a
//! request's handler runs adds `"span": {"correlation_id", "method", "path", "name": "request"}`
//! (from [`xclade_http::middleware::current_request`]). [`JsonLines`] writes it straight into a
//! per-thread buffer: `tracing-subscriber`'s JSON formatter built a map of the fields, went
//! through `fmt` for every value and re-parsed the span's fields for each line, about 5 % of the
//! CPU of a create (docs/benchmarks.md, change 27).
//!
//! Lines are not written to stderr one system call each: they are appended to a buffer that a
//! background thread writes out every [`FLUSH_EVERY`] (a thread that finds more than
//! [`MAX_PENDING`] bytes waiting writes them itself, so the buffer stays bounded and a slow
//! stderr slows the writers down instead of growing memory). The access log line of every
//! request cost a `write` to stderr on the request's thread, about 3 % of the server's CPU per
//! customer read (docs/benchmarks.md, change 21). [`Logs`], returned by [`init`], writes what
//! is left when it is dropped (the end of `main`); a process killed with SIGKILL loses at most
//! the last [`FLUSH_EVERY`] of lines.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

/// How often the background thread writes the buffered lines.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// Buffered bytes above which the thread that logs writes them out itself.
pub const MAX_PENDING: usize = 1 << 20;

/// The buffer shared by every thread that logs.
#[derive(Default)]
struct Pending(Mutex<Vec<u8>>);

impl Pending {
    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes out what is buffered (outside the buffer's lock). stderr is locked first, so two
    /// flushes (the background thread's and a writer's that found the buffer full) write their
    /// batches in the order they took them and lines never come out of order.
    fn flush(&self) {
        let mut err = std::io::stderr().lock();
        let lines = std::mem::take(&mut *self.lock());
        if !lines.is_empty() {
            let _ = err.write_all(&lines);
            let _ = err.flush();
        }
    }
}

/// Where [`JsonLines`] puts each finished line (newline included).
pub trait LineSink: Send + Sync + 'static {
    /// Takes one whole line.
    fn write_line(&self, line: &[u8]);
}

/// The process's sink: appends each line to the shared buffer.
#[derive(Clone)]
struct Buffered(Arc<Pending>);

impl LineSink for Buffered {
    fn write_line(&self, line: &[u8]) {
        let full = {
            let mut pending = self.0.lock();
            pending.extend_from_slice(line);
            pending.len() > MAX_PENDING
        };
        if full {
            self.0.flush();
        }
    }
}

/// The layer that writes every event as one JSON line into a [`LineSink`].
pub struct JsonLines<W> {
    sink: W,
}

impl<W: LineSink> JsonLines<W> {
    /// Lines go to `sink`.
    pub fn new(sink: W) -> JsonLines<W> {
        JsonLines { sink }
    }
}

thread_local! {
    /// The line being written on this thread, kept between events for its capacity.
    static LINE: RefCell<String> = RefCell::new(String::with_capacity(512));
}

impl<S: Subscriber, W: LineSink> Layer<S> for JsonLines<W> {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        LINE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut line) => {
                line.clear();
                format_line(&mut line, event, SystemTime::now());
                self.sink.write_line(line.as_bytes());
            }
            // An event logged while this thread formats another (from a value's `Debug`).
            Err(_) => {
                let mut line = String::new();
                format_line(&mut line, event, SystemTime::now());
                self.sink.write_line(line.as_bytes());
            }
        });
    }
}

/// Writes `event` as one JSON object and a newline.
fn format_line(line: &mut String, event: &Event<'_>, now: SystemTime) {
    // A record of the `log` crate (tokio-postgres, actix-server log through it) arrives as an
    // event of target `log` whose real target and place are in `log.*` fields: written as the
    // record's own target, without those fields, as `tracing-subscriber`'s formatter did.
    let normalized = event.normalized_metadata();
    let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
    line.push_str("{\"timestamp\":\"");
    timestamp(line, now);
    line.push_str("\",\"level\":\"");
    line.push_str(level_name(meta.level()));
    line.push_str("\",\"fields\":{");
    event.record(&mut Fields { line: &mut *line, first: true });
    line.push_str("},\"target\":");
    string(line, meta.target());
    xclade_http::middleware::current_request(|request| {
        if let Some(r) = request {
            line.push_str(",\"span\":{\"correlation_id\":");
            string(line, &r.correlation_id);
            line.push_str(",\"method\":");
            string(line, r.method.as_str());
            line.push_str(",\"path\":");
            string(line, &r.path);
            line.push_str(",\"name\":\"request\"}");
        }
    });
    line.push_str("}\n");
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

/// An event's fields as the members of a JSON object: strings and `Debug`/`Display` values as
/// JSON strings, integers and booleans as they are, finite floats as numbers (others `null`).
struct Fields<'a> {
    line: &'a mut String,
    first: bool,
}

impl Fields<'_> {
    /// Writes the member's key; `false` for a field that is not written (a `log` record's
    /// `log.*` fields, which the line's `target` already says).
    fn key(&mut self, field: &Field) -> bool {
        let name = field.name();
        if name.starts_with("log.") {
            return false;
        }
        if !std::mem::take(&mut self.first) {
            self.line.push(',');
        }
        // A raw identifier (`r#type`) is written as its name.
        string(self.line, name.strip_prefix("r#").unwrap_or(name));
        self.line.push(':');
        true
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.key(field) {
            return;
        }
        string(self.line, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if !self.key(field) {
            return;
        }
        self.line.push('"');
        let _ = write!(Escaping(self.line), "{value:?}");
        self.line.push('"');
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if !self.key(field) {
            return;
        }
        self.line.push('"');
        let _ = write!(Escaping(self.line), "{value}");
        self.line.push('"');
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if !self.key(field) {
            return;
        }
        let _ = write!(self.line, "{value}");
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if !self.key(field) {
            return;
        }
        let _ = write!(self.line, "{value}");
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        if !self.key(field) {
            return;
        }
        let _ = write!(self.line, "{value}");
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        if !self.key(field) {
            return;
        }
        let _ = write!(self.line, "{value}");
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if !self.key(field) {
            return;
        }
        self.line.push_str(if value { "true" } else { "false" });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if !self.key(field) {
            return;
        }
        if value.is_finite() {
            // `Display` writes the shortest digits that read back as the same value and never an
            // exponent: always a JSON number.
            let _ = write!(self.line, "{value}");
        } else {
            self.line.push_str("null");
        }
    }
}

/// `s` as a JSON string.
fn string(line: &mut String, s: &str) {
    line.push('"');
    escape_into(line, s);
    line.push('"');
}

/// Appends `s` with JSON's escapes: `"`, `\\` and the control characters.
fn escape_into(line: &mut String, s: &str) {
    // Almost every string of a line (ids, routes, field names, messages) has nothing to escape:
    // one pass that the compiler can vectorize (no early exit) finds that, and the string is
    // copied whole; the byte-by-byte loop below was 3 % of a group read's instructions.
    let plain = !s.bytes().fold(false, |any, b| any | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if plain {
        line.push_str(s);
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        line.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(line, "\\u{b:04x}");
        } else {
            line.push_str(escape);
        }
        start = i + 1;
    }
    line.push_str(&s[start..]);
}

/// A `fmt::Write` that escapes what it is given for the inside of a JSON string.
struct Escaping<'a>(&'a mut String);

impl std::fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

/// `now` in RFC 3339, UTC, to the microsecond: `2026-12-07T05:47:56.179803Z`.
fn timestamp(line: &mut String, now: SystemTime) {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    xclade_http::rfc3339::push(line, secs, since.subsec_nanos(), xclade_http::rfc3339::Fraction::Micros);
}

/// The installed logging: writes the lines still buffered when dropped.
pub struct Logs(Option<Arc<Pending>>);

impl Logs {
    /// Writes the buffered lines now.
    pub fn flush(&self) {
        if let Some(pending) = &self.0 {
            pending.flush();
        }
    }
}

impl Drop for Logs {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Installs the global subscriber once (later calls install nothing and return a [`Logs`]
/// that has nothing to write). Keep the result until the process ends.
pub fn init() -> Logs {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let pending = Arc::new(Pending::default());
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(JsonLines::new(Buffered(Arc::clone(&pending))))
        .try_init()
        .is_ok();
    if !installed {
        return Logs(None);
    }
    let background = Arc::clone(&pending);
    let spawned = std::thread::Builder::new().name("xclade-logs".into()).spawn(move || loop {
        std::thread::sleep(FLUSH_EVERY);
        background.flush();
    });
    if spawned.is_err() {
        // No thread: lines are written when the buffer fills and at exit; say so right away.
        eprintln!("warning: cannot start the log writer thread; log lines are written late");
    }
    Logs(Some(pending))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::middleware::from_fn;
    use actix_web::test::{call_service, init_service, TestRequest};
    use actix_web::{web, App, HttpResponse};
    use serde_json::{json, Value};
    use xclade_http::middleware::{observe, CORRELATION_HEADER};

    /// A sink the test reads back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl LineSink for Sink {
        fn write_line(&self, line: &[u8]) {
            self.0.lock().expect("sink").extend_from_slice(line);
        }
    }

    impl Sink {
        fn lines(&self) -> Vec<Value> {
            let bytes = self.0.lock().expect("sink").clone();
            let text = String::from_utf8(bytes).expect("utf-8");
            assert!(text.ends_with('\n'), "every line ends with a newline: {text:?}");
            text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
        }
    }

    fn subscriber(sink: &Sink) -> impl Subscriber + Send + Sync {
        tracing_subscriber::registry().with(EnvFilter::new("info")).with(JsonLines::new(sink.clone()))
    }

    #[test]
    fn lines_are_buffered_whole_until_written() {
        let pending = Arc::new(Pending::default());
        let writer = Buffered(Arc::clone(&pending));
        writer.write_line(b"{\"a\":1}\n");
        writer.write_line(b"{\"b\":2}\n");
        assert_eq!(pending.lock().as_slice(), b"{\"a\":1}\n{\"b\":2}\n");
        pending.flush();
        assert!(pending.lock().is_empty());
        // What is still buffered when the process ends goes out with the `Logs` main holds.
        writer.write_line(b"{\"c\":3}\n");
        drop(Logs(Some(Arc::clone(&pending))));
        assert!(pending.lock().is_empty());
    }

    proptest::proptest! {
        /// Any string, plain or not, is written as the JSON string that reads back as itself.
        #[test]
        fn escaped_strings_read_back(s in ".*|[a-z\"\\\\\u{0}-\u{1f}\u{7f}é]*") {
            let mut line = String::new();
            string(&mut line, &s);
            proptest::prop_assert_eq!(serde_json::from_str::<String>(&line).expect("a JSON string"), s);
        }
    }

    #[test]
    fn every_kind_of_field_is_written_as_json() {
        #[derive(Debug)]
        struct Odd;
        let sink = Sink::default();
        tracing::subscriber::with_default(subscriber(&sink), || {
            tracing::warn!(
                target: "xclade::test",
                text = "quote \" backslash \\ newline \n tab \t bell \u{7} é ✓",
                display = %"a\"b",
                debug = ?Odd,
                count = 42u64,
                delta = -7i64,
                big = u128::MAX,
                ok = true,
                ratio = 2.3646819999999997f64,
                tiny = 1e-7f64,
                nan = f64::NAN,
                "hello {}", "world"
            );
            tracing::debug!("filtered out at info");
        });
        let lines = sink.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["target"], "xclade::test");
        assert_eq!(line.get("span"), None, "no request runs");
        assert_eq!(
            line["fields"],
            json!({
                "message": "hello world",
                "text": "quote \" backslash \\ newline \n tab \t bell \u{7} é ✓",
                "display": "a\"b",
                "debug": "Odd",
                "count": 42,
                "delta": -7,
                "big": u128::MAX.to_string().parse::<serde_json::Number>().expect("number"),
                "ok": true,
                "ratio": 2.3646819999999997,
                "tiny": 1e-7,
                "nan": null,
            })
        );
        let at = line["timestamp"].as_str().expect("timestamp");
        let parsed = chrono::DateTime::parse_from_rfc3339(at).expect("RFC 3339");
        assert!((chrono::Utc::now() - parsed.to_utc()).num_seconds().abs() < 60, "{at}");
        assert_eq!(at.len(), "2026-12-07T05:47:56.179803Z".len(), "{at}");
    }

    #[test]
    fn records_of_the_log_crate_keep_their_target_and_lose_the_log_fields() {
        // The process's `log` records reach `tracing` through `LogTracer` (installed by `init`).
        let _ = tracing_log::LogTracer::init();
        let sink = Sink::default();
        tracing::subscriber::with_default(subscriber(&sink), || {
            tracing_log::log::warn!(target: "tokio_postgres::connection", "connection {} lost", 7);
            tracing::info!(r#type = "raw", "a raw identifier");
        });
        let lines = sink.lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["target"], "tokio_postgres::connection");
        assert_eq!(lines[0]["level"], "WARN");
        assert_eq!(lines[0]["fields"], json!({"message": "connection 7 lost"}));
        assert_eq!(lines[1]["fields"], json!({"message": "a raw identifier", "type": "raw"}));
    }

    #[test]
    fn timestamps_have_microseconds() {
        let mut ours = String::new();
        timestamp(&mut ours, UNIX_EPOCH + Duration::new(1_566_656_122, 179_803_999));
        assert_eq!(ours, "2019-08-24T14:15:22.179803Z");
    }

    #[actix_web::test]
    async fn lines_logged_inside_a_request_carry_its_span() {
        let sink = Sink::default();
        let _guard = tracing::subscriber::set_default(subscriber(&sink));
        let app = init_service(App::new().wrap(from_fn(observe)).route(
            "/work/{id}",
            web::get().to(|| async {
                actix_web::rt::task::yield_now().await;
                tracing::warn!("a retry deep inside the request");
                HttpResponse::Ok().finish()
            }),
        ))
        .await;
        let req = TestRequest::get().uri("/work/7?x=1").insert_header((CORRELATION_HEADER, "corr-123")).to_request();
        let res = call_service(&app, req).await;
        assert_eq!(res.status(), 200);
        tracing::info!("after the request");
        let lines = sink.lines();
        let inside =
            lines.iter().find(|l| l["fields"]["message"] == "a retry deep inside the request").expect("inside");
        assert_eq!(
            inside["span"],
            json!({"name": "request", "correlation_id": "corr-123", "method": "GET", "path": "/work/7"})
        );
        let access = lines.iter().find(|l| l["target"] == "xclade::access").expect("the access line");
        assert_eq!(access["fields"]["route"], "/work/{id}");
        assert_eq!(access["fields"]["method"], "GET");
        assert_eq!(access["fields"]["status"], 200);
        assert_eq!(access["fields"]["correlation_id"], "corr-123");
        assert!(access["fields"]["latency_ms"].is_number());
        let after = lines.iter().find(|l| l["fields"]["message"] == "after the request").expect("after");
        assert_eq!(after.get("span"), None);
    }
}
