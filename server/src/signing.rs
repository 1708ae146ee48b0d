//! Signatures a receiver can verify: Standard Webhooks (`webhook-signature: v1,<base64>`) and
//! the classic hex `X-Webhook-Signature` over `"{timestamp}.{body}"`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::Mac;

use crate::crypto::mac;

/// The HMAC key of a Standard Webhooks secret: the base64 after `whsec_`, or, for a custom
/// secret that is not such, the secret's own bytes.
pub fn standard_key(secret: &str) -> Vec<u8> {
    secret.strip_prefix("whsec_").and_then(|b64| B64.decode(b64).ok()).unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`.
pub fn standard_signature(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let tag = mac(key, &[msg_id.as_bytes(), b".", ts.as_bytes(), b".", body]).finalize().into_bytes();
    format!("v1,{}", B64.encode(tag))
}

/// Hex HMAC-SHA256 of `"{timestamp}.{body}"`, keyed by the secret string's bytes.
pub fn classic_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    hex::encode(mac(secret.as_bytes(), &[ts.as_bytes(), b".", body]).finalize().into_bytes())
}

/// Checks a `webhook-signature` header against any of the given secrets, the way a receiver
/// would (used by the echo inspector and the tests).
pub fn verify_standard(secrets: &[&str], msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    secrets.iter().any(|secret| {
        let expected = standard_signature(&standard_key(secret), msg_id, timestamp, body);
        header.split(' ').any(|candidate| constant_time_eq(candidate.as_bytes(), expected.as_bytes()))
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A generated secret: `whsec_` + base64 of 32 random bytes.
pub fn generate_secret() -> String {
    format!("whsec_{}", B64.encode(crate::crypto::random_bytes::<32>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known answers from the Standard Webhooks specification's libraries (see API.md).
    #[test]
    fn standard_signature_matches_the_specification_vectors() {
        let key = standard_key("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
        assert_eq!(
            standard_signature(
                &key,
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                br#"{"email":"test@example.com","username":"test_user"}"#
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
        let key = standard_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(
            standard_signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_custom_secret_signs_with_its_own_bytes() {
        assert_eq!(standard_key("my-custom-secret-123"), b"my-custom-secret-123");
    }

    #[test]
    fn classic_signature_is_hex_hmac_of_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac 'secret-of-16-chars'
        let sig = classic_signature("secret-of-16-chars", 1700000000, b"{}");
        assert_eq!(sig, "0697daecccb07d8201dae7bfbcf2dcbe1110628b1c0574a7559644220763429d");
        assert_ne!(sig, classic_signature("secret-of-16-chars", 1700000001, b"{}"));
    }

    #[test]
    fn verification_accepts_any_listed_signature_and_rejects_tampering() {
        let (old, new) = ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", generate_secret());
        let sig_old = standard_signature(&standard_key(old), "m", 5, b"body");
        let sig_new = standard_signature(&standard_key(&new), "m", 5, b"body");
        let header = format!("{sig_new} {sig_old}");
        assert!(verify_standard(&[old], "m", 5, b"body", &header));
        assert!(verify_standard(&[&new], "m", 5, b"body", &header));
        assert!(!verify_standard(&[old], "m", 5, b"bodY", &header));
    }
}
