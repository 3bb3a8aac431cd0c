//! Schedules: the list with search, the form with a live cron preview, the
//! detail page with its ledger, and the actions.

use super::view::{self, Fire, LedgerRow, ScheduleRow};
use super::{authorised_post, enc, field, html, see_other, Dash, Page, SignedIn};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chime_core::model::{Role, Schedule, ScheduleSpec};
use chime_core::{Cron, Zone};
use chime_store::{OccurrencesList, ScheduleList};
use serde::Deserialize;
use serde_json::{json, Value};

const PAGE: u32 = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    state: String,
    after: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "schedules.html")]
struct List {
    page: Page,
    rows: Vec<ScheduleRow>,
    search: String,
    state: String,
    next: Option<String>,
    /// This page's filters, for the live refresh of its rows.
    query: String,
}

#[derive(Template)]
#[template(path = "schedules_rows.html")]
struct Rows {
    rows: Vec<ScheduleRow>,
    search: String,
}

/// One page of schedules, the cursor of the next, or why there is none.
/// The state filter applies to each page the store returns, so a page may
/// hold fewer rows, never more.
async fn load_page(
    dash: &Dash,
    q: &ListQuery,
) -> (Vec<ScheduleRow>, Option<String>, Option<String>) {
    let zone = &dash.app.service.default_zone;
    let found = dash
        .app
        .store
        .schedules_list(ScheduleList {
            namespace: None,
            search: (!q.search.is_empty()).then(|| q.search.clone()),
            after_id: q.after.clone(),
            limit: PAGE,
        })
        .await;
    match found {
        Ok(items) => {
            let page = crate::wire::Page::of(items, PAGE, |s| s.id.clone());
            let rows = page
                .items
                .iter()
                .filter(|s| match q.state.as_str() {
                    "active" => !s.spec.paused,
                    "paused" => s.spec.paused,
                    _ => true,
                })
                .map(|s| view::schedule_row(s, zone))
                .collect();
            (rows, page.next, None)
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
    let mut page = Page::new(&viewer, "Schedules", "schedules");
    page.notice = q.notice.clone();
    let (rows, next, error) = load_page(&dash, &q).await;
    page.error = error;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("search", &q.search)
        .append_pair("state", &q.state);
    if let Some(a) = &q.after {
        query.append_pair("after", a);
    }
    let list = List {
        page,
        rows,
        search: q.search,
        state: q.state,
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
    let (rows, _, _) = load_page(&dash, &q).await;
    html(
        &viewer,
        &Rows {
            rows,
            search: q.search,
        },
    )
}

pub struct Preview {
    pub error: Option<String>,
    pub sentence: String,
    pub fires: Vec<Fire>,
}

fn preview_of(cron: &str, every: &str, tz: &str, default: &Zone) -> Preview {
    let fail = |e: String| Preview {
        error: Some(e),
        sentence: String::new(),
        fires: Vec::new(),
    };
    let zone = if tz.trim().is_empty() {
        default.clone()
    } else {
        match Zone::get(tz.trim()) {
            Ok(z) => z,
            Err(e) => return fail(format!("time zone: {e}")),
        }
    };
    if cron.trim().is_empty() {
        if every.trim().is_empty() {
            return fail("give a cron expression or an interval".into());
        }
        return match chime_core::Interval::parse(every.trim()) {
            Ok(i) => Preview {
                error: None,
                sentence: format!("Every {i}, counted from when the schedule is created"),
                fires: Vec::new(),
            },
            Err(e) => fail(e.to_string()),
        };
    }
    match Cron::parse(cron.trim()) {
        Ok(c) => Preview {
            error: None,
            sentence: format!("{} ({})", c.describe(), zone.name()),
            fires: view::cron_fires(&c, &zone, jiff::Timestamp::now(), 5),
        },
        Err(e) => fail(e.to_string()),
    }
}

#[derive(Template)]
#[template(path = "cron_preview.html")]
struct PreviewFragment {
    preview: Preview,
}

#[derive(Deserialize)]
pub struct PreviewQuery {
    #[serde(default)]
    cron: String,
    #[serde(default)]
    every: String,
    #[serde(default)]
    tz: String,
}

pub async fn preview(
    State(dash): State<Dash>,
    SignedIn(viewer): SignedIn,
    Query(q): Query<PreviewQuery>,
) -> Response {
    let preview = preview_of(&q.cron, &q.every, &q.tz, &dash.app.service.default_zone);
    html(&viewer, &PreviewFragment { preview })
}

pub struct Form {
    pub id: Option<String>,
    pub action: String,
    pub version: Option<u64>,
    pub name: String,
    pub cron: String,
    pub every: String,
    pub timezone: String,
    pub queue: String,
    pub kind: String,
    pub url: String,
    pub payload: String,
}

#[derive(Template)]
#[template(path = "schedule_form.html")]
struct FormPage {
    page: Page,
    form: Form,
    preview: Preview,
}

fn form_page(dash: &Dash, viewer: &super::Viewer, form: Form, error: Option<String>) -> Response {
    let title = if form.id.is_some() {
        "Edit schedule"
    } else {
        "New schedule"
    };
    let mut page = Page::new(viewer, title, "schedules");
    page.error = error.clone();
    let preview = preview_of(
        &form.cron,
        &form.every,
        &form.timezone,
        &dash.app.service.default_zone,
    );
    let mut resp = html(
        viewer,
        &FormPage {
            page,
            form,
            preview,
        },
    );
    if error.is_some() {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    resp
}

pub async fn new_form(State(dash): State<Dash>, SignedIn(viewer): SignedIn) -> Response {
    let form = Form {
        id: None,
        action: "/schedules/new".into(),
        version: None,
        name: String::new(),
        cron: "0 9 * * MON-FRI".into(),
        every: String::new(),
        timezone: dash.app.service.default_zone.name().to_string(),
        queue: "default".into(),
        kind: String::new(),
        url: String::new(),
        payload: "{}".into(),
    };
    form_page(&dash, &viewer, form, None)
}

fn form_from(fields: &[(String, String)], id: Option<String>, action: String) -> Form {
    Form {
        id,
        action,
        version: field(fields, "version").parse().ok(),
        name: field(fields, "name").to_string(),
        cron: field(fields, "cron").to_string(),
        every: field(fields, "every").to_string(),
        timezone: field(fields, "timezone").to_string(),
        queue: field(fields, "queue").to_string(),
        kind: field(fields, "kind").to_string(),
        url: field(fields, "url").to_string(),
        payload: field(fields, "payload").to_string(),
    }
}

/// The form as a schedule definition; `base` keeps what the form does not show.
fn spec_from(form: &Form, base: Option<&ScheduleSpec>) -> Result<ScheduleSpec, String> {
    let payload: Value = if form.payload.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&form.payload).map_err(|e| format!("payload: not valid JSON: {e}"))?
    };
    let mut doc = match base {
        Some(b) => serde_json::to_value(b).map_err(|e| e.to_string())?,
        None => json!({"job": {}}),
    };
    doc["name"] = json!(form.name.trim());
    for k in ["cron", "every", "at"] {
        if let Some(o) = doc.as_object_mut() {
            o.remove(k);
        }
    }
    if !form.cron.trim().is_empty() {
        doc["cron"] = json!(form.cron.trim());
    } else if !form.every.trim().is_empty() {
        doc["every"] = json!(form.every.trim());
    }
    if !form.timezone.trim().is_empty() {
        doc["timezone"] = json!(form.timezone.trim());
    }
    let queue = if form.queue.trim().is_empty() {
        "default"
    } else {
        form.queue.trim()
    };
    doc["job"]["queue"] = json!(queue);
    doc["job"]["kind"] = json!(form.kind.trim());
    doc["job"]["payload"] = payload;
    if form.url.trim().is_empty() {
        if let Some(job) = doc["job"].as_object_mut() {
            job.remove("target");
        }
    } else {
        doc["job"]["target"] = json!({"http": {"url": form.url.trim()}});
    }
    let spec: ScheduleSpec = serde_json::from_value(doc).map_err(|e| e.to_string())?;
    Ok(spec)
}

pub async fn create(State(dash): State<Dash>, headers: HeaderMap, body: Bytes) -> Response {
    let (viewer, fields) = match authorised_post(&dash, &headers, &body, Role::Admin).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let form = form_from(&fields, None, "/schedules/new".into());
    let result = match spec_from(&form, None) {
        Ok(spec) => dash
            .app
            .service
            .schedule_create(spec)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    match result {
        Ok(s) => see_other(&format!("/schedules/{}", enc(&s.id)), "Schedule created."),
        Err(e) => form_page(&dash, &viewer, form, Some(e)),
    }
}

async fn load(dash: &Dash, id: &str) -> Result<Schedule, Response> {
    match dash.app.store.schedules_get(id).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err((StatusCode::NOT_FOUND, "no such schedule").into_response()),
        Err(e) => Err((
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the store is unavailable: {e}"),
        )
            .into_response()),
    }
}

pub async fn edit_form(
    State(dash): State<Dash>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<String>,
) -> Response {
    let s = match load(&dash, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let url = match &s.spec.job.target {
        Some(chime_core::model::Target::Http(h)) => h.url.clone(),
        _ => String::new(),
    };
    let form = Form {
        action: format!("/schedules/{}/edit", enc(&s.id)),
        id: Some(s.id.clone()),
        version: Some(s.version),
        name: s.spec.name.clone(),
        cron: s.spec.cron.clone().unwrap_or_default(),
        every: s.spec.every.clone().unwrap_or_default(),
        timezone: s.spec.timezone.clone().unwrap_or_default(),
        queue: s.spec.job.queue.clone(),
        kind: s.spec.job.kind.clone(),
        url,
        payload: serde_json::to_string_pretty(&s.spec.job.payload).unwrap_or_default(),
    };
    form_page(&dash, &viewer, form, None)
}

pub async fn update(
    State(dash): State<Dash>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (viewer, fields) = match authorised_post(&dash, &headers, &body, Role::Admin).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if chime_engine::declared::is_declared(&id) {
        return (
            StatusCode::CONFLICT,
            "this schedule comes from the schedules file: change it there",
        )
            .into_response();
    }
    let current = match load(&dash, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = form_from(
        &fields,
        Some(id.clone()),
        format!("/schedules/{}/edit", enc(&id)),
    );
    let result = match spec_from(&form, Some(&current.spec)) {
        Ok(spec) => dash
            .app
            .service
            .schedule_replace(&id, form.version, spec)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => see_other(&format!("/schedules/{}", enc(&id)), "Schedule saved."),
        Err(e) => form_page(&dash, &viewer, form, Some(e)),
    }
}

pub struct Detail {
    pub id: String,
    pub name: String,
    pub when: String,
    pub sentence: String,
    pub zone: String,
    pub state: &'static str,
    pub version: u64,
    pub from_file: bool,
    pub queue: String,
    pub kind: String,
    pub target: String,
    pub next: Vec<Fire>,
}

#[derive(Template)]
#[template(path = "schedule.html")]
struct DetailPage {
    page: Page,
    s: Detail,
    ledger: Vec<LedgerRow>,
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerFragment {
    ledger: Vec<LedgerRow>,
}

async fn ledger_rows(dash: &Dash, s: &Schedule) -> Vec<LedgerRow> {
    let zone = view::zone_of(s, &dash.app.service.default_zone);
    dash.app
        .store
        .occurrences_list(OccurrencesList {
            schedule_id: s.id.clone(),
            before: None,
            limit: 50,
        })
        .await
        .unwrap_or_default()
        .iter()
        .map(|o| view::ledger_row(o, &zone))
        .collect()
}

pub async fn detail(
    State(dash): State<Dash>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let s = match load(&dash, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let zone = view::zone_of(&s, &dash.app.service.default_zone);
    let (sentence, next) = match s.spec.cron.as_deref().map(Cron::parse) {
        Some(Ok(c)) => {
            let from = s
                .next_fire_at
                .map(|t| t - jiff::SignedDuration::from_secs(1))
                .unwrap_or_else(jiff::Timestamp::now);
            let fires = if s.spec.paused || s.next_fire_at.is_none() {
                Vec::new()
            } else {
                view::cron_fires(&c, &zone, from, 5)
            };
            (c.describe(), fires)
        }
        _ => (
            String::new(),
            s.next_fire_at
                .into_iter()
                .map(|t| Fire {
                    local: view::local(t, &zone),
                    utc: view::utc(t),
                    dst: None,
                })
                .collect(),
        ),
    };
    let target = match &s.spec.job.target {
        Some(t) => serde_json::to_string(t).unwrap_or_default(),
        None => "no target: an in-process handler or an external worker runs it".into(),
    };
    let ledger = ledger_rows(&dash, &s).await;
    let mut page = Page::new(&viewer, s.spec.name.clone(), "schedules");
    page.notice = q.notice;
    let d = Detail {
        from_file: chime_engine::declared::is_declared(&s.id),
        id: s.id.clone(),
        name: s.spec.name.clone(),
        when: view::trigger(&s),
        sentence,
        zone: zone.name().to_string(),
        state: if s.spec.paused { "paused" } else { "active" },
        version: s.version,
        queue: s.spec.job.queue.clone(),
        kind: s.spec.job.kind.clone(),
        target,
        next,
    };
    html(&viewer, &DetailPage { page, s: d, ledger })
}

pub async fn ledger(
    State(dash): State<Dash>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<String>,
) -> Response {
    let s = match load(&dash, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    html(
        &viewer,
        &LedgerFragment {
            ledger: ledger_rows(&dash, &s).await,
        },
    )
}

pub async fn act(
    State(dash): State<Dash>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let needed = if action == "delete" {
        Role::Admin
    } else {
        Role::Operator
    };
    if let Err(r) = authorised_post(&dash, &headers, &body, needed).await {
        return r;
    }
    let service = &dash.app.service;
    let here = format!("/schedules/{}", enc(&id));
    let result = match action.as_str() {
        "pause" => service.schedule_pause(&id).await.map(|_| "Paused."),
        "resume" => service.schedule_resume(&id).await.map(|_| "Resumed."),
        "trigger" => service
            .schedule_trigger(&id)
            .await
            .map(|_| "Triggered: a job was made now."),
        "delete" if chime_engine::declared::is_declared(&id) => {
            return (
                StatusCode::CONFLICT,
                "this schedule comes from the schedules file: remove it there",
            )
                .into_response()
        }
        "delete" => match service.schedule_delete(&id).await {
            Ok(()) => return see_other("/schedules", "Schedule deleted."),
            Err(e) => Err(e),
        },
        _ => return (StatusCode::NOT_FOUND, "no such action").into_response(),
    };
    match result {
        Ok(notice) => see_other(&here, notice),
        Err(e) => see_other(&here, &format!("Not done: {e}")),
    }
}
