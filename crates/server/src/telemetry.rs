//! Structured logging: one JSON object per line on stderr, filtered by `RUST_LOG` (default info).
//!
//! Lines are not written to stderr one system call each: they are appended to a buffer that a
//! background thread writes out every [`FLUSH_EVERY`] (a thread that finds more than
//! [`MAX_PENDING`] bytes waiting writes them itself, so the buffer stays bounded and a slow
//! stderr slows the writers down instead of growing memory). The access log line of every
//! request cost a `write` to stderr on the request's thread, about 3 % of the server's CPU per
//! customer read (docs/benchmarks.md, change 21). [`Logs`], returned by [`init`], writes what
//! is left when it is dropped (the end of `main`); a process killed with SIGKILL loses at most
//! the last [`FLUSH_EVERY`] of lines.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tracing_subscriber::fmt::MakeWriter;
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

/// The subscriber's writer: appends each formatted line (one `write_all` per event) to the
/// shared buffer.
#[derive(Clone)]
struct Buffered(Arc<Pending>);

impl Write for Buffered {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let full = {
            let mut pending = self.0.lock();
            pending.extend_from_slice(bytes);
            pending.len() > MAX_PENDING
        };
        if full {
            self.0.flush();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffered {
    type Writer = Buffered;

    fn make_writer(&'a self) -> Buffered {
        self.clone()
    }
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
    let installed = tracing_subscriber::fmt()
        .json()
        // The `request` span (crates/http middleware): its correlation id on every line.
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(Buffered(Arc::clone(&pending)))
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

    #[test]
    fn lines_are_buffered_whole_until_written() {
        let pending = Arc::new(Pending::default());
        let mut writer = Buffered(Arc::clone(&pending));
        assert!(writer.write_all(b"{\"a\":1}\n").is_ok());
        assert!(writer.write_all(b"{\"b\":2}\n").is_ok());
        assert_eq!(pending.lock().as_slice(), b"{\"a\":1}\n{\"b\":2}\n");
        pending.flush();
        assert!(pending.lock().is_empty());
        // What is still buffered when the process ends goes out with the `Logs` main holds.
        assert!(writer.write_all(b"{\"c\":3}\n").is_ok());
        drop(Logs(Some(Arc::clone(&pending))));
        assert!(pending.lock().is_empty());
    }
}
