//! Text to [`CalendarSpec`]. Every rejection names the field and the token.

use super::error::{CronError, CronField};
use super::fields::{CalendarSpec, DayRule, YearSet};
use super::Expr;
use crate::schedule::interval::Interval;

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Parses a whole expression: 5, 6 (seconds first) or 7 (seconds first, year
/// last) fields, or a macro.
pub fn parse(text: &str) -> Result<Expr, CronError> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let Some(first) = parts.first() else {
        return Err(CronError::whole(text, "the expression is empty"));
    };
    if first.starts_with('@') {
        return parse_macro(text, &parts);
    }
    let (sec, min, hour, dom, mon, dow, year) = match parts.as_slice() {
        [mi, h, dm, mo, dw] => ("0", *mi, *h, *dm, *mo, *dw, None),
        [s, mi, h, dm, mo, dw] => (*s, *mi, *h, *dm, *mo, *dw, None),
        [s, mi, h, dm, mo, dw, y] => (*s, *mi, *h, *dm, *mo, *dw, Some(*y)),
        _ => {
            return Err(CronError::whole(
                text,
                format!(
                    "expected 5 fields (minute hour day-of-month month day-of-week), 6 (seconds first) or 7 (seconds first, year last); found {}",
                    parts.len()
                ),
            ))
        }
    };
    let mut days = DayRule::default();
    parse_day_of_month(dom, &mut days)?;
    parse_day_of_week(dow, &mut days)?;
    let spec = CalendarSpec {
        seconds: plain_field(CronField::Second, sec)?,
        minutes: plain_field(CronField::Minute, min)?,
        hours: plain_field(CronField::Hour, hour)?,
        months: plain_field(CronField::Month, mon)?,
        years: year.map(parse_years).transpose()?,
        days: days.finish(),
        follows_elapsed_time: [sec, min, hour].iter().any(|f| f.starts_with('*')),
    };
    super::calendar::check_can_fire(&spec, dom, mon, dow)?;
    Ok(Expr::Calendar(spec))
}

fn parse_macro(text: &str, parts: &[&str]) -> Result<Expr, CronError> {
    let name = parts[0].to_ascii_lowercase();
    if name == "@every" {
        let [_, interval] = parts else {
            return Err(CronError::whole(
                text,
                "@every takes one interval, such as \"@every 90s\" or \"@every 1h30m\"",
            ));
        };
        return match Interval::parse(interval) {
            Ok(every) => Ok(Expr::Every(every)),
            Err(e) => Err(CronError::whole(interval, e.to_string())),
        };
    }
    let expansion = match name.as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        "@reboot" => {
            return Err(CronError::whole(
                parts[0],
                "@reboot has no fire times; chime schedules by time only",
            ))
        }
        _ => {
            return Err(CronError::whole(
                parts[0],
                "unknown macro; expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <interval>",
            ))
        }
    };
    if parts.len() > 1 {
        return Err(CronError::whole(
            text,
            format!("{} takes no fields", parts[0]),
        ));
    }
    parse(expansion)
}

/// A list of items for second, minute, hour or month.
fn plain_field(field: CronField, text: &str) -> Result<u64, CronError> {
    let mut bits = 0u64;
    for item in list_items(field, text)? {
        if item == "?" {
            return Err(CronError::field(
                field,
                item,
                "'?' is only allowed in day-of-month and day-of-week",
            ));
        }
        let (lo, hi, step) = range_item(field, item)?;
        bits |= span_bits(lo, hi, step);
    }
    Ok(bits)
}

fn parse_years(text: &str) -> Result<YearSet, CronError> {
    let mut set = YearSet::default();
    for item in list_items(CronField::Year, text)? {
        let (lo, hi, step) = range_item(CronField::Year, item)?;
        let mut y = lo;
        while y <= hi {
            set.insert(y);
            y += step;
        }
    }
    Ok(set)
}

fn parse_day_of_month(text: &str, days: &mut DayRule) -> Result<(), CronError> {
    let field = CronField::DayOfMonth;
    if text == "*" || text == "?" {
        return Ok(());
    }
    days.dom_restricted = true;
    for item in list_items(field, text)? {
        let upper = item.to_ascii_uppercase();
        if upper == "?" {
            return Err(CronError::field(field, item, "'?' must stand alone"));
        } else if upper == "L" {
            days.dom_from_last |= 1;
        } else if upper == "LW" {
            days.dom_last_weekday = true;
        } else if let Some(n) = upper.strip_prefix("L-") {
            let n = number(field, item, n)?;
            if !(1..=30).contains(&n) {
                return Err(CronError::field(field, item, "L-n needs n from 1 to 30"));
            }
            days.dom_from_last |= 1 << n;
        } else if let Some(n) = upper.strip_suffix('W') {
            let n = number(field, item, n)?;
            if !(1..=31).contains(&n) {
                return Err(CronError::field(
                    field,
                    item,
                    format!("day {n} is out of range 1-31"),
                ));
            }
            days.dom_nearest_weekday |= 1 << n;
        } else if upper.contains('L') || upper.contains('W') {
            return Err(CronError::field(
                field,
                item,
                "L and W take the forms L, L-n, nW and LW, without ranges or steps",
            ));
        } else {
            let (lo, hi, step) = range_item(field, item)?;
            days.dom_days |= span_bits(lo, hi, step) as u32;
        }
    }
    Ok(())
}

