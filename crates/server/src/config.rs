//! Typed configuration: flags win over environment variables, which win over defaults.

/// Shortest accepted JWT secret, in bytes.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Everything `serve` needs.
#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: String,
    pub jwt_secret: String,
    pub max_customer_groups: u32,
    pub pool_size: usize,
    /// HTTP worker threads (each runs its own single-threaded event loop).
    pub workers: usize,
    pub token_ttl_secs: i64,
    pub body_limit: usize,
    pub migrate: bool,
    /// Where events go (§6); `None`: they stay in the outbox.
    pub events: Option<EventsSettings>,
}

/// The relay's settings.
#[derive(Clone, Debug)]
pub struct EventsSettings {
    pub nats_url: String,
    pub stream: String,
    /// Published events older than this are deleted.
    pub retention: std::time::Duration,
    /// Whether `serve` runs the relay (`--no-relay` turns it off).
    pub relay: bool,
}

/// Parses a duration like `7d`, `12h`, `30m`, `45s` or plain seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = number.parse().map_err(|_| format!("invalid duration {s:?} (e.g. 7d, 12h, 30m, 45s)"))?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("invalid duration {s:?} (e.g. 7d, 12h, 30m, 45s)")),
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(factor)))
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret or the database password.
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("max_customer_groups", &self.max_customer_groups)
            .field("pool_size", &self.pool_size)
            .field("workers", &self.workers)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("body_limit", &self.body_limit)
            .field("migrate", &self.migrate)
            .field("events", &self.events.as_ref().map(|e| (&e.stream, e.retention, e.relay)))
            .finish_non_exhaustive()
    }
}

/// A pool size that fits the machine: four connections per core, between 4 and 32.
pub fn default_pool_size() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    (cores * 4).clamp(4, 32)
}

/// HTTP workers: one per core.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

/// Checks the JWT secret's length.
pub fn check_jwt_secret(secret: Option<String>) -> Result<String, String> {
    match secret {
        None => Err("XCLADE_JWT_SECRET is not set: it must hold at least 32 bytes".into()),
        Some(s) if s.len() < MIN_JWT_SECRET_BYTES => Err(format!(
            "XCLADE_JWT_SECRET is too short ({} bytes): it must hold at least {MIN_JWT_SECRET_BYTES} bytes",
            s.len()
        )),
        Some(s) => Ok(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d"), Ok(std::time::Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("90"), Ok(std::time::Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(std::time::Duration::from_secs(7200)));
        assert!(parse_duration("7 weeks").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn secret_rules() {
        assert!(check_jwt_secret(None).is_err());
        assert!(check_jwt_secret(Some("short".into())).is_err());
        assert!(check_jwt_secret(Some("x".repeat(32))).is_ok());
    }

    #[test]
    fn debug_hides_secrets() {
        let s = Settings {
            database_url: "postgres://u:pw@h/db".into(),
            bind: "x".into(),
            jwt_secret: "supersecretsupersecretsupersecret".into(),
            max_customer_groups: 1,
            pool_size: 1,
            workers: 1,
            token_ttl_secs: 1,
            body_limit: 1,
            events: None,
            migrate: true,
        };
        let text = format!("{s:?}");
        assert!(!text.contains("supersecret") && !text.contains("pw"));
    }
}
