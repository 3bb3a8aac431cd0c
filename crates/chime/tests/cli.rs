//! The client commands against a real `chime serve`: every action, its table
//! and its `--json`, and the exit status of each kind of failure.

mod support;

use serde_json::Value;
use std::process::{Command, Output};
use std::time::Duration;
use support::{wait_for, Chime};

struct Cli {
    server: String,
}

impl Cli {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_chime"))
            .args(args)
            .env("CHIME_SERVER", &self.server)
            .env_remove("CHIME_TOKEN")
            .output()
            .expect("run chime")
    }

    /// Runs a command that must succeed; returns its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "chime {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).expect("JSON output")
    }

    /// Runs a command that must fail with `code`; returns its one stderr line.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "chime {args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8(out.stderr).expect("utf-8");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        err
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_command_works_against_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let chime = Chime::start(&dir.path().join("c.db"), &[]).await;
    let cli = Cli {
        server: chime.base.clone(),
    };

    // schedule add: flags, shown in its zone with UTC beside it.
    let out = cli.ok(&[
        "schedule",
        "add",
        "--name",
        "nightly",
        "--cron",
        "15 2 * * *",
        "--tz",
        "Europe/Berlin",
        "--kind",
        "report.nightly",
        "--queue",
        "reports",
        "--payload",
        r#"{"account": 7}"#,
        "--paused",
    ]);
    assert!(out.contains("created schedule"), "{out}");
    assert!(
        out.contains("CET (01:15:00Z)") || out.contains("CEST (00:15:00Z)"),
        "{out}"
    );
    let nightly = cli.json(&["schedule", "ls", "--search", "nightly"]);
    let nightly = &nightly.as_array().unwrap()[0];
    let nightly_id = nightly["id"].as_str().unwrap().to_string();
    assert_eq!(nightly["job"]["payload"]["account"], 7);
    assert_eq!(nightly["paused"], true);

    // ... and from a file, with a flag over the file's trigger.
    let file = dir.path().join("fast.json");
    std::fs::write(
        &file,
        r#"{"name": "fast", "cron": "0 0 1 1 *", "job": {"kind": "chime.noop"}}"#,
    )
    .unwrap();
    let fast = cli.json(&[
        "schedule",
        "add",
        "--file",
        file.to_str().unwrap(),
        "--every",
        "1s",
    ]);
    let fast_id = fast["id"].as_str().unwrap().to_string();
    assert_eq!(fast["every"], "1s");
    assert!(
        fast.get("cron").is_none(),
        "the flag's trigger replaced the file's"
    );

    let table = cli.ok(&["schedule", "ls"]);
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("ID") && header.contains("NEXT FIRE"),
        "{table}"
    );
    assert!(table.contains("nightly") && table.contains("paused") && table.contains("every 1s"));

    let show = cli.ok(&["schedule", "show", &nightly_id]);
    assert!(
        show.contains("zone:") && show.contains("Europe/Berlin"),
        "{show}"
    );

    // edit: cron → every clears the cron; a stale version conflicts (5).
    let edited = cli.json(&[
        "schedule",
        "edit",
        &nightly_id,
        "--every",
        "1h",
        "--name",
        "hourly",
    ]);
    assert_eq!(
        (edited["every"].as_str(), edited["name"].as_str()),
        (Some("1h"), Some("hourly"))
    );
    assert!(edited.get("cron").is_none());
    let err = cli.fails(
        &[
            "schedule",
            "edit",
            &nightly_id,
            "--name",
            "x",
            "--version",
            "1",
        ],
        5,
    );
    assert!(err.contains("version"), "{err}");
    cli.fails(&["schedule", "edit", &nightly_id], 2);

    // pause / resume / trigger / history
    assert!(cli
        .ok(&["schedule", "resume", &nightly_id])
        .contains("is active"));
    assert!(cli
        .ok(&["schedule", "pause", &nightly_id])
        .contains("is paused"));
    let triggered = cli.json(&["schedule", "trigger", &nightly_id]);
    assert_eq!(triggered["schedule_id"], nightly_id.as_str());
    wait_for(
        "the every-second schedule to fire",
        Duration::from_secs(20),
        || {
            let n = cli.json(&["schedule", "history", &fast_id])["items"]
                .as_array()
                .map_or(0, Vec::len);
            async move { n >= 2 }
        },
    )
    .await;
    let history = cli.ok(&["schedule", "history", &fast_id]);
    assert!(
        history.starts_with("SCHEDULED FOR") && history.contains("fired"),
        "{history}"
    );

    // job enqueue / ls / show / cancel / retry / rm
    let job = cli.json(&[
        "job",
        "enqueue",
        "--kind",
        "no.handler",
        "--queue",
        "side",
        "--delay",
        "1h",
        "--priority",
        "-5",
    ]);
    let job_id = job["id"].as_str().unwrap().to_string();
    assert_eq!(
        (job["state"].as_str(), job["priority"].as_i64()),
        (Some("pending"), Some(-5))
    );
    let listed = cli.json(&["job", "ls", "--queue", "side"]);
    assert_eq!(listed["items"][0]["id"], job_id.as_str());
    let table = cli.ok(&["job", "ls", "--queue", "side"]);
    assert!(
        table.contains("pending") && table.contains("0/3"),
        "{table}"
    );
    assert!(cli
        .ok(&["job", "show", &job_id])
        .contains("idempotency key:"));
    assert!(cli.ok(&["job", "cancel", &job_id]).contains("cancelled"));
    // Retried, it runs at once; with no handler for its kind it fails for good.
    assert_eq!(cli.json(&["job", "retry", &job_id])["state"], "pending");
    wait_for(
        "the retried job to run and die",
        Duration::from_secs(20),
        || {
            let state = cli.json(&["job", "show", &job_id])["state"].clone();
            async move { state == "dead" }
        },
    )
    .await;
    let err = cli.fails(&["job", "cancel", &job_id], 5);
    assert!(err.contains("dead"), "{err}");
    assert!(cli.ok(&["job", "rm", &job_id]).contains("deleted"));
    cli.fails(&["job", "show", &job_id], 3);
    cli.fails(&["job", "enqueue", "--kind", "k", "--delay", "soon"], 2);

    // queue ls / pause / resume
    assert!(cli.ok(&["queue", "pause", "side"]).contains("paused"));
    let queues = cli.json(&["queue", "ls"]);
    let side = queues["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "side")
        .cloned();
    assert_eq!(side.map(|q| q["paused"].clone()), Some(Value::Bool(true)));
    assert!(cli.ok(&["queue", "resume", "side"]).contains("active"));
    assert!(cli.ok(&["queue", "ls"]).starts_with("QUEUE"));

    // instance ls: this one instance, holding every bucket.
    wait_for(
        "the instance to hold its buckets",
        Duration::from_secs(10),
        || {
            let v = cli.json(&["instance", "ls"]);
            async move { v["items"][0]["buckets"] == 256 }
        },
    )
    .await;
    assert!(cli.ok(&["instance", "ls"]).starts_with("INSTANCE"));

    // rm, then the failures: not found 3, invalid 2 (field named), unreachable 1.
    assert!(cli.ok(&["schedule", "rm", &fast_id]).contains("deleted"));
    cli.fails(&["schedule", "show", &fast_id], 3);
    let err = cli.fails(
        &["schedule", "add", "--name", "bad", "--cron", "61 * * * *"],
        2,
    );
    assert!(err.contains("cron") && err.contains("61"), "{err}");
    cli.fails(
        &[
            "schedule",
            "add",
            "--name",
            "bad",
            "--every",
            "1m",
            "--payload",
            "{nope",
        ],
        2,
    );
    let gone = Cli {
        server: format!("http://127.0.0.1:{}", support::free_port()),
    };
    let err = gone.fails(&["schedule", "ls"], 1);
    assert!(err.contains("cannot reach chime"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crontab_imports_and_its_commands_run() {
    let dir = tempfile::tempdir().unwrap();
    let chime = Chime::start(&dir.path().join("cron.db"), &["--allow-commands"]).await;
    let cli = Cli {
        server: chime.base.clone(),
    };
    let out_file = dir.path().join("out.txt");
    let crontab = dir.path().join("crontab");
    std::fs::write(
        &crontab,
        format!(
            "# nightly things\n\
             GREETING=hello\n\
             MAILTO=ops@example.com\n\
             CRON_TZ=Europe/Berlin\n\
             30 2 * * * echo \"$GREETING from cron\" > {}\n\
             @hourly true\n\
             @reboot /usr/bin/start-things\n",
            out_file.display()
        ),
    )
    .unwrap();
    let path = crontab.to_str().unwrap();

    // A dry run creates nothing but reports every line.
    let out = cli.run(&["import", "crontab", path, "--dry-run"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "unsupported lines make it exit 2"
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("would create") && table.contains("@reboot") && table.contains("MAILTO"),
        "{table}"
    );
    assert!(cli.json(&["schedule", "ls"]).as_array().unwrap().is_empty());

    let out = cli.run(&["import", "crontab", path, "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let created = report["created"].as_array().unwrap();
    assert_eq!(created.len(), 2);
    assert_eq!(report["unsupported"].as_array().unwrap().len(), 2);
    let nightly = &created[0];
    assert_eq!(
        (nightly["cron"].as_str(), nightly["timezone"].as_str()),
        (Some("30 2 * * *"), Some("Europe/Berlin"))
    );
    assert_eq!(nightly["misfire"]["policy"], "skip");
    assert_eq!(nightly["job"]["target"]["command"]["argv"][0], "/bin/sh");

    // Fired by hand, the command runs with the crontab's variables.
    let id = nightly["id"].as_str().unwrap();
    cli.ok(&["schedule", "trigger", id]);
    wait_for(
        "the imported command to run",
        Duration::from_secs(20),
        || {
            let text = std::fs::read_to_string(&out_file).unwrap_or_default();
            async move { text.trim() == "hello from cron" }
        },
    )
    .await;
}
