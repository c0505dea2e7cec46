//! Operator commands: projects, API clients and admin users (the CLI's use cases).

use crate::auth::{parse_scope_list, Scope};
use crate::customer::Email;
use crate::error::{DomainError, Violation};
use crate::ids::{AdminUserId, ApiClientRowId, ProjectId};
use crate::ports::{AdminUserRecord, ApiClientRecord, IdGenerator, PasswordHasher, ProjectRepository};
use crate::project::{Project, ProjectKey};
use std::sync::Arc;

/// Length of generated client ids and secrets.
const CLIENT_ID_LEN: usize = 24;
const CLIENT_SECRET_LEN: usize = 32;
/// Shortest accepted admin password.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A created API client, with its secret (shown once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedClient {
    /// The public client id.
    pub client_id: String,
    /// The client secret, in clear (only here, once).
    pub client_secret: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
}

#[derive(Clone)]
/// Operator use cases: projects, API clients and admin users (the command line uses them).
pub struct AdminService {
    projects: Arc<dyn ProjectRepository>,
    hasher: Arc<dyn PasswordHasher>,
    ids: Arc<dyn IdGenerator>,
}

impl AdminService {
    /// A service over these ports.
    pub fn new(
        projects: Arc<dyn ProjectRepository>,
        hasher: Arc<dyn PasswordHasher>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        AdminService { projects, hasher, ids }
    }

    async fn project(&self, key: &str) -> Result<Project, DomainError> {
        self.projects.find_project(key).await?.ok_or_else(|| DomainError::not_found_key(crate::Resource::Project, key))
    }

    /// Creates a project; `Duplicate` when the key is taken.
    pub async fn create_project(&self, key: &str, name: Option<&str>) -> Result<Project, DomainError> {
        let key = ProjectKey::parse(key)?;
        let project = Project { id: ProjectId(self.ids.new_id()), name: name.unwrap_or(key.as_str()).to_owned(), key };
        self.projects.create_project(&project).await?;
        Ok(project)
    }

    /// Creates an API client; without scopes it gets `manage_project:<key>`. Every scope must
    /// belong to the project.
    pub async fn create_client(&self, project_key: &str, scopes: &[String]) -> Result<CreatedClient, DomainError> {
        let project = self.project(project_key).await?;
        let scopes: Vec<Scope> = if scopes.is_empty() {
            vec![Scope::manage_project(project.key.as_str())]
        } else {
            parse_scope_list(&scopes.join(" "))
                .map_err(|bad| DomainError::validation(Violation::InvalidScope { scope: bad.to_string() }))?
        };
        if let Some(foreign) = scopes.iter().find(|s| s.project_key != project.key.as_str()) {
            return Err(DomainError::validation(Violation::ForeignScope {
                scope: foreign.to_string(),
                project_key: project.key.as_str().to_owned(),
            }));
        }
        let client_secret = self.ids.new_secret(CLIENT_SECRET_LEN);
        let record = ApiClientRecord {
            project_id: project.id,
            project_key: project.key.as_str().to_owned(),
            id: ApiClientRowId(self.ids.new_id()),
            client_id: self.ids.new_secret(CLIENT_ID_LEN),
            secret_hash: self.hasher.hash(&client_secret).await?,
            scopes: scopes.iter().map(ToString::to_string).collect(),
        };
        self.projects.create_api_client(&record).await?;
        Ok(CreatedClient { client_id: record.client_id, client_secret, scopes: record.scopes })
    }

    /// Creates an admin user of a project with a hashed password.
    pub async fn create_user(
        &self,
        project_key: &str,
        email: &str,
        password: &str,
    ) -> Result<AdminUserRecord, DomainError> {
        let project = self.project(project_key).await?;
        let email = Email::parse(email)?;
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(DomainError::validation(Violation::PasswordTooShort { min_chars: MIN_PASSWORD_CHARS }));
        }
        let record = AdminUserRecord {
            project_id: project.id,
            project_key: project.key.as_str().to_owned(),
            id: AdminUserId(self.ids.new_id()),
            email: email.as_str().to_owned(),
            password_hash: self.hasher.hash(password).await?,
        };
        self.projects.create_admin_user(&record).await?;
        Ok(record)
    }
}
