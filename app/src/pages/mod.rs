//! One module per page; `layout` holds what they share (navigation, the session guard).

pub mod audit;
pub mod charts;
pub mod dashboard;
pub mod deliveries;
pub mod echo;
pub mod event_types;
pub mod keys;
pub mod layout;
pub mod login;
pub mod pager;
pub mod slack;
pub mod tenants;
pub mod url_filters;
pub mod webhooks;
