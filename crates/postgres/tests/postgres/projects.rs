//! Projects, API clients, admin users.

use xclade_domain::ports::{AdminUserRecord, ApiClientRecord, ProjectRepository};
use xclade_domain::project::{Project, ProjectKey};
use xclade_domain::{AdminUserId, ApiClientRowId, DomainError, ProjectId, Resource};
use xclade_postgres::PgProjectRepository;

use crate::common::Fx;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn projects_clients_and_users() {
    let fx = Fx::new().await;
    let repo = PgProjectRepository::new(fx.pool.clone());
    let demo = repo.find_project("demo").await.expect("find").expect("exists");
    assert_eq!((demo.id, demo.key.as_str(), demo.name.as_str()), (fx.project, "demo", "Demo"));
    assert_eq!(repo.find_project("nope").await.expect("find"), None);
    let again = Project {
        id: ProjectId(uuid::Uuid::now_v7()),
        key: ProjectKey::parse("demo").expect("key"),
        name: "Again".into(),
    };
    let err = repo.create_project(&again).await.expect_err("taken");
    assert!(
        matches!(err, DomainError::Duplicate { resource: Resource::Project, field: "key", ref value } if value == "demo")
    );
    let other = Project {
        id: ProjectId(uuid::Uuid::now_v7()),
        key: ProjectKey::parse("other").expect("key"),
        name: "Other".into(),
    };
    repo.create_project(&other).await.expect("other");

    let client = |project: ProjectId, key: &str| ApiClientRecord {
        project_id: project,
        project_key: key.into(),
        id: ApiClientRowId(uuid::Uuid::now_v7()),
        client_id: "client-1".into(),
        secret_hash: "$argon2id$…".into(),
        scopes: vec![format!("manage_project:{key}"), format!("view_customers:{key}")],
    };
    let mine = client(fx.project, "demo");
    repo.create_api_client(&mine).await.expect("client");
    assert_eq!(repo.find_api_clients("client-1").await.expect("find"), vec![mine.clone()]);
    assert!(repo.find_api_clients("client-2").await.expect("find").is_empty());

    let user = |project: ProjectId, key: &str, email: &str| AdminUserRecord {
        project_id: project,
        project_key: key.into(),
        id: AdminUserId(uuid::Uuid::now_v7()),
        email: email.into(),
        password_hash: "$argon2id$…".into(),
    };
    let admin = user(fx.project, "demo", "Admin@Example.com");
    repo.create_admin_user(&admin).await.expect("user");
    let err = repo.create_admin_user(&user(fx.project, "demo", "admin@example.COM")).await.expect_err("taken");
    assert!(matches!(err, DomainError::Duplicate { field: "email", .. }), "{err:?}");
    let elsewhere = user(other.id, "other", "admin@example.com");
    repo.create_admin_user(&elsewhere).await.expect("same email in another project");
    let found = repo.find_admin_users("ADMIN@example.com").await.expect("find");
    assert_eq!(found.len(), 2);
    assert!(found.contains(&admin) && found.contains(&elsewhere));
}