fn parse_day_of_week(text: &str, days: &mut DayRule) -> Result<(), CronError> {
    let field = CronField::DayOfWeek;
    if text == "*" || text == "?" {
        return Ok(());
    }
    days.dow_restricted = true;
    for item in list_items(field, text)? {
        let upper = item.to_ascii_uppercase();
        if upper == "?" {
            return Err(CronError::field(field, item, "'?' must stand alone"));
        } else if let Some((day, nth)) = upper.split_once('#') {
            if day.contains(['-', '/', '*']) {
                return Err(CronError::field(
                    field,
                    item,
                    "'#' takes one weekday, not a range or step",
                ));
            }
            let weekday = weekday_value(item, day)?;
            let k = number(field, item, nth)?;
            if !(1..=5).contains(&k) {
                return Err(CronError::field(
                    field,
                    item,
                    "the occurrence after '#' must be 1 to 5",
                ));
            }
            days.dow_nth[weekday as usize] |= 1 << k;
        } else if upper == "L" {
            return Err(CronError::field(
                field,
                item,
                "L alone is ambiguous in day-of-week; write 5L for the last Friday, or L in day-of-month",
            ));
        } else if let Some(day) = upper.strip_suffix('L') {
            if day.contains(['-', '/', '*']) {
                return Err(CronError::field(
                    field,
                    item,
                    "'L' takes one weekday, not a range or step",
                ));
            }
            days.dow_last |= 1 << weekday_value(item, day)?;
        } else {
            let (lo, mut hi, step) = range_item(field, item)?;
            // `FRI-SUN` reads as Friday through Sunday.
            if hi == 0 && lo > 0 && item.contains('-') {
                hi = 7;
            }
            let span = span_bits(lo, hi, step);
            days.dow_days |= ((span | span >> 7) & 0x7f) as u8;
        }
    }
    Ok(())
}

fn weekday_value(item: &str, text: &str) -> Result<u32, CronError> {
    Ok(value(CronField::DayOfWeek, item, text)? % 7)
}

/// Splits a field on commas, rejecting empty items.
fn list_items(field: CronField, text: &str) -> Result<Vec<&str>, CronError> {
    let items: Vec<&str> = text.split(',').collect();
    if items.iter().any(|i| i.is_empty()) {
        return Err(CronError::field(field, text, "empty item in list"));
    }
    Ok(items)
}

/// `*`, `*/n`, `a`, `a-b`, `a/n`, `a-b/n` → inclusive bounds and step.
fn range_item(field: CronField, item: &str) -> Result<(u32, u32, u32), CronError> {
    let (min, max) = field.bounds();
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => {
            let step = number(field, item, step)?;
            if step == 0 {
                return Err(CronError::field(field, item, "step must be at least 1"));
            }
            (range, Some(step))
        }
        None => (item, None),
    };
    let (lo, hi) = if range == "*" {
        (min, max)
    } else if let Some((a, b)) = range.split_once('-') {
        let (lo, hi) = (value(field, item, a)?, value(field, item, b)?);
        let hi_for_order = if field == CronField::DayOfWeek && hi == 0 && lo > 0 {
            7
        } else {
            hi
        };
        if lo > hi_for_order {
            return Err(CronError::field(
                field,
                item,
                format!("range start {lo} is after its end {hi}; write it as two ranges"),
            ));
        }
        (lo, hi)
    } else {
        let v = value(field, item, range)?;
        // `a/n` runs from a to the end of the field's range.
        (v, if step.is_some() { max } else { v })
    };
    Ok((lo, hi, step.unwrap_or(1)))
}

/// Bits `lo, lo+step, … <= hi`.
fn span_bits(lo: u32, hi: u32, step: u32) -> u64 {
    let mut bits = 0u64;
    let mut v = lo;
    while v <= hi {
        bits |= 1 << v;
        v += step;
    }
    bits
}

/// A number or (month, weekday) name within the field's bounds.
fn value(field: CronField, item: &str, text: &str) -> Result<u32, CronError> {
    let (min, max) = field.bounds();
    let names: &[&str] = match field {
        CronField::Month => &MONTHS,
        CronField::DayOfWeek => &WEEKDAYS,
        _ => &[],
    };
    if text.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) {
        let offset = if field == CronField::Month { 1 } else { 0 };
        return names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(text))
            .map(|i| i as u32 + offset)
            .ok_or_else(|| {
                let reason = if names.is_empty() {
                    format!("{text:?} is not a number")
                } else {
                    format!("unknown name {text:?}; expected one of {}", names.join(" "))
                };
                CronError::field(field, item, reason)
            });
    }
    let v = number(field, item, text)?;
    if v < min || v > max {
        return Err(CronError::field(
            field,
            item,
            format!("value {v} is out of range {min}-{max}"),
        ));
    }
    Ok(v)
}

fn number(field: CronField, item: &str, text: &str) -> Result<u32, CronError> {
    if text.is_empty() {
        return Err(CronError::field(field, item, "a number is missing"));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CronError::field(
            field,
            item,
            format!("{text:?} is not a number"),
        ));
    }
    text.parse()
        .map_err(|_| CronError::field(field, item, format!("{text} is too large")))
}
