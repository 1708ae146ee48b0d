//! One module per page; `layout` holds what they share (navigation, the session guard).

pub mod deliveries;
pub mod keys;
pub mod layout;
pub mod login;
pub mod tenants;
pub mod webhooks;
