//! The CSV exports of Smoothwall's and Lightspeed's web filters. Neither vendor publishes a fixed
//! layout, so the columns are found by their header names (in any order, any case); a header without
//! the columns a format needs refuses the upload before any line is read.

use super::clock::{LocalClock, written_time};
use super::fields::FieldBuf;
use super::{Action, Format, HeaderError, LogLine, host_of, present};

/// Where each field is, by column index.
#[derive(Clone, Debug, Default)]
pub struct VendorCsv {
    format: Option<Format>,
    time: usize,
    url: usize,
    user: Option<usize>,
    client: Option<usize>,
    device: Option<usize>,
    action: Option<usize>,
    code: Option<usize>,
    category: Option<usize>,
    level: Option<usize>,
    columns: usize,
}

fn normalised(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase()
        .replace(['_', '-'], " ")
}

impl VendorCsv {
    pub fn from_header(format: Format, header: &str, buf: &mut FieldBuf) -> Result<Self, HeaderError> {
        let fields = buf.split(header, b',').map_err(HeaderError)?;
        let names: Vec<String> = (0..fields.len())
            .map(|index| normalised(fields.get(index)))
            .collect();
        let find = |wanted: &[&str]| names.iter().position(|name| wanted.contains(&name.as_str()));
        let time_names = ["time", "date", "timestamp", "date/time", "date time", "datetime"];
        let (url_names, required): (&[&str], &str) = match format {
            Format::SmoothwallCsv => (&["url"], "Time and URL"),
            _ => (
                &["destination", "url"],
                "a time (Time, Date or Timestamp), Destination and Action",
            ),
        };
        let missing = || {
            HeaderError(format!(
                "the {} export's header must name {required}; it has {}",
                format.name(),
                names.join(", ")
            ))
        };
        let layout = Self {
            format: Some(format),
            time: find(&time_names).ok_or_else(missing)?,
            url: find(url_names).ok_or_else(missing)?,
            user: find(&["username", "user", "user name"]),
            client: find(&["source ip", "ip address", "ip", "client ip"]),
            device: find(&["computer", "device"]),
            action: find(&["action"]),
            code: find(&["code", "status"]),
            category: match format {
                Format::SmoothwallCsv => find(&["categories", "category"]),
                _ => find(&["reason", "category", "categories"]),
            },
            level: find(&["level", "severity"]),
            columns: names.len(),
        };
        if format == Format::LightspeedCsv && layout.action.is_none() {
            return Err(missing());
        }
        Ok(layout)
    }

