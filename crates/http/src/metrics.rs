//! Prometheus metrics: request counts and latency histograms by method, route and status, plus
//! the connection pool's gauges. Rendered in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The series of one route, by method and status (a handful each).
type RouteSeries = Vec<(String, u16, Series)>;

/// The registry of request metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    /// By route pattern: a request finds its series by reference, and allocates its labels
    /// only the first time a (method, route, status) is seen.
    series: Mutex<BTreeMap<String, RouteSeries>>,
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, latency: Duration) {
        let secs = latency.as_secs_f64();
        let Ok(mut series) = self.series.lock() else { return };
        let by_route = match series.get_mut(route) {
            Some(by_route) => by_route,
            None => series.entry(route.to_owned()).or_default(),
        };
        let at = match by_route.iter().position(|(m, st, _)| m == method && *st == status) {
            Some(at) => at,
            None => {
                by_route.push((method.to_owned(), status, Series::default()));
                by_route.len() - 1
            }
        };
        let Some((_, _, s)) = by_route.get_mut(at) else { return };
        s.count += 1;
        s.sum += secs;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    /// Renders every metric; `pool` is (size, available, waiting, max_size).
    pub fn render(&self, pool: Option<(usize, usize, usize, usize)>) -> String {
        // Sorted by method, route and status, as a reader of the text expects.
        let mut snapshot: Vec<((String, String, u16), Series)> = self
            .series
            .lock()
            .map(|all| {
                all.iter()
                    .flat_map(|(route, by_route)| {
                        by_route
                            .iter()
                            .map(move |(method, status, s)| ((method.clone(), route.clone(), *status), s.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        snapshot.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = String::new();
        out.push_str("# HELP http_requests_total Requests handled, by method, route and status.\n# TYPE http_requests_total counter\n");
        for ((method, route, status), s) in &snapshot {
            let _ = writeln!(
                out,
                "http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(method),
                escape(route),
                s.count
            );
        }
        out.push_str("# HELP http_request_duration_seconds Request latency, by method, route and status.\n# TYPE http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in &snapshot {
            let labels = format!("method=\"{}\",route=\"{}\",status=\"{status}\"", escape(method), escape(route));
            for (bound, n) in BUCKETS.iter().zip(s.buckets.iter()) {
                let _ = writeln!(out, "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        if let Some((size, available, waiting, max)) = pool {
            for (name, help, v) in [
                ("db_pool_connections", "Open connections of the pool.", size),
                ("db_pool_available", "Idle connections ready for use.", available),
                ("db_pool_waiting", "Requests waiting for a connection.", waiting),
                ("db_pool_max_connections", "Configured maximum pool size.", max),
            ] {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
            }
        }
        out
    }
}

/// Appends the outbox and relay metrics (§6).
pub fn render_events(out: &mut String, e: &crate::state::EventsSnapshot) {
    if let Some(pending) = e.outbox_pending {
        let _ = writeln!(out, "# HELP outbox_pending Events in the outbox not yet published.\n# TYPE outbox_pending gauge\noutbox_pending {pending}");
        let _ = writeln!(
            out,
            "# HELP outbox_oldest_pending_age_seconds Age of the oldest event not yet published.\n# TYPE outbox_oldest_pending_age_seconds gauge\noutbox_oldest_pending_age_seconds {}",
            e.oldest_pending_age_secs
        );
    }
    let _ = writeln!(out, "# HELP events_publish_errors_total Failed publishes to NATS.\n# TYPE events_publish_errors_total counter\nevents_publish_errors_total {}", e.publish_errors);
    let _ = writeln!(out, "# HELP events_published_total Events published to NATS by this process.\n# TYPE events_published_total counter\nevents_published_total {}", e.published);
    let _ = writeln!(out, "# HELP events_relay_up Whether this process's relay is publishing (1) or not (0).\n# TYPE events_relay_up gauge\nevents_relay_up {}", u8::from(e.relay_state == "running"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_histograms() {
        let m = Metrics::new();
        m.observe("GET", "/admin/customers/{id}", 200, Duration::from_millis(3));
        m.observe("GET", "/admin/customers/{id}", 200, Duration::from_millis(30));
        let text = m.render(Some((4, 2, 0, 10)));
        assert!(text.contains("http_requests_total{method=\"GET\",route=\"/admin/customers/{id}\",status=\"200\"} 2"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(text.contains("db_pool_max_connections 10"));
    }

    #[test]
    fn each_method_route_and_status_is_its_own_series_in_sorted_order() {
        let m = Metrics::new();
        for (method, route, status) in
            [("POST", "/b", 201), ("GET", "/b", 200), ("GET", "/a", 404), ("GET", "/b", 200), ("GET", "/b", 404)]
        {
            m.observe(method, route, status, Duration::from_millis(1));
        }
        let text = m.render(None);
        let counts: Vec<&str> = text.lines().filter(|l| l.starts_with("http_requests_total{")).collect();
        assert_eq!(
            counts,
            [
                "http_requests_total{method=\"GET\",route=\"/a\",status=\"404\"} 1",
                "http_requests_total{method=\"GET\",route=\"/b\",status=\"200\"} 2",
                "http_requests_total{method=\"GET\",route=\"/b\",status=\"404\"} 1",
                "http_requests_total{method=\"POST\",route=\"/b\",status=\"201\"} 1",
            ]
        );
    }
}
