//! [`EventOutbox`] and [`HealthCheck`] over the in-memory state. The whole outbox is one
//! partition: `claim` takes it (an empty answer while another relay holds it), `release`
//! gives it back.

use super::MemoryStore;
use crate::error::DomainResult;
use crate::event::Event;
use crate::ids::ProjectId;
use crate::ports::{EventOutbox, HealthCheck, OutboxStats};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[async_trait]
impl EventOutbox for MemoryStore {
    async fn pending(&self, limit: u32) -> DomainResult<Vec<Event>> {
        self.read(|s| {
            Ok(s.outbox
                .iter()
                .filter(|r| r.published_at.is_none())
                .take(limit as usize)
                .map(|r| r.event.clone())
                .collect())
        })
    }

    async fn mark_published(&self, ids: &[(ProjectId, Uuid)]) -> DomainResult<u64> {
        let now = self.clock.now_utc();
        self.write(|s| {
            let mut marked = 0;
            for row in s.outbox.iter_mut().filter(|r| r.published_at.is_none()) {
                if ids.contains(&(row.event.project_id, row.event.id)) {
                    row.published_at = Some(now);
                    marked += 1;
                }
            }
            Ok(marked)
        })
    }

    async fn claim(&self, limit: u32) -> DomainResult<Vec<Event>> {
        self.write(|s| {
            if s.claimed {
                return Ok(Vec::new());
            }
            let batch: Vec<Event> = s
                .outbox
                .iter()
                .filter(|r| r.published_at.is_none())
                .take(limit as usize)
                .map(|r| r.event.clone())
                .collect();
            s.claimed = !batch.is_empty();
            Ok(batch)
        })
    }

    async fn release(&self) -> DomainResult<()> {
        self.write(|s| {
            s.claimed = false;
            Ok(())
        })
    }

    async fn delete_published_before(&self, cutoff: DateTime<Utc>, limit: u32) -> DomainResult<u64> {
        self.write(|s| {
            let mut left = limit;
            s.outbox.retain(|r| match r.published_at {
                Some(at) if at < cutoff && left > 0 => {
                    left -= 1;
                    false
                }
                _ => true,
            });
            Ok(u64::from(limit - left))
        })
    }

    async fn stats(&self) -> DomainResult<OutboxStats> {
        self.read(|s| {
            let pending: Vec<_> = s.outbox.iter().filter(|r| r.published_at.is_none()).collect();
            Ok(OutboxStats {
                pending: pending.len() as u64,
                oldest_pending_at: pending.iter().map(|r| r.event.created_at).min(),
            })
        })
    }
}

#[async_trait]
impl HealthCheck for MemoryStore {
    async fn ready(&self) -> DomainResult<()> {
        Ok(())
    }
}
