//! End-to-end tests in a real headless Chromium through WebDriver, checked with axe-core.
