//! The web dashboard at `/`: server-rendered pages (askama templates
//! compiled into the binary), one stylesheet and one small script, both
//! embedded. Parts that change refresh themselves; every action is a plain
//! form post with a CSRF value, checked against the viewer's role.

mod jobs;
mod overview;
mod schedules;
mod session;
mod view;

use crate::auth::Access;
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chime_core::model::Role;
use session::Viewer;

#[derive(Clone)]
pub struct Dash {
    pub app: AppState,
    pub access: Access,
    samples: overview::Samples,
}

pub fn router(app: AppState, access: Access) -> Router {
    let dash = Dash {
        app,
        access,
        samples: Default::default(),
    };
    Router::new()
        .route("/", get(overview::page))
        .route("/ui/overview", get(overview::live))
        .route("/schedules", get(schedules::list))
        .route("/ui/schedules", get(schedules::rows))
        .route(
            "/schedules/new",
            get(schedules::new_form).post(schedules::create),
        )
        .route("/schedules/{id}", get(schedules::detail))
        .route(
            "/schedules/{id}/edit",
            get(schedules::edit_form).post(schedules::update),
        )
        .route("/schedules/{id}/{action}", post(schedules::act))
        .route("/ui/schedules/{id}/ledger", get(schedules::ledger))
        .route("/ui/cron-preview", get(schedules::preview))
        .route("/jobs", get(jobs::list))
        .route("/ui/jobs", get(jobs::rows))
        .route("/jobs/bulk", post(jobs::bulk))
        .route("/jobs/{id}", get(jobs::detail))
        .route("/jobs/{id}/{action}", post(jobs::act))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .with_state(dash)
}

/// What every page's frame needs.
pub struct Page {
    pub title: String,
    pub nav: &'static str,
    pub role: Option<&'static str>,
    pub auth: bool,
    pub csrf: String,
    pub can_operate: bool,
    pub can_admin: bool,
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl Page {
    fn new(viewer: &Viewer, title: impl Into<String>, nav: &'static str) -> Page {
        Page {
            title: title.into(),
            nav,
            role: viewer.role.map(Role::as_str),
            auth: viewer.auth,
            csrf: viewer.csrf.clone(),
            can_operate: viewer.can(Role::Operator),
            can_admin: viewer.can(Role::Admin),
            notice: None,
            error: None,
        }
    }
}

/// Renders a page, setting the CSRF cookie if the browser has none yet.
fn html(viewer: &Viewer, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => {
            let mut resp =
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
            if viewer.new_csrf {
                resp.headers_mut().append(
                    header::SET_COOKIE,
                    session::set_cookie(session::CSRF_COOKIE, &viewer.csrf, None),
                );
            }
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "template");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

/// A signed-in viewer; anyone else is sent to the sign-in page.
pub struct SignedIn(pub Viewer);

impl FromRequestParts<Dash> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, dash: &Dash) -> Result<Self, Response> {
        let viewer = session::viewer(&dash.access, &parts.headers).await;
        if viewer.role.is_none() {
            return Err(Redirect::to("/login").into_response());
        }
        Ok(SignedIn(viewer))
    }
}

/// A form post from a signed-in viewer whose role covers `needed`, with a
/// valid CSRF value; else the refusal to send.
async fn authorised_post(
    dash: &Dash,
    headers: &HeaderMap,
    body: &Bytes,
    needed: Role,
) -> Result<(Viewer, Vec<(String, String)>), Response> {
    let viewer = session::viewer(&dash.access, headers).await;
    let form = parse_form(body);
    if !viewer.csrf_ok(&form) {
        return Err((
            StatusCode::FORBIDDEN,
            "the form has expired or did not come from this site; reload the page",
        )
            .into_response());
    }
    match viewer.role {
        None => Err(Redirect::to("/login").into_response()),
        Some(role) if role < needed => Err((
            StatusCode::FORBIDDEN,
            format!(
                "a {} token cannot do this; it needs {}",
                role.as_str(),
                needed.as_str()
            ),
        )
            .into_response()),
        Some(_) => Ok((viewer, form)),
    }
}

pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Back to `to` with a one-line notice.
fn see_other(to: &str, notice: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{to}{sep}notice={}", enc(notice))).into_response()
}

/// Percent-encoded for a URL path segment or query value.
fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login {
    page: Page,
}

async fn login_form(State(dash): State<Dash>, headers: HeaderMap) -> Response {
    let viewer = session::viewer(&dash.access, &headers).await;
    if !viewer.auth {
        return Redirect::to("/").into_response();
    }
    html(
        &viewer,
        &Login {
            page: Page::new(&viewer, "Sign in", ""),
        },
    )
}

async fn login(State(dash): State<Dash>, headers: HeaderMap, body: Bytes) -> Response {
    let viewer = session::viewer(&dash.access, &headers).await;
    let form = parse_form(&body);
    if !viewer.csrf_ok(&form) {
        return (
            StatusCode::FORBIDDEN,
            "the form has expired; reload the page",
        )
            .into_response();
    }
    let Access::Tokens(auth) = &dash.access else {
        return Redirect::to("/").into_response();
    };
    let secret = field(&form, "token").trim().to_string();
    match auth.check(&secret).await {
        Ok(Some(_)) => {
            let mut resp = Redirect::to("/").into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                session::set_cookie(session::TOKEN_COOKIE, &secret, Some(12 * 3600)),
            );
            resp
        }
        _ => {
            let mut page = Page::new(&viewer, "Sign in", "");
            page.error = Some("That token is not valid.".into());
            let mut resp = html(&viewer, &Login { page });
            *resp.status_mut() = StatusCode::UNAUTHORIZED;
            resp
        }
    }
}

async fn logout(State(dash): State<Dash>, headers: HeaderMap, body: Bytes) -> Response {
    let viewer = session::viewer(&dash.access, &headers).await;
    if !viewer.csrf_ok(&parse_form(&body)) {
        return (
            StatusCode::FORBIDDEN,
            "the form has expired; reload the page",
        )
            .into_response();
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(session::TOKEN_COOKIE, "", Some(0)),
    );
    resp
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("../../assets/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("../../assets/app.js"),
    )
}
