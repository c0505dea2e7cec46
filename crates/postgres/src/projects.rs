//! Projects (tenants), their API clients and admin users.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;
use xclade_domain::error::DomainResult;
use xclade_domain::ports::{AdminUserRecord, ApiClientRecord, ProjectRepository};
use xclade_domain::project::{Project, ProjectKey};
use xclade_domain::{AdminUserId, ApiClientRowId, DomainError, ProjectId, Resource};

use crate::error::{storable, OnConstraint, TxError};
use crate::pool::PgPool;
use crate::schema::{admin_users, api_clients, projects};
use crate::tx::{point_read, single_statement};

/// [`ProjectRepository`] on PostgreSQL.
#[derive(Clone)]
pub struct PgProjectRepository {
    pool: PgPool,
}

impl PgProjectRepository {
    pub fn new(pool: PgPool) -> Self {
        PgProjectRepository { pool }
    }
}

fn project_key(stored: String) -> Result<ProjectKey, TxError> {
    ProjectKey::parse(&stored)
        .map_err(|_| TxError::Domain(DomainError::Storage(format!("stored project key {stored:?} is invalid").into())))
}

#[async_trait]
impl ProjectRepository for PgProjectRepository {
    async fn create_project(&self, project: &Project) -> DomainResult<()> {
        single_statement(&self.pool, project, |conn, project| {
            Box::pin(async move {
                diesel::insert_into(projects::table)
                    .values((
                        projects::project_id.eq(project.id.0),
                        projects::key.eq(project.key.as_str()),
                        projects::name.eq(&project.name),
                    ))
                    .execute(conn)
                    .await
                    .on_constraint("projects_key_key", || DomainError::Duplicate {
                        resource: Resource::Project,
                        field: "key",
                        value: project.key.as_str().to_owned(),
                    })?;
                Ok(())
            })
        })
        .await
    }

    async fn find_project(&self, key: &str) -> DomainResult<Option<Project>> {
        point_read(&self.pool, key, |conn, key| {
            Box::pin(async move {
                let mut conn = conn;
                let row: Option<(Uuid, String, String)> = projects::table
                    .filter(projects::key.eq(key))
                    .select((projects::project_id, projects::key, projects::name))
                    .first(&mut conn)
                    .await
                    .optional()?;
                row.map(|(id, key, name)| Ok(Project { id: ProjectId(id), key: project_key(key)?, name })).transpose()
            })
        })
        .await
    }

    async fn create_api_client(&self, client: &ApiClientRecord) -> DomainResult<()> {
        single_statement(&self.pool, client, |conn, client| {
            Box::pin(async move {
                diesel::insert_into(api_clients::table)
                    .values((
                        api_clients::project_id.eq(client.project_id.0),
                        api_clients::id.eq(client.id.0),
                        api_clients::client_id.eq(&client.client_id),
                        api_clients::secret_hash.eq(&client.secret_hash),
                        api_clients::scopes.eq(&client.scopes),
                    ))
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    async fn find_api_clients(&self, client_id: &str) -> DomainResult<Vec<ApiClientRecord>> {
        if !storable(client_id) {
            return Ok(Vec::new());
        }
        point_read(&self.pool, client_id, |conn, client_id| {
            Box::pin(async move {
                let mut conn = conn;
                let rows: Vec<(Uuid, String, Uuid, String, String, Vec<String>)> = api_clients::table
                    .inner_join(projects::table.on(projects::project_id.eq(api_clients::project_id)))
                    .filter(api_clients::client_id.eq(client_id))
                    .select((
                        api_clients::project_id,
                        projects::key,
                        api_clients::id,
                        api_clients::client_id,
                        api_clients::secret_hash,
                        api_clients::scopes,
                    ))
                    .order((api_clients::project_id, api_clients::id))
                    .load(&mut conn)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(project_id, project_key, id, client_id, secret_hash, scopes)| ApiClientRecord {
                        project_id: ProjectId(project_id),
                        project_key,
                        id: ApiClientRowId(id),
                        client_id,
                        secret_hash,
                        scopes,
                    })
                    .collect())
            })
        })
        .await
    }

    async fn create_admin_user(&self, user: &AdminUserRecord) -> DomainResult<()> {
        single_statement(&self.pool, user, |conn, user| {
            Box::pin(async move {
                diesel::insert_into(admin_users::table)
                    .values((
                        admin_users::project_id.eq(user.project_id.0),
                        admin_users::id.eq(user.id.0),
                        admin_users::email.eq(&user.email),
                        admin_users::password_hash.eq(&user.password_hash),
                    ))
                    .execute(conn)
                    .await
                    .on_constraint("admin_users_email_key", || DomainError::Duplicate {
                        resource: Resource::AdminUser,
                        field: "email",
                        value: user.email.clone(),
                    })?;
                Ok(())
            })
        })
        .await
    }

    async fn find_admin_users(&self, email: &str) -> DomainResult<Vec<AdminUserRecord>> {
        if !storable(email) {
            return Ok(Vec::new());
        }
        point_read(&self.pool, email, |conn, email| {
            Box::pin(async move {
                let mut conn = conn;
                let rows: Vec<(Uuid, String, Uuid, String, String)> = admin_users::table
                    .inner_join(projects::table.on(projects::project_id.eq(admin_users::project_id)))
                    .filter(lower(admin_users::email).eq(lower(email)))
                    .select((
                        admin_users::project_id,
                        projects::key,
                        admin_users::id,
                        admin_users::email,
                        admin_users::password_hash,
                    ))
                    .order((admin_users::project_id, admin_users::id))
                    .load(&mut conn)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(project_id, project_key, id, email, password_hash)| AdminUserRecord {
                        project_id: ProjectId(project_id),
                        project_key,
                        id: AdminUserId(id),
                        email,
                        password_hash,
                    })
                    .collect())
            })
        })
        .await
    }
}

diesel::define_sql_function! {
    /// PostgreSQL's `lower(text)`.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}
