//! The deployment's pseudonym secret. Every pseudonym the platform shows or publishes is a keyed hash
//! (HMAC-SHA256) under it, separate per purpose and per trust: holding a record's id, or a person's
//! token subject, tells nothing of their pseudonym without the secret, and a pseudonym from one trust
//! or purpose cannot be matched with another's. In production the secret is `TRUSTSAFE_PSEUDONYM_SECRET`
//! (base64, at least 32 bytes); `trustsafe dev` makes one in its data dir. Changing it changes every
//! pseudonym (a rebuilt read model shows new ones).

use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub struct PseudonymKey {
    secret: Vec<u8>,
}

/// What a pseudonym is for: each purpose hashes under a key of its own.
#[derive(Clone, Copy, Debug)]
pub enum Purpose {
    /// A case on the trust's pseudonymised list.
    Case,
    /// Who did something, as the shared log names them.
    Actor,
    /// Someone alleged to be involved in a concern: a key apart from `Actor`'s, so the log cannot
    /// tie an allegation to the person's own actions.
    Alleged,
    /// A directory account name (what a web filter logs), so the roster and the filtering service
    /// can match a user name without the log carrying it.
    Account,
    /// A host a filter blocked, so reporting can see the same host at two schools of a trust
    /// without the log naming it.
    Host,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Case => b"trustsafe case pseudonym v1",
            Purpose::Actor => b"trustsafe actor pseudonym v1",
            Purpose::Alleged => b"trustsafe alleged pseudonym v1",
            Purpose::Account => b"trustsafe account hash v1",
            Purpose::Host => b"trustsafe host key v1",
        }
    }
}

const MIN_SECRET_BYTES: usize = 32;

impl PseudonymKey {
    /// From its base64 text (`TRUSTSAFE_PSEUDONYM_SECRET`).
    pub fn from_base64(text: &str) -> Result<Self> {
        let secret = STANDARD
            .decode(text.trim())
            .context("the pseudonym secret is not base64")?;
        if secret.len() < MIN_SECRET_BYTES {
            bail!(
                "the pseudonym secret must be at least {MIN_SECRET_BYTES} bytes, not {}",
                secret.len()
            );
        }
        Ok(Self { secret })
    }

    /// A new random secret (the tests', or a first dev start's).
    pub fn generate() -> Self {
        let secret: [u8; 32] = rand::random();
        Self {
            secret: secret.to_vec(),
        }
    }

    /// The secret kept at `path` (base64, readable by its owner alone), made on first use.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        if let Ok(text) = std::fs::read_to_string(path) {
            return Self::from_base64(&text).with_context(|| format!("reading {}", path.display()));
        }
        let key = Self::generate();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        write_private(path, &STANDARD.encode(&key.secret))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(key)
    }

    /// The HMAC keyed for `purpose` within trust `trust_id`, ready to hash many values.
    fn keyed(&self, purpose: Purpose, trust_id: &str) -> Hmac<Sha256> {
        let mut derive = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        derive.update(purpose.label());
        derive.update(&[0]);
        derive.update(trust_id.as_bytes());
        let key = derive.finalize().into_bytes();
        Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length")
    }

    /// The keyed hash of `data` for `purpose` within trust `trust_id`.
    fn mac(&self, purpose: Purpose, trust_id: &str, data: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed(purpose, trust_id);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// The keyed hash of a directory account name within a trust, as the aup topic carries it: the
    /// name trimmed and lower-cased first (`RAPS\JSmith ` and `raps\jsmith` are one account), then
    /// 128 bits in hex, enough that two accounts of a trust never share one.
    pub fn account_hash(&self, trust_id: &str, account: &str) -> String {
        self.account_hasher(trust_id).hash(account)
    }

    /// Hashes a trust's account names with the key derived once (a roster of thousands hashes
    /// thousands of names).
    pub fn account_hasher(&self, trust_id: &str) -> NameHasher {
        NameHasher {
            keyed: self.keyed(Purpose::Account, trust_id),
        }
    }

    /// Keys a trust's blocked hosts (`www.Casino.example` and `www.casino.example` are one host).
    pub fn host_hasher(&self, trust_id: &str) -> NameHasher {
        NameHasher {
            keyed: self.keyed(Purpose::Host, trust_id),
        }
    }

    /// `mac` as 60 bits in Crockford's base 32, grouped for reading aloud: `K7Q2-9XMP-3TZA`.
    pub fn pseudonym(&self, purpose: Purpose, trust_id: &str, data: &[u8]) -> String {
        const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let mac = self.mac(purpose, trust_id, data);
        let bits = u64::from_be_bytes(mac[..8].try_into().expect("eight bytes")) >> 4;
        let symbols: String = (0..12)
            .map(|n| CROCKFORD[((bits >> (55 - 5 * n)) & 31) as usize] as char)
            .collect();
        format!("{}-{}-{}", &symbols[..4], &symbols[4..8], &symbols[8..])
    }
}

/// Keyed hashes of names (accounts, hosts) for one trust and purpose, the key derived once.
pub struct NameHasher {
    keyed: Hmac<Sha256>,
}

impl NameHasher {
    /// The name trimmed and lower-cased, hashed: 128 bits in hex.
    pub fn hash(&self, name: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(name.trim().to_lowercase().as_bytes());
        let mac = mac.finalize().into_bytes();
        mac[..16].iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_has_one_key_in_a_trust_apart_from_an_account_of_the_same_name() {
        let key = PseudonymKey::generate();
        let hosts = key.host_hasher("viking");
        assert_eq!(
            hosts.hash("WWW.Casino.example "),
            hosts.hash("www.casino.example")
        );
        assert_ne!(
            hosts.hash("casino.example"),
            key.account_hash("viking", "casino.example")
        );
        assert_ne!(
            hosts.hash("casino.example"),
            key.host_hasher("claremont").hash("casino.example")
        );
    }

    #[test]
    fn pseudonyms_depend_on_the_secret_the_trust_and_the_purpose() {
        let key = PseudonymKey::generate();
        let other = PseudonymKey::generate();
        let id = b"0190c0de-0000-7000-8000-000000000001";
        let name = key.pseudonym(Purpose::Case, "viking", id);
        assert_eq!(name, key.pseudonym(Purpose::Case, "viking", id), "stable");
        assert_eq!(name.len(), 14);
        assert_ne!(name, other.pseudonym(Purpose::Case, "viking", id), "keyed");
        assert_ne!(name, key.pseudonym(Purpose::Case, "claremont", id), "per trust");
        assert_ne!(name, key.pseudonym(Purpose::Actor, "viking", id), "per purpose");
    }

    #[test]
    fn an_account_hash_ignores_case_and_surrounding_space_but_not_the_trust() {
        let key = PseudonymKey::generate();
        let hash = key.account_hash("viking", "RAPS\\JSmith ");
        assert_eq!(hash, key.account_hash("viking", "raps\\jsmith"));
        assert_eq!(hash.len(), 32);
        assert_ne!(hash, key.account_hash("claremont", "raps\\jsmith"));
        assert_ne!(hash, key.account_hash("viking", "raps\\jsmith2"));
    }

    #[test]
    fn a_short_or_garbled_secret_is_refused() {
        assert!(PseudonymKey::from_base64("c2hvcnQ=").is_err());
        assert!(PseudonymKey::from_base64("not base64!").is_err());
        assert!(PseudonymKey::from_base64(&STANDARD.encode([7u8; 32])).is_ok());
    }
}
