//! From a vendor's category and grading to the platform's: the UK Safer Internet Centre's categories
//! (plus a school's own) and one severity scale, 1 to 5, where 5 is illegal content. The mapping is
//! data: built-in rules for the words vendors use, and rules a school adds. Illegal content is found
//! before any rule is read, so no rule can map it to something milder.

use std::collections::HashMap;

use trustsafe_events::filtering::CategoryRule;

/// The categories every school has, after the UK Safer Internet Centre's appropriate-filtering list
/// (hate speech apart from discrimination since 2024), `uncategorised` for what no rule names.
pub const STANDARD: [&str; 12] = [
    "illegal",
    "discrimination",
    "hate_speech",
    "drugs",
    "extremism",
    "gambling",
    "malware_hacking",
    "pornography",
    "piracy",
    "self_harm",
    "violence",
    "uncategorised",
];

pub const ILLEGAL: &str = "illegal";
pub const ILLEGAL_SEVERITY: u8 = 5;

/// Words that mark content on the IWF's child abuse list or the police-assessed list of unlawful
/// terrorist content, whatever else the vendor's text says.
const ILLEGAL_MARKERS: [&str; 9] = [
    "iwf",
    "child abuse",
    "child sexual abuse",
    "csam",
    "indecent images of children",
    "unlawful terrorist",
    "terrorist content",
    "ctiru",
    "police assessed",
];

/// (vendor words, category, severity): matched exactly, else as a part of the vendor's text.
const BUILT_IN: &[(&str, &str, u8)] = &[
    ("extremism", "extremism", 4),
    ("extremist", "extremism", 4),
    ("radicalisation", "extremism", 4),
    ("radicalization", "extremism", 4),
    ("terrorism", "extremism", 4),
    ("self harm", "self_harm", 4),
    ("self-harm", "self_harm", 4),
    ("suicide", "self_harm", 4),
    ("eating disorder", "self_harm", 4),
    ("pornography", "pornography", 4),
    ("porn", "pornography", 4),
    ("adult content", "pornography", 4),
    ("adult", "pornography", 4),
    ("nudity", "pornography", 4),
    ("sexual", "pornography", 4),
    ("hate speech", "hate_speech", 3),
    ("hate", "hate_speech", 3),
    ("intolerance", "hate_speech", 3),
    ("discrimination", "discrimination", 3),
    ("racism", "discrimination", 3),
    ("violence", "violence", 3),
    ("weapons", "violence", 3),
    ("criminal activity", "violence", 3),
    ("abuse", "violence", 3),
    ("bullying", "violence", 3),
    ("drugs", "drugs", 3),
    ("substance abuse", "drugs", 3),
    ("alcohol", "drugs", 2),
    ("tobacco", "drugs", 2),
    ("gambling", "gambling", 2),
    ("malware", "malware_hacking", 2),
    ("hacking", "malware_hacking", 2),
    ("phishing", "malware_hacking", 2),
    ("malicious", "malware_hacking", 2),
    ("proxy avoidance", "malware_hacking", 2),
    ("anonymizer", "malware_hacking", 2),
    ("anonymiser", "malware_hacking", 2),
    ("piracy", "piracy", 2),
    ("copyright", "piracy", 2),
    ("peer-to-peer", "piracy", 2),
    ("games", "gaming", 1),
    ("gaming", "gaming", 1),
    ("social networking", "social_media", 1),
    ("social media", "social_media", 1),
];

/// Why a school's rule cannot be kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    pub field: &'static str,
    pub message: String,
}

/// Whether `category` is written as a category is: a standard one or a school's own, in `a-z`, `0-9`
/// and `_`, at most 40.
pub fn is_category_name(category: &str) -> bool {
    !category.is_empty()
        && category.len() <= 40
        && category
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
}

