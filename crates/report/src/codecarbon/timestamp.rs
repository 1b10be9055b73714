//! CodeCarbon's timestamp: `YYYY-MM-DDTHH:MM:SS`, no zone (it writes local time; we write
//! UTC), sometimes with a fractional part or an offset in other tools' files.

use std::fmt;

/// A calendar date and time without zone, to the microsecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub micros: u32,
}

impl Timestamp {
    /// The UTC calendar time of `secs` seconds since 1970-01-01T00:00:00Z.
    pub fn from_unix(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Civil date from days since the epoch (proleptic Gregorian, 400-year eras).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year: year as i32,
            month: month as u8,
            day: day as u8,
            hour: (rem / 3600) as u8,
            minute: (rem % 3600 / 60) as u8,
            second: (rem % 60) as u8,
            micros: 0,
        }
    }

    /// Now, UTC, to the second (CodeCarbon's resolution).
    pub fn now_utc() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Self::from_unix(secs)
    }

    /// Parse `YYYY-MM-DDTHH:MM:SS[.ffffff][Z|+hh:mm]`. A space may replace the `T` and the
    /// hour may have one digit (`2023-10-06 0:05:27`: rows of the "Power Hungry Processing"
    /// logs went through a spreadsheet). An offset is checked for form and dropped:
    /// CodeCarbon's own files carry none.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a timestamp of the form 2024-01-31T13:45:00");
        let t = s.trim();
        let (date, time) = t.split_once(['T', ' ']).ok_or_else(bad)?;
        let time = time.trim_start();
        // split an offset off the time
        let (time, offset) = match time.find(['Z', '+', '-']) {
            Some(i) => (&time[..i], &time[i..]),
            None => (time, ""),
        };
        let offset_ok = offset.is_empty()
            || offset == "Z"
            || (offset.len() == 6 && offset.as_bytes()[3] == b':');
        if !offset_ok {
            return Err(bad());
        }
        let field = |v: &str, min: usize, max: usize| -> Result<u32, String> {
            if v.len() < min || v.len() > max || !v.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            v.parse().map_err(|_| bad())
        };
        let d: Vec<&str> = date.split('-').collect();
        let (hms, frac) = match time.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (time, None),
        };
        let h: Vec<&str> = hms.split(':').collect();
        if d.len() != 3 || h.len() != 3 {
            return Err(bad());
        }
        let micros = match frac {
            None => 0,
            Some(f) => {
                field(f, 1, 9)?;
                format!("{:0<6}", &f[..f.len().min(6)])
                    .parse()
                    .map_err(|_| bad())?
            }
        };
        let ts = Self {
            year: field(d[0], 4, 4)? as i32,
            month: field(d[1], 1, 2)? as u8,
            day: field(d[2], 1, 2)? as u8,
            hour: field(h[0], 1, 2)? as u8,
            minute: field(h[1], 2, 2)? as u8,
            second: field(h[2], 2, 2)? as u8,
            micros,
        };
        let valid = (1..=12).contains(&ts.month)
            && (1..=31).contains(&ts.day)
            && ts.hour < 24
            && ts.minute < 60
            && ts.second < 61;
        if !valid {
            return Err(bad());
        }
        Ok(ts)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        if self.micros != 0 {
            write!(f, ".{:06}", self.micros)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_to_calendar_known_answers() {
        assert_eq!(Timestamp::from_unix(0).to_string(), "1970-01-01T00:00:00");
        // 2023-09-10T21:06:08Z, the first row of the Power Hungry Processing imdb log
        assert_eq!(
            Timestamp::from_unix(1_694_379_968).to_string(),
            "2023-09-10T21:06:08"
        );
        // leap day and a pre-epoch second
        assert_eq!(
            Timestamp::from_unix(951_782_400).to_string(),
            "2000-02-29T00:00:00"
        );
        assert_eq!(Timestamp::from_unix(-1).to_string(), "1969-12-31T23:59:59");
    }

    #[test]
    fn parse_round_trips_and_rejects() {
        for s in ["2026-11-22T00:38:15", "2023-09-10T21:06:08.250000"] {
            assert_eq!(Timestamp::parse(s).unwrap().to_string(), s);
        }
        let t = Timestamp::parse("2023-09-10 21:06:08.5+02:00").unwrap();
        assert_eq!((t.hour, t.micros), (21, 500_000));
        // a spreadsheet-edited row of the Power Hungry Processing logs
        let t = Timestamp::parse("2023-10-06 0:05:27").unwrap();
        assert_eq!(t.to_string(), "2023-10-06T00:05:27");
        for s in [
            "",
            "2023-09-10",
            "2023-13-10T21:06:08",
            "2023-09-10T21:06:08junk",
            "x023-09-10T21:06:08",
            "2023-09-10T21:6:08",
            "2023-09-10T21:06:08+2",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s}");
        }
    }
}
