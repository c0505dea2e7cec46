//! Runs the outbox relay (§6): batches of the domain's [`RelayService`] in a loop, with back-off
//! while NATS or the database is away, retention, and the state `/metrics` and `/health/ready`
//! report. One log line per batch (debug) and one per change of state (info), never per event.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use xclade_domain::ports::EventOutbox;
use xclade_domain::services::relay::backoff;
use xclade_domain::services::RelayService;
use xclade_http::{EventsSnapshot, EventsStatus};
use xclade_postgres::{PgEventOutbox, PgPool};

/// Events per batch.
pub const BATCH: u32 = 256;
/// The `application_name` of the relay's own connection (claims, marks, releases).
pub const RELAY_APPLICATION: &str = "xclade-customers-relay";
/// The wait after a batch that was not at least half full (nothing or few events pending): the
/// next batch then carries what arrived meanwhile, so that under a steady trickle of writes the
/// relay's fixed cost per batch (claim, mark, release: three statements) is shared by many
/// events instead of paid for each; an event waits at most this long more. Under a backlog,
/// batches are full and follow each other without a wait.
pub const IDLE_WAIT: Duration = Duration::from_millis(50);
/// The longest back-off while NATS or the database is away.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How often retention runs.
pub const PURGE_EVERY: Duration = Duration::from_secs(60);
/// How often the backlog is counted for `/metrics`.
pub const STATS_EVERY: Duration = Duration::from_secs(1);

const DISABLED: u8 = 0;
const STARTING: u8 = 1;
const RUNNING: u8 = 2;
const NATS_DOWN: u8 = 3;
const DB_DOWN: u8 = 4;

fn state_name(state: u8) -> &'static str {
    match state {
        STARTING => "starting",
        RUNNING => "running",
        NATS_DOWN => "nats_unavailable",
        DB_DOWN => "database_unavailable",
        DISABLED => "disabled",
        _ => "unknown",
    }
}

/// Shared state of the relay (and the outbox backlog).
#[derive(Default)]
pub struct RelayStatus {
    state: AtomicU8,
    publish_errors: AtomicU64,
    published: AtomicU64,
    backlog: Mutex<Option<(u64, f64)>>,
}

impl RelayStatus {
    pub fn new() -> Arc<RelayStatus> {
        Arc::new(RelayStatus::default())
    }

    fn set_state(&self, state: u8) {
        let before = self.state.swap(state, Ordering::Relaxed);
        if before != state {
            tracing::info!(from = state_name(before), to = state_name(state), "event relay state changed");
        }
    }

    /// One more failure in a row (`failures` counts them): the relay is in `state`, the first
    /// failure of a run is logged by `log_first`, and the relay waits before it tries again.
    async fn back_off(&self, failures: &mut u32, state: u8, log_first: impl FnOnce()) {
        *failures += 1;
        self.set_state(state);
        if *failures == 1 {
            log_first();
        }
        tokio::time::sleep(backoff(*failures, MAX_BACKOFF)).await;
    }
}

impl EventsStatus for RelayStatus {
    fn snapshot(&self) -> EventsSnapshot {
        let backlog = self.backlog.lock().ok().and_then(|b| *b);
        EventsSnapshot {
            relay_state: state_name(self.state.load(Ordering::Relaxed)),
            outbox_pending: backlog.map(|(n, _)| n),
            oldest_pending_age_secs: backlog.map_or(0.0, |(_, age)| age),
            publish_errors: self.publish_errors.load(Ordering::Relaxed),
            published: self.published.load(Ordering::Relaxed),
        }
    }
}

/// Counts the backlog every [`STATS_EVERY`] for `/metrics`, until the process ends.
pub fn spawn_stats(pool: PgPool, status: Arc<RelayStatus>) -> tokio::task::JoinHandle<()> {
    let outbox = PgEventOutbox::new(pool);
    tokio::spawn(async move {
        loop {
            if let Ok(stats) = outbox.stats().await {
                let age =
                    stats.oldest_pending_at.map_or(0.0, |t| (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0);
                if let Ok(mut b) = status.backlog.lock() {
                    *b = Some((stats.pending, age));
                }
            }
            tokio::time::sleep(STATS_EVERY).await;
        }
    })
}

/// The relay's loop: runs until the task is dropped or aborted.
pub async fn run(
    pool: PgPool,
    database_url: String,
    nats_url: String,
    stream: String,
    retention: Duration,
    status: Arc<RelayStatus>,
) {
    status.set_state(STARTING);
    let client = match xclade_nats::connect(&nats_url).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "event relay cannot use the NATS URL; events stay in the outbox");
            status.set_state(NATS_DOWN);
            return;
        }
    };
    let publisher = Arc::new(xclade_nats::NatsPublisher::new(client, &stream));
    let relay_url = xclade_postgres::with_application_name(&database_url, RELAY_APPLICATION);
    let outbox = Arc::new(PgEventOutbox::for_relay(pool, &relay_url));
    let relay = RelayService::new(outbox, publisher, Arc::new(xclade_http::events::EventJson));
    let mut failures = 0u32;
    // The stream first (created when absent).
    loop {
        match relay.prepare().await {
            Ok(()) => break,
            Err(e) => {
                status
                    .back_off(&mut failures, NATS_DOWN, || tracing::warn!(error = %e, "event relay waits for NATS"))
                    .await;
            }
        }
    }
    tracing::info!(stream = %stream, "event relay publishing");
    failures = 0;
    let mut last_purge = tokio::time::Instant::now() - PURGE_EVERY;
    loop {
        if last_purge.elapsed() >= PURGE_EVERY {
            last_purge = tokio::time::Instant::now();
            match relay.purge(Utc::now(), retention, 10_000).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "outbox retention: published events deleted"),
                Err(e) => tracing::warn!(error = %e, "outbox retention failed"),
            }
        }
        match relay.run_batch(BATCH).await {
            Ok(report) => {
                status.published.fetch_add(report.published as u64, Ordering::Relaxed);
                if report.claimed > 0 {
                    tracing::debug!(claimed = report.claimed, published = report.published, "event relay batch");
                }
                if let Some(e) = report.publish_error {
                    status.publish_errors.fetch_add(1, Ordering::Relaxed);
                    let published = report.published;
                    status
                        .back_off(&mut failures, NATS_DOWN, || {
                            tracing::warn!(error = %e, published, "event relay: publish failed; backing off");
                        })
                        .await;
                    continue;
                }
                failures = 0;
                status.set_state(RUNNING);
                if report.claimed < (BATCH / 2) as usize {
                    tokio::time::sleep(IDLE_WAIT).await;
                }
            }
            Err(e) => {
                status
                    .back_off(
                        &mut failures,
                        DB_DOWN,
                        || tracing::warn!(error = %e, "event relay: the outbox failed; backing off"),
                    )
                    .await;
            }
        }
    }
}
