//! Whether a request carries an image (or any file) in whatever form a client or an attacker might
//! send it: a file field, a `data:` URI of any case and media type, a long base64 or hex run, or the
//! bytes of an image themselves, encoded or not. Nude images and indecent images of children must
//! never be kept (RAPS 11.2, 11.4; Claremont 9.1, 9.3), so anything that could be one is refused
//! before a byte of it is stored, idempotency records included.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

/// Field names under which clients send files.
const FILE_FIELDS: [&str; 10] = [
    "attachment",
    "attachments",
    "image",
    "images",
    "photo",
    "photos",
    "screenshot",
    "screenshots",
    "file",
    "files",
];

/// A run of base64 (or hex) this long is binary, whatever it decodes to: prose has spaces, and
/// references, URLs and ids are far shorter or break the run with `:`, `.`, `?` or `&`.
const LONG_RUN: usize = 256;
/// Shorter runs are decoded and refused when they start like an image.
const SHORT_RUN: usize = 8;

/// Whether `body` carries, or tries to carry, an image or other file anywhere in it.
pub fn offers_images(body: &Value) -> bool {
    match body {
        Value::Object(fields) => fields.iter().any(|(name, value)| {
            FILE_FIELDS.contains(&name.to_ascii_lowercase().as_str()) || offers_images(value)
        }),
        Value::Array(items) => items.iter().any(offers_images),
        Value::String(text) => carries_binary(text),
        _ => false,
    }
}

/// Whether a text carries inline binary: a data URI, a long encoded run, or image bytes.
pub fn carries_binary(text: &str) -> bool {
    has_data_uri(text) || starts_like_an_image(&latin1(text)) || encoded_runs(text).any(run_is_binary)
}

/// `data:` (any case) followed by a media type, `;` parameters or the comma: RFC 2397's form. Prose
/// such as "personal data: names" has a space after the colon and is not one.
fn has_data_uri(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.match_indices("data:").any(|(at, _)| {
        let rest = &lower[at + 5..];
        let head: String = rest.chars().take_while(|c| *c != ',').take(200).collect();
        if !rest[head.len()..].starts_with(',') || head.chars().any(char::is_whitespace) {
            return false;
        }
        let media_type = head.split(';').next().unwrap_or_default();
        media_type.is_empty()
            || media_type
                .split_once('/')
                .is_some_and(|(kind, sub)| !kind.is_empty() && !sub.is_empty())
    })
}

/// The text's characters as bytes where each is one (U+0000–U+00FF): how raw bytes sent as JSON
/// escapes (`\u0089PNG…`) arrive.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// Maximal runs of base64 (standard or URL-safe) or hex characters, and percent-encoded runs.
fn encoded_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_' | '%')))
        .filter(|run| run.len() >= SHORT_RUN)
}

fn run_is_binary(run: &str) -> bool {
    if run.contains('%') {
        let decoded = percent_decode(run);
        return starts_like_an_image(&decoded) || decoded.iter().filter(|b| !b.is_ascii()).count() >= 64;
    }
    if run.len() >= LONG_RUN {
        return true;
    }
    // Hex within the run (a word may be glued to it), read from either alignment.
    let hex_image = run
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|hex| hex.len() >= SHORT_RUN)
        .any(|hex| (0..2).any(|skip| starts_like_an_image(&hex_decode(&hex[skip..]))));
    if hex_image {
        return true;
    }
    base64_decodings(run).any(|bytes| starts_like_an_image(&bytes))
}

/// Every base64 reading of a run (standard and URL-safe, padded or not), and of its tails: a run may
/// begin with a word glued to the encoding.
fn base64_decodings(run: &str) -> impl Iterator<Item = Vec<u8>> + '_ {
    const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    const ENGINES: [GeneralPurpose; 2] = [
        GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT),
        GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT),
    ];
    (0..4.min(run.len())).flat_map(move |skip| {
        let tail = &run[skip..];
        // Four characters make three bytes: decode a whole number of quads, padding aside.
        let body = tail.trim_end_matches('=');
        let whole = &body[..body.len() - body.len() % 4];
        ENGINES.iter().filter_map(move |engine| engine.decode(whole).ok())
    })
}

