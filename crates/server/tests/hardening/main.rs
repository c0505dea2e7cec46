//! Contract §4.1 — the service under stress, faults and bad input. Tests that freeze or
//! reconfigure PostgreSQL run on a private cluster they start themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the failure

mod faults;
mod inputs;
mod limits;

use serde_json::Value;

/// Status, headers and JSON body of a response.
pub async fn parts(resp: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A create body for the admin family.
pub fn customer(email: &str) -> Value {
    serde_json::json!({
        "email": email, "company_name": "Acme", "first_name": "Ada", "last_name": "Lovelace",
        "phone": "+1 555", "metadata": {}
    })
}
