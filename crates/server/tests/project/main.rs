//! End-to-end tests: the real server on a random port, a real database per test, real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the failure

mod concurrency;
mod deletes;
mod errors;
mod families;
mod paging;
mod predicates;
mod reads;
mod support;
mod updates;

use serde_json::Value;

/// Status and JSON body of a response.
pub async fn json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
