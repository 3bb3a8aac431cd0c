//! Jobs: by state and queue, one job with its attempts, and the actions on
//! one job or many (the dead set's bulk retry).

use super::view::{self, JobRow};
use super::{authorised_post, enc, field, html, see_other, Dash, Page, SignedIn};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chime_core::model::{JobState, Role};
use chime_store::JobsList;
use serde::Deserialize;

const PAGE: u32 = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    queue: String,
    before: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct List {
    page: Page,
    rows: Vec<JobRow>,
    states: Vec<(&'static str, &'static str)>,
    state: String,
    queue: String,
    next: Option<String>,
    /// This page's filters, for the live refresh of its rows.
    query: String,
}

#[derive(Template)]
#[template(path = "jobs_rows.html")]
struct Rows {
    page: Page,
    rows: Vec<JobRow>,
}

/// One page of jobs, the cursor of the next, or why there is none.
async fn load(dash: &Dash, q: &ListQuery) -> (Vec<JobRow>, Option<String>, Option<String>) {
    let found = dash
        .app
        .store
        .jobs_list(JobsList {
            namespace: None,
            queue: (!q.queue.is_empty()).then(|| q.queue.clone()),
            state: JobState::parse(&q.state),
            schedule_id: None,
            before_id: q.before.clone(),
            limit: PAGE,
        })
        .await;
    match found {
        Ok(items) => {
            let page = crate::wire::Page::of(items, PAGE, |j| j.id.clone());
            (
                page.items.iter().map(view::job_row).collect(),
                page.next,
                None,
            )
        }
        Err(e) => (
            Vec::new(),
            None,
            Some(format!("the store is unavailable: {e}")),
        ),
    }
}

pub async fn list(
    State(dash): State<Dash>,
    SignedIn(viewer): SignedIn,
    Query(q): Query<ListQuery>,
) -> Response {
    let mut page = Page::new(&viewer, "Jobs", "jobs");
    page.notice = q.notice.clone();
    let (rows, next, error) = load(&dash, &q).await;
    page.error = error;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("state", &q.state)
        .append_pair("queue", &q.queue);
    if let Some(b) = &q.before {
        query.append_pair("before", b);
    }
    let states = vec![
        ("", "any"),
        ("pending", "pending"),
        ("running", "running"),
        ("succeeded", "succeeded"),
        ("dead", "dead"),
        ("cancelled", "cancelled"),
    ];
    let list = List {
        page,
        rows,
        states,
        state: q.state,
        queue: q.queue,
        next,
        query: query.finish(),
    };
    html(&viewer, &list)
}

/// The same page's rows, for the live refresh.
pub async fn rows(
    State(dash): State<Dash>,
    SignedIn(viewer): SignedIn,
    Query(q): Query<ListQuery>,
) -> Response {
    let page = Page::new(&viewer, "Jobs", "jobs");
    let (rows, _, _) = load(&dash, &q).await;
    html(&viewer, &Rows { page, rows })
}

pub struct AttemptRow {
    pub n: u32,
    pub worker: String,
    pub started: String,
    pub finished: String,
    pub outcome: String,
    pub error: Option<String>,
    pub output: Option<String>,
}

pub struct Detail {
    pub id: String,
    pub state: &'static str,
    pub finished: bool,
    pub attempt: String,
    pub queue: String,
    pub kind: String,
    pub priority: i32,
    pub run_at: String,
    pub created: String,
    pub finished_at: Option<String>,
    pub schedule_id: Option<String>,
    pub scheduled_for: String,
    pub idempotency_key: String,
    pub last_error: Option<String>,
    pub payload: String,
    pub target: String,
    pub attempts: Vec<AttemptRow>,
}

#[derive(Template)]
#[template(path = "job.html")]
struct DetailPage {
    page: Page,
    j: Detail,
}

