//! A value that must never be printed: the operator token, the master key, a bot token, a
//! database URL (it may carry a password). `Debug` shows `[redacted]`; reading it takes
//! [`Secret::expose`], which is easy to find in review.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_with_known_secrets_prints_none_of_them() {
        let secrets = [
            ("IH_ADMIN_TOKEN", "operator-token-0123456789abcdefXYZ"),
            ("IH_MASTER_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
            ("IH_SLACK_BOT_TOKEN", "xoxb-slack-secret-4242"),
            ("IH_DATABASE_URL", "postgres://hub:db-password-77@127.0.0.1/hub"),
        ];
        let config = crate::config::Config::from_lookup(|name| {
            secrets.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        })
        .unwrap();
        let printed = format!("{config:?} {config:#?}");
        for (name, value) in secrets {
            assert!(!printed.contains(value), "{name} printed: {printed}");
        }
        assert!(printed.contains("[redacted]"));
        assert_eq!(config.admin_token.as_ref().map(Secret::expose), Some(secrets[0].1), "still readable");
    }
}
