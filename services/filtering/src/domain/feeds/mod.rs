//! Reading what schools' filters write: one parser per documented log format, each turning one line
//! into a [`LogLine`] that borrows from it, or saying why it cannot. Formats are facts gathered in
//! `../shared/reference/filtering-feeds.md`; each parser's tests hold a line written in its format.
//!
//! A parser never panics and never drops a line silently: every line is a [`Parsed::Line`], a
//! [`Parsed::Skipped`] (blank, a comment, a CSV export's header) or a [`Parsed::Refused`] with the reason.

mod clock;
mod e2guardian;
mod fields;
mod fortigate;
mod squid;
mod squidguard;
mod vendor_csv;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use clock::LocalClock;
use vendor_csv::VendorCsv;

/// A log format the ingest reads, named by the uploader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Squid's native `access.log` (`logformat squid`).
    Squid,
    /// Squid's `common` or `combined` log (Apache's, with Squid's status:hierarchy last).
    SquidCommon,
    /// DansGuardian / E2Guardian log format 2 (CSV).
    E2guardianCsv,
    /// DansGuardian / E2Guardian log format 4: format 2's fields, tab-separated.
    E2guardianTab,
    /// E2Guardian 5.x log formats 5–8: tab-separated, `-` for empty.
    E2guardian5,
    /// SquidGuard's redirect log (pfSense's filter): one line per blocked request.
    Squidguard,
    /// FortiGate web-filter logs, syslog `key=value`.
    Fortigate,
    /// Smoothwall's web filter log export (CSV with a header).
    SmoothwallCsv,
    /// Lightspeed's Web Filter activity export (CSV with a header).
    LightspeedCsv,
}

impl Format {
    pub const ALL: [Format; 9] = [
        Format::Squid,
        Format::SquidCommon,
        Format::E2guardianCsv,
        Format::E2guardianTab,
        Format::E2guardian5,
        Format::Squidguard,
        Format::Fortigate,
        Format::SmoothwallCsv,
        Format::LightspeedCsv,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Squid => "squid",
            Format::SquidCommon => "squid_common",
            Format::E2guardianCsv => "e2guardian_csv",
            Format::E2guardianTab => "e2guardian_tab",
            Format::E2guardian5 => "e2guardian_5",
            Format::Squidguard => "squidguard",
            Format::Fortigate => "fortigate",
            Format::SmoothwallCsv => "smoothwall_csv",
            Format::LightspeedCsv => "lightspeed_csv",
        }
    }
}

/// What the filter did with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allowed,
    /// Allowed, but the filter or monitor marked it for attention (a warning page clicked through, a
    /// Smoothwall level 4–5 entry, a monitoring alert).
    Flagged,
    Blocked,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Allowed => "allowed",
            Action::Flagged => "flagged",
            Action::Blocked => "blocked",
        }
    }
}

/// One request as a log line tells it, borrowing the line's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// Seconds since the Unix epoch, UTC.
    pub at: i64,
    /// The directory account, when the filter knew it.
    pub user: Option<&'a str>,
    /// The client's address or device name.
    pub client: Option<&'a str>,
    /// The host asked for, as logged (not yet lower-cased).
    pub host: &'a str,
    /// The address asked for, as logged.
    pub url: &'a str,
    pub action: Action,
    /// The vendor's category or reason, as logged.
    pub vendor_category: Option<&'a str>,
    /// The vendor's grading (a Smoothwall level, a FortiGate level), as logged.
    pub vendor_severity: Option<&'a str>,
    /// A supporting request (Smoothwall levels 1–2: images, scripts): counted, never a breach.
    pub supporting: bool,
    /// What a monitoring alert captured (the words, the window's title); logs have none.
    pub context: Option<&'a str>,
}

/// Why a line is not a request, though nothing is wrong with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    Blank,
    Comment,
    Header,
    /// Another kind of entry in a mixed stream (a FortiGate's traffic log beside its web filter's).
    OtherEntry,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    Line(LogLine<'a>),
    Skipped(Skip),
    /// The line does not fit the format; the reason says where.
    Refused(String),
}

/// Why an upload cannot be read at all (before any line): a CSV export whose header lacks a column
/// the format needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderError(pub String);

