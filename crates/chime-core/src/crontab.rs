//! Reading a crontab (crontab(5)): each entry becomes a schedule with a
//! command target. Environment lines apply to the entries below them;
//! `CRON_TZ` (or `TZ`) sets their zone. Whatever chime cannot honour is
//! reported with its line number, never dropped silently.

use crate::{Cron, Zone};
use std::collections::BTreeMap;

/// One line that makes a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: usize,
    /// Normalised: `@daily` stays as written, fields as given.
    pub cron: String,
    /// From `CRON_TZ`/`TZ` above the line, if any.
    pub timezone: Option<String>,
    pub command: String,
    /// `SHELL` above the line, else `/bin/sh`.
    pub shell: String,
    /// The other variables set above the line (`PATH`, `HOME`, …).
    pub env: BTreeMap<String, String>,
    /// Passed on the command's standard input (text after an unescaped `%`).
    pub stdin: Option<String>,
}

/// A line chime will not turn into a schedule, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub line: usize,
    pub text: String,
    pub reason: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Crontab {
    pub entries: Vec<Entry>,
    pub unsupported: Vec<Unsupported>,
}

/// Parses crontab text. `system` reads the /etc/crontab form, whose sixth
/// field names the user to run as (reported: chime runs commands as itself).
pub fn parse(text: &str, system: bool) -> Crontab {
    let mut out = Crontab::default();
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut zone: Option<String> = None;
    let mut shell = "/bin/sh".to_string();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let unsupported = |reason: &str| Unsupported {
            line,
            text: trimmed.to_string(),
            reason: reason.to_string(),
        };
        if let Some((name, value)) = env_assignment(trimmed) {
            match name.as_str() {
                "CRON_TZ" | "TZ" => match Zone::get(&value) {
                    Ok(_) => zone = Some(value),
                    Err(e) => out.unsupported.push(unsupported(&format!("{name}: {e}"))),
                },
                "SHELL" => shell = value,
                "MAILTO" | "MAILFROM" => out.unsupported.push(unsupported(
                    "chime does not mail output; it keeps it with each attempt (chime job show) and can call a webhook on failure",
                )),
                _ => {
                    env.insert(name, value);
                }
            }
            continue;
        }
        match entry(trimmed, system) {
            Ok((cron, user, command)) => {
                if let Some(user) = user {
                    out.unsupported.push(unsupported(&format!(
                        "runs as user {user:?}: chime runs commands as its own user; the entry is imported without it"
                    )));
                }
                if let Err(e) = Cron::parse(&cron) {
                    out.unsupported.push(unsupported(&e.to_string()));
                    continue;
                }
                let (command, stdin) = split_percent(&command);
                if command.trim().is_empty() {
                    out.unsupported.push(unsupported("no command"));
                    continue;
                }
                out.entries.push(Entry {
                    line,
                    cron,
                    timezone: zone.clone(),
                    command,
                    shell: shell.clone(),
                    env: env.clone(),
                    stdin,
                });
            }
            Err(reason) => out.unsupported.push(unsupported(&reason)),
        }
    }
    out
}

/// `NAME = value`, `NAME="value"`; `None` if the line is not one.
fn env_assignment(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once('=')?;
    let name = name.trim();
    let valid = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if !valid {
        return None;
    }
    let value = value.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
        .unwrap_or(value);
    Some((name.to_string(), unquoted.to_string()))
}

/// The schedule part, the user (system form) and the command.
fn entry(line: &str, system: bool) -> Result<(String, Option<String>, String), String> {
    let mut rest = line;
    let mut take = || {
        let t = rest.trim_start();
        let end = t.find(char::is_whitespace).unwrap_or(t.len());
        let (word, tail) = t.split_at(end);
        rest = tail;
        word
    };
    let first = take();
    let cron = if first.starts_with('@') {
        if first == "@reboot" {
            return Err("@reboot runs at boot; chime schedules by time only".into());
        }
        first.to_string()
    } else {
        let mut fields = vec![first];
        for _ in 0..4 {
            fields.push(take());
        }
        if fields.iter().any(|f| f.is_empty()) {
            return Err("expected five time fields and a command".into());
        }
        fields.join(" ")
    };
    let user = if system {
        let u = take();
        if u.is_empty() {
            return Err("expected a user and a command after the time fields".into());
        }
        Some(u.to_string())
    } else {
        None
    };
    Ok((cron, user, rest.trim().to_string()))
}

