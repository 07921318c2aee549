//! One upload, fed chunk by chunk as it streams in: gzip is recognised by its magic bytes and
//! inflated on the way, the bytes are cut into lines, each line parsed and tallied. Memory stays at
//! one chunk, one line and the breaches found, whatever the upload's size.

use std::io::Write as _;

use flate2::write::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::categories::Normaliser;
use super::feeds::{HeaderError, LineParser, Parsed};
use super::ingest::Tally;
use super::suppression::Suppressions;

/// A line longer than this is refused (no filter writes one) rather than held.
pub const MAX_LINE: usize = 64 * 1024;

/// The most an upload may inflate to: a week of a large secondary's proxy log fits, a gzip bomb does not.
pub const MAX_INFLATED: u64 = 4 * 1024 * 1024 * 1024;

enum Decoding {
    /// Not yet known: fewer than two bytes seen.
    Undecided(Vec<u8>),
    Plain,
    Gzip(Box<MultiGzDecoder<Vec<u8>>>),
}

/// Why an upload stops being read.
#[derive(Debug, PartialEq, Eq)]
pub enum UploadError {
    /// The CSV export's header lacks a column the format needs.
    Header(String),
    /// Compressed data that does not inflate.
    Gzip(String),
    /// It inflates past [`MAX_INFLATED`].
    TooLarge(u64),
}

pub struct Upload {
    parser: LineParser,
    normaliser: Normaliser,
    pub tally: Tally,
    decoding: Decoding,
    digest: Sha256,
    /// The line being gathered, and whether it has already passed [`MAX_LINE`].
    pending: Vec<u8>,
    overlong: bool,
    line_number: u64,
    /// As sent, and as read (inflated).
    pub bytes: u64,
    inflated: u64,
}

impl Upload {
    pub fn new(parser: LineParser, normaliser: Normaliser) -> Self {
        Self {
            parser,
            normaliser,
            tally: Tally::default(),
            decoding: Decoding::Undecided(Vec::new()),
            digest: Sha256::new(),
            pending: Vec::new(),
            overlong: false,
            line_number: 0,
            bytes: 0,
            inflated: 0,
        }
    }

    /// The same reader, counting what `suppressions` cover instead of recording it.
    pub fn suppressing(mut self, suppressions: Suppressions) -> Self {
        self.tally = Tally::suppressing(suppressions);
        self
    }

    pub fn normaliser(&self) -> &Normaliser {
        &self.normaliser
    }

