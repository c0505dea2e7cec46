//! Creates without an idempotency key that wait together are written by one statement
//! (crates/postgres/src/customers/batch.rs), and each keeps the outcome it would have had alone.
//! The tests run on one thread (`#[tokio::test]`), as an HTTP worker's requests do, so creates
//! started together queue behind each other.

use futures::future::join_all;
use xclade_domain::customer::{Customer, Relations};
use xclade_domain::ports::{CreateOutcome, CustomerRepository};
use xclade_domain::{DomainError, Resource};
use xclade_postgres::PgCustomerRepository;

use crate::common::{customer, events, Fx};
use crate::recording::{recording_pool_of, Log};

/// The recorded statements that insert customers, then forget them all: (alone, together).
fn inserts(log: &Log) -> (usize, usize) {
    let mut log = log.lock().expect("log");
    let alone = log.iter().filter(|sql| sql.contains("INSERT INTO customers") && !sql.contains("unnest(")).count();
    let together = log.iter().filter(|sql| sql.contains("INSERT INTO customers") && sql.contains("unnest(")).count();
    log.clear();
    (alone, together)
}

async fn create_all(
    fx: &Fx,
    repo: &PgCustomerRepository,
    customers: &[Customer],
) -> Vec<Result<Customer, DomainError>> {
    join_all(customers.iter().map(|c| {
        let ctx = fx.ctx();
        async move {
            repo.create(&ctx, c, None, None).await.map(|outcome| match outcome {
                CreateOutcome::Created(c) => c,
                CreateOutcome::Replayed(c) => panic!("a create without a key replayed {}", c.id()),
            })
        }
    }))
    .await
}

fn is_duplicate_of(outcome: &Result<Customer, DomainError>, email: &str) -> bool {
    matches!(outcome, Err(DomainError::Duplicate { resource: Resource::Customer, field: "email", value }) if value == email)
}

#[tokio::test]
async fn creates_that_wait_together_are_one_statement_and_each_keeps_its_own_outcome() {
    let fx = Fx::new().await;
    fx.new_customer("taken@example.com").await;
    let log = Log::default();
    let repo = PgCustomerRepository::new(recording_pool_of(fx.db.url(), &log, 4), events());
    let mut emails: Vec<String> = (0..8).map(|i| format!("new{i}@example.com")).collect();
    // Two creates of one email (in any case) in the same batch, and one of a stored customer's.
    emails.extend(["twice@example.com".into(), "TWICE@example.com".into(), "Taken@example.com".into()]);
    let asked: Vec<Customer> = emails.iter().map(|e| customer(e)).collect();

    let outcomes = create_all(&fx, &repo, &asked).await;

    assert_eq!(inserts(&log), (0, 1), "eleven creates started together are one statement");
    for (i, outcome) in outcomes[..8].iter().enumerate() {
        let created = outcome.as_ref().expect("a new email is created");
        assert_eq!(created, &asked[i]);
        let stored = repo.get(fx.project, created.id(), Relations::ALL).await.expect("stored");
        assert_eq!(&stored, created, "what the create answered is what was stored");
    }
    let twice = &outcomes[8..10];
    let created_twice: Vec<_> = twice.iter().filter(|o| o.is_ok()).collect();
    assert_eq!(created_twice.len(), 1, "one of two creates of one email is created: {twice:?}");
    assert!(
        is_duplicate_of(&twice[0], "twice@example.com") || is_duplicate_of(&twice[1], "TWICE@example.com"),
        "the other is told its email is taken: {twice:?}"
    );
    assert!(is_duplicate_of(&outcomes[10], "Taken@example.com"), "{:?}", outcomes[10]);

    // An event for exactly the customers created, and no customer without its event.
    assert_eq!(fx.count("SELECT count(*) AS n FROM customers").await, 1 + 8 + 1);
    assert_eq!(fx.events_of("customer.created").await, 1 + 8 + 1);
    assert_eq!(
        fx.count("SELECT count(*) AS n FROM customers c WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.resource_id = c.id)")
            .await,
        0
    );
}

#[tokio::test]
async fn a_create_sent_alone_is_the_one_statement_of_one_create() {
    let fx = Fx::new().await;
    let log = Log::default();
    let repo = PgCustomerRepository::new(recording_pool_of(fx.db.url(), &log, 4), events());
    for i in 0..3 {
        let asked = customer(&format!("alone{i}@example.com"));
        let outcomes = create_all(&fx, &repo, std::slice::from_ref(&asked)).await;
        assert_eq!(outcomes[0].as_ref().expect("created"), &asked);
        assert_eq!(inserts(&log), (1, 0), "a create with nobody waiting is sent at once, alone");
    }
    let outcomes = create_all(&fx, &repo, &[customer("alone0@example.com")]).await;
    assert!(is_duplicate_of(&outcomes[0], "alone0@example.com"), "{:?}", outcomes[0]);
    assert_eq!(fx.events_of("customer.created").await, 3);
}

#[tokio::test]
async fn a_create_that_fails_otherwise_fails_alone_and_the_others_of_its_batch_are_written() {
    let fx = Fx::new().await;
    let stored = fx.new_customer("first@example.com").await;
    let log = Log::default();
    let repo = PgCustomerRepository::new(recording_pool_of(fx.db.url(), &log, 4), events());
    // A create with the id of a stored customer: the batch's statement fails as a whole (the id
    // is not what ON CONFLICT looks at), writes nothing, and its creates are sent one by one.
    let mut clash = customer("clash@example.com").into_parts();
    clash.id = stored.id();
    let asked = vec![customer("ok1@example.com"), Customer::from_parts(clash), customer("ok2@example.com")];

    let outcomes = create_all(&fx, &repo, &asked).await;

    assert_eq!(inserts(&log), (3, 1), "one statement for the three, then one each");
    assert_eq!(outcomes[0].as_ref().expect("created"), &asked[0]);
    assert!(matches!(outcomes[1], Err(DomainError::Storage(_))), "{:?}", outcomes[1]);
    assert_eq!(outcomes[2].as_ref().expect("created"), &asked[2]);
    assert_eq!(fx.count("SELECT count(*) AS n FROM customers").await, 3);
    assert_eq!(fx.count("SELECT count(*) AS n FROM customers WHERE email = 'clash@example.com'").await, 0);
    assert_eq!(fx.events_of("customer.created").await, 3);
}

#[tokio::test]
async fn a_create_whose_request_is_gone_before_it_is_sent_is_not_written() {
    let fx = Fx::new().await;
    let log = Log::default();
    let repo = PgCustomerRepository::new(recording_pool_of(fx.db.url(), &log, 4), events());
    let gone = customer("gone@example.com");
    let ctx = fx.ctx();
    {
        let create = repo.create(&ctx, &gone, None, None);
        futures::pin_mut!(create);
        // Queued (its writer is spawned but has not run: this is the only thread), then dropped.
        assert!(futures::poll!(create.as_mut()).is_pending());
    }
    let kept = customer("kept@example.com");
    let outcomes = create_all(&fx, &repo, std::slice::from_ref(&kept)).await;
    assert_eq!(outcomes[0].as_ref().expect("created"), &kept);
    assert_eq!(inserts(&log), (1, 0), "only the create still waited for is sent");
    assert_eq!(fx.count("SELECT count(*) AS n FROM customers WHERE email = 'gone@example.com'").await, 0);
    assert_eq!(fx.events_of("customer.created").await, 1);
}
