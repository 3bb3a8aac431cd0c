//! The overview: instances and their buckets, queues by state, throughput,
//! fire lateness and missed fires.

use super::view::utc;
use super::{html, Dash, Page, SignedIn};
use crate::wire::Queue;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct InstanceRow {
    pub id: String,
    pub buckets: usize,
    pub started: String,
    pub expires: String,
}

pub struct Live {
    pub throughput: String,
    pub lateness_p50: String,
    pub lateness_p99: String,
    pub missed_hour: u64,
    pub buckets_owned: usize,
    pub instances: Vec<InstanceRow>,
    pub queues: Vec<Queue>,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct Overview {
    page: Page,
    live: Live,
}

#[derive(Template)]
#[template(path = "overview_live.html")]
struct OverviewLive {
    live: Live,
}

/// (when, attempts ended so far): throughput is the slope over the last minute.
pub type Samples = Arc<Mutex<Vec<(Instant, u64)>>>;

fn throughput(samples: &Samples, total: u64) -> String {
    let now = Instant::now();
    let Ok(mut samples) = samples.lock() else {
        return "–".into();
    };
    samples.retain(|(at, _)| now.duration_since(*at) <= Duration::from_secs(60));
    samples.push((now, total));
    match samples.first() {
        Some((at, first)) if now.duration_since(*at) >= Duration::from_secs(2) => {
            let secs = now.duration_since(*at).as_secs_f64();
            format!("{:.1}", total.saturating_sub(*first) as f64 / secs)
        }
        _ => "measuring…".into(),
    }
}

fn ms(q: Option<f64>) -> String {
    match q {
        None => "–".into(),
        Some(s) if s.is_infinite() => "> 30 s".into(),
        Some(s) if s < 1.0 => format!("≤ {} ms", (s * 1000.0).round()),
        Some(s) => format!("≤ {s} s"),
    }
}

async fn gather(dash: &Dash) -> Live {
    let store = &dash.app.store;
    let metrics = &dash.app.service.events.metrics;
    let now = dash.app.service.now();
    let instances: Vec<InstanceRow> = crate::routes::instances::live(store.as_ref())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|i| InstanceRow {
            buckets: i.buckets as usize,
            id: i.id,
            started: utc(i.started_at),
            expires: utc(i.expires_at),
        })
        .collect();
    let queues = store
        .queues_stats()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(Queue::from)
        .collect();
    Live {
        throughput: throughput(&dash.samples, metrics.total_attempts()),
        lateness_p50: ms(metrics.fire_lateness.quantile_upper(0.5)),
        lateness_p99: ms(metrics.fire_lateness.quantile_upper(0.99)),
        missed_hour: metrics.missed_last_hour(),
        buckets_owned: instances.iter().map(|i| i.buckets).sum(),
        instances,
        queues,
        updated: utc(now),
    }
}

pub async fn page(
    State(dash): State<Dash>,
    SignedIn(viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut page = Page::new(&viewer, "Overview", "overview");
    page.notice = q.get("notice").cloned();
    let live = gather(&dash).await;
    html(&viewer, &Overview { page, live })
}

pub async fn live(State(dash): State<Dash>, SignedIn(viewer): SignedIn) -> Response {
    html(
        &viewer,
        &OverviewLive {
            live: gather(&dash).await,
        },
    )
}
