//! A plain-English sentence for a calendar expression ("At 02:30 every day").

use super::fields::{CalendarSpec, DayRule, YearSet, MAX_YEAR, MIN_YEAR};

const MONTHS: [&str; 13] = [
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

pub fn describe(spec: &CalendarSpec) -> String {
    let mut out = time_phrase(spec);
    out.push(' ');
    out.push_str(&day_phrase(&spec.days));
    if let Some(months) = month_phrase(spec.months) {
        out.push_str(", ");
        out.push_str(&months);
    }
    if let Some(years) = spec.years.map(year_phrase) {
        out.push_str(", ");
        out.push_str(&years);
    }
    out
}

fn values(bits: u64, lo: u32, hi: u32) -> Vec<u32> {
    (lo..=hi).filter(|v| bits & (1 << v) != 0).collect()
}

/// How a set of values reads: all, one, a step, a range, or a list.
enum Shape {
    All,
    One(u32),
    Step { start: u32, step: u32 },
    Range(u32, u32),
    List(Vec<u32>),
}

fn shape(vals: &[u32], lo: u32, hi: u32) -> Shape {
    match vals {
        [] => Shape::List(Vec::new()),
        [v] => Shape::One(*v),
        _ if vals.len() as u32 == hi - lo + 1 => Shape::All,
        [a, b, ..] => {
            let step = b - a;
            let evenly = vals.windows(2).all(|w| w[1] - w[0] == step);
            let last = vals[vals.len() - 1];
            if evenly && step == 1 {
                Shape::Range(*a, last)
            } else if evenly && *a - lo < step && last + step > hi {
                Shape::Step { start: *a, step }
            } else {
                Shape::List(vals.to_vec())
            }
        }
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    let items: Vec<String> = items.iter().map(T::to_string).collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn plural(n: u32, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

fn time_phrase(spec: &CalendarSpec) -> String {
    let secs = values(spec.seconds, 0, 59);
    let mins = values(spec.minutes, 0, 59);
    let hours = values(spec.hours, 0, 23);
    let fixed_sec = (secs.len() == 1).then(|| secs[0]);
    let clock = |h: u32, m: u32| match fixed_sec {
        Some(0) => format!("{h:02}:{m:02}"),
        Some(s) => format!("{h:02}:{m:02}:{s:02}"),
        None => format!("{h:02}:{m:02}"),
    };
    // A handful of exact times reads best as a list of clock times.
    if fixed_sec.is_some() && mins.len() * hours.len() <= 4 && hours.len() < 24 {
        let times: Vec<String> = hours
            .iter()
            .flat_map(|&h| mins.iter().map(move |&m| (h, m)))
            .map(|(h, m)| clock(h, m))
            .collect();
        return format!("At {}", join(&times));
    }
    let mut parts = Vec::new();
    let sec_part = match shape(&secs, 0, 59) {
        Shape::All => Some("every second".to_string()),
        Shape::One(0) => None,
        Shape::Step { start: 0, step } => Some(format!("every {}", plural(step, "second"))),
        s => Some(format!("at second {}", list_phrase(s, |v| v.to_string()))),
    };
    let min_part = match shape(&mins, 0, 59) {
        Shape::All if sec_part.is_none() => Some("every minute".to_string()),
        Shape::All => None,
        Shape::Step { start: 0, step } => Some(format!("every {}", plural(step, "minute"))),
        s => Some(format!("at minute {}", list_phrase(s, |v| v.to_string()))),
    };
    let hour_part = match shape(&hours, 0, 23) {
        Shape::All => None,
        Shape::Range(a, b) => Some(format!("between {a:02}:00 and {b:02}:59")),
        Shape::Step { start: 0, step } => Some(format!("every {}", plural(step, "hour"))),
        s => Some(format!(
            "during hour {}",
            list_phrase(s, |v| format!("{v:02}"))
        )),
    };
    parts.extend(sec_part);
    parts.extend(min_part);
    if hour_part.is_none() && parts.iter().all(|p| p.starts_with("at ")) {
        parts.push("of every hour".to_string());
    }
    parts.extend(hour_part);
    let mut sentence = parts
        .join(", ")
        .replace(", of every hour", " of every hour");
    if let Some(first) = sentence.get(..1) {
        sentence = first.to_uppercase() + &sentence[1..];
    }
    sentence
}

fn list_phrase(shape: Shape, name: impl Fn(u32) -> String) -> String {
    match shape {
        Shape::All => "every value".to_string(),
        Shape::One(v) => name(v),
        Shape::Range(a, b) => format!("{} through {}", name(a), name(b)),
        Shape::Step { start, step } => format!("every {step} starting at {}", name(start)),
        Shape::List(vals) => join(&vals.into_iter().map(name).collect::<Vec<_>>()),
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn day_phrase(days: &DayRule) -> String {
    let dom = days.dom_restricted.then(|| dom_phrase(days));
    let dow = days.dow_restricted.then(|| dow_phrase(days));
    match (dom, dow) {
        (None, None) => "every day".to_string(),
        (Some(dom), None) => format!("on {dom}"),
        (None, Some(dow)) => format!("on {dow}"),
        (Some(dom), Some(dow)) => format!("on {dom}, and also on {dow}"),
    }
}

fn dom_phrase(days: &DayRule) -> String {
    let mut terms = Vec::new();
    let plain = values(u64::from(days.dom_days), 1, 31);
    if !plain.is_empty() {
        let s = shape(&plain, 1, 31);
        terms.push(match s {
            Shape::All => "every day".to_string(),
            Shape::Step { start, step } => format!("every {step} days from day {start}"),
            s => format!("day {}", list_phrase(s, |v| v.to_string())),
        });
    }
    for n in values(u64::from(days.dom_from_last), 0, 30) {
        terms.push(match n {
            0 => "the last day".to_string(),
            1 => "the day before the last day".to_string(),
            n => format!("{n} days before the last day"),
        });
    }
    for n in values(u64::from(days.dom_nearest_weekday), 1, 31) {
        terms.push(format!("the weekday nearest day {n}"));
    }
    if days.dom_last_weekday {
        terms.push("the last weekday".to_string());
    }
    format!("{} of the month", join(&terms))
}

fn dow_phrase(days: &DayRule) -> String {
    let mut terms = Vec::new();
    let plain = values(u64::from(days.dow_days), 0, 6);
    if !plain.is_empty() {
        terms.push(match shape(&plain, 0, 6) {
            Shape::Range(a, b) => {
                format!("{} through {}", WEEKDAYS[a as usize], WEEKDAYS[b as usize])
            }
            _ => join(
                &plain
                    .iter()
                    .map(|&d| WEEKDAYS[d as usize])
                    .collect::<Vec<_>>(),
            ),
        });
    }
    for (w, ks) in days.dow_nth.iter().enumerate() {
        for k in values(u64::from(*ks), 1, 5) {
            terms.push(format!("the {} {} of the month", ordinal(k), WEEKDAYS[w]));
        }
    }
    for w in values(u64::from(days.dow_last), 0, 6) {
        terms.push(format!("the last {} of the month", WEEKDAYS[w as usize]));
    }
    join(&terms)
}

fn month_phrase(months: u64) -> Option<String> {
    let vals = values(months, 1, 12);
    match shape(&vals, 1, 12) {
        Shape::All => None,
        s => Some(format!(
            "in {}",
            list_phrase(s, |m| MONTHS[m as usize].to_string())
        )),
    }
}

fn year_phrase(years: YearSet) -> String {
    let vals: Vec<u32> = (MIN_YEAR..=MAX_YEAR)
        .filter(|y| years.contains(*y as i32))
        .collect();
    format!(
        "in {}",
        list_phrase(shape(&vals, MIN_YEAR, MAX_YEAR), |y| y.to_string())
    )
}

#[cfg(test)]
mod tests {
    use crate::cron::Cron;

    #[test]
    fn sentences() {
        for (expr, want) in [
            ("30 2 * * *", "At 02:30 every day"),
            ("0 9,12,18 * * *", "At 09:00, 12:00 and 18:00 every day"),
            (
                "*/15 9-17 * * MON-FRI",
                "Every 15 minutes, between 09:00 and 17:59 on Monday through Friday",
            ),
            ("* * * * *", "Every minute every day"),
            ("*/10 * * * * *", "Every 10 seconds every day"),
            ("5 * * * *", "At minute 5 of every hour every day"),
            ("0 0 L * *", "At 00:00 on the last day of the month"),
            (
                "0 0 13 * FRI",
                "At 00:00 on day 13 of the month, and also on Friday",
            ),
            ("0 12 * * 5#2", "At 12:00 on the 2nd Friday of the month"),
            ("0 0 1 1 *", "At 00:00 on day 1 of the month, in January"),
            ("0 0 0 * * * 2027", "At 00:00 every day, in 2027"),
            ("0 8 LW * *", "At 08:00 on the last weekday of the month"),
            (
                "0 6 15W * *",
                "At 06:00 on the weekday nearest day 15 of the month",
            ),
        ] {
            assert_eq!(Cron::parse(expr).unwrap().describe(), want, "{expr}");
        }
    }
}
