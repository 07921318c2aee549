//! Made-up filter logs in each vendor's format, for `trustsafe dev`'s year of history and for `bench
//! filtering`: a school day of every pupil's requests, a share of them blocked in a category. The
//! formats are the ones `domain::feeds` reads; the lines are written here, not copied from anyone's log.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::feeds::Format;

const ALLOWED: [&str; 12] = [
    "www.bbc.co.uk",
    "classroom.google.com",
    "www.oaktree.example",
    "www.wikipedia.org",
    "maths.example",
    "www.youtube.com",
    "spelling.example",
    "login.microsoftonline.com",
    "cdn.example",
    "www.gov.uk",
    "news.example",
    "timestables.example",
];

/// What a filter blocks: (host, the category a filter logs it in); the last three are grave (severity
/// 4: escalated to a concern at once).
pub const BLOCKED: [(&str, &str); 8] = [
    ("casino.example", "Gambling"),
    ("slots.example", "Gambling"),
    ("games.example", "Games"),
    ("chat.example", "Social Networking"),
    ("proxy.example", "Proxy Avoidance"),
    ("adult.example", "Adult Content"),
    ("harm.example", "Self Harm"),
    ("weapons.example", "Weapons"),
];

/// One request as a generator decides it.
struct Request {
    at: DateTime<Utc>,
    pupil: usize,
    host: &'static str,
    path: u32,
    category: &'static str,
    blocked: bool,
    bytes: u32,
}

/// The everyday blocks of [`BLOCKED`]: gambling, games, social networking.
pub const EVERYDAY: &[(&str, &str)] = BLOCKED.split_at(4).0;

/// A school day's log: `pupils` pupils, each making `per_pupil` requests between 08:30 and 15:30
/// London time, `blocked_per_mille` of them blocked, in one of `blocks` (say [`BLOCKED`]). The same
/// seed makes the same bytes.
pub fn day_log(
    format: Format,
    day: NaiveDate,
    pupils: usize,
    per_pupil: usize,
    blocked_per_mille: u32,
    blocks: &[(&'static str, &'static str)],
    seed: u64,
) -> Vec<u8> {
    let mut random = StdRng::seed_from_u64(seed);
    let opening = London
        .from_local_datetime(&day.and_hms_opt(8, 30, 0).expect("a time"))
        .earliest()
        .expect("08:30 exists")
        .to_utc();
    let mut requests: Vec<Request> = (0..pupils * per_pupil)
        .map(|n| {
            let blocked = random.random_range(0..1000) < blocked_per_mille;
            let (host, category) = if blocked {
                blocks[random.random_range(0..blocks.len())]
            } else {
                (ALLOWED[random.random_range(0..ALLOWED.len())], "Education")
            };
            Request {
                at: opening + chrono::Duration::milliseconds(random.random_range(0..7 * 3600 * 1000)),
                pupil: n % pupils,
                host,
                path: random.random_range(0..10_000),
                category,
                blocked,
                bytes: random.random_range(300..90_000),
            }
        })
        .collect();
    requests.sort_by_key(|request| request.at);
    let mut log = Vec::with_capacity(requests.len() * 160);
    match format {
        Format::SmoothwallCsv => {
            log.extend_from_slice(b"Time,Username,Source IP,Group,Code,URL,Categories,Level\n")
        }
        Format::LightspeedCsv => log.extend_from_slice(
            b"Date/Time,Destination,Action,Reason,User,IP Address,User OU,User Groups,Computer\n",
        ),
        _ => {}
    }
    for request in &requests {
        if format == Format::Squidguard && !request.blocked {
            // SquidGuard writes only what it redirects.
            continue;
        }
        log.extend_from_slice(line(format, request).as_bytes());
        log.push(b'\n');
    }
    log
}

