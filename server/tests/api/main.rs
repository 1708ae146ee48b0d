//! Integration tests, all in one binary. Each test runs once on SQLite and once on PostgreSQL
//! (when `IH_TEST_DATABASE_URL` is set), each time with its own database, hub and receivers.

mod helpers;

mod analytics;
mod api_keys;
mod crash;
mod delivery;
mod echo;
mod event_types;
mod fairness;
mod foundation;
mod integrators;
mod maintenance;
mod openapi;
mod operations;
mod pages;
mod payload_filters;
mod replay;
mod retention;
mod rotation;
mod shared_limits;
mod slack;
mod telemetry;
mod transformations;
