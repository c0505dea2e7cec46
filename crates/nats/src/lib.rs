//! NATS JetStream adapter of xclade customers (§6).
//!
//! * [`NatsPublisher`] implements the domain's [`EventPublisher`]: one JetStream publish per
//!   event with `Nats-Msg-Id` = the event id, answered only once JetStream acknowledged it (a
//!   batch of messages is sent before the first acknowledgement is awaited);
//!   [`EventPublisher::ensure_ready`] creates the stream when absent (file storage, subjects
//!   `xclade.events.>`, duplicate window [`DUPLICATE_WINDOW`]).
//! * [`connect`] opens a client that keeps reconnecting by itself, and [`tail`] follows a
//!   project's events (the `events tail` command).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::{self, consumer, context::Publish, stream};
use async_trait::async_trait;
use futures::StreamExt;
use xclade_domain::error::DomainResult;
use xclade_domain::event::{OutgoingMessage, SUBJECT_PREFIX};
use xclade_domain::ports::EventPublisher;
use xclade_domain::DomainError;

pub use async_nats::Client;

/// The default stream name.
pub const DEFAULT_STREAM: &str = "XCLADE_EVENTS";
/// How long JetStream remembers message ids to drop repeats (the contract asks ≥ 10 min).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long a publish waits for JetStream's acknowledgement.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// Any error as a one-line message.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

fn unavailable(e: impl std::fmt::Display) -> DomainError {
    DomainError::Unavailable(e.to_string().into())
}

/// Connects to `url`. The client keeps trying to (re)connect in the background, so this
/// succeeds while NATS is down; publishes fail (`Unavailable`) until it is up.
pub async fn connect(url: &str) -> Result<Client, Error> {
    let client = async_nats::ConnectOptions::new()
        .name("xclade-customers")
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(5))
        .event_callback(|event| async move {
            tracing::debug!(%event, "nats connection event");
        })
        .connect(url)
        .await?;
    Ok(client)
}

/// The stream every event goes to.
pub fn stream_config(name: &str) -> stream::Config {
    stream::Config {
        name: name.to_owned(),
        subjects: vec![format!("{SUBJECT_PREFIX}.>")],
        storage: stream::StorageType::File,
        duplicate_window: DUPLICATE_WINDOW,
        ..stream::Config::default()
    }
}

/// [`EventPublisher`] on NATS JetStream.
#[derive(Clone)]
pub struct NatsPublisher {
    client: Client,
    js: jetstream::Context,
    stream: String,
}

impl NatsPublisher {
    pub fn new(client: Client, stream: &str) -> Self {
        let mut js = jetstream::new(client.clone());
        js.set_timeout(ACK_TIMEOUT);
        NatsPublisher { client, js, stream: stream.to_owned() }
    }

    /// Whether the client is connected right now.
    pub fn connected(&self) -> bool {
        self.client.connection_state() == State::Connected
    }
}

#[async_trait]
impl EventPublisher for NatsPublisher {
    async fn ensure_ready(&self) -> DomainResult<()> {
        if !self.connected() {
            return Err(unavailable("NATS is not connected"));
        }
        let stream = self.js.get_or_create_stream(stream_config(&self.stream)).await.map_err(unavailable)?;
        let _ = stream;
        Ok(())
    }

    async fn publish(&self, message: &OutgoingMessage) -> DomainResult<()> {
        let mut results = self.publish_all(std::slice::from_ref(message)).await;
        results.pop().unwrap_or_else(|| Err(unavailable("no publish result")))
    }

    async fn publish_all(&self, messages: &[OutgoingMessage]) -> Vec<DomainResult<()>> {
        // While disconnected the client would buffer the messages: fail now instead, the
        // events stay in the outbox.
        if !self.connected() {
            return messages.iter().map(|_| Err(unavailable("NATS is not connected"))).collect();
        }
        // Every publish is sent before any acknowledgement is awaited: one round trip for the
        // lot. All acknowledgements share one deadline.
        let mut sent = Vec::with_capacity(messages.len());
        for message in messages {
            let publish = Publish::build().payload(message.body.clone().into()).message_id(message.msg_id.as_str());
            sent.push(self.js.send_publish(message.subject.clone(), publish).await.map_err(unavailable));
        }
        let deadline = tokio::time::Instant::now() + ACK_TIMEOUT;
        let mut results = Vec::with_capacity(messages.len());
        for (message, ack) in messages.iter().zip(sent) {
            let result = match ack {
                Ok(ack) => match tokio::time::timeout_at(deadline, ack).await {
                    Ok(Ok(ack)) => {
                        if ack.duplicate {
                            tracing::debug!(id = %message.msg_id, "JetStream dropped a repeat");
                        }
                        Ok(())
                    }
                    Ok(Err(e)) => Err(unavailable(e)),
                    Err(e) => Err(unavailable(e)),
                },
                Err(e) => Err(e),
            };
            results.push(result);
        }
        results
    }
}

/// The subject filter of a project's events, optionally of one type.
pub fn project_filter(project_key: &str, event_type: Option<&str>) -> String {
    match event_type {
        Some(t) => format!("{SUBJECT_PREFIX}.{project_key}.{t}"),
        None => format!("{SUBJECT_PREFIX}.{project_key}.>"),
    }
}

/// Follows the events on `filter` in `stream` (from the first stored one with `from_start`,
/// else from now on) and hands each message body to `each` until it returns false or the
/// subscription ends.
pub async fn tail(
    client: &Client,
    stream: &str,
    filter: &str,
    from_start: bool,
    mut each: impl FnMut(&[u8]) -> bool,
) -> Result<(), Error> {
    let js = jetstream::new(client.clone());
    let stream = js.get_stream(stream).await?;
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: filter.to_owned(),
            deliver_policy: if from_start { consumer::DeliverPolicy::All } else { consumer::DeliverPolicy::New },
            ..consumer::pull::OrderedConfig::default()
        })
        .await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        if !each(&message.payload) {
            break;
        }
    }
    Ok(())
}
