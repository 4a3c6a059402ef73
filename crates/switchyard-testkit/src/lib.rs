//! Test support: mock upstreams on `127.0.0.1:0` and a proxy harness.
