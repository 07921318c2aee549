//! FortiGate's web-filter log lines: syslog `key=value`, values quoted when they hold spaces. A
//! FortiGate sends every kind of log down one stream; lines that are not the web filter's are skipped.

use super::clock::{Civil, LocalClock, ymd_hms};
use super::{Action, LogLine, Skip, present};

/// The `key=value` pairs of a line, in order; words before the first pair (a syslog header) and
/// words without `=` are passed over.
fn pairs(line: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = line;
    std::iter::from_fn(move || {
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                return None;
            }
            let word_end = rest.find([' ', '=']).unwrap_or(rest.len());
            if rest.as_bytes().get(word_end) != Some(&b'=') {
                rest = &rest[word_end..];
                continue;
            }
            let key = &rest[..word_end];
            let after = &rest[word_end + 1..];
            let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
                match quoted.find('"') {
                    Some(end) => (&quoted[..end], &quoted[end + 1..]),
                    None => (quoted, ""),
                }
            } else {
                let end = after.find(' ').unwrap_or(after.len());
                (&after[..end], &after[end..])
            };
            rest = remaining;
            return Some((key, value));
        }
    })
}

pub enum Entry<'a> {
    Line(LogLine<'a>),
    Skipped(Skip),
}

fn offset_seconds(tz: &str) -> Option<i64> {
    let bytes = tz.as_bytes();
    if bytes.len() != 5 || !bytes[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sign = match bytes[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = |range: std::ops::Range<usize>| tz[range].parse::<i64>().ok();
    Some(sign * (digits(1..3)? * 3600 + digits(3..5)? * 60))
}

/// `date=… time=… type="utm" subtype="webfilter" … user srcip hostname url action cat catdesc level …`
pub fn line<'a>(line: &'a str, clock: &mut LocalClock) -> Result<Entry<'a>, String> {
    let (mut date, mut time, mut tz, mut subtype) = (None, None, None, None);
    let (mut user, mut srcip, mut host, mut url, mut action) = (None, None, None, None, None);
    let (mut catdesc, mut cat, mut level) = (None, None, None);
    for (key, value) in pairs(line) {
        match key {
            "date" => date = Some(value),
            "time" => time = Some(value),
            "tz" => tz = Some(value),
            "subtype" => subtype = Some(value),
            "user" => user = present(value),
            "srcip" => srcip = present(value),
            "hostname" => host = Some(value),
            "url" => url = Some(value),
            "action" => action = Some(value),
            "catdesc" => catdesc = present(value),
            "cat" => cat = present(value),
            "level" => level = present(value),
            _ => {}
        }
    }
    if date.is_none() && time.is_none() && subtype.is_none() {
        return Err("no key=value pairs of a FortiGate log (date, time, subtype, …)".into());
    }
    if subtype.is_some_and(|subtype| subtype != "webfilter") {
        return Ok(Entry::Skipped(Skip::OtherEntry));
    }
    let (date, time) = (date.ok_or("no date=")?, time.ok_or("no time=")?);
    let stamp = format!("{date} {time}");
    let civil: Civil =
        ymd_hms(&stamp).ok_or_else(|| format!("date={date} time={time} is not yyyy-mm-dd hh:mm:ss"))?;
    let at = match tz {
        Some(tz) => civil
            .as_if_utc()
            .zip(offset_seconds(tz))
            .map(|(local, offset)| local - offset),
        None => clock.utc(civil),
    }
    .ok_or_else(|| format!("date={date} time={time} is no time"))?;
    let host = host.ok_or("no hostname=")?;
    let action = match action.ok_or("no action=")? {
        "blocked" | "block" | "deny" => Action::Blocked,
        "warning" | "warn" => Action::Flagged,
        _ => Action::Allowed,
    };
    Ok(Entry::Line(LogLine {
        at,
        user,
        client: srcip,
        host,
        // FortiGate logs the path alone; the breach puts the host in front.
        url: url.unwrap_or("/"),
        action,
        vendor_category: catdesc.or(cat),
        vendor_severity: level,
        supporting: false,
        context: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<LogLine<'_>, String> {
        match line(text, &mut LocalClock::london())? {
            Entry::Line(line) => Ok(line),
            Entry::Skipped(skip) => Err(format!("skipped: {skip:?}")),
        }
    }

    #[test]
    fn a_blocked_web_filter_entry_keeps_category_and_level() {
        let text = r#"date=2026-11-30 time=09:14:02 type="utm" subtype="webfilter" eventtype="ftgd_blk" level="warning" user="rapsY6pupil12" srcip=10.20.4.17 hostname="casino.example" url="/slots" action="blocked" cat=7 catdesc="Gambling" msg="URL belongs to a denied category in policy""#;
        let parsed = read(text).unwrap();
        assert_eq!(parsed.at, 1_796_030_042);
        assert_eq!(
            (parsed.user, parsed.client),
            (Some("rapsY6pupil12"), Some("10.20.4.17"))
        );
        assert_eq!((parsed.host, parsed.url), ("casino.example", "/slots"));
        assert_eq!(parsed.action, Action::Blocked);
        assert_eq!(
            (parsed.vendor_category, parsed.vendor_severity),
            (Some("Gambling"), Some("warning"))
        );
    }

    #[test]
    fn a_syslog_header_and_a_written_zone_are_honoured() {
        let text = r#"<189>Nov 30 10:14:02 fw1 date=2026-11-30 time=10:14:02 tz="+0100" subtype="webfilter" hostname="www.bbc.co.uk" url="/" action="passthrough" catdesc="News and Media""#;
        let parsed = read(text).unwrap();
        assert_eq!(parsed.at, 1_796_030_042);
        assert_eq!((parsed.action, parsed.user), (Action::Allowed, None));
    }

    #[test]
    fn other_log_types_are_skipped_and_broken_ones_refused() {
        let traffic = r#"date=2026-11-30 time=09:14:02 type="traffic" subtype="forward" srcip=10.0.0.1 action="accept""#;
        assert!(matches!(
            line(traffic, &mut LocalClock::london()).unwrap(),
            Entry::Skipped(Skip::OtherEntry)
        ));
        assert!(read("just words here").unwrap_err().contains("key=value"));
        assert!(
            read(r#"date=2026-11-30 subtype="webfilter" hostname=x action=blocked"#)
                .unwrap_err()
                .contains("time=")
        );
        assert!(
            read(r#"date=2026-11-31 time=09:00:00 subtype="webfilter" hostname=x action=blocked"#)
                .unwrap_err()
                .contains("no time")
        );
        assert!(
            read(r#"date=2026-11-30 time=09:00:00 subtype="webfilter" action=blocked"#)
                .unwrap_err()
                .contains("hostname")
        );
    }
}
