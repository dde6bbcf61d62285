//! The store: durable state through sea-orm, on SQLite (embedded default) or PostgreSQL. It
//! applies the engine's decisions atomically and keeps the audit chain. SQL is written once with
//! `$N` parameters, which both backends accept.

pub mod api_calls;
pub mod apply;
pub mod attachments;
pub mod audit;
pub mod comments;
pub mod db;
pub mod definitions;
pub mod delegations;
pub mod digests;
pub mod feeds;
pub mod idempotency;
pub mod instances;
pub mod keys;
pub mod mentors;
pub mod migrate;
pub mod outbox;
pub mod reports;
pub mod sessions;
pub mod substitutes;
pub mod summaries;
pub mod throttle;
pub mod timers;
pub mod tokens;
pub mod tracks;
pub mod trainees;
pub mod units;
pub mod users;
pub mod webhooks;
pub mod writer;

pub use db::{connect, migrate};
pub use sea_orm::{DatabaseConnection, DbBackend, DbErr};
