//! The outbox relay: delivers recorded events to the broker, exactly once in effect.
//!
//! One batch ([`RelayService::run_batch`]): claim partitions with pending events, publish their
//! events in waves (the first pending event of every resource, all in flight together, then
//! the second of every resource, …: one resource's next event is only sent once the broker
//! acknowledged its previous one), mark the acknowledged ones published, release the
//! partitions. A failed publish ends the batch after its wave (no later wave is sent, so a
//! resource's events never overtake each other); the events after it stay pending and are sent again by a later batch. A relay
//! that dies between a publish and its mark publishes the event again later, and the broker
//! drops the repeat by its id. The loop around batches (waiting, back-off, retention) belongs
//! to the runtime that drives this service.

use crate::error::{DomainError, DomainResult};
use crate::event::EventEncoder;
use crate::ports::{EventOutbox, EventPublisher};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// What one batch did.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// Events claimed.
    pub claimed: usize,
    /// Events acknowledged by the broker and marked published.
    pub published: usize,
    /// The publish failure that ended the batch early, if any.
    pub publish_error: Option<DomainError>,
}

/// Delivers the outbox to the broker.
#[derive(Clone)]
pub struct RelayService {
    outbox: Arc<dyn EventOutbox>,
    publisher: Arc<dyn EventPublisher>,
    encoder: Arc<dyn EventEncoder>,
}

impl RelayService {
    /// A relay from `outbox` to `publisher`; `encoder` writes the `data` of events the outbox
    /// hands over unencoded (see [`EventBody`](crate::event::EventBody)).
    pub fn new(
        outbox: Arc<dyn EventOutbox>,
        publisher: Arc<dyn EventPublisher>,
        encoder: Arc<dyn EventEncoder>,
    ) -> Self {
        RelayService { outbox, publisher, encoder }
    }

    /// Creates the broker's destination when absent.
    pub async fn prepare(&self) -> DomainResult<()> {
        self.publisher.ensure_ready().await
    }

    /// Runs one batch of at most `limit` events. An error is the outbox failing (the
    /// database); a broker failure is reported in [`BatchReport::publish_error`].
    pub async fn run_batch(&self, limit: u32) -> DomainResult<BatchReport> {
        let events = match self.outbox.claim(limit).await {
            Ok(events) => events,
            Err(e) => {
                let _ = self.outbox.release().await;
                return Err(e);
            }
        };
        let mut report = BatchReport { claimed: events.len(), ..BatchReport::default() };
        let mut acked = Vec::with_capacity(events.len());
        // In waves: the first pending event of every resource, then the second, …; a wave's
        // messages are in flight together (different resources), and a resource's next event
        // is only sent once the previous one was acknowledged.
        for wave in waves(&events) {
            let messages: Vec<_> = wave.iter().map(|&i| events[i].message(self.encoder.as_ref())).collect();
            let results = self.publisher.publish_all(&messages).await;
            for (&i, result) in wave.iter().zip(results) {
                match result {
                    Ok(()) => acked.push((events[i].project_id, events[i].id)),
                    Err(e) => {
                        report.publish_error.get_or_insert(e);
                    }
                }
            }
            if report.publish_error.is_some() {
                break;
            }
        }
        let marked = if acked.is_empty() { Ok(0) } else { self.outbox.mark_published(&acked).await };
        let released = self.outbox.release().await;
        marked?;
        released?;
        report.published = acked.len();
        Ok(report)
    }

    /// Deletes published events older than `retention` before `now`, in rounds of `limit`.
    pub async fn purge(&self, now: DateTime<Utc>, retention: Duration, limit: u32) -> DomainResult<u64> {
        let Ok(retention) = chrono::Duration::from_std(retention) else { return Ok(0) };
        let Some(cutoff) = now.checked_sub_signed(retention) else { return Ok(0) };
        let mut total = 0;
        loop {
            let n = self.outbox.delete_published_before(cutoff, limit).await?;
            total += n;
            if n < u64::from(limit) {
                return Ok(total);
            }
        }
    }
}

/// The indexes of `events` (in write order) grouped in waves: wave *n* holds the *n*-th event of
/// every resource, in write order.
fn waves(events: &[crate::event::Event]) -> Vec<Vec<usize>> {
    let mut seen: std::collections::HashMap<uuid::Uuid, usize> = std::collections::HashMap::new();
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let n = seen.entry(event.resource_id).or_insert(0);
        if waves.len() <= *n {
            waves.push(Vec::new());
        }
        waves[*n].push(i);
        *n += 1;
    }
    waves
}