    pub fn line<'a>(
        &self,
        line: &str,
        buf: &'a mut FieldBuf,
        clock: &mut LocalClock,
    ) -> Result<LogLine<'a>, String> {
        let fields = buf.split(line, b',')?;
        if fields.len() < self.columns {
            return Err(format!(
                "{} fields where the header has {}",
                fields.len(),
                self.columns
            ));
        }
        let column = |index: Option<usize>| index.map(|index| fields.get(index)).and_then(present);
        let time = fields.get(self.time);
        let at =
            written_time(time, clock).ok_or_else(|| format!("the time {time:?} is not a date and time"))?;
        let url = fields.get(self.url).trim();
        if url.is_empty() {
            return Err("no URL".into());
        }
        let level = column(self.level);
        let level_number = level.map(|level| {
            level
                .parse::<u8>()
                .ok()
                .filter(|level| (1..=5).contains(level))
                .ok_or_else(|| format!("the level {level:?} is not 1 to 5"))
        });
        let level_number = level_number.transpose()?;
        let is = |text: &str, words: &[&str]| words.iter().any(|word| text.eq_ignore_ascii_case(word));
        let action = match (column(self.action), column(self.code)) {
            (Some(action), _) if is(action, &["blocked", "block", "denied", "redirected"]) => Action::Blocked,
            (Some(action), _) if is(action, &["allowed", "allow", "passed"]) => Action::Allowed,
            (Some(action), _) if is(action, &["flagged", "warned"]) => Action::Flagged,
            (Some(other), _) => {
                return Err(format!(
                    "the action {other:?} is not Allowed, Redirected or Blocked"
                ));
            }
            (None, Some(code)) if code == "403" || code.to_ascii_lowercase().contains("block") => {
                Action::Blocked
            }
            _ => Action::Allowed,
        };
        // Smoothwall's levels 4 and 5 mark a concern whether or not the request was blocked.
        let action = match (action, level_number) {
            (Action::Allowed, Some(4..=5)) => Action::Flagged,
            (action, _) => action,
        };
        Ok(LogLine {
            at,
            user: column(self.user),
            client: column(self.device).or(column(self.client)),
            host: host_of(url),
            url,
            action,
            vendor_category: column(self.category),
            vendor_severity: level,
            supporting: self.format == Some(Format::SmoothwallCsv) && matches!(level_number, Some(1..=2)),
            context: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(format: Format, header: &str, line: &str) -> Result<LogLine<'static>, String> {
        let mut buf = FieldBuf::default();
        let layout = VendorCsv::from_header(format, header, &mut buf).map_err(|err| err.0)?;
        let buf = Box::leak(Box::new(FieldBuf::default()));
        layout.line(line, buf, &mut LocalClock::london())
    }

    #[test]
    fn a_smoothwall_export_is_read_by_its_header() {
        let header = "Time,Username,Source IP,Group,Code,URL,Categories,Level";
        let blocked = parse(
            Format::SmoothwallCsv,
            header,
            r#"30/11/2026 09:14:02,ccs\y9pupil4,10.1.2.3,Pupils,403,https://casino.example/slots,"Gambling, Games",4"#,
        )
        .unwrap();
        assert_eq!(blocked.at, 1_796_030_042);
        assert_eq!(
            (blocked.user, blocked.client),
            (Some("ccs\\y9pupil4"), Some("10.1.2.3"))
        );
        assert_eq!(
            (blocked.host, blocked.action),
            ("casino.example", Action::Blocked)
        );
        assert_eq!(
            (blocked.vendor_category, blocked.vendor_severity),
            (Some("Gambling, Games"), Some("4"))
        );
        assert!(!blocked.supporting);
        let image = parse(Format::SmoothwallCsv, header, "2026-11-30 09:14:03,ccs\\y9pupil4,10.1.2.3,Pupils,200,https://cdn.example/a.png,Content Delivery,1").unwrap();
        assert!(image.supporting);
        let flagged = parse(
            Format::SmoothwallCsv,
            header,
            "2026-11-30 09:14:03,ccs\\y9pupil4,10.1.2.3,Pupils,200,https://forum.example/,Self Harm,5",
        )
        .unwrap();
        assert_eq!(flagged.action, Action::Flagged);
    }

    #[test]
    fn a_lightspeed_export_reads_redirected_as_blocked() {
        let header = "Date/Time,Destination,Action,Reason,User,IP Address,User OU,User Groups,Computer";
        let line = parse(
            Format::LightspeedCsv,
            header,
            "2026-11-30T09:14:02Z,casino.example,Redirected,Gambling,rapsY6pupil12@raps.example,10.20.4.17,/Pupils/Y6,Pupils,RAPS-LAB-07",
        )
        .unwrap();
        assert_eq!(line.at, 1_796_030_042);
        assert_eq!(
            (line.action, line.host, line.client),
            (Action::Blocked, "casino.example", Some("RAPS-LAB-07"))
        );
        assert_eq!(line.vendor_category, Some("Gambling"));
    }

    #[test]
    fn a_header_without_the_needed_columns_refuses_the_upload() {
        let err = parse(Format::LightspeedCsv, "Destination,Action,Reason,User", "x").unwrap_err();
        assert!(err.contains("must name a time"), "{err}");
        let err = parse(Format::SmoothwallCsv, "Time,Username", "x").unwrap_err();
        assert!(err.contains("Time and URL"), "{err}");
    }

    #[test]
    fn bad_rows_are_refused_with_the_reason() {
        let header = "Time,Username,URL,Level";
        assert!(
            parse(Format::SmoothwallCsv, header, "2026-11-30 09:14:03,u,http://x/,9")
                .unwrap_err()
                .contains("level")
        );
        assert!(
            parse(Format::SmoothwallCsv, header, "2026-11-30 09:14:03,u")
                .unwrap_err()
                .contains("2 fields")
        );
        assert!(
            parse(Format::SmoothwallCsv, header, "noon,u,http://x/,3")
                .unwrap_err()
                .contains("time")
        );
        assert!(
            parse(
                Format::LightspeedCsv,
                "Time,Destination,Action",
                "2026-11-30 09:14:03,x.example,Maybe"
            )
            .unwrap_err()
            .contains("action")
        );
    }
}
