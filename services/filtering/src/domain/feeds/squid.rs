//! Squid's access logs: the native format and Apache's common/combined as Squid writes them.

use super::clock::{apache, epoch};
use super::{Action, LogLine, host_of, present};

/// Squid marks a request its own rules refused `TCP_DENIED` (or `NONE_DENIED`); a 403 from the
/// site itself is not the filter's.
fn action(squid_status: &str) -> Action {
    if squid_status.contains("DENIED") {
        Action::Blocked
    } else {
        Action::Allowed
    }
}

/// `time.ms elapsed client action/status bytes method URL user hierarchy/peer mime`
pub fn native(line: &str) -> Result<LogLine<'_>, String> {
    let mut fields = line.split_ascii_whitespace();
    let mut next = |name: &str| {
        fields
            .next()
            .ok_or_else(|| format!("no {name} (Squid's native format has 10 fields)"))
    };
    let time = next("time")?;
    let _elapsed = next("elapsed time")?;
    let client = next("client address")?;
    let status = next("action/status")?;
    let _bytes = next("size")?;
    let _method = next("method")?;
    let url = next("URL")?;
    let user = next("user")?;
    let at = epoch(time).ok_or_else(|| format!("the time {time:?} is not epoch seconds"))?;
    if !status.contains('/') {
        return Err(format!("{status:?} is not Squid's action/status"));
    }
    Ok(LogLine {
        at,
        user: present(user),
        client: present(client),
        host: host_of(url),
        url,
        action: action(status),
        vendor_category: None,
        vendor_severity: None,
        supporting: false,
        context: None,
    })
}

/// `client ident user [time] "method URL HTTP/v" status bytes ["referrer" "agent"] squid_status:hierarchy`
pub fn common(line: &str) -> Result<LogLine<'_>, String> {
    let (head, rest) = line
        .split_once(" [")
        .ok_or("no [time] (Apache's common log format)")?;
    let (time, rest) = rest.split_once("] ").ok_or("the [time] is not closed")?;
    let mut who = head.split_ascii_whitespace();
    let client = who.next().ok_or("no client address")?;
    let ident = who.next().ok_or("no ident field")?;
    let user = who.next().ok_or("no user field")?;
    let at = apache(time).ok_or_else(|| format!("the time {time:?} is not dd/Mon/yyyy:hh:mm:ss +zzzz"))?;
    let request = rest
        .strip_prefix('"')
        .and_then(|rest| rest.split_once('"'))
        .ok_or("no quoted request")?;
    let (request, tail) = request;
    let mut parts = request.split_ascii_whitespace();
    let (_method, url) = (parts.next(), parts.next().ok_or("the request names no URL")?);
    let mut after = tail.split_ascii_whitespace();
    let status = after.next().ok_or("no HTTP status")?;
    if status.parse::<u16>().is_err() {
        return Err(format!("the HTTP status {status:?} is not a number"));
    }
    let squid_status = tail
        .rsplit(' ')
        .next()
        .filter(|last| last.contains(':'))
        .unwrap_or("");
    Ok(LogLine {
        at,
        user: present(user).or(present(ident)),
        client: present(client),
        host: host_of(url),
        url,
        action: action(squid_status),
        vendor_category: None,
        vendor_severity: None,
        supporting: false,
        context: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denied_native_line_is_a_block_with_its_user_and_address() {
        let line = native(
            "1796030042.337    412 10.20.4.17 TCP_DENIED/403 3910 GET http://casino.example/ rapsY6pupil12 HIER_NONE/- text/html",
        )
        .unwrap();
        assert_eq!(line.at, 1_796_030_042);
        assert_eq!(line.user, Some("rapsY6pupil12"));
        assert_eq!(line.client, Some("10.20.4.17"));
        assert_eq!(line.host, "casino.example");
        assert_eq!(line.url, "http://casino.example/");
        assert_eq!(line.action, Action::Blocked);
    }

    #[test]
    fn an_unauthenticated_allowed_native_line_has_no_user() {
        let line = native(
            "1796030043.001     12 10.20.4.18 TCP_TUNNEL/200 120 CONNECT www.bbc.co.uk:443 - HIER_DIRECT/151.101.0.81 -",
        )
        .unwrap();
        assert_eq!(
            (line.user, line.host, line.action),
            (None, "www.bbc.co.uk", Action::Allowed)
        );
    }

    #[test]
    fn a_site_answering_403_is_not_a_block() {
        let line = native("1796030043.001 12 10.20.4.18 TCP_MISS/403 120 GET http://x.example/ - HIER_DIRECT/1.2.3.4 text/html").unwrap();
        assert_eq!(line.action, Action::Allowed);
    }

    #[test]
    fn short_or_garbled_native_lines_are_refused_with_the_reason() {
        assert!(
            native("1796030042.337 412 10.20.4.17")
                .unwrap_err()
                .contains("no action/status")
        );
        assert!(
            native("yesterday 412 10.20.4.17 TCP_DENIED/403 3910 GET http://x/ u H -")
                .unwrap_err()
                .contains("time")
        );
    }

    #[test]
    fn common_and_combined_lines_read_alike() {
        let common_line = r#"10.20.4.17 - rapsY6pupil12 [30/Nov/2026:09:14:02 +0000] "GET http://casino.example/slots HTTP/1.1" 403 3910 TCP_DENIED:HIER_NONE"#;
        let combined = r#"10.20.4.17 - rapsY6pupil12 [30/Nov/2026:09:14:02 +0000] "GET http://casino.example/slots HTTP/1.1" 403 3910 "-" "Mozilla/5.0 (X11; Linux)" TCP_DENIED:HIER_NONE"#;
        for text in [common_line, combined] {
            let line = common(text).unwrap();
            assert_eq!(line.at, 1_796_030_042);
            assert_eq!(
                (line.user, line.host, line.action),
                (Some("rapsY6pupil12"), "casino.example", Action::Blocked)
            );
        }
        let allowed = r#"10.20.4.17 - - [30/Nov/2026:09:14:02 +0000] "GET http://www.bbc.co.uk/ HTTP/1.1" 200 3910 TCP_MISS:HIER_DIRECT"#;
        assert_eq!(common(allowed).unwrap().action, Action::Allowed);
        assert!(common(r#"10.20.4.17 - - [30/Nov/2026:09:14:02 +0000] GET"#).is_err());
    }
}
