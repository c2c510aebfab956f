//! Calendar timestamps of job traces (`"YYYY-MM-DD HH:MM:SS"`, UTC) as Unix seconds.

/// Days from 1970-01-01 to the civil date `y-m-d` (proleptic Gregorian; Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `"YYYY-MM-DD HH:MM:SS"` (a `T` is accepted in place of the space) into Unix seconds;
/// `None` for the trace's missing-value markers (`None`, `null`, empty); an error message for
/// anything else.
pub fn parse_timestamp(text: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() || text == "None" || text == "null" {
        return Ok(None);
    }
    let bad = || format!("expected a time `YYYY-MM-DD HH:MM:SS`, got `{text}`");
    let b = text.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b' ' || b[10] == b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let field = |from: usize, to: usize| -> Result<i64, String> {
        let part = &text[from..to];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, minute, second) = (field(11, 13)?, field(14, 16)?, field(17, 19)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day < 1
        || day > month_days[(month - 1) as usize]
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    Ok(Some(
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_by_hand() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Ok(Some(0)));
        // 2017-10-07 01:12:09 UTC = 1507338729 (date -u -d ... +%s).
        assert_eq!(
            parse_timestamp("2017-10-07 01:12:09"),
            Ok(Some(1_507_338_729))
        );
        assert_eq!(
            parse_timestamp("2000-02-29T23:59:59"),
            Ok(Some(951_868_799))
        );
        assert_eq!(parse_timestamp("None"), Ok(None));
        assert_eq!(parse_timestamp(""), Ok(None));
        for bad in [
            "2017-13-01 00:00:00",
            "2017-02-29 00:00:00",
            "2017-1-01 00:00:00",
            "yesterday",
            "2017-01-01 24:00:00",
            "+017-01-01 00:00:00",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }
}
