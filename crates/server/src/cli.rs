//! The command line: `serve`, `migrate`, `projects create`, `clients create`, `users create`.

use crate::config::{check_jwt_secret, default_pool_size, default_workers, parse_duration, EventsSettings, Settings};
use crate::startup::{connect, Application, Services};
use clap::{Parser, Subcommand};
use serde_json::json;
use std::io::Read;

#[derive(Debug, Parser)]
#[command(name = "xclade-customers", version, about = "Customers and customer groups back office")]
pub struct Cli {
    /// PostgreSQL URL.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// NATS URL: events are delivered to JetStream (§6); unset, they stay in the outbox.
    #[arg(long, env = "XCLADE_NATS_URL", global = true, hide_env_values = true)]
    pub nats_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "XCLADE_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Do not apply migrations at start.
        #[arg(long)]
        no_migrate: bool,
        /// Do not run the event relay in this process (another one delivers the events).
        #[arg(long)]
        no_relay: bool,
    },
    /// Deliver the outbox to NATS JetStream, without serving HTTP.
    Relay,
    /// Read events from the stream.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage projects.
    Projects {
        #[command(subcommand)]
        command: ProjectsCommand,
    },
    /// Manage API clients.
    Clients {
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Manage admin users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print a project's events as they arrive, one JSON line each.
    Tail {
        #[arg(long)]
        project: String,
        /// Only events of this type (e.g. customer.created).
        #[arg(long = "type")]
        event_type: Option<String>,
        /// Start with the oldest stored event instead of the next new one.
        #[arg(long)]
        from_start: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectsCommand {
    /// Create a project.
    Create {
        key: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Create an API client; its secret is shown once.
    Create {
        #[arg(long)]
        project: String,
        /// A scope (repeatable); none → manage_project:<key>.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an admin user; the password is read from standard input.
    Create {
        #[arg(long)]
        project: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        json: bool,
    },
}

fn env_parse<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|_| format!("{name} has an invalid value: {v:?}")),
        _ => Ok(default),
    }
}

fn events_settings(nats_url: Option<String>, relay: bool) -> Result<Option<EventsSettings>, String> {
    let Some(nats_url) = nats_url.filter(|u| !u.trim().is_empty()) else { return Ok(None) };
    let retention = match std::env::var("XCLADE_OUTBOX_RETENTION") {
        Ok(v) if !v.trim().is_empty() => parse_duration(&v).map_err(|e| format!("XCLADE_OUTBOX_RETENTION: {e}"))?,
        _ => std::time::Duration::from_secs(7 * 86_400),
    };
    Ok(Some(EventsSettings { nats_url, stream: stream_name(), retention, relay }))
}

fn stream_name() -> String {
    std::env::var("XCLADE_NATS_STREAM")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| xclade_nats::DEFAULT_STREAM.to_owned())
}

fn require_nats(url: Option<String>) -> Result<String, String> {
    url.filter(|u| !u.trim().is_empty()).ok_or_else(|| "XCLADE_NATS_URL is not set (or pass --nats-url)".to_owned())
}

fn require_url(url: Option<String>) -> Result<String, String> {
    url.filter(|u| !u.trim().is_empty()).ok_or_else(|| "DATABASE_URL is not set (or pass --database-url)".to_owned())
}

async fn admin_services(url: &str) -> Result<Services, String> {
    let pool = connect(url, 2, 1, false).await.map_err(|e| e.to_string())?;
    // Operator commands never issue tokens; the signing secret is not needed.
    Services::new(&pool, "", 0, 0).map_err(|e| e.to_string())
}

fn print(json_output: bool, value: serde_json::Value, human: String) {
    if json_output {
        println!("{value}");
    } else {
        println!("{human}");
    }
}