pub async fn detail(
    State(dash): State<Dash>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let job = match dash.app.store.jobs_get(&id).await {
        Ok(Some(j)) => j,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such job").into_response(),
        Err(e) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the store is unavailable: {e}"),
            )
                .into_response()
        }
    };
    let attempts = dash
        .app
        .store
        .attempts_list(&id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|a| AttemptRow {
            n: a.attempt,
            worker: a.worker,
            started: view::utc(a.started_at),
            finished: view::opt_utc(a.finished_at),
            outcome: a
                .outcome
                .map(|o| o.as_str().to_string())
                .unwrap_or_else(|| "running".into()),
            error: a.error,
            output: a.output,
        })
        .collect();
    let mut page = Page::new(&viewer, format!("Job {id}"), "jobs");
    page.notice = q.notice;
    let j = Detail {
        idempotency_key: job.idempotency_key(),
        id: job.id.clone(),
        state: job.state.as_str(),
        finished: job.state.is_finished(),
        attempt: format!("{} of {}", job.attempt, job.job.max_attempts),
        queue: job.job.queue.clone(),
        kind: job.job.kind.clone(),
        priority: job.job.priority,
        run_at: view::utc(job.run_at),
        created: view::utc(job.created_at),
        finished_at: job.finished_at.map(view::utc),
        schedule_id: job.schedule_id.clone(),
        scheduled_for: view::opt_utc(job.scheduled_for),
        last_error: job.last_error.clone(),
        payload: serde_json::to_string_pretty(&job.job.payload).unwrap_or_default(),
        target: match &job.job.target {
            Some(t) => serde_json::to_string_pretty(t).unwrap_or_default(),
            None => "none: an in-process handler or an external worker".into(),
        },
        attempts,
    };
    html(&viewer, &DetailPage { page, j })
}

async fn apply(dash: &Dash, id: &str, action: &str) -> Result<(), String> {
    let store = &dash.app.store;
    let result = match action {
        "retry" => store.jobs_retry(id).await.map(drop),
        "cancel" => store.jobs_cancel(id).await.map(drop),
        "delete" => store.jobs_delete(id).await.map(drop),
        _ => return Err("no such action".into()),
    };
    if action == "retry" && result.is_ok() {
        dash.app.service.events.jobs_ready();
    }
    result.map_err(|e| e.to_string())
}

fn needed(action: &str) -> Role {
    if action == "delete" {
        Role::Admin
    } else {
        Role::Operator
    }
}

pub async fn act(
    State(dash): State<Dash>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(r) = authorised_post(&dash, &headers, &body, needed(&action)).await {
        return r;
    }
    match (apply(&dash, &id, &action).await, action.as_str()) {
        (Ok(()), "delete") => see_other("/jobs", "Job deleted."),
        (Ok(()), "retry") => see_other(
            &format!("/jobs/{}", enc(&id)),
            "Retried: the job runs again now.",
        ),
        (Ok(()), _) => see_other(&format!("/jobs/{}", enc(&id)), "Cancelled."),
        (Err(e), _) => see_other(&format!("/jobs/{}", enc(&id)), &format!("Not done: {e}")),
    }
}

/// The same action on every selected job; says how many it did.
pub async fn bulk(State(dash): State<Dash>, headers: HeaderMap, body: Bytes) -> Response {
    let form = super::parse_form(&body);
    let action = field(&form, "action").to_string();
    if let Err(r) = authorised_post(&dash, &headers, &body, needed(&action)).await {
        return r;
    }
    let ids: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.as_str())
        .take(500)
        .collect();
    let mut done = 0;
    let mut failed = 0;
    for id in &ids {
        match apply(&dash, id, &action).await {
            Ok(()) => done += 1,
            Err(_) => failed += 1,
        }
    }
    // The list the form was on (its filters), never another site.
    let back = match field(&form, "back") {
        b if b.starts_with("/jobs") && !b.starts_with("//") => b.to_string(),
        _ => "/jobs".to_string(),
    };
    let mut notice = format!("{action}: {done} job(s) done");
    if failed > 0 {
        notice.push_str(&format!(", {failed} not in a state that allows it"));
    }
    see_other(&back, &notice)
}