fn line(format: Format, request: &Request) -> String {
    let Request {
        at,
        pupil,
        host,
        path,
        category,
        blocked,
        bytes,
    } = *request;
    let user = format!("pupil{pupil:04}");
    let ip = format!("10.20.{}.{}", pupil / 250, pupil % 250 + 2);
    let url = format!("http://{host}/p/{path}");
    let local = at.with_timezone(&London);
    let code = if blocked { 403 } else { 200 };
    let reason = if blocked {
        format!("*DENIED* Banned category: {category}")
    } else {
        String::new()
    };
    match format {
        Format::Squid => format!(
            "{}.{:03} {:6} {ip} {} {bytes} GET {url} {user} HIER_DIRECT/192.0.2.10 text/html",
            at.timestamp(),
            at.timestamp_subsec_millis(),
            bytes / 100,
            if blocked { "TCP_DENIED/403" } else { "TCP_MISS/200" },
        ),
        Format::SquidCommon => format!(
            "{ip} - {user} [{}] \"GET {url} HTTP/1.1\" {code} {bytes} {}",
            at.format("%d/%b/%Y:%H:%M:%S +0000"),
            if blocked {
                "TCP_DENIED:HIER_NONE"
            } else {
                "TCP_MISS:HIER_DIRECT"
            },
        ),
        Format::E2guardianCsv => format!(
            "\"{}\",\"{user}\",\"{ip}\",\"{url}\",\"{reason}\",\"GET\",\"{bytes}\",\"0\",\"{category}\",\"2\",\"{code}\",\"text/html\",\"lab-pc-{:02}\",\"pupils\",\"Mozilla/5.0 (Windows NT 10.0)\"",
            local.format("%Y.%m.%d %H:%M:%S"),
            pupil % 30,
        ),
        Format::E2guardianTab => format!(
            "{}\t{user}\t{ip}\t{url}\t{reason}\tGET\t{bytes}\t0\t{category}\t2\t{code}\ttext/html\tlab-pc-{:02}\tpupils\tMozilla/5.0",
            local.format("%Y.%m.%d %H:%M:%S"),
            pupil % 30,
        ),
        Format::E2guardian5 => format!(
            "{}\tproxy1\t{user}\t{ip}\tlab-pc-{:02}\t{url}\tGET\t{code}\t{bytes}\ttext/html\tMozilla/5.0\t-\t{}\t-\t{}\t{}\t{}\t{category}\tpupils\t2",
            at.timestamp(),
            pupil % 30,
            bytes / 1000,
            if blocked { 500 } else { 0 },
            if blocked { reason.as_str() } else { "-" },
            u8::from(blocked),
        ),
        Format::Squidguard => format!(
            "{} [2211] Request(pupils/{}/-) {host}:443 {ip}/lab-pc-{:02} {user} CONNECT REDIRECT",
            local.format("%Y-%m-%d %H:%M:%S"),
            category.to_lowercase().replace(' ', "_"),
            pupil % 30,
        ),
        Format::Fortigate => format!(
            "date={} time={} tz=\"+0000\" type=\"utm\" subtype=\"webfilter\" eventtype=\"{}\" level=\"{}\" user=\"{user}\" srcip={ip} hostname=\"{host}\" url=\"/p/{path}\" action=\"{}\" cat=7 catdesc=\"{category}\" msg=\"{}\"",
            at.format("%Y-%m-%d"),
            at.format("%H:%M:%S"),
            if blocked { "ftgd_blk" } else { "ftgd_allow" },
            if blocked { "warning" } else { "notice" },
            if blocked { "blocked" } else { "passthrough" },
            if blocked {
                "URL belongs to a denied category in policy"
            } else {
                "URL belongs to an allowed category in policy"
            },
        ),
        Format::SmoothwallCsv => format!(
            "{},{user},{ip},Pupils,{code},{url},\"{category}\",{}",
            local.format("%d/%m/%Y %H:%M:%S"),
            if blocked && BLOCKED[5..].iter().any(|(_, grave)| *grave == category) {
                4
            } else if blocked {
                3
            } else if bytes < 2000 {
                1
            } else {
                3
            },
        ),
        Format::LightspeedCsv => format!(
            "{},{host}/p/{path},{},{category},{user}@school.example,{ip},/Pupils/Y{},Pupils,LAB-{:02}",
            at.format("%Y-%m-%dT%H:%M:%SZ"),
            if blocked { "Blocked" } else { "Allowed" },
            pupil % 7 + 1,
            pupil % 30,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::categories::Normaliser;
    use crate::domain::feeds::{LineParser, LocalClock};
    use crate::domain::upload::Upload;

    #[test]
    fn every_generated_line_of_every_format_is_read_and_the_blocks_become_breaches() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        for format in Format::ALL {
            let log = day_log(format, day, 40, 20, 50, &BLOCKED, 7);
            let mut upload = Upload::new(
                LineParser::new(format, LocalClock::london()),
                Normaliser::new(&[]),
            );
            upload.push(&log).unwrap();
            upload.finish().unwrap();
            let tally = &upload.tally;
            assert_eq!(tally.lines_refused, 0, "{format:?}: {:?}", tally.refusals.first());
            assert!(
                tally.lines_in_breaches > 0 && !tally.breaches.is_empty(),
                "{format:?}"
            );
            let first = tally
                .breaches
                .iter()
                .map(|breach| breach.first_seen)
                .min()
                .unwrap();
            let opening = London
                .from_local_datetime(&day.and_hms_opt(8, 30, 0).unwrap())
                .unwrap()
                .timestamp();
            assert!(
                (opening..opening + 7 * 3600).contains(&first),
                "{format:?}: a breach at {first}"
            );
        }
    }
}
