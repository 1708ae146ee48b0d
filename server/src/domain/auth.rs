//! Who is calling, and what they may touch.

use crate::crypto::sha256_hex;
use crate::error::{Error, Result};

use super::Hub;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The operator token: every tenant, and the only one that manages tenants.
    Operator,
}

impl Principal {
    /// The actor as the audit log records it.
    pub fn actor(&self) -> String {
        match self {
            Principal::Operator => "operator".into(),
        }
    }

    /// Only the operator manages tenants.
    pub fn require_operator(&self) -> Result<()> {
        match self {
            Principal::Operator => Ok(()),
        }
    }

    /// A principal may act on a tenant's resources only inside its own tenant; another tenant
    /// answers 404 so its existence is not revealed.
    pub fn require_tenant(&self, _tenant_id: &str) -> Result<()> {
        match self {
            Principal::Operator => Ok(()),
        }
    }
}

impl Hub {
    /// Resolves a bearer credential. The operator token is compared by hash, so its plaintext is
    /// never kept in memory after start.
    pub async fn authenticate(&self, credential: &str) -> Result<Principal> {
        if sha256_hex(credential.as_bytes()) == self.operator_token_hash {
            return Ok(Principal::Operator);
        }
        Err(Error::Unauthorized)
    }
}
