//! The API key's token format, and the address lists a key may be limited to: what checking a
//! credential needs, below both the key lifecycle (`keys`) and authentication (`auth`).

use rand::Rng;
use sha2::{Digest, Sha256};

use crate::crypto::sha256_hex;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 43 base62 characters carry 256 bits of entropy.
const BODY_LEN: usize = 43;
const CHECK_LEN: usize = 6;
pub const KEY_PREFIX: &str = "sk_";
pub const KEY_ID_PREFIX: &str = "key";

/// A well-formed key: `sk_` + 43 random base62 characters + a 6-character checksum of them.
/// The checksum lets a typo or a truncated paste be refused without a database look-up, and
/// lets secret scanners recognise a real key.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyToken(String);

impl std::fmt::Debug for ApiKeyToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeyToken({}…)", &self.0[..KEY_PREFIX.len() + 8])
    }
}

impl ApiKeyToken {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let body: String = (0..BODY_LEN).map(|_| ALPHABET[rng.random_range(0..62)] as char).collect();
        let check = checksum(&body);
        ApiKeyToken(format!("{KEY_PREFIX}{body}{check}"))
    }

    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(KEY_PREFIX)?;
        if rest.len() != BODY_LEN + CHECK_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let (body, check) = rest.split_at(BODY_LEN);
        (checksum(body) == check).then(|| ApiKeyToken(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }

    /// What the UI shows: enough to recognise, not to use.
    pub fn display_prefix(&self) -> String {
        self.0[..KEY_PREFIX.len() + 8].to_string()
    }
}

fn checksum(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let mut n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (0..CHECK_LEN)
        .map(|_| {
            let c = ALPHABET[(n % 62) as usize] as char;
            n /= 62;
            c
        })
        .collect()
}

/// An address or a CIDR (an address alone is a /32 or /128).
pub fn parse_cidr(text: &str) -> Option<ipnet::IpNet> {
    text.parse::<ipnet::IpNet>().ok().or_else(|| text.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}
