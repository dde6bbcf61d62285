//! The test app for web tests: a router over a fresh database, and a cookie-keeping client.
