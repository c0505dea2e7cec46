//! The admin web page at `/app` (issue 17): one static HTML page, one ES module and one
//! stylesheet, embedded in the binary with `include_bytes!` and run in the browser over the
//! service's public JSON APIs (the admin family, and the project family for versioned group
//! writes). No template engine, no bundler, nothing fetched from elsewhere; docs/admin-page.md
//! explains the choice.
//!
//! Only the exact paths of [`ASSETS`] (and the `/app/` redirect) are taken: `app` is not a
//! reserved project key, so `/app/customer-groups…` must still reach the project family, which
//! is registered after this module. The page routes inside itself with the URL fragment
//! (`/app#/customers/…`), so it never needs a catch-all.
//!
//! Every answer carries a strict Content-Security-Policy (scripts, styles and requests from this
//! origin only, no inline script or style, no framing, no form posts to anywhere), `nosniff`, and
//! `Cache-Control: no-cache` with a strong `ETag`: browsers revalidate on each load (a 304 when
//! nothing changed), so a new binary never mixes a new page with an old script.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// One embedded file of the page.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The exact request path.
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// The page and its assets.
pub const ASSETS: [Asset; 4] = [
    Asset { path: "/app", content_type: "text/html; charset=utf-8", body: include_bytes!("../assets/app/index.html") },
    Asset {
        path: "/app/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/app/app.js"),
    },
    Asset {
        path: "/app/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/app/app.css"),
    },
    Asset {
        path: "/app/favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../assets/app/favicon.svg"),
    },
];

/// The Content-Security-Policy of every answer of the page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'none'; \
     frame-ancestors 'none'; base-uri 'none'";

/// `Cache-Control` of every answer: revalidate each time (cheap: a 304 with the `ETag`).
pub const CACHE_CONTROL: &str = "no-cache";

/// Strong validators, one per asset: the first 16 bytes of its SHA-256, quoted.
static ETAGS: LazyLock<Vec<String>> =
    LazyLock::new(|| ASSETS.iter().map(|a| format!("\"{}\"", hex::encode(&Sha256::digest(a.body)[..16]))).collect());

/// Registers the page's exact paths. Must come before the project family's `/{projectKey}/…`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for (index, asset) in ASSETS.iter().enumerate() {
        cfg.service(
            web::resource(asset.path)
                .route(web::get().to(move |req: HttpRequest| async move { serve(index, &req) }))
                .route(web::head().to(move |req: HttpRequest| async move { serve(index, &req) })),
        );
    }
    cfg.service(web::resource("/app/").route(web::get().to(redirect)).route(web::head().to(redirect)));
}

/// `/app/` → `/app` (the page's assets and fragments are addressed from `/app`).
async fn redirect() -> HttpResponse {
    let mut res = HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/app")).finish();
    secure(&mut res);
    res
}

/// Whether an `If-None-Match` value matches `etag` (weak comparison, as RFC 9110 asks for it).
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    if_none_match.split(',').any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

fn serve(index: usize, req: &HttpRequest) -> HttpResponse {
    let Some(asset) = ASSETS.get(index) else {
        return HttpResponse::NotFound().finish();
    };
    let etag = ETAGS.get(index).map(String::as_str).unwrap_or_default();
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !etag.is_empty() && none_match(v, etag));
    let mut res = if fresh {
        HttpResponse::build(StatusCode::NOT_MODIFIED).finish()
    } else {
        HttpResponse::Ok().content_type(asset.content_type).body(asset.body)
    };
    if let Ok(value) = HeaderValue::from_str(etag) {
        res.headers_mut().insert(header::ETAG, value);
    }
    secure(&mut res);
    res
}

/// The security and cache headers of every answer of the page.
fn secure(res: &mut HttpResponse) {
    let headers = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::CACHE_CONTROL, CACHE_CONTROL),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        (header::HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
        (header::HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=()"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::{call_service, init_service, TestRequest};
    use actix_web::App;

    fn hdr(headers: &actix_web::http::header::HeaderMap, name: header::HeaderName) -> &str {
        headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    fn text(asset: &Asset) -> &str {
        std::str::from_utf8(asset.body).expect("utf-8")
    }

    #[test]
    fn etags_match_weakly_and_in_lists() {
        assert!(none_match("\"abc\"", "\"abc\""));
        assert!(none_match("W/\"abc\"", "\"abc\""));
        assert!(none_match("\"x\", \"abc\"", "\"abc\""));
        assert!(none_match("*", "\"abc\""));
        assert!(!none_match("\"abd\"", "\"abc\""));
        assert!(!none_match("", "\"abc\""));
    }

    #[test]
    fn the_page_has_no_inline_script_or_style_and_loads_only_its_own_assets() {
        let html = text(&ASSETS[0]);
        assert!(html.contains(r#"<script type="module" src="/app/app.js"></script>"#));
        assert_eq!(html.matches("<script").count(), 1, "one script element, with src");
        assert!(!html.contains("<style") && !html.contains("style="), "no inline style");
        let handler = html.split(" on").skip(1).any(|rest| {
            let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        });
        assert!(!handler, "no inline event handler");
        for url in ["http://", "https://", "//"] {
            assert!(!html.contains(&format!("src=\"{url}")) && !html.contains(&format!("href=\"{url}")), "{url}");
        }
        for sink in [".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write", "eval("] {
            assert!(!text(&ASSETS[1]).contains(sink), "the script builds nodes, never markup from data: {sink}");
        }
        // Every asset the page references is served.
        for asset in &ASSETS[1..] {
            assert!(html.contains(asset.path), "{} is referenced", asset.path);
        }
    }

    #[actix_web::test]
    async fn serves_exact_paths_with_headers_and_revalidation() {
        let app = init_service(App::new().configure(configure)).await;
        let res = call_service(&app, TestRequest::get().uri("/app").to_request()).await;
        assert_eq!(res.status(), 200);
        let h = res.headers();
        assert_eq!(hdr(h, header::CONTENT_TYPE), "text/html; charset=utf-8");
        assert_eq!(hdr(h, header::CONTENT_SECURITY_POLICY), CONTENT_SECURITY_POLICY);
        assert_eq!(hdr(h, header::CACHE_CONTROL), "no-cache");
        assert_eq!(hdr(h, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        let etag = hdr(h, header::ETAG).to_owned();

        let req = TestRequest::get().uri("/app").insert_header((header::IF_NONE_MATCH, etag.clone())).to_request();
        let res = call_service(&app, req).await;
        assert_eq!(res.status(), 304);
        assert_eq!(hdr(res.headers(), header::ETAG), etag);

        let res = call_service(&app, TestRequest::get().uri("/app/app.js").to_request()).await;
        assert_eq!(hdr(res.headers(), header::CONTENT_TYPE), "text/javascript; charset=utf-8");
        let res = call_service(
            &app,
            TestRequest::default().method(actix_web::http::Method::HEAD).uri("/app/app.css").to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);

        let res = call_service(&app, TestRequest::get().uri("/app/").to_request()).await;
        assert_eq!((res.status().as_u16(), hdr(res.headers(), header::LOCATION)), (308, "/app"));
        for other in ["/app/customer-groups", "/app/index.html", "/app/app.js/x", "/apps"] {
            let res = call_service(&app, TestRequest::get().uri(other).to_request()).await;
            assert_eq!(res.status(), 404, "{other} is not the page's");
        }
    }
}
