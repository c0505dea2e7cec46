//! JSON answers serialized into a buffer sized for them.
//!
//! `HttpResponseBuilder::json` starts `serde_json`'s buffer at 128 bytes, so a customer (about
//! 1.5 KB with its addresses and groups) took four reallocations and copies on the way; these
//! start at the size the answer is expected to have.

use actix_web::http::header::{HeaderValue, CONTENT_TYPE};
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde::Serialize;

/// The buffer of one resource's answer: a customer with a few addresses and groups, a group.
pub const ONE_RESOURCE: usize = 2048;

/// `body` as the JSON answer of `builder`, its buffer starting at `capacity` bytes. A body that
/// cannot be serialized (never one of the service's: string keys only) is a 500, as with
/// `HttpResponseBuilder::json`.
pub fn json<T: Serialize + ?Sized>(mut builder: HttpResponseBuilder, body: &T, capacity: usize) -> HttpResponse {
    let mut buf = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut buf, body) {
        Ok(()) => builder.insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json"))).body(buf),
        Err(e) => HttpResponse::from_error(actix_web::error::ErrorInternalServerError(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;
    use serde_json::json;

    #[test]
    fn the_same_answer_as_actix_json() {
        let body = json!({"customer": {"id": "c1", "email": "a\"b@example.com", "metadata": {"n": 1}}});
        let ours = json(HttpResponse::Created(), &body, 16);
        let theirs = HttpResponse::Created().json(&body);
        assert_eq!(ours.status(), theirs.status());
        assert_eq!(ours.headers().get(CONTENT_TYPE), theirs.headers().get(CONTENT_TYPE));
        let ours = ours.into_body().try_into_bytes().ok();
        let theirs = theirs.into_body().try_into_bytes().ok();
        assert!(ours.is_some());
        assert_eq!(ours, theirs);
    }

    #[test]
    fn a_body_that_cannot_be_serialized_is_a_500() {
        let mut odd = std::collections::BTreeMap::new();
        odd.insert(vec![1u8], 1);
        assert_eq!(json(HttpResponse::Ok(), &odd, 16).status(), 500);
    }
}
