//! Authentication extractors: a bearer token is verified without any database round trip.

use crate::error::sentences::insufficient_scope_message;
use crate::error::{AdminError, ProjectError};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures::future::{ready, Ready};
use xclade_domain::auth::{Permission, Principal};

fn bearer(req: &HttpRequest) -> Option<&str> {
    // ASCII checked a word at a time: `HeaderValue::to_str` checks each byte of the ~250 bytes
    // of a token for visible ASCII (1.5 % of a read's instructions). A byte it would refuse
    // (a control character) cannot be in a token that verifies, so the answer is the same 401.
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?.as_bytes();
    let value = std::str::from_utf8(value).ok().filter(|v| v.is_ascii())?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

fn authenticate(req: &HttpRequest) -> Option<Principal> {
    let state = req.app_data::<web::Data<AppState>>()?;
    state.auth.authenticate(bearer(req)?).ok()
}

/// `principal` if `allowed`; otherwise the family's 403 (`refuse`) naming the scopes that hold
/// `permission`.
fn granted<E>(
    principal: &Principal,
    allowed: bool,
    permission: Permission,
    refuse: fn(String) -> E,
) -> Result<&Principal, E> {
    if allowed {
        Ok(principal)
    } else {
        Err(refuse(insufficient_scope_message(permission)))
    }
}

/// The caller of an `/admin/*` route; missing or invalid token → 401 `Unauthorized`.
#[derive(Debug, Clone)]
pub struct AdminPrincipal(pub Principal);

impl AdminPrincipal {
    /// The principal, if it holds `permission` in its project; 403 otherwise.
    pub fn require(&self, permission: Permission) -> Result<&Principal, AdminError> {
        granted(&self.0, self.0.allows_own(permission), permission, AdminError::Forbidden)
    }
}

impl FromRequest for AdminPrincipal {
    type Error = AdminError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).map(AdminPrincipal).ok_or(AdminError::Unauthorized))
    }
}

/// The caller of a `/{projectKey}/*` route, with the project key of the path.
#[derive(Debug, Clone)]
pub struct ProjectPrincipal {
    pub principal: Principal,
    pub project_key: String,
}

impl ProjectPrincipal {
    /// The principal, if it holds `permission` for the path's project; 403 otherwise (also for
    /// an unknown project key, so keys cannot be probed).
    pub fn require(&self, permission: Permission) -> Result<&Principal, ProjectError> {
        let allowed = self.principal.allows(&self.project_key, permission);
        granted(&self.principal, allowed, permission, ProjectError::InsufficientScope)
    }
}

impl FromRequest for ProjectPrincipal {
    type Error = ProjectError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let project_key = req.match_info().get("project_key").unwrap_or_default().to_owned();
        ready(
            authenticate(req)
                .map(|principal| ProjectPrincipal { principal, project_key })
                .ok_or(ProjectError::InvalidToken),
        )
    }
}
