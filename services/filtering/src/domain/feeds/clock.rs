//! Times as logs write them, to seconds since the epoch without a parser per line: millions of lines
//! a second leave no room for a general date parser. Wall-clock times (most formats write no offset)
//! are read in the school's zone; the zone's offset is looked up once per hour of the log.

use chrono::{Datelike as _, NaiveDate, TimeZone};
use chrono_tz::Tz;

/// Reads wall-clock times in one zone, remembering the offset of the last hour it saw.
#[derive(Clone, Debug)]
pub struct LocalClock {
    zone: Tz,
    /// (the hour, as local seconds / 3600; its offset from UTC in seconds)
    last: Option<(i64, i64)>,
}

impl LocalClock {
    pub fn new(zone: Tz) -> Self {
        Self { zone, last: None }
    }

    /// Where a UK school's proxy keeps its clock.
    pub fn london() -> Self {
        Self::new(chrono_tz::Europe::London)
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The UTC epoch second of a wall-clock time in the zone. In the hour the clocks go back the
    /// earlier of the two readings is taken; in the hour they go forward (no such wall time) the
    /// offset before the change.
    pub fn utc(&mut self, civil: Civil) -> Option<i64> {
        let local = civil.as_if_utc()?;
        let hour = local.div_euclid(3600);
        let offset = match self.last {
            Some((seen, offset)) if seen == hour => offset,
            _ => {
                let offset = self.offset_at(local)?;
                self.last = Some((hour, offset));
                offset
            }
        };
        Some(local - offset)
    }

    fn offset_at(&self, local: i64) -> Option<i64> {
        let naive = chrono::DateTime::from_timestamp(local, 0)?.naive_utc();
        let utc = match self.zone.from_local_datetime(&naive).earliest() {
            Some(instant) => instant.timestamp(),
            // No such wall time (the clocks went forward): an hour later under the new offset is the
            // same instant as this time under the old one.
            None => self
                .zone
                .from_local_datetime(&(naive + chrono::Duration::hours(1)))
                .earliest()?
                .timestamp(),
        };
        Some(local - utc)
    }
}

/// A calendar date and time of day, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Civil {
    /// The epoch second this would be in UTC; None for an impossible date or time.
    pub fn as_if_utc(self) -> Option<i64> {
        if !(1970..=9999).contains(&self.year) || self.hour > 23 || self.minute > 59 || self.second > 60 {
            return None;
        }
        // Validates the day of the month (30 February is no date).
        let date = NaiveDate::from_ymd_opt(self.year as i32, self.month, self.day)?;
        let days = i64::from(date.num_days_from_ce()) - 719_163;
        Some(
            days * 86_400
                + i64::from(self.hour) * 3600
                + i64::from(self.minute) * 60
                + i64::from(self.second.min(59)),
        )
    }
}

/// `digits` as a number, when they are all ASCII digits (1 to 9 of them).
fn number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    digits.iter().try_fold(0u32, |sum, &digit| {
        digit.is_ascii_digit().then(|| sum * 10 + u32::from(digit - b'0'))
    })
}

/// `YYYY?MM?DD?hh:mm:ss`, any single separators (`2026.11.30 09:14:02`, `2026-11-30T09:14:02`), with
/// anything after the seconds (fractions, a zone the caller reads) ignored.
pub fn ymd_hms(text: &str) -> Option<Civil> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 {
        return None;
    }
    Some(Civil {
        year: i64::from(number(&bytes[0..4])?),
        month: number(&bytes[5..7])?,
        day: number(&bytes[8..10])?,
        hour: number(&bytes[11..13])?,
        minute: number(&bytes[14..16])?,
        second: number(&bytes[17..19])?,
    })
}

/// `DD/MM/YYYY hh:mm[:ss]`, as UK exports write it.
pub fn dmy_hms(text: &str) -> Option<Civil> {
    let bytes = text.as_bytes();
    if bytes.len() < 16 || bytes[2] != b'/' || bytes[5] != b'/' {
        return None;
    }
    let second = if bytes.len() >= 19 && bytes[16] == b':' {
        number(&bytes[17..19])?
    } else {
        0
    };
    Some(Civil {
        day: number(&bytes[0..2])?,
        month: number(&bytes[3..5])?,
        year: i64::from(number(&bytes[6..10])?),
        hour: number(&bytes[11..13])?,
        minute: number(&bytes[14..16])?,
        second,
    })
}

/// A wall-clock time in either written order (`2026-11-30 09:14:02` or `30/11/2026 09:14:02`), in
/// the clock's zone.
pub fn wall_clock(text: &str, clock: &mut LocalClock) -> Option<i64> {
    let text = text.trim();
    let civil = if text.as_bytes().get(2) == Some(&b'/') {
        dmy_hms(text)?
    } else {
        ymd_hms(text)?
    };
    clock.utc(civil)
}

