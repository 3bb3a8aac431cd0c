//! Who may call what. With tokens on, every API route needs a bearer token
//! whose role covers the route; health checks stay open. The role a route
//! needs depends only on its method and shape, so a refusal never reveals
//! whether the resource exists.

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chime_core::model::Role;
use chime_engine::auth::Authenticator;
use std::sync::Arc;

/// How the API is guarded.
#[derive(Clone)]
pub enum Access {
    /// No tokens asked for (loopback development, or `--insecure`).
    Open,
    Tokens(Arc<Authenticator>),
}

/// The role a request needs: reading needs `read`; running things
/// (trigger, pause, resume, enqueue, retry, cancel, and the external
/// worker calls) needs `operator`; changing definitions needs `admin`.
pub fn required_role(method: &Method, path: &str) -> Role {
    if method == Method::GET || method == Method::HEAD {
        return Role::Read;
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let operator = method == Method::POST
        && matches!(
            parts.as_slice(),
            ["api", "v1", "schedules", _, "pause" | "resume" | "trigger"]
                | ["api", "v1", "jobs"]
                | [
                    "api",
                    "v1",
                    "jobs",
                    _,
                    "cancel" | "retry" | "heartbeat" | "complete" | "fail"
                ]
                | ["api", "v1", "queues", _, "pause" | "resume" | "claim"]
        );
    if operator {
        Role::Operator
    } else {
        Role::Admin
    }
}

pub async fn require(State(access): State<Access>, req: Request, next: Next) -> Response {
    let Access::Tokens(auth) = access else {
        return next.run(req).await;
    };
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(secret) = bearer else {
        return unauthorized("an API token is required: send Authorization: Bearer <token>");
    };
    let token = match auth.check(secret).await {
        Ok(Some(token)) => token,
        Ok(None) => return unauthorized("the API token is not valid"),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let needed = required_role(req.method(), req.uri().path());
    if token.role < needed {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "a {} token cannot do this; it needs the {} role",
                token.role.as_str(),
                needed.as_str()
            ),
        )
        .into_response();
    }
    next.run(req).await
}

fn unauthorized(message: &str) -> Response {
    let mut resp = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_the_least_role_that_covers_them() {
        let cases = [
            (Method::GET, "/api/v1/schedules", Role::Read),
            (Method::GET, "/metrics", Role::Read),
            (Method::POST, "/api/v1/schedules", Role::Admin),
            (Method::PATCH, "/api/v1/schedules/x", Role::Admin),
            (Method::DELETE, "/api/v1/schedules/x", Role::Admin),
            (Method::POST, "/api/v1/schedules/x/trigger", Role::Operator),
            (Method::POST, "/api/v1/schedules/x/pause", Role::Operator),
            (Method::POST, "/api/v1/jobs", Role::Operator),
            (Method::POST, "/api/v1/jobs/x/retry", Role::Operator),
            (Method::POST, "/api/v1/jobs/x/complete", Role::Operator),
            (Method::DELETE, "/api/v1/jobs/x", Role::Admin),
            (Method::POST, "/api/v1/queues/q/claim", Role::Operator),
            (Method::POST, "/api/v1/queues/q/pause", Role::Operator),
            (Method::POST, "/api/v1/nothing/here", Role::Admin),
        ];
        for (method, path, role) in cases {
            assert_eq!(required_role(&method, path), role, "{method} {path}");
        }
    }
}
