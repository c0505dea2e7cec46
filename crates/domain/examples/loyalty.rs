//! A loyalty service built on the domain crate: it keeps customers in tiers (customer groups),
//! moves them between tiers, renames a tier at an expected version (and meets a conflict),
//! and finds tiers with a `where` query. Storage is the in-memory adapter; a real service
//! passes its own adapters to the same services.
//!
//! Run it with `cargo run -p xclade-domain --features memory --example loyalty`.

use futures::executor::block_on;
use xclade_domain::customer::{CustomerDraft, Relations};
use xclade_domain::customer_group::{GroupAction, GroupDraft, GroupKey, GroupName};
use xclade_domain::event::{EventData, EventResource};
use xclade_domain::memory::MemoryStore;
use xclade_domain::metadata::Metadata;
use xclade_domain::paging::{GroupQuery, Sort, SortField};
use xclade_domain::ports::CreateOutcome;
use xclade_domain::services::GroupTarget;
use xclade_domain::{predicate, DomainError};

/// The plain fields a group `where` query may use.
const GROUP_FIELDS: &[&str] = &["id", "key", "name", "version", "createdAt", "lastModifiedAt"];

fn tier(name: &str, key: &str) -> Result<GroupDraft, DomainError> {
    Ok(GroupDraft {
        name: GroupName::parse("name", name)?,
        key: Some(GroupKey::parse(key)?),
        custom: None,
        metadata: Metadata::default(),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = MemoryStore::new();
    // The caller: an API client allowed to manage the project "shop".
    let shop = store.principal("shop");
    let customers = store.customer_service();
    let groups = store.group_service(100);

    // Customers and tiers.
    let mut ids = Vec::new();
    for email in ["ada@example.com", "grace@example.com", "alan@example.com"] {
        let draft = CustomerDraft::new(email, None, None, None, None, Default::default(), None)?;
        if let CreateOutcome::Created(c) = block_on(customers.create(&shop, draft, None))? {
            ids.push(c.id());
        }
    }
    let gold = block_on(groups.create(&shop, tier("Gold", "gold")?))?;
    let silver = block_on(groups.create(&shop, tier("Silver", "silver")?))?;
    println!("created {} customers and the tiers {} and {}", ids.len(), gold.name().as_str(), silver.name().as_str());

    // The same email twice is a rule, not a crash.
    let again = CustomerDraft::new("ADA@example.com", None, None, None, None, Default::default(), None)?;
    match block_on(customers.create(&shop, again, None)) {
        Err(DomainError::Duplicate { field, value, .. }) => println!("refused: {field} {value} is taken"),
        other => return Err(format!("expected a duplicate, got {other:?}").into()),
    }

    // Memberships: everyone starts in Silver; Ada moves up to Gold.
    block_on(groups.set_customers(&shop, silver.id(), ids.clone(), vec![]))?;
    let ada = block_on(customers.set_groups(&shop, ids[0], vec![gold.id()], vec![silver.id()], Relations::ALL))?;
    let tiers: Vec<&str> = ada.groups().iter().map(|g| g.name().as_str()).collect();
    println!("{} is now in {tiers:?}", ada.email_str());
    let silver_members = block_on(groups.customers_of(&shop, silver.id(), 100))?;
    println!("Silver has {} members", silver_members.len());

    // A versioned update: read, change at the version read; a writer with an old version loses.
    let current = block_on(groups.get(&shop, &GroupTarget::Key(GroupKey::parse("gold")?)))?;
    let rename = |name: &str| -> Result<Vec<GroupAction>, DomainError> {
        Ok(vec![GroupAction::ChangeName(GroupName::parse("name", name)?)])
    };
    let renamed =
        block_on(groups.update(&shop, &GroupTarget::Id(gold.id()), current.version().into(), rename("Gold+")?))?;
    println!("renamed to {} at version {}", renamed.name().as_str(), renamed.version().get());
    match block_on(groups.update(&shop, &GroupTarget::Id(gold.id()), current.version().into(), rename("Platinum")?)) {
        Err(DomainError::VersionConflict { expected, current, .. }) => {
            println!("conflict: expected version {expected}, the tier is at {current}; read it again and retry");
        }
        other => return Err(format!("expected a conflict, got {other:?}").into()),
    }
    assert_eq!(renamed.version(), current.version().next());

    // A `where` query: tiers changed since they were created, by name.
    let query = GroupQuery {
        predicate: Some(predicate::parse("version > 1 and key is defined", GROUP_FIELDS, false)?),
        sort: vec![Sort { field: SortField::Name, descending: false }],
        ..Default::default()
    };
    let page = block_on(groups.query(&shop, &query))?;
    let names: Vec<&str> = page.results.iter().map(|g| g.name().as_str()).collect();
    println!("tiers with version > 1: {names:?} (total {:?})", page.total);

    // Every change was recorded as an event, ready for a relay.
    let kinds: Vec<&str> = store.events().iter().map(|e| e.kind.as_str()).collect();
    println!("{} events: {}", kinds.len(), kinds.join(", "));
    // Events are values: a service reacts to them without parsing JSON (an `EventEncoder` writes
    // JSON only where events leave the process).
    for event in store.events() {
        if let Some(EventData { resource: EventResource::Customer(c), memberships: Some(m), .. }) = event.data() {
            println!("{} joined {} and left {} tiers", c.email_str(), m.added.len(), m.removed.len());
        }
    }
    Ok(())
}
