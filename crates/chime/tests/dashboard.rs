//! The dashboard in a real headless browser (Debian's chromium through
//! chromedriver): sign in with a token, create a schedule through the form
//! with its live cron preview, see it fire into the ledger, pause and
//! trigger it, retry a dead job from the dead set, sign out, and find that
//! a read token sees no action and cannot post. Screenshots of each page go
//! to target/dashboard-screenshots/ for a reviewer to look at.

mod support;

use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use support::webdriver::Browser;
use support::{wait_for, Chime};

fn token(db: &str, role: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_chime"))
        .args([
            "token", "create", "--db", db, "--name", role, "--role", role,
        ])
        .output()
        .expect("chime token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn shots() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/dashboard-screenshots"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operate_chime_from_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dash.db");
    let db = format!("sqlite://{}", path.display());
    let admin = token(&db, "admin");
    let read = token(&db, "read");
    let chime = Chime::start(&path, &["--auth"]).await;
    let b = Browser::start().await;
    let shots = shots();

    // Signed out: every page leads to the sign-in form.
    b.goto(&chime.url("/schedules")).await;
    assert!(b.url().await.ends_with("/login"), "{}", b.url().await);
    b.screenshot(&shots, "01-sign-in").await;
    b.fill("#token", "chime_not-a-token").await;
    b.click("form[action='/login'] button").await;
    b.wait_text("That token is not valid.", Duration::from_secs(5))
        .await;
    b.fill("#token", &admin).await;
    b.click("form[action='/login'] button").await;
    b.wait_text("Instances", Duration::from_secs(5)).await;
    let cookies = b.cookies().await;
    assert!(cookies.iter().any(|(k, _)| k == "chime_token"));

    // Create a schedule through the form; the preview follows the typing.
    b.goto(&chime.url("/schedules/new")).await;
    b.fill("#name", "browser-made").await;
    b.fill("#cron", "*/2 * * * * *").await;
    b.fill("#timezone", "Europe/Berlin").await;
    b.fill("#kind", "chime.noop").await;
    b.wait_text_in("#preview", "(Europe/Berlin)", Duration::from_secs(5))
        .await;
    let preview = b.text("#preview").await;
    assert!(
        preview.contains("Every 2 seconds") || preview.contains("every 2"),
        "{preview}"
    );
    assert!(
        preview.contains("CET") || preview.contains("CEST"),
        "{preview}"
    );
    b.screenshot(&shots, "02-new-schedule").await;
    assert_eq!(
        b.unlabelled_controls().await,
        Vec::<String>::new(),
        "every control of the form has a label"
    );
    b.click("form[data-preview] button[type=submit]").await;
    b.wait_text("Schedule created.", Duration::from_secs(5))
        .await;
    let detail_url = b.url().await;

    // It fires, and the ledger on the page updates by itself.
    b.find("#ledger .state-fired").await;
    b.screenshot(&shots, "03-schedule-detail").await;
    assert_eq!(b.unlabelled_controls().await, Vec::<String>::new());
    b.click("form[action$='/pause'] button").await;
    b.wait_text("Paused.", Duration::from_secs(5)).await;
    assert!(b.try_find("form[action$='/resume']").await.is_some());
    b.click("form[action$='/trigger'] button").await;
    b.wait_text("Triggered", Duration::from_secs(5)).await;

    // The list: zone and UTC side by side.
    b.goto(&chime.url("/schedules")).await;
    b.wait_text("browser-made", Duration::from_secs(5)).await;
    b.screenshot(&shots, "04-schedules").await;

    // A dead job, retried from the dead set with the bulk form.
    let http = reqwest::Client::new();
    let r = http
        .post(chime.url("/api/v1/jobs"))
        .bearer_auth(&admin)
        .json(&json!({"queue": "side", "kind": "no.handler", "max_attempts": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let job: serde_json::Value = r.json().await.unwrap();
    let job_id = job["id"].as_str().unwrap().to_string();
    wait_for("the job to die", Duration::from_secs(20), || {
        let http = http.clone();
        let url = chime.url(&format!("/api/v1/jobs/{job_id}"));
        let admin = admin.clone();
        async move {
            let v: serde_json::Value = http
                .get(url)
                .bearer_auth(admin)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["state"] == "dead"
        }
    })
    .await;
    b.goto(&chime.url("/jobs?state=dead")).await;
    b.wait_text("no.handler", Duration::from_secs(5)).await;
    b.screenshot(&shots, "05-dead-jobs").await;
    assert_eq!(
        b.unlabelled_controls().await,
        Vec::<String>::new(),
        "every control of the jobs page has a label"
    );
    b.click("#select-all").await;
    b.click("button[value=retry]").await;
    b.wait_text("retry: 1 job(s) done", Duration::from_secs(5))
        .await;
    b.goto(&chime.url(&format!("/jobs/{job_id}"))).await;
    b.wait_text("Attempts", Duration::from_secs(5)).await;
    b.wait_text("no handler is registered", Duration::from_secs(5))
        .await;
    b.screenshot(&shots, "06-job-detail").await;

    b.goto(&chime.url("/")).await;
    b.wait_text("Queues", Duration::from_secs(5)).await;
    b.screenshot(&shots, "07-overview").await;
    b.resize(390, 844).await;
    b.screenshot(&shots, "08-overview-phone").await;
    b.resize(1280, 900).await;

    // Sign out, then in as read: no action buttons, and posts are refused.
    b.click("form[action='/logout'] button").await;
    b.wait_text("Sign in", Duration::from_secs(5)).await;
    b.fill("#token", &read).await;
    b.click("form[action='/login'] button").await;
    b.wait_text("signed in: read", Duration::from_secs(5)).await;
    b.goto(&detail_url).await;
    b.wait_text("Occurrences", Duration::from_secs(5)).await;
    assert!(
        b.try_find("form[action$='/trigger']").await.is_none(),
        "read sees no actions"
    );
    assert!(b.try_find("form[action$='/resume']").await.is_none());
    b.screenshot(&shots, "09-read-only").await;
    let cookies = b.cookies().await;
    let cookie = |name: &str| {
        cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let (session, csrf) = (cookie("chime_token"), cookie("chime_csrf"));
    let id = detail_url
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |form: String, cookies: String| {
        let http = raw.clone();
        let url = chime.url(&format!("/schedules/{id}/trigger"));
        async move {
            http.post(url)
                .header("cookie", cookies)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let both = format!("chime_token={session}; chime_csrf={csrf}");
    assert_eq!(
        post(format!("csrf={csrf}"), both.clone()).await,
        403,
        "read cannot post"
    );
    let admin_cookies = format!("chime_token={admin}; chime_csrf={csrf}");
    assert_eq!(
        post(String::new(), admin_cookies.clone()).await,
        403,
        "no CSRF value, no action"
    );
    assert_eq!(
        post(
            "csrf=00000000000000000000000000000000".into(),
            admin_cookies.clone()
        )
        .await,
        403
    );
    assert_eq!(
        post(format!("csrf={csrf}"), admin_cookies).await,
        303,
        "admin with CSRF may"
    );
}
