//! Test support for Switchyard: scriptable mock upstreams on `127.0.0.1:0` and a
//! harness that starts the proxy from a YAML string.
//!
//! Everything here is owned: dropping a [`MockUpstream`] or a [`ProxyHarness`]
//! stops its server task, so tests never leak background tasks.

pub mod harness;
pub mod mock_upstream;
mod mutate;

pub use harness::{ProxyHarness, yaml_with};
pub use mock_upstream::{MockUpstream, RecordedCall, Reply};
pub use mutate::{DiffCases, mutate};