/// Reads one upload's lines in one format. CSV exports learn their columns from the header line,
/// so a parser lives for one upload.
pub struct LineParser {
    format: Format,
    clock: LocalClock,
    fields: fields::FieldBuf,
    vendor: Option<VendorCsv>,
}

impl LineParser {
    /// `clock` reads the wall-clock times of formats that write no offset.
    pub fn new(format: Format, clock: LocalClock) -> Self {
        Self {
            format,
            clock,
            fields: fields::FieldBuf::default(),
            vendor: None,
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// One line, without its line ending.
    pub fn parse<'a>(&'a mut self, line: &'a str) -> Result<Parsed<'a>, HeaderError> {
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if trimmed.trim().is_empty() {
            return Ok(Parsed::Skipped(Skip::Blank));
        }
        if trimmed.starts_with('#') {
            return Ok(Parsed::Skipped(Skip::Comment));
        }
        let clock = &mut self.clock;
        let parsed = match self.format {
            Format::Squid => squid::native(trimmed),
            Format::SquidCommon => squid::common(trimmed),
            Format::E2guardianCsv => e2guardian::delimited(trimmed, &mut self.fields, b',', clock),
            Format::E2guardianTab => e2guardian::delimited(trimmed, &mut self.fields, b'\t', clock),
            Format::E2guardian5 => e2guardian::v5(trimmed, clock),
            Format::Squidguard => squidguard::line(trimmed, clock),
            Format::Fortigate => match fortigate::line(trimmed, clock) {
                Ok(fortigate::Entry::Skipped(skip)) => return Ok(Parsed::Skipped(skip)),
                Ok(fortigate::Entry::Line(line)) => Ok(line),
                Err(reason) => Err(reason),
            },
            Format::SmoothwallCsv | Format::LightspeedCsv => match &self.vendor {
                None => {
                    self.vendor = Some(VendorCsv::from_header(self.format, trimmed, &mut self.fields)?);
                    return Ok(Parsed::Skipped(Skip::Header));
                }
                Some(vendor) => vendor.line(trimmed, &mut self.fields, clock),
            },
        };
        Ok(match parsed {
            Ok(line) => Parsed::Line(line),
            Err(reason) => Parsed::Refused(reason),
        })
    }
}

/// The host of an address as logs write it: `http://host:80/path`, `host:443` (CONNECT), `host/path`.
pub(crate) fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host.starts_with('[') {
        // An IPv6 literal keeps its brackets, loses its port.
        return host
            .split_once(']')
            .map_or(host, |(literal, _)| &host[..literal.len() + 1]);
    }
    host.split(':').next().unwrap_or(host)
}

/// `-` and empty mean nothing was logged.
pub(crate) fn present(field: &str) -> Option<&str> {
    let field = field.trim();
    (!field.is_empty() && field != "-").then_some(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_come_out_of_every_shape_of_address() {
        assert_eq!(host_of("http://casino.example/slots?x=1"), "casino.example");
        assert_eq!(host_of("https://user@casino.example:8443/"), "casino.example");
        assert_eq!(host_of("casino.example:443"), "casino.example");
        assert_eq!(host_of("casino.example/slots"), "casino.example");
        assert_eq!(host_of("http://[2001:db8::1]:80/x"), "[2001:db8::1]");
        assert_eq!(host_of(""), "");
    }

    /// A well-formed line of each format, to mutate.
    fn sample(format: Format) -> (&'static str, &'static str) {
        match format {
            Format::Squid => (
                "",
                "1796030042.337    412 10.20.4.17 TCP_DENIED/403 3910 GET http://casino.example/ rapsY6pupil12 HIER_NONE/- text/html",
            ),
            Format::SquidCommon => (
                "",
                r#"10.20.4.17 - rapsY6pupil12 [30/Nov/2026:09:14:02 +0000] "GET http://casino.example/ HTTP/1.1" 403 3910 TCP_DENIED:HIER_NONE"#,
            ),
            Format::E2guardianCsv => (
                "",
                r#""2026.11.30 09:14:02","rapsY6pupil12","10.20.4.17","http://casino.example/","*DENIED* Banned site: casino.example","GET","3910","0","Gambling","2","403","text/html","lab-pc-07","pupils","Mozilla/5.0""#,
            ),
            Format::E2guardianTab => (
                "",
                "2026.11.30 09:14:02\trapsY6pupil12\t10.20.4.17\thttp://casino.example/\t*DENIED* x\tGET\t3910\t0\tGambling\t2\t403\ttext/html\tlab-pc-07\tpupils\tMozilla/5.0",
            ),
            Format::E2guardian5 => (
                "",
                "1796030042\tproxy1\tu\t10.20.4.17\tlab\thttps://casino.example/\tGET\t403\t3910\ttext/html\tMozilla\t-\t12\t-\t500\t*DENIED* x\t1\tGambling\tpupils\t2",
            ),
            Format::Squidguard => (
                "",
                "2026-11-30 09:14:02 [2211] Request(pupils/gambling/-) casino.example:443 10.20.4.17/lab-pc-07 - CONNECT REDIRECT",
            ),
            Format::Fortigate => (
                "",
                r#"date=2026-11-30 time=09:14:02 type="utm" subtype="webfilter" level="warning" user="u" srcip=10.20.4.17 hostname="casino.example" url="/slots" action="blocked" catdesc="Gambling""#,
            ),
            Format::SmoothwallCsv => (
                "Time,Username,Source IP,Group,Code,URL,Categories,Level",
                r#"30/11/2026 09:14:02,u,10.1.2.3,Pupils,403,https://casino.example/,"Gambling, Games",4"#,
            ),
            Format::LightspeedCsv => (
                "Date/Time,Destination,Action,Reason,User,IP Address,User OU,User Groups,Computer",
                "2026-11-30T09:14:02Z,casino.example,Redirected,Gambling,u,10.20.4.17,/P,P,LAB-07",
            ),
        }
    }

    /// Every line is a request, refused with a reason, or skipped for a reason the line shows.
    fn accounted_for(format: Format, header: &str, line: &str) {
        let mut parser = LineParser::new(format, LocalClock::london());
        if !header.is_empty() && parser.parse(header).is_err() {
            panic!("the sample header is refused");
        }
        match parser.parse(line).expect("a header was read first") {
            Parsed::Line(_) => {}
            Parsed::Refused(reason) => assert!(!reason.is_empty()),
            Parsed::Skipped(Skip::Blank) => assert!(line.trim().is_empty()),
            Parsed::Skipped(Skip::Comment) => assert!(line.starts_with('#')),
            Parsed::Skipped(Skip::OtherEntry) => {
                assert!(format == Format::Fortigate && line.contains("subtype="))
            }
            Parsed::Skipped(Skip::Header) => panic!("a second header in {line:?}"),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 3000, ..Default::default() })]

        #[test]
        fn a_mutated_line_of_any_format_is_accounted_for(
            which in 0..Format::ALL.len(),
            cut in 0usize..400,
            at in 0usize..400,
            noise in "\\PC{0,12}",
        ) {
            let format = Format::ALL[which];
            let (header, line) = sample(format);
            let mut chars: Vec<char> = line.chars().collect();
            let at = at.min(chars.len());
            let cut = cut.min(chars.len() - at).min(20);
            chars.splice(at..at + cut, noise.chars());
            let mutated: String = chars.into_iter().collect();
            accounted_for(format, header, &mutated);
        }

        #[test]
        fn any_text_in_any_format_is_accounted_for(which in 0..Format::ALL.len(), text in "\\PC{0,300}") {
            let format = Format::ALL[which];
            accounted_for(format, sample(format).0, &text);
        }
    }

    #[test]
    fn every_sample_is_a_request() {
        for format in Format::ALL {
            let (header, line) = sample(format);
            let mut parser = LineParser::new(format, LocalClock::london());
            if !header.is_empty() {
                assert_eq!(parser.parse(header).unwrap(), Parsed::Skipped(Skip::Header));
            }
            match parser.parse(line).unwrap() {
                Parsed::Line(parsed) => assert_eq!(
                    (parsed.at, parsed.host),
                    (1_796_030_042, "casino.example"),
                    "{format:?}"
                ),
                other => panic!("{format:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn blank_lines_and_comments_are_skipped_in_every_format() {
        for format in Format::ALL {
            let mut parser = LineParser::new(format, LocalClock::london());
            assert_eq!(parser.parse("   \r").unwrap(), Parsed::Skipped(Skip::Blank));
            assert_eq!(
                parser.parse("#Fields: x").unwrap(),
                Parsed::Skipped(Skip::Comment)
            );
        }
    }
}
