//! The server's limits on clients: how long each phase of a request may
//! take, how many connections may be open, how long shutdown waits.
//!
//! The defaults follow nginx and hyper, so that a slow or idle client costs
//! a socket for a bounded time and can never take the server down.

use std::time::Duration;

/// Limits on client connections; every field has a CLI flag in `switchyard`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// The whole request head must arrive within this, from the connection's
    /// start (first request) or its first byte (later ones); nginx's
    /// `client_header_timeout` is 60 s, hyper's header read timeout 30 s.
    pub head_timeout: Duration,
    /// An idle keep-alive connection is closed after this (nginx's
    /// `keepalive_timeout`, 75 s).
    pub keepalive_timeout: Duration,
    /// A request body that makes no progress for this long ends the
    /// connection with 408 (nginx's `client_body_timeout`, 60 s).
    pub body_timeout: Duration,
    /// A client that reads nothing of an answer for this long is dropped,
    /// cancelling the upstream call (nginx's `send_timeout`, 60 s).
    pub send_timeout: Duration,
    /// Open client connections at most; `None` picks [`DEFAULT_MAX_CONNECTIONS`].
    /// Always kept below what the process's file limit allows (see
    /// [`connection_cap`]).
    pub max_connections: Option<usize>,
    /// At shutdown, calls in flight may finish for this long; then the
    /// remaining connections are closed.
    pub drain_timeout: Duration,
}

/// Connections when `--max-connections` is not given.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// File descriptors kept for everything but client connections (the
/// listener, log files, the runtime's own) when sizing the cap.
const RESERVED_FDS: u64 = 64;

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            head_timeout: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(75),
            body_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(60),
            max_connections: None,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// The most client connections `file_limit` descriptors can carry: each
/// busy connection holds two (the client's and its upstream's), so a full
/// server still has a descriptor for every upstream call and the accept loop
/// never meets EMFILE.
pub fn connection_cap(file_limit: u64) -> usize {
    let cap = file_limit.saturating_sub(RESERVED_FDS) / 2;
    usize::try_from(cap).unwrap_or(usize::MAX).max(1)
}

/// Raises the soft limit on open files to the hard limit, as servers do at
/// start, and returns the soft limit now in force (`None` where it cannot be
/// read).
pub fn raise_file_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if setrlimit(Resource::Nofile, limit).is_err() {
            limit = getrlimit(Resource::Nofile);
        }
    }
    limit.current
}

impl ServerOptions {
    /// These options with every duration at most a year (`seconds::MAX`), so
    /// that no deadline computed from them can overflow an `Instant`.
    pub(crate) fn bounded(mut self) -> Self {
        use switchyard_types::seconds::clamp;
        for timeout in [
            &mut self.head_timeout,
            &mut self.keepalive_timeout,
            &mut self.body_timeout,
            &mut self.send_timeout,
            &mut self.drain_timeout,
        ] {
            *timeout = clamp(*timeout);
        }
        self
    }

    /// The connection cap in force: the configured maximum (or the default),
    /// never above what `file_limit` allows.
    pub fn effective_max_connections(&self, file_limit: Option<u64>) -> usize {
        let wanted = self
            .max_connections
            .unwrap_or(DEFAULT_MAX_CONNECTIONS)
            .max(1);
        file_limit.map_or(wanted, |limit| wanted.min(connection_cap(limit)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_two_descriptors_per_connection() {
        assert_eq!(connection_cap(1024), 480);
        assert_eq!(connection_cap(10), 1);
        let options = ServerOptions::default();
        assert_eq!(
            options.effective_max_connections(None),
            DEFAULT_MAX_CONNECTIONS
        );
        assert_eq!(options.effective_max_connections(Some(1024)), 480);
        let small = ServerOptions {
            max_connections: Some(8),
            ..ServerOptions::default()
        };
        assert_eq!(small.effective_max_connections(Some(1024)), 8);
    }

    #[test]
    fn durations_beyond_a_year_are_bounded() {
        let huge = ServerOptions {
            head_timeout: Duration::MAX,
            keepalive_timeout: Duration::MAX,
            body_timeout: Duration::MAX,
            send_timeout: Duration::MAX,
            max_connections: None,
            drain_timeout: Duration::MAX,
        }
        .bounded();
        let year = switchyard_types::seconds::MAX;
        assert_eq!(
            [
                huge.head_timeout,
                huge.keepalive_timeout,
                huge.body_timeout,
                huge.send_timeout,
                huge.drain_timeout
            ],
            [year; 5]
        );
        assert_eq!(ServerOptions::default().bounded(), ServerOptions::default());
    }

    #[test]
    fn the_soft_file_limit_is_raised_to_the_hard_one() {
        let now = raise_file_limit().expect("RLIMIT_NOFILE is readable on Linux");
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        assert_eq!(limit.current, Some(now));
        assert_eq!(limit.current, limit.maximum);
    }
}
