//! A pool whose connections record every statement they send (diesel's instrumentation), for
//! the tests that check what SQL the repositories send.

use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures::FutureExt;
use xclade_postgres::PgPool;

/// The statements sent, in order.
pub type Log = Arc<Mutex<Vec<String>>>;

/// A pool of two connections that push every statement they start onto `log`.
pub fn recording_pool(url: &str, log: &Log) -> PgPool {
    recording_pool_of(url, log, 2)
}

/// [`recording_pool`] with `size` connections.
pub fn recording_pool_of(url: &str, log: &Log, size: usize) -> PgPool {
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    // As the service's pool: a checkout sends nothing (no `SELECT 1`), so it does not wait.
    config.recycling_method = RecyclingMethod::Fast;
    let log = log.clone();
    config.custom_setup = Box::new(move |url| {
        let log = log.clone();
        async move {
            let mut conn = AsyncPgConnection::establish(url).await?;
            let recorder = move |event: InstrumentationEvent<'_>| {
                if let InstrumentationEvent::StartQuery { query, .. } = event {
                    log.lock().expect("log").push(query.to_string());
                }
            };
            conn.set_instrumentation(Box::new(recorder) as Box<dyn Instrumentation>);
            Ok(conn)
        }
        .boxed()
    });
    PgPool::single(
        Pool::builder(AsyncDieselConnectionManager::new_with_config(url, config)).max_size(size).build().expect("pool"),
    )
}
