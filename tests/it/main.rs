//! The one integration test binary: it links once. One module per feature.

mod support;
mod web;

mod accounts;
mod api;
mod assembly;
mod audit;
mod bargaining;
mod calendars;
mod checker;
mod comments;
mod e2e;
mod e2e_day;
mod engine_props;
mod engine_store;
mod exports;
mod expressions;
mod feeds;
mod group_commit;
mod hardship;
mod keys;
mod migrate;
mod pages;
mod push_script;
mod readme_examples;
mod records;
mod reports;
mod roster;
mod schedules;
mod security;
mod training;
mod ui;
mod validate;
mod webhooks;
