//! `POST /oauth/token` (client credentials, project family) and `POST /auth/user/emailpass`
//! (admin login, admin family).

use crate::body::{admin_body, read_limited, AdminJson, BodyError};
use crate::error::project::envelope;
use crate::error::AdminError;
use crate::query::QueryPairs;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde::Serialize;
use serde_json::{json, Map};
use xclade_domain::services::OAuthError;

/// The message of a 401 `invalid_client`.
const INVALID_CLIENT_MESSAGE: &str = "Please provide valid client credentials using HTTP Basic Authentication.";
use xclade_domain::DomainError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Resources, so another method on these paths is 405 with `Allow`, not 404.
    cfg.service(web::resource("/oauth/token").route(web::post().to(token)))
        .service(web::resource("/auth/user/emailpass").route(web::post().to(login)));
}

/// A successful token response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

/// The auth error envelope of the project family, with top-level `error`/`error_description`.
fn oauth_error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    let mut top = Map::new();
    top.insert("error".into(), json!(code));
    top.insert("error_description".into(), json!(description));
    crate::error::rendered(None, HttpResponse::build(status).json(envelope(status, code, description, Map::new(), top)))
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((crate::query::decode(id).into_owned(), crate::query::decode(secret).into_owned()))
}

/// Issues an access token by OAuth 2.0 client credentials.
#[utoipa::path(post, path = "/oauth/token", tag = "auth",
    request_body(content = crate::openapi::TokenRequest, content_type = "application/x-www-form-urlencoded", description = "`grant_type=client_credentials[&scope=…]`; credentials by HTTP Basic or `client_id`/`client_secret` fields"),
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, description = "invalid_request, unsupported_grant_type or invalid_scope"),
        (status = 401, description = "invalid_client")))]
pub async fn token(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let mut payload: Payload = payload.into_inner();
    let body = match read_limited(&req, &mut payload).await {
        Ok(b) => b,
        Err(BodyError::TooLarge(n)) => {
            return oauth_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                &format!("Request body is larger than {n} bytes"),
            )
        }
        Err(BodyError::Read) => {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "The request body could not be read.")
        }
        Err(BodyError::Timeout) => {
            return oauth_error(StatusCode::REQUEST_TIMEOUT, "invalid_request", crate::body::BODY_TIMEOUT_MESSAGE)
        }
    };
    // Query parameters first, then the body, so the body wins.
    let mut params = QueryPairs::parse(req.query_string());
    let from_body = QueryPairs::parse(&String::from_utf8_lossy(&body));
    let merged: Vec<(String, String)> =
        params.iter().chain(from_body.iter()).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    params = QueryPairs::parse(&serde_urlencoded::to_string(&merged).unwrap_or_default());

    let Some((client_id, secret)) = basic_credentials(&req)
        .or_else(|| Some((params.last("client_id")?.to_owned(), params.last("client_secret")?.to_owned())))
    else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", INVALID_CLIENT_MESSAGE);
    };
    match params.last("grant_type") {
        None | Some("") => {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing required parameter: grant_type.")
        }
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Invalid grant_type: only client_credentials is supported.",
            )
        }
    }
    match state.auth.client_credentials(&client_id, &secret, params.last("scope")).await {
        Ok(t) => HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(TokenResponse {
            access_token: t.access_token,
            token_type: "Bearer",
            expires_in: t.expires_in,
            scope: t.scope,
        }),
        Err(OAuthError::InvalidClient) => {
            oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", INVALID_CLIENT_MESSAGE)
        }
        Err(OAuthError::UnknownScope(scope)) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &format!("Invalid scope '{scope}'."))
        }
        Err(OAuthError::ScopeNotGranted(scope)) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("Scope '{scope}' is not granted to this client."),
        ),
        Err(OAuthError::Domain(e)) => {
            let status = if matches!(e, DomainError::Unavailable(_) | DomainError::Busy) {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            tracing::error!(error = %e, "token issuance failed");
            oauth_error(status, "General", crate::error::project::GENERAL_MESSAGE)
        }
    }
}

/// The login answer: exactly `{"token": "…"}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub token: String,
}

/// The body of `POST /auth/user/emailpass` (strict, like every admin body).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    #[schema(example = "admin@example.com")]
    pub email: String,
    pub password: String,
}

/// Admin login with email and password.
#[utoipa::path(post, path = "/auth/user/emailpass", tag = "auth",
    request_body(content = LoginRequest, description = "`{\"email\": \"…\", \"password\": \"…\"}`"),
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = crate::error::admin::AdminErrorBody),
        (status = 401, body = crate::error::admin::AdminErrorBody, description = "Invalid email or password")))]
pub async fn login(state: web::Data<AppState>, body: AdminJson) -> Result<HttpResponse, AdminError> {
    let LoginRequest { email, password } = admin_body(body.0)?;
    let token = state.auth.login(&email, &password).await?;
    Ok(HttpResponse::Ok().json(LoginResponse { token: token.access_token }))
}
