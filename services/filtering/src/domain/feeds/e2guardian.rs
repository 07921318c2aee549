//! DansGuardian and E2Guardian access logs: format 2 (CSV) and 4 (the same fields, tab-separated),
//! and E2Guardian 5.x's tab-separated formats 5–8.

use super::clock::{LocalClock, epoch, wall_clock};
use super::fields::FieldBuf;
use super::{Action, LogLine, host_of, present};

/// E2Guardian writes what it did at the front of the reason: `*DENIED* Banned site: host`.
fn action(reason: &str, block_flag: bool) -> Action {
    let reason = reason.trim_start();
    if block_flag || reason.starts_with("*DENIED*") || reason.starts_with("*INFECTED*") {
        Action::Blocked
    } else if reason.starts_with("*WARNING*") {
        Action::Flagged
    } else {
        Action::Allowed
    }
}

/// Format 2's (and 4's) fields: date_time, user, ip, url, reason, method, size, weight, category,
/// filter group number, http code, mime, client name, filter group name, user agent.
pub fn delimited<'a>(
    line: &str,
    buf: &'a mut FieldBuf,
    delimiter: u8,
    clock: &mut LocalClock,
) -> Result<LogLine<'a>, String> {
    let fields = buf.split(line, delimiter)?;
    if fields.len() < 9 {
        return Err(format!(
            "{} fields where E2Guardian's format has 15 (date, user, ip, url, reason, method, size, weight, category, …)",
            fields.len()
        ));
    }
    let time = fields.get(0);
    let at =
        wall_clock(time, clock).ok_or_else(|| format!("the time {time:?} is not yyyy.mm.dd hh:mm:ss"))?;
    let url = fields.get(3);
    let reason = fields.get(4);
    Ok(LogLine {
        at,
        user: present(fields.get(1)),
        client: present(fields.get(12)).or(present(fields.get(2))),
        host: host_of(url),
        url,
        action: action(reason, false),
        vendor_category: present(fields.get(8)).or(present(reason)),
        vendor_severity: None,
        supporting: false,
        context: None,
    })
}

const V5_FIELDS: usize = 20;

/// Formats 5–8: utime, server, user, client ip, client host, url, method, http code, size, mime,
/// user agent, (blank), duration, (blank), message number, message, block type, category, filter
/// group name, filter group number. 5.4's search terms may follow.
pub fn v5<'a>(line: &'a str, clock: &mut LocalClock) -> Result<LogLine<'a>, String> {
    let mut fields = [""; V5_FIELDS];
    let mut count = 0;
    for (slot, field) in fields.iter_mut().zip(line.split('\t')) {
        *slot = field;
        count += 1;
    }
    if count < 18 {
        return Err(format!(
            "{count} tab-separated fields where E2Guardian 5's formats have at least 18 (… block type, category)"
        ));
    }
    let time = fields[0];
    let at = epoch(time)
        .or_else(|| wall_clock(time, clock))
        .ok_or_else(|| format!("the time {time:?} is neither epoch seconds nor yyyy.mm.dd hh:mm:ss"))?;
    let block_flag = match fields[16].trim() {
        "1" => true,
        "0" | "-" | "" => false,
        other => return Err(format!("the block type {other:?} is not 0 or 1")),
    };
    let url = fields[5];
    Ok(LogLine {
        at,
        user: present(fields[2]),
        client: present(fields[4]).or(present(fields[3])),
        host: host_of(url),
        url,
        action: action(fields[15], block_flag),
        vendor_category: present(fields[17]).or(present(fields[15])),
        vendor_severity: None,
        supporting: false,
        context: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = r#""2026.11.30 09:14:02","rapsY6pupil12","10.20.4.17","http://casino.example/","*DENIED* Banned site: casino.example","GET","3910","0","Gambling","2","403","text/html","lab-pc-07","pupils","Mozilla/5.0""#;

    #[test]
    fn a_format_2_denial_keeps_its_category_and_device() {
        let mut buf = FieldBuf::default();
        let line = delimited(CSV, &mut buf, b',', &mut LocalClock::london()).unwrap();
        assert_eq!(line.at, 1_796_030_042);
        assert_eq!(line.user, Some("rapsY6pupil12"));
        assert_eq!(line.client, Some("lab-pc-07"));
        assert_eq!(line.host, "casino.example");
        assert_eq!(line.action, Action::Blocked);
        assert_eq!(line.vendor_category, Some("Gambling"));
    }

    #[test]
    fn format_4_is_format_2_with_tabs() {
        let tabbed = "2026.11.30 09:14:02\trapsY6pupil12\t10.20.4.17\thttp://www.bbc.co.uk/news\t\tGET\t51234\t0\tNews\t2\t200\ttext/html\tlab-pc-07\tpupils\tMozilla/5.0";
        let mut buf = FieldBuf::default();
        let line = delimited(tabbed, &mut buf, b'\t', &mut LocalClock::london()).unwrap();
        assert_eq!(
            (line.action, line.vendor_category, line.host),
            (Action::Allowed, Some("News"), "www.bbc.co.uk")
        );
    }

    #[test]
    fn a_format_5_line_reads_its_block_flag() {
        let text = "1796030042\tproxy1\trapsY6pupil12\t10.20.4.17\tlab-pc-07\thttps://casino.example/slots\tGET\t403\t3910\ttext/html\tMozilla/5.0\t-\t12\t-\t500\t*DENIED* Banned site: casino.example\t1\tGambling\tpupils\t2";
        let line = v5(text, &mut LocalClock::london()).unwrap();
        assert_eq!(line.at, 1_796_030_042);
        assert_eq!(
            (line.user, line.client, line.host),
            (Some("rapsY6pupil12"), Some("lab-pc-07"), "casino.example")
        );
        assert_eq!(
            (line.action, line.vendor_category),
            (Action::Blocked, Some("Gambling"))
        );
    }

    #[test]
    fn broken_lines_say_what_is_wrong() {
        let mut buf = FieldBuf::default();
        let mut clock = LocalClock::london();
        assert!(
            delimited(r#""2026.11.30 09:14:02","u","ip""#, &mut buf, b',', &mut clock)
                .unwrap_err()
                .contains("3 fields")
        );
        let bad_time = CSV.replace("2026.11.30", "2026.13.30");
        assert!(
            delimited(&bad_time, &mut buf, b',', &mut clock)
                .unwrap_err()
                .contains("time")
        );
        let bad_flag = "1796030042\tp\tu\tip\th\turl\tGET\t403\t1\tm\tua\t-\t1\t-\t5\tmsg\tmaybe\tcat";
        assert!(v5(bad_flag, &mut clock).unwrap_err().contains("block type"));
    }
}