/// cron's `%`: the first unescaped one ends the command, the rest is its
/// standard input with further `%` as newlines; `\%` is a plain `%`.
fn split_percent(command: &str) -> (String, Option<String>) {
    let mut cmd = String::new();
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'%') => {
                cmd.push('%');
                chars.next();
            }
            '%' => {
                let input: String = chars.collect::<String>().replace('%', "\n");
                return (cmd, Some(input));
            }
            c => cmd.push(c),
        }
    }
    (cmd, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_take_the_environment_above_them() {
        let tab = parse(
            "# backups\n\
             SHELL=/bin/bash\n\
             PATH = /usr/local/bin:/usr/bin\n\
             MAILTO=ops@example.com\n\
             0 3 * * * /usr/local/bin/backup --full\n\
             CRON_TZ=Europe/Berlin\n\
             */15 9-17 * * MON-FRI curl -fsS https://example.com/ping\n\
             @daily date +\\%F >> /var/log/day.log\n\
             @reboot /usr/bin/start-things\n\
             5 4 * * sun echo hi%line one%line two\n\
             61 * * * * echo bad minute\n\
             * * * echo too short\n",
            false,
        );
        let lines: Vec<usize> = tab.entries.iter().map(|e| e.line).collect();
        assert_eq!(lines, [5, 7, 8, 10]);
        let backup = &tab.entries[0];
        assert_eq!(
            (backup.cron.as_str(), backup.shell.as_str()),
            ("0 3 * * *", "/bin/bash")
        );
        assert_eq!(backup.timezone, None);
        assert_eq!(backup.env["PATH"], "/usr/local/bin:/usr/bin");
        assert_eq!(backup.command, "/usr/local/bin/backup --full");
        assert_eq!(tab.entries[1].timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(tab.entries[2].command, "date +%F >> /var/log/day.log");
        assert_eq!(tab.entries[3].command, "echo hi");
        assert_eq!(tab.entries[3].stdin.as_deref(), Some("line one\nline two"));
        let reported: Vec<usize> = tab.unsupported.iter().map(|u| u.line).collect();
        assert_eq!(reported, [4, 9, 11, 12], "{:?}", tab.unsupported);
        assert!(tab.unsupported[1].reason.contains("@reboot"));
    }

    proptest::proptest! {
        // Lines built from crontab's own alphabet: never a panic, every
        // entry's schedule parses, every line number is real.
        #[test]
        fn any_crontab_text_is_read_or_reported(
            lines in proptest::collection::vec(r"[0-9*/,@a-zA-Z_= %\\#\-\t]{0,40}", 0..12),
            system in proptest::bool::ANY,
        ) {
            let text = lines.join("\n");
            let tab = parse(&text, system);
            for e in &tab.entries {
                proptest::prop_assert!(Cron::parse(&e.cron).is_ok());
                proptest::prop_assert!(e.line >= 1 && e.line <= lines.len());
            }
            for u in &tab.unsupported {
                proptest::prop_assert!(u.line >= 1 && u.line <= lines.len());
            }
        }
    }

    #[test]
    fn system_form_reports_the_user() {
        let tab = parse(
            "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n",
            true,
        );
        assert_eq!(
            tab.entries[0].command,
            "cd / && run-parts --report /etc/cron.hourly"
        );
        assert!(tab.unsupported[0].reason.contains("root"));
        assert!(parse("CRON_TZ=Nowhere/Land\n", false).unsupported[0]
            .reason
            .contains("CRON_TZ"));
    }
}
