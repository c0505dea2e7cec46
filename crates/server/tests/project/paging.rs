//! §3.3: `sort` (every field, both directions, ties broken by `id`), `limit`, `offset`,
//! `withTotal`, and the page envelope.

use crate::support::{assert_error_answer, assert_group_view, assert_page, first_error, id, Ctx};
use serde_json::{json, Value};
use std::cmp::Ordering;

/// One created group as the test knows it.
#[derive(Debug, Clone)]
struct Known {
    id: String,
    name: String,
    key: Option<String>,
    version: i64,
    /// Creation order.
    created: usize,
    /// Order of the last modification (creation counts as one).
    modified: usize,
}

/// 12 groups `p01`…`p12`; every third has no key, the others keys in the reverse order of
/// the names; group `i` gets `i % 4` renames (versions 1–4, many ties; an odd number leaves
/// the name `p01x`), done from the last group to the first, so the `lastModifiedAt` order
/// differs from the `createdAt` order.
async fn seed(ctx: &Ctx) -> Vec<Known> {
    let mut known = Vec::new();
    let mut clock = 0;
    for i in 1..=12usize {
        let name = format!("p{i:02}");
        let key = (i % 3 != 0).then(|| format!("k{:02}", 13 - i));
        let group = ctx.create(&name, key.as_deref()).await;
        known.push(Known { id: id(&group), name, key, version: 1, created: i, modified: clock });
        clock += 1;
    }
    for g in known.iter_mut().rev() {
        let renames = g.created % 4;
        if renames == 0 {
            continue;
        }
        // Renames through temporary names; an odd number ends on `<name>x`.
        let last = if renames % 2 == 0 { g.name.clone() } else { format!("{}x", g.name) };
        let actions: Vec<Value> = (0..renames)
            .map(|r| {
                let name = if r + 1 == renames { last.clone() } else { format!("{}-{r}", g.name) };
                json!({"action": "changeName", "name": name})
            })
            .collect();
        g.name = last;
        let (s, b) = ctx.update(&g.id, 1, json!(actions)).await;
        assert_eq!((s, &b["version"]), (200, &json!(1 + renames as i64)), "{b}");
        g.version = 1 + renames as i64;
        g.modified = clock;
        clock += 1;
    }
    known
}

/// `a` before `b` for `field` ascending, ties by id ascending; `key` puts groups without a
/// key last.
fn ascending(field: &str, a: &Known, b: &Known) -> Ordering {
    let by = match field {
        "id" => Ordering::Equal,
        "name" => a.name.cmp(&b.name),
        "key" => match (&a.key, &b.key) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
        "version" => a.version.cmp(&b.version),
        "createdAt" => a.created.cmp(&b.created),
        "lastModifiedAt" => a.modified.cmp(&b.modified),
        other => panic!("{other}"),
    };
    by.then_with(|| a.id.cmp(&b.id))
}

/// All result ids of the query, read in pages of `page`.
async fn paged_ids(ctx: &Ctx, sorts: &[&str], page: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for offset in (0..12).step_by(page) {
        let (limit, offset) = (page.to_string(), offset.to_string());
        let mut query: Vec<(&str, &str)> = sorts.iter().map(|s| ("sort", *s)).collect();
        query.extend([("limit", limit.as_str()), ("offset", offset.as_str())]);
        let (s, b) = ctx.get_q("/customer-groups", &query).await;
        assert_eq!(s, 200, "{query:?}: {b}");
        let results = b["results"].as_array().expect("results");
        assert_eq!(b["count"], json!(results.len()), "{b}");
        assert_eq!(
            (&b["total"], &b["limit"], &b["offset"]),
            (&json!(12), &json!(page), &json!(offset.parse::<u32>().expect("n")))
        );
        ids.extend(results.iter().map(id));
    }
    ids
}

