//! A private NATS server with JetStream (`nats-server -js`) on a free port, its store under
//! `target/nats/<port>`, that a test may stop and restart (never the shared one on 4222).
//! Also reads a whole stream back for assertions.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer};
use futures::StreamExt;
use serde_json::Value;

/// The `nats-server` binary: `NATS_SERVER` when set, else `/usr/sbin/nats-server`, else `PATH`.
pub fn nats_server_binary() -> String {
    if let Ok(b) = std::env::var("NATS_SERVER") {
        return b;
    }
    for candidate in ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"] {
        if std::path::Path::new(candidate).exists() {
            return candidate.to_owned();
        }
    }
    "nats-server".to_owned()
}

/// A running private server; killed when dropped.
pub struct PrivateNats {
    pub port: u16,
    store: PathBuf,
    child: Mutex<Option<Child>>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

impl PrivateNats {
    /// Starts a server and waits until it accepts connections.
    pub async fn start() -> PrivateNats {
        let port = free_port();
        let store = target_dir().join("nats").join(port.to_string());
        let _ = std::fs::remove_dir_all(&store);
        std::fs::create_dir_all(&store).expect("nats store dir");
        let nats = PrivateNats { port, store, child: Mutex::new(None) };
        nats.launch().await;
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    async fn launch(&self) {
        let child = Command::new(nats_server_binary())
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start nats-server ({}): {e}", nats_server_binary()));
        *self.child.lock().unwrap() = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start on {}", self.port);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the server (its store stays).
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and store.
    pub async fn restart(&self) {
        self.stop();
        self.launch().await;
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// One stored message.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub subject: String,
    pub msg_id: Option<String>,
    pub sequence: u64,
    pub body: Value,
}

/// Every message of `stream` on `filter` (all of them when `filter` is empty), in stream order.
pub async fn read_stream(url: &str, stream: &str, filter: &str) -> Vec<StoredEvent> {
    let client = async_nats::connect(url).await.expect("connect to nats");
    let js = jetstream::new(client);
    let mut stream = js.get_stream(stream).await.expect("the stream exists");
    let total = stream.info().await.expect("stream info").state.messages;
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig { filter_subject: filter.to_owned(), ..Default::default() })
        .await
        .expect("consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let mut out = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_millis(500), messages.next()).await;
        let Ok(Some(Ok(m))) = next else { break };
        let info = m.info().expect("jetstream message");
        let sequence = info.stream_sequence;
        let pending = info.pending;
        out.push(StoredEvent {
            subject: m.subject.to_string(),
            msg_id: m.headers.as_ref().and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID)).map(|v| v.to_string()),
            sequence,
            body: serde_json::from_slice(&m.payload).unwrap_or(Value::Null),
        });
        if pending == 0 || out.len() as u64 >= total {
            break;
        }
    }
    out
}
