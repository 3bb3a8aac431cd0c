//! Who is looking, and proof that a form came from our own page.
//!
//! Signing in stores the API token in an HttpOnly, SameSite=Strict cookie;
//! each request checks it like a bearer token, so sessions work across
//! instances with no server-side state. Every form carries a CSRF value
//! that must equal the `chime_csrf` cookie (double submit): another site
//! can make a browser post, but cannot read or set that cookie.

use crate::auth::Access;
use axum::http::{header, HeaderMap, HeaderValue};
use chime_core::model::Role;

pub const TOKEN_COOKIE: &str = "chime_token";
pub const CSRF_COOKIE: &str = "chime_csrf";

/// The viewer of one request.
pub struct Viewer {
    /// `None`: tokens are required and none valid was presented.
    pub role: Option<Role>,
    pub csrf: String,
    /// The CSRF cookie must be set on the response.
    pub new_csrf: bool,
    pub auth: bool,
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    // A failing OS generator leaves a constant that no cookie will match.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    chime_engine::auth::hex(&bytes)
}

pub async fn viewer(access: &Access, headers: &HeaderMap) -> Viewer {
    let existing = cookie(headers, CSRF_COOKIE)
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let (csrf, new_csrf) = match existing {
        Some(v) => (v.to_string(), false),
        None => (random_hex(), true),
    };
    let (role, auth) = match access {
        Access::Open => (Some(Role::Admin), false),
        Access::Tokens(auth) => {
            let role = match cookie(headers, TOKEN_COOKIE) {
                Some(secret) => auth.check(secret).await.ok().flatten().map(|t| t.role),
                None => None,
            };
            (role, true)
        }
    };
    Viewer {
        role,
        csrf,
        new_csrf,
        auth,
    }
}

pub fn set_cookie(name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict{age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("chime_invalid=1"))
}

impl Viewer {
    /// The form's CSRF value matches the cookie this browser holds.
    pub fn csrf_ok(&self, form: &[(String, String)]) -> bool {
        !self.new_csrf
            && form
                .iter()
                .any(|(k, v)| k == "csrf" && constant_time_eq(v.as_bytes(), self.csrf.as_bytes()))
    }

    pub fn can(&self, role: Role) -> bool {
        self.role.is_some_and(|r| r >= role)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_and_checks_csrf() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; chime_csrf=00112233445566778899aabbccddeeff; b=2"),
        );
        assert_eq!(cookie(&h, "b"), Some("2"));
        let v = Viewer {
            role: Some(Role::Read),
            csrf: "00112233445566778899aabbccddeeff".into(),
            new_csrf: false,
            auth: true,
        };
        assert!(v.csrf_ok(&[("csrf".into(), "00112233445566778899aabbccddeeff".into())]));
        assert!(!v.csrf_ok(&[("csrf".into(), "00112233445566778899aabbccddeefe".into())]));
        assert!(!v.csrf_ok(&[]));
        assert!(v.can(Role::Read) && !v.can(Role::Operator));
    }
}
