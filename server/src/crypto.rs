//! Secrets at rest and random tokens. Signing secrets are sealed with AES-256-GCM under the
//! master key (`IH_MASTER_KEY`, or a key generated into the data folder on first start).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

use crate::error::{Error, Result};

const NONCE_LEN: usize = 12;

#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
    /// The key of [`MasterKey::mark`], derived from the master key so that neither use can
    /// stand in for the other.
    mark_key: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// From `IH_MASTER_KEY` (64 hex characters or base64 of 32 bytes) if set; otherwise from
    /// `master.key` in the data folder, created (mode 0600) on first start.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Self, String> {
        if let Some(text) = configured {
            return Self::parse(text.trim())
                .ok_or_else(|| "IH_MASTER_KEY: expected 64 hex characters or base64 of 32 bytes".into());
        }
        let path = data_dir.join("master.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Self::parse(text.trim()).ok_or_else(|| format!("{}: not a valid master key", path.display()));
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        write_private(&path, &hex::encode(bytes)).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Self::from_bytes(&bytes))
    }

    fn parse(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok().or_else(|| base64::engine::general_purpose::STANDARD.decode(text).ok())?;
        (bytes.len() == 32).then(|| Self::from_bytes(&bytes))
    }

    pub fn from_bytes(bytes: &[u8]) -> Self {
        MasterKey {
            cipher: Aes256Gcm::new_from_slice(bytes).expect("32-byte key"),
            mark_key: Sha256::new().chain_update(b"integrations-hub mark key\0").chain_update(bytes).finalize().into(),
        }
    }

    /// A keyed fingerprint of a secret (HMAC-SHA256, hex): the same for the same secret under
    /// the same master key, so it tells whether a secret changed; and, unlike a plain hash,
    /// someone who reads only the database has nothing to test guesses of the secret against.
    pub fn mark(&self, secret: &[u8]) -> String {
        hex::encode(hmac::Mac::finalize(mac(&self.mark_key, &[secret])).into_bytes())
    }

    /// `nonce || ciphertext+tag`.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut out = nonce.to_vec();
        out.extend(
            self.cipher
                .encrypt(Nonce::from_slice(&nonce), plaintext)
                .expect("AES-GCM encryption does not fail for in-memory data"),
        );
        out
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::Internal("sealed secret is truncated".into()));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| Error::Internal("a secret does not decrypt: was IH_MASTER_KEY changed?".into()))
    }

    pub fn open_string(&self, sealed: &[u8]) -> Result<String> {
        String::from_utf8(self.open(sealed)?).map_err(|_| Error::Internal("a sealed secret is not UTF-8".into()))
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub(crate) type HmacSha256 = hmac::Hmac<Sha256>;

/// HMAC-SHA256 over `parts` in order (signatures, and the master key's fingerprints).
pub(crate) fn mac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    let mut mac = <HmacSha256 as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        hmac::Mac::update(&mut mac, part);
    }
    mac
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// An opaque random token for sessions and generated operator tokens.
pub fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(random_bytes::<32>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key() {
        let key = MasterKey::from_bytes(&[7; 32]);
        let sealed = key.seal(b"whsec_abc");
        assert!(!sealed.windows(9).any(|w| w == b"whsec_abc"), "plaintext must not show");
        assert_eq!(key.open(&sealed).unwrap(), b"whsec_abc");
        assert!(MasterKey::from_bytes(&[8; 32]).open(&sealed).is_err());
    }

    #[test]
    fn a_mark_is_keyed_by_the_master_key_and_is_no_plain_hash() {
        let key = MasterKey::from_bytes(&[7; 32]);
        let mark = key.mark(b"an-operator-token");
        assert_eq!(mark, MasterKey::from_bytes(&[7; 32]).mark(b"an-operator-token"));
        assert_ne!(mark, key.mark(b"another-operator-token"));
        assert_ne!(mark, MasterKey::from_bytes(&[8; 32]).mark(b"an-operator-token"));
        assert_ne!(mark, sha256_hex(b"an-operator-token"));
    }

    #[test]
    fn a_generated_master_key_is_kept_in_the_data_folder() {
        let dir = crate::scratch::ScratchDir::new();
        let first = MasterKey::load(None, dir.path()).unwrap();
        let sealed = first.seal(b"x");
        let second = MasterKey::load(None, dir.path()).unwrap();
        assert_eq!(second.open(&sealed).unwrap(), b"x");
        assert!(MasterKey::load(Some("short"), dir.path()).is_err());
    }
}