fn names_of(known: &[Known], ids: &[String]) -> Vec<String> {
    ids.iter().map(|i| known.iter().find(|k| &k.id == i).map(|k| k.name.clone()).unwrap_or_else(|| i.clone())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_by_every_field_is_stable_across_pages() {
    let ctx = Ctx::new().await;
    let known = seed(&ctx).await;
    for field in ["id", "key", "name", "version", "createdAt", "lastModifiedAt"] {
        let mut expected = known.clone();
        expected.sort_by(|a, b| ascending(field, a, b));
        let expected: Vec<String> = expected.into_iter().map(|k| k.id).collect();
        for page in [5, 12] {
            let asc = paged_ids(&ctx, &[&format!("{field} asc")], page).await;
            assert_eq!(names_of(&known, &asc), names_of(&known, &expected), "{field} asc, pages of {page}");
            let desc = paged_ids(&ctx, &[&format!("{field} desc")], page).await;
            let reversed: Vec<String> = expected.iter().rev().cloned().collect();
            assert_eq!(names_of(&known, &desc), names_of(&known, &reversed), "{field} desc, pages of {page}");
        }
        // No direction is ascending; the direction is case-insensitive.
        assert_eq!(paged_ids(&ctx, &[field], 5).await, expected, "{field}");
        assert_eq!(
            paged_ids(&ctx, &[&format!("{field} DESC")], 5).await,
            expected.iter().rev().cloned().collect::<Vec<_>>(),
            "{field} DESC"
        );
    }

    // Several sorts: version descending, then name ascending (then id).
    let mut expected = known.clone();
    expected.sort_by(|a, b| b.version.cmp(&a.version).then_with(|| a.name.cmp(&b.name)));
    let expected: Vec<String> = expected.into_iter().map(|k| k.id).collect();
    assert_eq!(names_of(&known, &paged_ids(&ctx, &["version desc", "name asc"], 5).await), names_of(&known, &expected));
    // Version ascending, then key descending (groups without a key first), then id descending.
    let mut expected = known.clone();
    expected.sort_by(|a, b| a.version.cmp(&b.version).then_with(|| ascending("key", b, a)));
    let expected: Vec<String> = expected.into_iter().map(|k| k.id).collect();
    assert_eq!(names_of(&known, &paged_ids(&ctx, &["version asc", "key desc"], 5).await), names_of(&known, &expected));

    // Without a sort the order is still stable (by id).
    let mut by_id: Vec<String> = known.iter().map(|k| k.id.clone()).collect();
    by_id.sort();
    assert_eq!(paged_ids(&ctx, &[], 5).await, by_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_offset_and_total() {
    let ctx = Ctx::new().await;
    seed(&ctx).await;
    let page = ctx.get_q("/customer-groups", &[("limit", "0")]).await;
    assert!(assert_page(&page, 0, 0, Some(12)).is_empty());
    let page = ctx.get_q("/customer-groups", &[("limit", "0"), ("withTotal", "false")]).await;
    assert!(assert_page(&page, 0, 0, None).is_empty());

    for (param, value, range) in [("limit", "501", "0 and 500"), ("offset", "10001", "0 and 10000")] {
        let message = format!("Malformed parameter: {param}: Expected a whole number between {range}, got '{value}'.");
        let answer = ctx.get_q("/customer-groups", &[(param, value)]).await;
        assert_error_answer(&answer, 400, "InvalidInput", &message, json!({}));
    }
    for (param, value) in
        [("limit", "-1"), ("offset", "-1"), ("offset", "x"), ("withTotal", "yes"), ("sort", "name sideways")]
    {
        let (s, b) = ctx.get_q("/customer-groups", &[(param, value)]).await;
        let (code, message) = first_error(&b);
        assert_eq!((s, code.as_str()), (400, "InvalidInput"), "{param}={value}: {b}");
        assert!(message.starts_with(&format!("Malformed parameter: {param}: ")), "{message}");
    }

    // The bounds themselves are fine.
    let (s, b) = ctx.get_q("/customer-groups", &[("limit", "500")]).await;
    assert_eq!((s, &b["count"], &b["limit"]), (200, &json!(12), &json!(500)));
    let (s, b) = ctx.get_q("/customer-groups", &[("offset", "10000")]).await;
    assert_eq!((s, &b["count"], &b["total"], &b["results"]), (200, &json!(0), &json!(12), &json!([])));

    // Defaults: limit 20, offset 0, total present.
    let (s, b) = ctx.get("/customer-groups").await;
    assert_eq!(
        (s, &b["limit"], &b["offset"], &b["count"], &b["total"]),
        (200, &json!(20), &json!(0), &json!(12), &json!(12))
    );

    // `count` is the size of the page, `total` of all matches.
    let (s, b) = ctx.get_q("/customer-groups", &[("limit", "5"), ("offset", "10")]).await;
    assert_eq!((s, &b["count"], &b["total"]), (200, &json!(2), &json!(12)));
    let (s, b) = ctx.get_q("/customer-groups", &[("limit", "5"), ("offset", "10"), ("withTotal", "false")]).await;
    assert_eq!((s, &b["count"]), (200, &json!(2)));
    assert!(b.get("total").is_none(), "{b}");
    for (value, total) in [("true", true), ("True", true), ("false", false), ("False", false)] {
        let (s, b) = ctx.get_q("/customer-groups", &[("withTotal", value)]).await;
        assert_eq!((s, b.get("total").is_some()), (200, total), "withTotal={value}: {b}");
    }
    // The last value of a repeated single parameter wins; unknown parameters are ignored.
    let (s, b) =
        ctx.get_q("/customer-groups", &[("limit", "3"), ("limit", "4"), ("expand", "x"), ("foo", "bar")]).await;
    assert_eq!((s, &b["count"], &b["limit"]), (200, &json!(4), &json!(4)));
    // `total` counts the matches of `where`.
    let (s, b) = ctx.get_q("/customer-groups", &[("where", "version = 1"), ("limit", "1")]).await;
    assert_eq!((s, &b["count"], &b["total"]), (200, &json!(1), &json!(3)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_one() {
    let ctx = Ctx::new().await;
    ctx.create("Gold", Some("gold")).await;
    ctx.create("Silver", None).await;
    let page = ctx.get_q("/customer-groups", &[("where", "key is defined"), ("sort", "name desc")]).await;
    let results = assert_page(&page, 20, 0, Some(1));
    assert_eq!(results.len(), 1);
    assert_group_view(&results[0], 1, Some("gold"), "Gold");
    let page = ctx.get_q("/customer-groups", &[("where", "name = \"nope\"")]).await;
    assert!(assert_page(&page, 20, 0, Some(0)).is_empty());
}
