//! The one integration test binary: it links once. One module per feature.

mod pages;
mod support;
mod training;

mod assembly;
mod audit;
mod bargaining;
mod e2e;
mod engine_props;
mod engine_store;
mod validate;