/// The wait before the next attempt after `failures` failures in a row: 100 ms doubling up
/// to `max`.
pub fn backoff(failures: u32, max: Duration) -> Duration {
    let factor = 1u32.checked_shl(failures.saturating_sub(1).min(16)).unwrap_or(u32::MAX);
    Duration::from_millis(100).saturating_mul(factor).min(max)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::auth::Actor;
    use crate::event::{Event, EventBody, EventData, EventKind, EventPayload, OutgoingMessage};
    use crate::ids::ProjectId;
    use crate::ports::{MockEventOutbox, MockEventPublisher};
    use futures::executor::block_on;
    use mockall::{predicate::eq, Sequence};
    use serde_json::json;
    use std::sync::Mutex;
    use uuid::Uuid;

    /// Event `n` of resource 100.
    fn event(n: u128) -> Event {
        event_of(n, 100)
    }

    fn event_of(n: u128, resource: u128) -> Event {
        Event {
            id: Uuid::from_u128(n),
            project_id: ProjectId(Uuid::from_u128(1)),
            project_key: "acme".into(),
            kind: EventKind::CustomerUpdated,
            resource_id: Uuid::from_u128(resource),
            actor: Actor::Client("c".into()),
            body: EventBody::Encoded(EventPayload::of(&json!({"resource": {"n": n}}))),
            created_at: Utc::now(),
        }
    }

    /// The events of these tests are encoded already: the relay must not encode them again.
    struct NoEncoding;

    impl EventEncoder for NoEncoding {
        fn encode(&self, _: &Actor, _: &EventData) -> EventPayload {
            panic!("an encoded event was encoded again")
        }
    }

    fn relay(outbox: MockEventOutbox, publisher: MockEventPublisher) -> RelayService {
        RelayService::new(Arc::new(outbox), Arc::new(publisher), Arc::new(NoEncoding))
    }

    fn unavailable() -> DomainError {
        DomainError::Unavailable(Box::new(std::io::Error::other("broker away")))
    }

    #[test]
    fn publishes_in_order_then_marks_then_releases() {
        let events = vec![event(1), event(2), event(3)];
        let mut seq = Sequence::new();
        let mut outbox = MockEventOutbox::new();
        let mut publisher = MockEventPublisher::new();
        let claimed = events.clone();
        outbox.expect_claim().with(eq(10)).times(1).in_sequence(&mut seq).return_once(move |_| Ok(claimed));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let log = sent.clone();
        // One resource: one message in flight at a time.
        publisher.expect_publish_all().times(3).in_sequence(&mut seq).returning(move |m: &[OutgoingMessage]| {
            assert_eq!(m.len(), 1);
            log.lock().unwrap().push(m[0].msg_id.clone());
            vec![Ok(())]
        });
        let ids: Vec<_> = events.iter().map(|e| (e.project_id, e.id)).collect();
        outbox
            .expect_mark_published()
            .with(eq(ids))
            .times(1)
            .in_sequence(&mut seq)
            .returning(|ids| Ok(ids.len() as u64));
        outbox.expect_release().times(1).in_sequence(&mut seq).returning(|| Ok(()));
        let relay = relay(outbox, publisher);
        let report = block_on(relay.run_batch(10)).unwrap();
        assert_eq!((report.claimed, report.published), (3, 3));
        assert!(report.publish_error.is_none());
        let expected: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
        assert_eq!(*sent.lock().unwrap(), expected);
    }

    /// A batch of `events` whose second fails to publish, sent in `publish_calls` calls: only the
    /// first event is marked, and the batch is released.
    fn batch_failing_the_second(events: Vec<Event>, publish_calls: usize) -> BatchReport {
        let mut outbox = MockEventOutbox::new();
        let mut publisher = MockEventPublisher::new();
        let claimed = events.clone();
        outbox.expect_claim().return_once(move |_| Ok(claimed));
        let failing = events[1].id.to_string();
        publisher.expect_publish_all().times(publish_calls).returning(move |m| {
            m.iter().map(|m| if m.msg_id == failing { Err(unavailable()) } else { Ok(()) }).collect()
        });
        let first = vec![(events[0].project_id, events[0].id)];
        outbox.expect_mark_published().with(eq(first)).times(1).returning(|ids| Ok(ids.len() as u64));
        outbox.expect_release().times(1).returning(|| Ok(()));
        let relay = relay(outbox, publisher);
        block_on(relay.run_batch(10)).unwrap()
    }

    #[test]
    fn a_failed_publish_ends_the_batch_and_only_acknowledged_events_are_marked() {
        // One resource: the third event is never sent once the second failed.
        let report = batch_failing_the_second(vec![event(1), event(2), event(3)], 2);
        assert_eq!((report.claimed, report.published), (3, 1));
        assert!(matches!(report.publish_error, Some(DomainError::Unavailable(_))));
    }

    #[test]
    fn nothing_is_marked_when_the_first_publish_fails() {
        let mut outbox = MockEventOutbox::new();
        let mut publisher = MockEventPublisher::new();
        outbox.expect_claim().return_once(|_| Ok(vec![event(1), event(2)]));
        publisher.expect_publish_all().times(1).returning(|m| m.iter().map(|_| Err(unavailable())).collect());
        outbox.expect_mark_published().never();
        outbox.expect_release().times(1).returning(|| Ok(()));
        let relay = relay(outbox, publisher);
        let report = block_on(relay.run_batch(10)).unwrap();
        assert_eq!(report.published, 0);
        assert!(report.publish_error.is_some());
    }

    #[test]
    fn different_resources_are_in_flight_together_and_one_resource_waits_for_its_previous_event() {
        // Resource 100 has events 1 and 3, resource 200 events 2 and 4, resource 300 event 5.
        let events = vec![event_of(1, 100), event_of(2, 200), event_of(3, 100), event_of(4, 200), event_of(5, 300)];
        let mut outbox = MockEventOutbox::new();
        let mut publisher = MockEventPublisher::new();
        let claimed = events.clone();
        outbox.expect_claim().return_once(move |_| Ok(claimed));
        let waves = Arc::new(Mutex::new(Vec::new()));
        let log = waves.clone();
        publisher.expect_publish_all().times(2).returning(move |m: &[OutgoingMessage]| {
            log.lock().unwrap().push(m.iter().map(|m| m.msg_id.clone()).collect::<Vec<_>>());
            m.iter().map(|_| Ok(())).collect()
        });
        outbox.expect_mark_published().times(1).returning(|ids| Ok(ids.len() as u64));
        outbox.expect_release().times(1).returning(|| Ok(()));
        let relay = relay(outbox, publisher);
        let report = block_on(relay.run_batch(10)).unwrap();
        assert_eq!(report.published, 5);
        let id = |n: u128| Uuid::from_u128(n).to_string();
        assert_eq!(*waves.lock().unwrap(), vec![vec![id(1), id(2), id(5)], vec![id(3), id(4)]]);
    }

    #[test]
    fn a_failure_in_a_wave_keeps_the_others_acknowledged_and_sends_no_later_wave() {
        // Events 1 and 2 go in the first wave; event 3 (after 1 on its resource) never goes.
        let report = batch_failing_the_second(vec![event_of(1, 100), event_of(2, 200), event_of(3, 100)], 1);
        assert_eq!((report.claimed, report.published), (3, 1));
        assert!(report.publish_error.is_some());
    }

    #[test]
    fn a_failed_claim_releases_and_reports_the_error() {
        let mut outbox = MockEventOutbox::new();
        let mut publisher = MockEventPublisher::new();
        outbox.expect_claim().return_once(|_| Err(unavailable()));
        outbox.expect_release().times(1).returning(|| Ok(()));
        publisher.expect_publish_all().never();
        let relay = relay(outbox, publisher);
        assert!(block_on(relay.run_batch(10)).is_err());
    }

    #[test]
    fn messages_are_cloud_events_on_the_project_subject() {
        let e = event(7);
        let m = e.message(&NoEncoding);
        assert_eq!(m.subject, "xclade.events.acme.customer.updated");
        assert_eq!(m.msg_id, e.id.to_string());
        let body: serde_json::Value = serde_json::from_slice(&m.body).unwrap();
        assert_eq!(body["specversion"], "1.0");
        assert_eq!(body["source"], "/projects/acme");
        assert_eq!(body["type"], "customer.updated");
        assert_eq!(body["subject"], e.resource_id.to_string());
        assert_eq!(body["datacontenttype"], "application/json");
        assert_eq!(body["data"], json!({"resource": {"n": 7}}));
    }

    #[test]
    fn purge_deletes_in_rounds_until_a_short_one() {
        let mut outbox = MockEventOutbox::new();
        let mut n = 0;
        outbox.expect_delete_published_before().times(3).returning(move |_, limit| {
            n += 1;
            Ok(if n < 3 { u64::from(limit) } else { 5 })
        });
        let relay = relay(outbox, MockEventPublisher::new());
        let purged = block_on(relay.purge(Utc::now(), Duration::from_secs(3600), 100)).unwrap();
        assert_eq!(purged, 205);
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let max = Duration::from_secs(5);
        assert_eq!(backoff(1, max), Duration::from_millis(100));
        assert_eq!(backoff(2, max), Duration::from_millis(200));
        assert_eq!(backoff(4, max), Duration::from_millis(800));
        assert_eq!(backoff(30, max), max);
    }
}