/// Checks a school's rule: a category is a standard one or a school's own (`a-z`, `0-9`, `_`); 5 is
/// for illegal content alone; no rule may touch text that marks illegal content.
pub fn check_rule(rule: &CategoryRule) -> Result<CategoryRule, RuleError> {
    let vendor = rule.vendor.trim().to_lowercase();
    if vendor.is_empty() || vendor.chars().count() > 200 || vendor.contains('\0') {
        return Err(RuleError {
            field: "vendor",
            message: "is 1 to 200 characters, without NUL".into(),
        });
    }
    let category = rule.category.trim();
    if !is_category_name(category) {
        return Err(RuleError {
            field: "category",
            message: "is a standard category or a school's own, in a-z, 0-9 and _ (at most 40)".into(),
        });
    }
    if illegal_marked(&vendor) {
        return Err(RuleError {
            field: "vendor",
            message: "marks illegal content (IWF list, unlawful terrorist content), which no rule may map"
                .into(),
        });
    }
    let severity = match (category == ILLEGAL, rule.severity) {
        (true, _) => ILLEGAL_SEVERITY,
        (false, 1..=4) => rule.severity,
        (false, _) => {
            return Err(RuleError {
                field: "severity",
                message: "is 1 to 4; 5 is for illegal content alone".into(),
            });
        }
    };
    Ok(CategoryRule {
        vendor,
        category: category.to_owned(),
        severity,
    })
}

/// Whether lower-cased text marks illegal content.
pub fn illegal_marked(lower: &str) -> bool {
    ILLEGAL_MARKERS.iter().any(|marker| lower.contains(marker))
}

/// A breach's normalised category (an index into [`Normaliser::category_name`]) and severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Normalised {
    pub category: u16,
    pub severity: u8,
}

/// The built-in rules with a school's own in front, and what this upload has already worked out.
pub struct Normaliser {
    rules: Vec<(String, u16, u8)>,
    names: Vec<String>,
    /// Vendor category → (vendor grading, result): an upload has few of each.
    seen: HashMap<Box<str>, Vec<(Box<str>, Normalised)>>,
}

impl Normaliser {
    /// `school_rules` have been through [`check_rule`].
    pub fn new(school_rules: &[CategoryRule]) -> Self {
        let mut normaliser = Self {
            rules: Vec::new(),
            names: STANDARD.iter().map(|name| (*name).to_owned()).collect(),
            seen: HashMap::new(),
        };
        let school = school_rules
            .iter()
            .map(|rule| (rule.vendor.as_str(), rule.category.as_str(), rule.severity));
        for (vendor, category, severity) in school.chain(BUILT_IN.iter().copied()) {
            let index = normaliser.index_of(category);
            normaliser.rules.push((vendor.to_owned(), index, severity));
        }
        normaliser
    }

    fn index_of(&mut self, category: &str) -> u16 {
        match self.names.iter().position(|name| name == category) {
            Some(index) => index as u16,
            None => {
                self.names.push(category.to_owned());
                (self.names.len() - 1) as u16
            }
        }
    }

    pub fn category_name(&self, index: u16) -> &str {
        &self.names[usize::from(index)]
    }

    pub fn is_illegal(&self, normalised: Normalised) -> bool {
        normalised.category == 0
    }

    /// The category and severity of a vendor's category (several may be listed, `,`, `;` or `|`
    /// apart: the gravest wins) and grading.
    pub fn normalise(&mut self, vendor_category: Option<&str>, vendor_severity: Option<&str>) -> Normalised {
        let (category, severity) = (vendor_category.unwrap_or(""), vendor_severity.unwrap_or(""));
        if let Some(found) = self.seen.get(category).and_then(|gradings| {
            gradings
                .iter()
                .find(|(grading, _)| &**grading == severity)
                .map(|(_, found)| *found)
        }) {
            return found;
        }
        let found = self.work_out(category, severity);
        self.seen
            .entry(category.into())
            .or_default()
            .push((severity.into(), found));
        found
    }

    fn work_out(&self, category: &str, severity: &str) -> Normalised {
        let lower = category.to_lowercase();
        if illegal_marked(&lower) {
            return Normalised {
                category: 0,
                severity: ILLEGAL_SEVERITY,
            };
        }
        let uncategorised = Normalised {
            category: STANDARD.len() as u16 - 1,
            severity: 1,
        };
        let mapped = lower
            .split([',', ';', '|'])
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .filter_map(|part| self.rule_for(part))
            .max_by_key(|found| found.severity)
            .unwrap_or(uncategorised);
        let graded = vendor_grade(severity).unwrap_or(0);
        Normalised {
            category: mapped.category,
            severity: mapped
                .severity
                .max(graded)
                .min(if mapped.category == 0 { 5 } else { 4 }),
        }
    }