/// Runs a parsed command line; the error is one line for stderr.
pub async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve { bind, no_migrate, no_relay } => {
            let settings = Settings {
                database_url: require_url(cli.database_url)?,
                bind,
                jwt_secret: check_jwt_secret(std::env::var("XCLADE_JWT_SECRET").ok())?,
                max_customer_groups: env_parse(
                    "XCLADE_MAX_CUSTOMER_GROUPS",
                    xclade_domain::customer_group::DEFAULT_MAX_GROUPS,
                )?,
                pool_size: env_parse("XCLADE_DB_POOL_SIZE", default_pool_size())?,
                workers: env_parse("XCLADE_WORKERS", default_workers())?,
                token_ttl_secs: env_parse(
                    "XCLADE_TOKEN_TTL_SECS",
                    xclade_domain::services::auth::DEFAULT_TOKEN_TTL_SECS,
                )?,
                body_limit: env_parse("XCLADE_BODY_LIMIT", xclade_http::state::DEFAULT_BODY_LIMIT)?,
                migrate: !no_migrate,
                events: events_settings(cli.nats_url, !no_relay)?,
            };
            if settings.pool_size == 0
                || settings.workers == 0
                || settings.max_customer_groups == 0
                || settings.token_ttl_secs <= 0
            {
                return Err(
                    "XCLADE_DB_POOL_SIZE, XCLADE_WORKERS, XCLADE_MAX_CUSTOMER_GROUPS and XCLADE_TOKEN_TTL_SECS \
                     must be positive"
                        .into(),
                );
            }
            let app = Application::build(settings.clone()).await.map_err(|e| e.to_string())?;
            tracing::info!(bind = %settings.bind, port = app.port(), "serving");
            app.run_until_stopped().await.map_err(|e| format!("server failed: {e}"))
        }
        Command::Relay => {
            let url = require_url(cli.database_url)?;
            let Some(events) = events_settings(Some(require_nats(cli.nats_url)?), true)? else {
                return Err("XCLADE_NATS_URL is not set (or pass --nats-url)".into());
            };
            let pool = connect(&url, 2, 1, false).await.map_err(|e| e.to_string())?;
            let status = crate::relay::RelayStatus::new();
            let relay = crate::relay::run(pool.clone(), url, events.nats_url, events.stream, events.retention, status);
            tokio::select! {
                () = relay => Ok(()),
                _ = tokio::signal::ctrl_c() => {
                    tracing::info!("relay stopped");
                    pool.close();
                    Ok(())
                }
            }
        }
        Command::Events { command: EventsCommand::Tail { project, event_type, from_start } } => {
            let nats = require_nats(cli.nats_url)?;
            let client = xclade_nats::connect(&nats).await.map_err(|e| format!("cannot reach NATS: {e}"))?;
            let filter = xclade_nats::project_filter(&project, event_type.as_deref());
            let mut out = std::io::stdout();
            xclade_nats::tail(&client, &stream_name(), &filter, from_start, |body| {
                use std::io::Write;
                let line = serde_json::from_slice::<serde_json::Value>(body)
                    .map(|v| v.to_string())
                    .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned());
                writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
            })
            .await
            .map_err(|e| format!("cannot follow the events: {e}"))
        }
        Command::Migrate => {
            let url = require_url(cli.database_url)?;
            xclade_postgres::check_connect(&url).await.map_err(|e| format!("cannot reach the database: {e}"))?;
            let applied = xclade_postgres::run_migrations(&url).await.map_err(|e| e.to_string())?;
            eprintln!("applied {applied} migration(s)");
            Ok(())
        }
        Command::Projects { command: ProjectsCommand::Create { key, name, json } } => {
            let services = admin_services(&require_url(cli.database_url)?).await?;
            let p = services
                .admin
                .create_project(&key, name.as_deref())
                .await
                .map_err(|e| xclade_http::error::sentence(&e))?;
            print(json, json!({"id": p.id, "key": p.key}), format!("created project {} ({})", p.key.as_str(), p.id));
            Ok(())
        }
        Command::Clients { command: ClientsCommand::Create { project, scopes, json } } => {
            let services = admin_services(&require_url(cli.database_url)?).await?;
            let c =
                services.admin.create_client(&project, &scopes).await.map_err(|e| xclade_http::error::sentence(&e))?;
            let human = format!(
                "client_id: {}\nclient_secret: {}\nscopes: {}",
                c.client_id,
                c.client_secret,
                c.scopes.join(" ")
            );
            print(json, json!({"client_id": c.client_id, "client_secret": c.client_secret, "scopes": c.scopes}), human);
            Ok(())
        }
        Command::Users { command: UsersCommand::Create { project, email, json } } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
            let password = password.trim_end_matches(['\n', '\r']);
            let services = admin_services(&require_url(cli.database_url)?).await?;
            let u = services
                .admin
                .create_user(&project, &email, password)
                .await
                .map_err(|e| xclade_http::error::sentence(&e))?;
            print(json, json!({"id": u.id, "email": u.email}), format!("created admin user {} ({})", u.email, u.id));
            Ok(())
        }
    }
}
