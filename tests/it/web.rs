//! Web integration tests (in-process): see web_support.rs for the test app.
