//! The DfE's Unique Pupil Number: 13 characters, a check letter, the local-authority number (3 digits),
//! the establishment number (4), the year of allocation (2) and a serial (3). A temporary UPN ends in
//! a letter instead of the last digit.
//!
//! The check letter: each of characters 2–13 times its position, summed, mod 23, indexed into
//! [`ALPHABET`]; a letter in position 13 counts as its index in the same alphabet. A wrong check
//! letter is an error (the number was mistyped); a local-authority number we do not know only a
//! warning, since published lists differ.

/// The letters of a UPN: no I, O or S.
const ALPHABET: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";

/// English and Welsh local-authority numbers as Get Information about Schools lists them, as ranges.
const AUTHORITIES: &[(u16, u16)] = &[
    (201, 213),
    (301, 320),
    (330, 336),
    (340, 344),
    (350, 359),
    (370, 373),
    (380, 384),
    (390, 394),
    (420, 420),
    (660, 681),
    (800, 803),
    (805, 808),
    (810, 813),
    (815, 816),
    (820, 826),
    (830, 831),
    (835, 841),
    (845, 846),
    (850, 852),
    (855, 857),
    (860, 861),
    (865, 896),
    (908, 909),
    (916, 916),
    (919, 919),
    (921, 921),
    (925, 926),
    (928, 929),
    (931, 931),
    (933, 933),
    (935, 943),
];

/// A UPN that passed its check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upn {
    /// Upper-cased, without surrounding space.
    pub text: String,
    pub temporary: bool,
    /// Said about it, not wrong with it (an authority number we do not know).
    pub warning: Option<String>,
}

/// Why a UPN is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpnError {
    /// Not 13 characters of the right kinds.
    Shape,
    /// The first letter is not the one the other twelve give.
    CheckLetter { expected: char },
}

impl std::fmt::Display for UpnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpnError::Shape => f.write_str(
                "is not a UPN: a letter, eleven digits, then a digit (or a letter, for a temporary UPN)",
            ),
            UpnError::CheckLetter { expected } => {
                write!(
                    f,
                    "has the wrong check letter (the digits give {expected}); it was probably mistyped"
                )
            }
        }
    }
}

fn letter_index(letter: u8) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&known| known == letter)
        .map(|index| index as u32)
}

impl Upn {
    pub fn parse(text: &str) -> Result<Upn, UpnError> {
        let text = text.trim().to_ascii_uppercase();
        let bytes = text.as_bytes();
        if bytes.len() != 13 || letter_index(bytes[0]).is_none() {
            return Err(UpnError::Shape);
        }
        let expected = check_letter(&bytes[1..]).ok_or(UpnError::Shape)?;
        if char::from(bytes[0]) != expected {
            return Err(UpnError::CheckLetter { expected });
        }
        let temporary = bytes[12].is_ascii_alphabetic();
        let authority: u16 = text[1..4].parse().expect("three digits");
        let known = AUTHORITIES
            .iter()
            .any(|(first, last)| (*first..=*last).contains(&authority));
        Ok(Upn {
            warning: (!known).then(|| format!("local-authority number {authority} is not one we know")),
            text,
            temporary,
        })
    }
}

/// The check letter of the twelve characters after it: eleven digits, then a digit or a letter.
fn check_letter(rest: &[u8]) -> Option<char> {
    if rest.len() != 12 || !rest[..11].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let last = match rest[11] {
        digit @ b'0'..=b'9' => u32::from(digit - b'0'),
        letter => letter_index(letter)?,
    };
    let sum: u32 = rest[..11]
        .iter()
        .zip(2..)
        .map(|(digit, position)| u32::from(digit - b'0') * position)
        .sum::<u32>()
        + last * 13;
    Some(char::from(ALPHABET[(sum % 23) as usize]))
}

/// The UPN these twelve characters make with their check letter in front: how made-up pupils (the
/// dev roster, the tests) get valid numbers.
pub fn with_check_letter(rest: &str) -> Option<String> {
    Some(format!("{}{rest}", check_letter(rest.as_bytes())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dfe_worked_example_is_valid() {
        let upn = Upn::parse("B801200005001").unwrap();
        assert_eq!(upn.text, "B801200005001");
        assert!(!upn.temporary);
        assert_eq!(upn.warning, None, "801 is Bristol");
    }

    #[test]
    fn a_wrong_check_letter_is_an_error_that_names_the_right_one() {
        assert_eq!(
            Upn::parse("C801200005001"),
            Err(UpnError::CheckLetter { expected: 'B' })
        );
        // One digit mistyped changes the check.
        assert!(matches!(
            Upn::parse("B801200005002"),
            Err(UpnError::CheckLetter { .. })
        ));
    }

    #[test]
    fn a_temporary_upn_ends_in_a_letter_counted_by_its_place_in_the_alphabet() {
        let temporary = with_check_letter("88612341900A").unwrap();
        let upn = Upn::parse(&temporary.to_lowercase()).unwrap();
        assert!(upn.temporary);
        assert_eq!(upn.text, temporary, "upper-cased");
        let mut wrong = temporary.into_bytes();
        wrong[12] = b'B';
        assert!(matches!(
            Upn::parse(std::str::from_utf8(&wrong).unwrap()),
            Err(UpnError::CheckLetter { .. })
        ));
    }

    #[test]
    fn an_unknown_authority_is_a_warning_not_an_error() {
        let upn = Upn::parse(&with_check_letter("999123424001").unwrap()).unwrap();
        assert_eq!(
            upn.warning.as_deref(),
            Some("local-authority number 999 is not one we know")
        );
        assert_eq!(
            Upn::parse(&with_check_letter("886123424001").unwrap())
                .unwrap()
                .warning,
            None,
            "Kent"
        );
    }

    #[test]
    fn anything_not_shaped_like_a_upn_is_refused() {
        for text in [
            "",
            "B80120000500",
            "B8012000050011",
            "I801200005001",
            "O801200005001",
            "S801200005001",
            "1801200005001",
            "B80120000500I",
            "B8012000X5001",
            "B80120000500é",
        ] {
            assert_eq!(Upn::parse(text), Err(UpnError::Shape), "{text:?}");
        }
    }
}
