//! unionflow: a workflow engine for trade unions. Process definitions (`workflows/*.toml`) are
//! loaded into typed [`definition`]s; the pure [`engine`] decides what an event does; the
//! [`store`] applies decisions durably; the [`scheduler`] fires timers; [`audit`] keeps the
//! hash chain.

pub mod api;
pub mod attachments;
pub mod audit;
pub mod bench;
pub mod bench_expressions;
pub mod bench_rusqlite;
pub mod bench_training;
pub mod cli;
pub mod clock;
pub mod comments;
pub mod config;
pub mod definition;
pub mod demo;
pub mod digest;
pub mod engine;
pub mod expr;
pub mod people;
pub mod runtime;
pub mod scheduler;
pub mod sector;
pub mod server;
pub mod store;
pub mod text;
pub mod training;
pub mod web;
pub mod webhooks;
pub mod work;