fn hex_decode(run: &str) -> Vec<u8> {
    run.as_bytes()
        .chunks(2)
        .filter_map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

fn percent_decode(run: &str) -> Vec<u8> {
    let bytes = run.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = bytes
                .get(i + 1..i + 3)
                .and_then(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The magic numbers of the image formats phones and browsers make, wherever they start in `bytes`.
fn starts_like_an_image(bytes: &[u8]) -> bool {
    const MAGIC: [&[u8]; 6] = [
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
        b"GIF87a",
        b"GIF89a",
        b"II*\x00",
        b"MM\x00*",
    ];
    let riff_webp =
        |at: usize| bytes.get(at..at + 4) == Some(b"RIFF") && bytes.get(at + 8..at + 12) == Some(b"WEBP");
    let iso_media = |at: usize| {
        bytes.get(at + 4..at + 8) == Some(b"ftyp")
            && bytes.get(at + 8..at + 12).is_some_and(|brand| {
                [b"heic", b"heix", b"mif1", b"msf1", b"avif", b"heim", b"hevc"]
                    .iter()
                    .any(|b| brand == *b)
            })
    };
    let bmp =
        |at: usize| bytes.get(at..at + 2) == Some(b"BM") && bytes.get(at + 6..at + 10) == Some(&[0, 0, 0, 0]);
    (0..bytes.len()).any(|at| {
        MAGIC.iter().any(|magic| bytes[at..].starts_with(magic)) || riff_webp(at) || iso_media(at) || bmp(at)
    })
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use serde_json::json;

    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01";

    fn refused(text: &str) -> bool {
        offers_images(&json!({ "description": text }))
    }

    #[test]
    fn file_fields_anywhere_are_images() {
        assert!(offers_images(&json!({"summary": "x", "attachments": []})));
        assert!(offers_images(&json!({"Image": "x"})));
        assert!(offers_images(&json!({"people": [{"PHOTOS": null}]})));
    }

    #[test]
    fn data_uris_of_any_case_and_media_type_are_images() {
        for uri in [
            "see data:image/png;base64,iVBORw0",
            "DATA:IMAGE/JPEG;BASE64,/9j/4AAQ",
            "Data:application/octet-stream;base64,AAAA",
            "data:;base64,AAAA",
            "data:,raw",
            "data:text/plain;charset=utf-8,hello",
            "(data:image/svg+xml;utf8,<svg/>)",
        ] {
            assert!(refused(uri), "{uri}");
        }
    }

    #[test]
    fn base64_hex_and_percent_encoded_images_are_images() {
        for bytes in [
            PNG,
            JPEG,
            b"GIF89a\x01\x00" as &[u8],
            b"RIFF\x10\x00\x00\x00WEBPVP8 ",
        ] {
            let standard = STANDARD.encode(bytes);
            let url_safe = URL_SAFE_NO_PAD.encode(bytes);
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let percent: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
            for encoded in [standard, url_safe, hex.clone(), hex.to_uppercase(), percent] {
                assert!(refused(&format!("here it is: {encoded}")), "{encoded}");
                assert!(refused(&format!("glued{encoded}")), "glued {encoded}");
            }
        }
        let heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00";
        assert!(refused(&STANDARD.encode(heic)));
    }

    #[test]
    fn raw_image_bytes_sent_as_escapes_are_images() {
        let raw: String = PNG.iter().map(|b| char::from(*b)).collect();
        assert!(refused(&raw));
        assert!(offers_images(
            &serde_json::from_str(r#"{"note": "\u00ff\u00d8\u00ff\u00e0 JFIF"}"#).unwrap()
        ));
    }

    #[test]
    fn any_long_encoded_run_is_binary_whatever_it_decodes_to() {
        assert!(refused(&"QUJD".repeat(100)));
        assert!(refused(&"0a1b".repeat(100)));
    }

    #[test]
    fn what_schools_write_is_not_an_image() {
        for text in [
            "an image was shared in the year 6 group chat; png screenshots were deleted",
            "Personal data: names and addresses were in the spreadsheet",
            "IWF reference IWF-2026-118734; police KENT-46/211120/26",
            "https://www.example.com/some/long/path/to/a/page?query=value&other=thing",
            "Pupil UPN A123456789012; device asset tag LAPTOP-00412; MIS id 5f2c9a1e-77b0-4c1d-9a55-0c3f7e2b8d11",
            "The account name was xX_DarkKnight_2012_Xx and the server was discord",
        ] {
            assert!(!refused(text), "{text}");
        }
    }
}