/// A time as an export writes it: RFC 3339 with its offset, else a wall-clock time in the zone.
pub fn written_time(text: &str, clock: &mut LocalClock) -> Option<i64> {
    let text = text.trim();
    let after_seconds = text.as_bytes().get(19..).unwrap_or_default();
    let zoned = !after_seconds.is_empty()
        && (text.ends_with('Z') || after_seconds.iter().any(|byte| matches!(byte, b'+' | b'-')));
    if zoned {
        return chrono::DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1))
            .ok()
            .map(|time| time.timestamp());
    }
    wall_clock(text, clock)
}

/// `1796030042.337`: epoch seconds, the fraction dropped.
pub fn epoch(text: &str) -> Option<i64> {
    let whole = text.split_once('.').map_or(text, |(whole, _)| whole);
    number(whole.as_bytes())
        .map(i64::from)
        .or_else(|| whole.parse().ok().filter(|seconds: &i64| *seconds >= 0))
}

/// `30/Nov/2026:09:14:02 +0000` (Apache's `%t` without brackets): the offset is written.
pub fn apache(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 26 || bytes[2] != b'/' || bytes[6] != b'/' || bytes[11] != b':' || bytes[20] != b' ' {
        return None;
    }
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
    ];
    let month = MONTHS.iter().position(|name| name[..] == bytes[3..6])? as u32 + 1;
    let civil = Civil {
        day: number(&bytes[0..2])?,
        month,
        year: i64::from(number(&bytes[7..11])?),
        hour: number(&bytes[12..14])?,
        minute: number(&bytes[15..17])?,
        second: number(&bytes[18..20])?,
    };
    let sign = match bytes[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset = i64::from(number(&bytes[22..24])?) * 3600 + i64::from(number(&bytes[24..26])?) * 60;
    Some(civil.as_if_utc()? - sign * offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp()
    }

    #[test]
    fn london_wall_clock_is_gmt_in_winter_and_bst_in_summer() {
        let mut clock = LocalClock::london();
        assert_eq!(
            wall_clock("2026-11-30 09:14:02", &mut clock),
            Some(utc("2026-11-30T09:14:02Z"))
        );
        assert_eq!(
            wall_clock("2026-06-30 09:14:02", &mut clock),
            Some(utc("2026-06-30T08:14:02Z"))
        );
        assert_eq!(
            wall_clock("30/06/2026 09:14", &mut clock),
            Some(utc("2026-06-30T08:14:00Z"))
        );
    }

    #[test]
    fn the_hours_the_clocks_change_read_sensibly() {
        let mut clock = LocalClock::london();
        // 29 March 2026, 01:30 does not exist in London: read with GMT's offset.
        assert_eq!(
            wall_clock("2026-03-29 01:30:00", &mut clock),
            Some(utc("2026-03-29T01:30:00Z"))
        );
        // 25 October 2026, 01:30 happens twice: the first (BST) is taken.
        assert_eq!(
            wall_clock("2026-10-25 01:30:00", &mut clock),
            Some(utc("2026-10-25T00:30:00Z"))
        );
    }

    #[test]
    fn impossible_dates_and_junk_are_no_time() {
        let mut clock = LocalClock::london();
        for text in [
            "2026-02-30 09:00:00",
            "2026-11-30 25:00:00",
            "2026-11-3",
            "yesterday at nine",
            "1969-12-31 23:59:59",
        ] {
            assert_eq!(wall_clock(text, &mut clock), None, "{text}");
        }
        assert_eq!(epoch("1796030042.337"), Some(1_796_030_042));
        assert_eq!(epoch("-5"), None);
        assert_eq!(epoch("12x"), None);
    }

    #[test]
    fn written_times_keep_their_offset_when_they_have_one() {
        let mut clock = LocalClock::london();
        assert_eq!(
            written_time("2026-06-30T09:14:02Z", &mut clock),
            Some(utc("2026-06-30T09:14:02Z"))
        );
        assert_eq!(
            written_time("2026-06-30 09:14:02+01:00", &mut clock),
            Some(utc("2026-06-30T08:14:02Z"))
        );
        assert_eq!(
            written_time("2026-06-30 09:14:02", &mut clock),
            Some(utc("2026-06-30T08:14:02Z"))
        );
        assert_eq!(written_time("2026-06-30 09:14:02+99", &mut clock), None);
        // Found by the parsers' property test: a multi-byte character across byte 19 is no panic.
        assert_eq!(written_time("30/11/8?ᝯ𞀣ᝑ¥ⴻ`\"8$", &mut clock), None);
    }

    #[test]
    fn apache_times_carry_their_offset() {
        assert_eq!(
            apache("30/Nov/2026:09:14:02 +0000"),
            Some(utc("2026-11-30T09:14:02Z"))
        );
        assert_eq!(
            apache("30/Jun/2026:09:14:02 +0100"),
            Some(utc("2026-06-30T08:14:02Z"))
        );
        assert_eq!(apache("30/Foo/2026:09:14:02 +0000"), None);
    }
}
