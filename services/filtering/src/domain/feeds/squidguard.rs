//! SquidGuard's redirect log: it writes a line only when it redirects (blocks) a request, naming the
//! source group and the blocked category inside `Request(...)`.

use super::clock::{LocalClock, wall_clock};
use super::{Action, LogLine, host_of, present};

/// `date time [pid] Request(source/target-category/-) url client/fqdn ident method REDIRECT`
pub fn line<'a>(line: &'a str, clock: &mut LocalClock) -> Result<LogLine<'a>, String> {
    let time = line.get(..19).ok_or("too short for a SquidGuard line")?;
    let at =
        wall_clock(time, clock).ok_or_else(|| format!("the time {time:?} is not yyyy-mm-dd hh:mm:ss"))?;
    let mut fields = line[19..].split_ascii_whitespace();
    let mut next = |name: &str| {
        fields.next().ok_or_else(|| {
            format!("no {name} (SquidGuard's line is date time [pid] Request(...) url client ident method)")
        })
    };
    let _pid = next("[pid]")?;
    let request = next("Request(...)")?;
    let url = next("URL")?;
    let client = next("client")?;
    let ident = next("ident")?;
    let groups = request
        .strip_prefix("Request(")
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(|| format!("{request:?} is not Request(source/category/-)"))?;
    let category = groups.split('/').nth(1).and_then(present);
    let (ip, fqdn) = client.split_once('/').unwrap_or((client, "-"));
    Ok(LogLine {
        at,
        user: present(ident),
        client: present(fqdn).or(present(ip)),
        host: host_of(url),
        url,
        action: Action::Blocked,
        vendor_category: category,
        vendor_severity: None,
        supporting: false,
        context: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_is_a_block_in_its_target_category() {
        let text = "2026-11-30 09:14:02 [2211] Request(pupils/gambling/-) casino.example:443 10.20.4.17/lab-pc-07 - CONNECT REDIRECT";
        let parsed = line(text, &mut LocalClock::london()).unwrap();
        assert_eq!(parsed.at, 1_796_030_042);
        assert_eq!(parsed.user, None);
        assert_eq!(parsed.client, Some("lab-pc-07"));
        assert_eq!(parsed.host, "casino.example");
        assert_eq!(
            (parsed.action, parsed.vendor_category),
            (Action::Blocked, Some("gambling"))
        );
        let named = "2026-11-30 09:14:02 [2211] Request(staff/porn/-) http://x.example/a 10.20.4.17/- jsmith GET REDIRECT";
        let parsed = line(named, &mut LocalClock::london()).unwrap();
        assert_eq!((parsed.user, parsed.client), (Some("jsmith"), Some("10.20.4.17")));
    }

    #[test]
    fn other_lines_are_refused_with_the_reason() {
        let mut clock = LocalClock::london();
        assert!(
            line("2026-11-30 09:14:02 [2211] started", &mut clock)
                .unwrap_err()
                .contains("no URL")
        );
        assert!(
            line("2026-11-30 09:14:02 [1] Blocked(x) u c i GET", &mut clock)
                .unwrap_err()
                .contains("Request")
        );
        assert!(line("short", &mut clock).unwrap_err().contains("too short"));
    }
}
