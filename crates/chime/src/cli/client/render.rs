//! How the client shows things: aligned tables without borders, times in
//! the schedule's zone with UTC beside them.

use comfy_table::{presets, ContentArrangement, Table};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// A borderless table with a header row, printed to standard output;
/// `empty` instead when there are no rows.
pub fn table<const N: usize>(empty: &str, header: [&str; N], rows: Vec<[String; N]>) {
    if rows.is_empty() {
        println!("{empty}");
        return;
    }
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    for row in rows {
        t.add_row(row);
    }
    // comfy-table pads every cell by one space on each side; people reading
    // a terminal expect the first column flush left.
    for line in t.to_string().lines() {
        println!("{}", line.strip_prefix(' ').unwrap_or(line).trim_end());
    }
}

/// `label: value` lines, for one record.
pub fn fields(rows: &[(&str, String)]) {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        println!("{:width$}  {v}", format!("{k}:"), width = width + 1);
    }
}

/// `2026-03-29 03:30:00 CEST (01:30:00Z)` in `zone`; UTC alone when the zone
/// is UTC or unknown.
pub fn when(t: Option<Timestamp>, zone: Option<&str>) -> String {
    let Some(t) = t else { return "-".into() };
    let utc = t.strftime("%Y-%m-%d %H:%M:%SZ").to_string();
    let tz = match zone {
        Some(name) if name != "UTC" && name != "Etc/UTC" => TimeZone::get(name).ok(),
        _ => None,
    };
    match tz {
        Some(tz) => {
            let local = t.to_zoned(tz);
            format!(
                "{} ({})",
                local.strftime("%Y-%m-%d %H:%M:%S %Z"),
                t.strftime("%H:%M:%SZ")
            )
        }
        None => utc,
    }
}

/// An enum as the API spells it (`fire_once`).
pub fn word<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "-".into(),
    }
}

/// `-` for an absent value.
pub fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// Long text cut to `max` characters for a table cell.
pub fn clip(s: &str, max: usize) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut out: String = one_line.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_the_zone_and_utc() {
        let t: Timestamp = "2026-03-29T01:30:00Z".parse().unwrap();
        assert_eq!(
            when(Some(t), Some("Europe/Berlin")),
            "2026-03-29 03:30:00 CEST (01:30:00Z)"
        );
        assert_eq!(when(Some(t), Some("UTC")), "2026-03-29 01:30:00Z");
        assert_eq!(when(Some(t), None), "2026-03-29 01:30:00Z");
        assert_eq!(when(None, Some("UTC")), "-");
    }

    #[test]
    fn clips_long_cells() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("a\nb", 5), "a b");
    }
}
