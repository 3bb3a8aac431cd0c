//! The Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`
//! and one line per sample, label values escaped.

use super::histogram::Histogram;
use std::fmt::Write;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Default)]
pub struct Text {
    out: String,
}

impl Text {
    pub fn finish(self) -> String {
        self.out
    }

    /// Starts a metric family.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) -> &mut Self {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
        self
    }

    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) -> &mut Self {
        self.out.push_str(name);
        write_labels(&mut self.out, labels, None);
        let _ = writeln!(self.out, " {}", number(value));
        self
    }

    /// `_bucket` lines per bound, then `_sum` and `_count`.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &Histogram) -> &mut Self {
        let (cumulative, sum) = h.snapshot();
        let bounds = h
            .bounds()
            .iter()
            .map(|b| number(*b))
            .chain(["+Inf".to_string()]);
        for (le, count) in bounds.zip(&cumulative) {
            let _ = write!(self.out, "{name}_bucket");
            write_labels(&mut self.out, labels, Some(&le));
            let _ = writeln!(self.out, " {count}");
        }
        let count = cumulative.last().copied().unwrap_or(0);
        let _ = write!(self.out, "{name}_sum");
        write_labels(&mut self.out, labels, None);
        let _ = writeln!(self.out, " {}", number(sum));
        let _ = write!(self.out, "{name}_count");
        write_labels(&mut self.out, labels, None);
        let _ = writeln!(self.out, " {count}");
        self
    }
}

fn write_labels(out: &mut String, labels: &[(&str, &str)], le: Option<&str>) {
    if labels.is_empty() && le.is_none() {
        return;
    }
    out.push('{');
    let all = labels.iter().copied().chain(le.map(|le| ("le", le)));
    for (i, (k, v)) in all.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
}

/// Integers without a fraction; infinities as Prometheus spells them.
fn number(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    #[test]
    fn writes_families_samples_and_escaped_labels() {
        let mut t = Text::default();
        t.family("chime_jobs", "gauge", "Jobs by queue and state.")
            .sample(
                "chime_jobs",
                &[("queue", "a\"b\\c\nd"), ("state", "dead")],
                3.0,
            );
        let h = Histogram::new(&[0.5, 1.0]);
        h.observe(SignedDuration::from_millis(700));
        t.family("chime_x_seconds", "histogram", "X.").histogram(
            "chime_x_seconds",
            &[("queue", "q")],
            &h,
        );
        assert_eq!(
            t.finish(),
            "# HELP chime_jobs Jobs by queue and state.\n\
             # TYPE chime_jobs gauge\n\
             chime_jobs{queue=\"a\\\"b\\\\c\\nd\",state=\"dead\"} 3\n\
             # HELP chime_x_seconds X.\n\
             # TYPE chime_x_seconds histogram\n\
             chime_x_seconds_bucket{queue=\"q\",le=\"0.5\"} 0\n\
             chime_x_seconds_bucket{queue=\"q\",le=\"1\"} 1\n\
             chime_x_seconds_bucket{queue=\"q\",le=\"+Inf\"} 1\n\
             chime_x_seconds_sum{queue=\"q\"} 0.7\n\
             chime_x_seconds_count{queue=\"q\"} 1\n"
        );
    }
}
