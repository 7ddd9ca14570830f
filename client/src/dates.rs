//! Dates on the command line: `2024`, `2024-07`, `2024-07-14` or RFC 3339, read as UTC.

use time::{Date, Month, OffsetDateTime, format_description::well_known::Rfc3339};

/// The first second of the given year, month, day or instant, in Unix seconds.
pub fn parse_date(s: &str) -> Result<i64, String> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str| p.parse::<i32>().map_err(|_| bad(s));
    let (y, m, d) = match parts.as_slice() {
        [y] => (num(y)?, 1, 1),
        [y, m] => (num(y)?, num(m)?, 1),
        [y, m, d] => (num(y)?, num(m)?, num(d)?),
        _ => return Err(bad(s)),
    };
    let month = Month::try_from(u8::try_from(m).map_err(|_| bad(s))?).map_err(|_| bad(s))?;
    let date = Date::from_calendar_date(y, month, u8::try_from(d).map_err(|_| bad(s))?)
        .map_err(|_| bad(s))?;
    Ok(date.midnight().assume_utc().unix_timestamp())
}

fn bad(s: &str) -> String {
    format!("{s:?} is not a date: use YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339 (2024-07-14T09:30:00Z)")
}

pub fn format_time(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// mm:ss (or h:mm:ss) for moments in video and audio.
pub fn clock(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_each_precision() {
        assert_eq!(parse_date("2024").unwrap(), 1704067200);
        assert_eq!(parse_date("2024-02").unwrap(), 1706745600);
        assert_eq!(parse_date("2024-02-29").unwrap(), 1709164800);
        assert_eq!(parse_date("2024-02-29T00:00:10Z").unwrap(), 1709164810);
        assert!(parse_date("2023-02-29").is_err());
        assert!(parse_date("yesterday").unwrap_err().contains("YYYY-MM-DD"));
    }

    #[test]
    fn clock_format() {
        assert_eq!(clock(83.4), "01:23");
        assert_eq!(clock(3725.0), "1:02:05");
    }
}
