//! A consumer of xclade customers' events: a durable JetStream consumer on one project's
//! subjects that prints each CloudEvent and acknowledges it.
//! `cargo run -p xclade-nats --example consumer -- nats://127.0.0.1:4222 acme`
#![allow(clippy::unwrap_used, clippy::expect_used)] // an example: failures end it

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), async_nats::Error> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "nats://127.0.0.1:4222".into());
    let project = args.next().unwrap_or_else(|| "demo".into());
    let js = jetstream::new(async_nats::connect(url).await?);
    let stream = js.get_stream("XCLADE_EVENTS").await?;
    let consumer = stream
        .get_or_create_consumer(
            "crm-sync", // durable: resumes where it stopped
            pull::Config {
                durable_name: Some("crm-sync".into()),
                filter_subject: format!("xclade.events.{project}.>"),
                ..Default::default()
            },
        )
        .await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let event: serde_json::Value = serde_json::from_slice(&message.payload)?;
        println!("{} {} {}", event["type"], event["subject"], event["data"]["resource"]);
        message.ack().await?; // at-least-once: make the handler idempotent by event["id"]
    }
    Ok(())
}
