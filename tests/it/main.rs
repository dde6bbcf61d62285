//! The one integration test binary: it links once. One module per feature.

mod support;

mod engine_store;
