//! Property tests of the versioned update: random sequences of actions against a model that
//! compares states instead of trusting what [`CustomerGroup::apply`] reports.

use super::*;
use chrono::TimeZone;
use proptest::prelude::*;
use serde_json::json;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()
}

fn start(version: i64, custom: bool) -> CustomerGroup {
    CustomerGroup {
        id: crate::ids::GroupId(uuid::Uuid::nil()),
        version: Version::new(version).unwrap(),
        key: None,
        name: GroupName::parse("name", "Gold").expect("valid"),
        custom: custom.then(|| CustomFields { type_id: crate::ids::TypeId(uuid::Uuid::nil()), fields: Map::new() }),
        metadata: Metadata::default(),
        created_at: at(0),
        created_by: None,
        last_modified_at: at(0),
        last_modified_by: None,
    }
}

/// Small alphabets, so that actions often repeat what is already there (no-ops) and removes
/// often meet fields that are not set (failures).
fn action() -> impl Strategy<Value = ResolvedAction> {
    let name = prop::sample::select(vec!["Gold", "Silver", "Bronze"])
        .prop_map(|n| ResolvedAction::ChangeName(GroupName::parse("name", n).expect("valid")));
    let key = prop::option::of(prop::sample::select(vec!["gold", "silver"]))
        .prop_map(|k| ResolvedAction::SetKey(k.map(|k| GroupKey::parse(k).expect("valid"))));
    let custom = prop::bool::ANY.prop_map(|on| {
        ResolvedAction::SetCustomType(
            on.then(|| CustomFields { type_id: crate::ids::TypeId(uuid::Uuid::nil()), fields: Map::new() }),
        )
    });
    let field = (prop::sample::select(vec!["tier", "points"]), prop::option::of(0i64..3))
        .prop_map(|(n, v)| ResolvedAction::SetCustomField { name: n.to_owned(), value: v.map(|v| json!(v)) });
    prop_oneof![name, key, custom, field]
}

/// What the sequence should do, step by step: `None` when one action must fail (a field set
/// without a type, a remove of a field that is not set), else the final state and how many
/// actions changed it (compared by value, not by what `apply` says).
fn model(group: &CustomerGroup, actions: &[ResolvedAction]) -> Option<(CustomerGroup, i64)> {
    let mut state = group.clone();
    let mut changed = 0;
    for action in actions {
        let before = state.clone();
        match action {
            ResolvedAction::ChangeName(n) => state.name = n.clone(),
            ResolvedAction::SetKey(k) => state.key = k.clone(),
            ResolvedAction::SetCustomType(c) => state.custom = c.clone(),
            ResolvedAction::SetMetadata(m) => state.metadata = m.clone(),
            ResolvedAction::SetCustomField { name, value } => {
                let custom = state.custom.as_mut()?;
                match value {
                    Some(v) => {
                        custom.fields.insert(name.clone(), v.clone());
                    }
                    None => {
                        custom.fields.remove(name)?;
                    }
                }
            }
        }
        if state != before {
            changed += 1;
        }
    }
    Some((state, changed))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The version grows by exactly the number of actions that changed the group; the
    /// modification stamp moves only then; a failing action fails the whole request.
    #[test]
    fn version_grows_by_the_effective_actions(
        version in 1i64..1_000,
        custom in prop::bool::ANY,
        actions in prop::collection::vec(action(), 0..12),
    ) {
        let group = start(version, custom);
        let by = Actor::Client("c".into());
        let result = group.apply_all(&actions, at(60), &by);
        match (model(&group, &actions), result) {
            (None, Err(e)) => prop_assert!(matches!(e, DomainError::InvalidOperation(_)), "{e}"),
            (None, Ok((next, n))) => prop_assert!(false, "should have failed, applied {n}: {next:?}"),
            (Some(_), Err(e)) => prop_assert!(false, "should have applied: {e}"),
            (Some((want, changed)), Ok((next, n))) => {
                prop_assert_eq!(n, changed);
                prop_assert_eq!(next.version.get(), version + changed);
                prop_assert_eq!(&next.name, &want.name);
                prop_assert_eq!(&next.key, &want.key);
                prop_assert_eq!(&next.custom, &want.custom);
                if changed == 0 {
                    prop_assert_eq!(&next, &group);
                } else {
                    prop_assert_eq!((next.last_modified_at, next.last_modified_by.as_ref()), (at(60), Some(&by)));
                }
                prop_assert_eq!((next.id, next.created_at), (group.id, group.created_at));
            }
        }
    }

}