    fn rule_for(&self, part: &str) -> Option<Normalised> {
        let exact = self.rules.iter().find(|(vendor, ..)| vendor == part);
        let within = || {
            self.rules
                .iter()
                .find(|(vendor, ..)| part.contains(vendor.as_str()))
        };
        exact
            .or_else(within)
            .map(|&(_, category, severity)| Normalised { category, severity })
    }
}

/// The vendor's grading on our scale, where it is one (a Smoothwall level, a monitor's risk 1–5,
/// Smoothwall's Danger / Caution / Advisory); a syslog level (`warning`) is no grading.
fn vendor_grade(text: &str) -> Option<u8> {
    let text = text.trim();
    if let Ok(level) = text.parse::<u8>() {
        return (1..=5).contains(&level).then_some(level.min(4));
    }
    match text.to_ascii_lowercase().as_str() {
        "danger" | "high" | "critical" | "imminent" => Some(4),
        "caution" | "medium" => Some(3),
        "advisory" | "low" => Some(2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalise(normaliser: &mut Normaliser, category: &str, severity: Option<&str>) -> (String, u8) {
        let found = normaliser.normalise(Some(category), severity);
        (
            normaliser.category_name(found.category).to_owned(),
            found.severity,
        )
    }

    #[test]
    fn vendor_words_map_to_the_standard_categories() {
        let mut normaliser = Normaliser::new(&[]);
        assert_eq!(
            normalise(&mut normaliser, "Gambling", None),
            ("gambling".into(), 2)
        );
        assert_eq!(
            normalise(&mut normaliser, "Adult Content", None),
            ("pornography".into(), 4)
        );
        assert_eq!(
            normalise(&mut normaliser, "Proxy Avoidance", None),
            ("malware_hacking".into(), 2)
        );
        assert_eq!(
            normalise(&mut normaliser, "Online Games", None),
            ("gaming".into(), 1)
        );
        assert_eq!(
            normalise(&mut normaliser, "Shopping", None),
            ("uncategorised".into(), 1)
        );
    }

    #[test]
    fn the_gravest_of_several_categories_wins_and_a_vendor_grading_lifts_but_never_to_illegal() {
        let mut normaliser = Normaliser::new(&[]);
        assert_eq!(
            normalise(&mut normaliser, "Games; Self Harm", None),
            ("self_harm".into(), 4)
        );
        assert_eq!(
            normalise(&mut normaliser, "Gambling", Some("Danger")),
            ("gambling".into(), 4)
        );
        assert_eq!(
            normalise(&mut normaliser, "Gambling", Some("5")),
            ("gambling".into(), 4)
        );
        assert_eq!(
            normalise(&mut normaliser, "Gambling", Some("warning")),
            ("gambling".into(), 2)
        );
    }

    #[test]
    fn illegal_content_is_found_before_any_rule_and_no_rule_may_touch_it() {
        let school = [check_rule(&CategoryRule {
            vendor: "Adult".into(),
            category: "sex_education".into(),
            severity: 1,
        })
        .unwrap()];
        let mut normaliser = Normaliser::new(&school);
        assert_eq!(
            normalise(&mut normaliser, "IWF Child Abuse List", None),
            ("illegal".into(), 5)
        );
        assert_eq!(
            normalise(&mut normaliser, "Adult; Terrorist content (CTIRU)", None),
            ("illegal".into(), 5)
        );
        assert_eq!(
            normalise(&mut normaliser, "Adult", None),
            ("sex_education".into(), 1)
        );
        let hiding = check_rule(&CategoryRule {
            vendor: "IWF".into(),
            category: "uncategorised".into(),
            severity: 1,
        });
        assert_eq!(hiding.unwrap_err().field, "vendor");
    }

    #[test]
    fn school_rules_are_checked() {
        let rule = |category: &str, severity| CategoryRule {
            vendor: "Sports".into(),
            category: category.into(),
            severity,
        };
        assert_eq!(
            check_rule(&rule("Sports Betting", 2)).unwrap_err().field,
            "category"
        );
        assert_eq!(check_rule(&rule("gambling", 5)).unwrap_err().field, "severity");
        assert_eq!(check_rule(&rule("illegal", 1)).unwrap().severity, 5);
        assert_eq!(check_rule(&rule("esports", 2)).unwrap().vendor, "sports");
    }
}
