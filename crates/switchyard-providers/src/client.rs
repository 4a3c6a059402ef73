//! The one place the upstream HTTP client is built.
