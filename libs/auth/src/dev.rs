//! The dev identity of `trustsafe dev`: an Ed25519 signing key kept in the data dir, its JWKS, and
//! tokens minted for demo users. Its issuer is refused anywhere dev mode is off.

use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::{Grants, KeySource};

pub const DEV_ISSUER: &str = "trustsafe-dev";
pub const AUDIENCE: &str = "trustsafe";
const KEY_FILE: &str = "dev-signing-key";

/// PKCS#8 v1 framing of a raw Ed25519 seed (RFC 8410).
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// SubjectPublicKeyInfo framing of a raw Ed25519 public key (RFC 8410).
const SPKI_ED25519_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

pub struct DevIdentity {
    signing: EncodingKey,
    kid: String,
    public_x: String,
    issuer: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    iat: u64,
    nbf: u64,
    exp: u64,
    trustsafe: &'a Grants,
}

impl DevIdentity {
    /// The key in `dir`, made on first use and kept (readable by its owner only), so tokens printed
    /// by one start still work after the next.
    pub fn load_or_create(dir: &Path) -> io::Result<Self> {
        let path = dir.join(KEY_FILE);
        let seed: [u8; 32] = match std::fs::read_to_string(&path) {
            Ok(text) => URL_SAFE_NO_PAD
                .decode(text.trim())
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{} is not a key", path.display()),
                    )
                })?,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let seed: [u8; 32] = rand::random();
                std::fs::create_dir_all(dir)?;
                write_private(&path, URL_SAFE_NO_PAD.encode(seed).as_bytes())?;
                seed
            }
            Err(err) => return Err(err),
        };
        Ok(Self::from_seed(seed))
    }

    fn from_seed(seed: [u8; 32]) -> Self {
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        let der = [PKCS8_ED25519_PREFIX.as_slice(), &seed].concat();
        Self {
            signing: EncodingKey::from_ed_der(&der),
            kid: format!("dev-{}", URL_SAFE_NO_PAD.encode(&public[..9])),
            public_x: URL_SAFE_NO_PAD.encode(public),
            issuer: DEV_ISSUER.into(),
        }
    }

    /// The same key minting as `issuer`: an identity provider of a bench's own, whose tokens
    /// services outside dev mode accept when given [`DevIdentity::public_key_pem`], as they would
    /// a real issuer's.
    pub fn issuing_as(mut self, issuer: &str) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// The public half as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo, RFC 8410), for
    /// `TRUSTSAFE_AUTH_PUBLIC_KEY_FILE`.
    pub fn public_key_pem(&self) -> String {
        let public = URL_SAFE_NO_PAD
            .decode(&self.public_x)
            .expect("the public key was encoded here");
        let der = [SPKI_ED25519_PREFIX.as_slice(), &public].concat();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    }

    /// The public half as a JWK set, as `/.well-known/jwks.json` serves it.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "x": self.public_x,
            "kid": self.kid, "alg": "EdDSA", "use": "sig"
        }]})
    }

    pub fn key_source(&self) -> KeySource {
        let set: JwkSet = serde_json::from_value(self.jwks()).expect("the dev JWKS is a JWK set");
        KeySource::jwk_set(&set)
    }

    /// A signed token for `subject` with `grants`, valid for `ttl`.
    pub fn mint(&self, subject: &str, name: Option<&str>, grants: &Grants, ttl: Duration) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = Claims {
            iss: &self.issuer,
            aud: AUDIENCE,
            sub: subject,
            name,
            iat: now,
            nbf: now,
            exp: now + ttl.as_secs(),
            trustsafe: grants,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.signing).expect("an Ed25519 key signs")
    }
}

fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)
}