    /// The next bytes of the body, as sent.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        self.digest.update(chunk);
        self.bytes += chunk.len() as u64;
        match &mut self.decoding {
            Decoding::Undecided(start) => {
                start.extend_from_slice(chunk);
                if start.len() < 2 {
                    return Ok(());
                }
                let start = std::mem::take(start);
                self.decoding = if start.starts_with(&[0x1f, 0x8b]) {
                    Decoding::Gzip(Box::new(MultiGzDecoder::new(Vec::new())))
                } else {
                    Decoding::Plain
                };
                self.decoded(&start)
            }
            _ => self.decoded(chunk),
        }
    }

    fn decoded(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        match &mut self.decoding {
            Decoding::Gzip(decoder) => {
                decoder
                    .write_all(chunk)
                    .map_err(|err| UploadError::Gzip(err.to_string()))?;
                let inflated = std::mem::take(decoder.get_mut());
                self.lines(&inflated)?;
                // Give the buffer back so it is not allocated again for every chunk.
                let mut inflated = inflated;
                inflated.clear();
                if let Decoding::Gzip(decoder) = &mut self.decoding {
                    *decoder.get_mut() = inflated;
                }
                Ok(())
            }
            _ => self.lines(chunk),
        }
    }

    /// The body has ended: the last line (if it has no newline) is read, and the digest of the bytes
    /// as sent is returned.
    pub fn finish(&mut self) -> Result<String, UploadError> {
        if let Decoding::Undecided(start) = &mut self.decoding {
            let start = std::mem::take(start);
            self.decoding = Decoding::Plain;
            self.lines(&start)?;
        }
        if let Decoding::Gzip(decoder) = &mut self.decoding {
            decoder
                .try_finish()
                .map_err(|err| UploadError::Gzip(err.to_string()))?;
            let inflated = std::mem::take(decoder.get_mut());
            self.lines(&inflated)?;
        }
        if !self.pending.is_empty() || self.overlong {
            self.end_line()?;
        }
        let digest = std::mem::take(&mut self.digest).finalize();
        Ok(digest.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    fn lines(&mut self, mut bytes: &[u8]) -> Result<(), UploadError> {
        self.inflated += bytes.len() as u64;
        if self.inflated > MAX_INFLATED {
            return Err(UploadError::TooLarge(MAX_INFLATED));
        }
        while !bytes.is_empty() {
            match memchr::memchr(b'\n', bytes) {
                Some(end) => {
                    self.gather(&bytes[..end]);
                    self.end_line()?;
                    bytes = &bytes[end + 1..];
                }
                None => {
                    self.gather(bytes);
                    break;
                }
            }
        }
        Ok(())
    }

    fn gather(&mut self, bytes: &[u8]) {
        if self.overlong || self.pending.len() + bytes.len() > MAX_LINE {
            self.overlong = true;
            self.pending.clear();
        } else {
            self.pending.extend_from_slice(bytes);
        }
    }

    fn end_line(&mut self) -> Result<(), UploadError> {
        self.line_number += 1;
        let number = self.line_number;
        if std::mem::take(&mut self.overlong) {
            self.tally
                .refused(number, format!("longer than {MAX_LINE} bytes"));
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending);
        let text = String::from_utf8_lossy(&pending);
        let outcome = match self.parser.parse(&text) {
            Ok(Parsed::Line(line)) => {
                self.tally.request(&line, &mut self.normaliser);
                Ok(())
            }
            Ok(Parsed::Skipped(_)) => {
                self.tally.skipped();
                Ok(())
            }
            Ok(Parsed::Refused(reason)) => {
                self.tally.refused(number, reason);
                Ok(())
            }
            Err(HeaderError(reason)) => Err(UploadError::Header(reason)),
        };
        drop(text);
        // The line's buffer serves the next.
        pending.clear();
        self.pending = pending;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::feeds::{Format, LocalClock};

    const BLOCKED: &str = "1796030042.337 412 10.20.4.17 TCP_DENIED/403 3910 GET http://casino.example/ pupil1 HIER_NONE/- text/html";
    const ALLOWED: &str =
        "1796030043.001 12 10.20.4.18 TCP_TUNNEL/200 120 CONNECT www.bbc.co.uk:443 - HIER_DIRECT/1.2.3.4 -";

    fn upload(format: Format) -> Upload {
        Upload::new(
            LineParser::new(format, LocalClock::london()),
            Normaliser::new(&[]),
        )
    }

    fn gzip(text: &str) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn given_lines_split_across_chunks_anywhere_then_each_is_read_once() {
        let body = format!("{BLOCKED}\n{ALLOWED}\r\nnot a squid line\n\n{BLOCKED}");
        for size in [1, 2, 7, 64, body.len()] {
            let mut upload = upload(Format::Squid);
            for chunk in body.as_bytes().chunks(size) {
                upload.push(chunk).unwrap();
            }
            upload.finish().unwrap();
            let tally = &upload.tally;
            assert_eq!(
                (tally.lines_read, tally.lines_in_breaches, tally.lines_counted),
                (5, 2, 1),
                "chunks of {size}"
            );
            assert_eq!((tally.lines_refused, tally.lines_skipped), (1, 1));
            assert_eq!(tally.refusals[0].line, 3);
            assert_eq!(tally.breaches.len(), 1);
        }
    }

    #[test]
    fn given_gzip_then_the_same_lines_and_a_digest_of_the_bytes_sent() {
        let text = format!("{BLOCKED}\n{ALLOWED}\n");
        let compressed = gzip(&text);
        let mut plain = upload(Format::Squid);
        plain.push(text.as_bytes()).unwrap();
        let plain_digest = plain.finish().unwrap();
        let mut zipped = upload(Format::Squid);
        for chunk in compressed.chunks(5) {
            zipped.push(chunk).unwrap();
        }
        let zipped_digest = zipped.finish().unwrap();
        assert_eq!((zipped.tally.lines_read, zipped.tally.breaches.len()), (2, 1));
        assert_ne!(plain_digest, zipped_digest);
        assert_eq!(plain_digest.len(), 64);
    }

    #[test]
    fn given_broken_gzip_then_an_error_not_a_panic() {
        let mut compressed = gzip(&format!("{BLOCKED}\n").repeat(100));
        compressed.truncate(compressed.len() / 2);
        compressed.extend_from_slice(b"garbage garbage garbage");
        let mut upload = upload(Format::Squid);
        let result = upload.push(&compressed).and_then(|()| upload.finish().map(drop));
        assert!(matches!(result, Err(UploadError::Gzip(_))), "{result:?}");
    }

    #[test]
    fn given_an_endless_line_then_it_is_refused_and_the_next_line_read() {
        let mut upload = upload(Format::Squid);
        upload.push(&vec![b'x'; MAX_LINE + 10]).unwrap();
        upload.push(format!("\n{BLOCKED}\n").as_bytes()).unwrap();
        upload.finish().unwrap();
        assert_eq!((upload.tally.lines_read, upload.tally.lines_refused), (2, 1));
        assert!(upload.tally.refusals[0].reason.contains("longer than"));
    }

    #[test]
    fn given_a_csv_export_without_its_columns_then_the_upload_stops() {
        let mut upload = upload(Format::LightspeedCsv);
        assert!(matches!(
            upload.push(b"Destination,Reason\nx,y\n"),
            Err(UploadError::Header(_))
        ));
    }

    #[test]
    fn given_bytes_that_are_not_utf8_then_the_line_is_still_read() {
        let mut upload = upload(Format::Squid);
        let mut line = BLOCKED.as_bytes().to_vec();
        line.extend_from_slice(b" \xff\xfe\n");
        upload.push(&line).unwrap();
        upload.finish().unwrap();
        assert_eq!(upload.tally.breaches.len(), 1);
    }
}
