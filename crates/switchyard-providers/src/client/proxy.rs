//! Which upstream connections go through a forward proxy.
//!
//! The rules come from the variables reqwest, curl and LiteLLM (httpx with
//! `trust_env`) read: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`,
//! upper case first, then lower case. They are read once, when the client
//! options are made, never per request. hyper-util's [`Matcher`] does the
//! matching; this module only decides which values it gets, so that a value
//! the client cannot use is reported by name instead of silently ignored.

use std::fmt;
use std::sync::Arc;

use http::{HeaderValue, Uri};
use hyper_util::client::proxy::matcher::Matcher;

/// Each pair: the variable that wins, then its lower-case spelling.
const ALL_PROXY: [&str; 2] = ["ALL_PROXY", "all_proxy"];
const HTTP_PROXY: [&str; 2] = ["HTTP_PROXY", "http_proxy"];
const HTTPS_PROXY: [&str; 2] = ["HTTPS_PROXY", "https_proxy"];
const NO_PROXY: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// The forward-proxy rules of the upstream client.
///
/// `Debug` shows each proxy as `scheme://host:port` and the variable it came
/// from; credentials are never printed.
#[derive(Clone)]
pub struct ProxyRules {
    /// `None` when no proxy applies to anything: the connector and
    /// [`HttpClient::send`](super::HttpClient::send) then skip every lookup.
    matcher: Option<Arc<Matcher>>,
    http: Option<Chosen>,
    https: Option<Chosen>,
    no_proxy: Option<String>,
    ignored: Vec<IgnoredProxy>,
}

/// The proxy picked for one destination scheme, described without credentials.
#[derive(Clone)]
struct Chosen {
    var: &'static str,
    /// `scheme://host:port` (no user info).
    proxy: String,
    has_credentials: bool,
}

/// A proxy variable whose value the client cannot use. Those destinations
/// are connected to directly (or through `ALL_PROXY` if that one is usable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredProxy {
    /// The variable's name, e.g. `HTTPS_PROXY`. Its value is never kept here:
    /// it may carry a password.
    pub var: &'static str,
    /// Why it cannot be used.
    pub reason: &'static str,
}

impl ProxyRules {
    /// No proxy: every upstream is connected to directly.
    pub fn none() -> Self {
        Self {
            matcher: None,
            http: None,
            https: None,
            no_proxy: None,
            ignored: Vec::new(),
        }
    }

    /// Reads the proxy variables of this process (see the module documentation).
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The rules `from_env` would give if `lookup` were the environment. Tests
    /// use it so they never touch the process environment, which all tests
    /// of one binary share.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Self {
        // Under CGI a request's `Proxy:` header becomes HTTP_PROXY ("httpoxy"),
        // so hyper-util and reqwest ignore the variables there; so do we.
        if lookup("REQUEST_METHOD").is_some() {
            return Self::none();
        }
        let first = |names: [&'static str; 2]| {
            names
                .into_iter()
                .find_map(|name| lookup(name).map(|value| (name, value)))
        };
        let all = first(ALL_PROXY);
        let mut ignored = Vec::new();
        let http = choose(first(HTTP_PROXY), all.as_ref(), &mut ignored);
        let https = choose(first(HTTPS_PROXY), all.as_ref(), &mut ignored);
        let no_proxy = first(NO_PROXY)
            .map(|(_, list)| list)
            .filter(|list| !list.trim().is_empty());

        let matcher = (http.is_some() || https.is_some()).then(|| {
            let value = |c: &Option<(Chosen, String)>| {
                c.as_ref().map_or_else(String::new, |(_, v)| v.clone())
            };
            // `all` is deliberately not passed: `choose` already applied it,
            // and passing it would bring back a value rejected above.
            Arc::new(
                Matcher::builder()
                    .http(value(&http))
                    .https(value(&https))
                    .no(no_proxy.clone().unwrap_or_default())
                    .build(),
            )
        });
        Self {
            matcher,
            http: http.map(|(c, _)| c),
            https: https.map(|(c, _)| c),
            no_proxy,
            ignored,
        }
    }

    /// Whether any upstream connection may go through a proxy.
    pub fn is_enabled(&self) -> bool {
        self.matcher.is_some()
    }

    /// The proxy variables that were set but could not be used.
    pub fn ignored(&self) -> &[IgnoredProxy] {
        &self.ignored
    }

    pub(crate) fn matcher(&self) -> Option<&Arc<Matcher>> {
        self.matcher.as_ref()
    }

    /// Logs what the client will do, once when it is built: a warning for
    /// every unusable variable, and the proxies in use.
    pub(crate) fn log(&self) {
        for ignored in &self.ignored {
            tracing::warn!(
                variable = ignored.var,
                "ignoring {}: {}; upstream calls do not use it",
                ignored.var,
                ignored.reason
            );
        }
        for (scheme, chosen) in [("http", &self.http), ("https", &self.https)] {
            if let Some(c) = chosen {
                tracing::info!(
                    variable = c.var,
                    proxy = %c.proxy,
                    no_proxy = self.no_proxy.as_deref().unwrap_or(""),
                    "upstream {scheme}:// calls go through a proxy"
                );
            }
        }
    }
}

/// Picks the value for one destination scheme: its own variable, else
/// `ALL_PROXY`. An empty value counts as unset (a common way to switch a
/// proxy off); an unusable one is recorded in `ignored` and skipped, like an
/// unparsable one is in curl and hyper-util.
fn choose(
    own: Option<(&'static str, String)>,
    all: Option<&(&'static str, String)>,
    ignored: &mut Vec<IgnoredProxy>,
) -> Option<(Chosen, String)> {
    let candidates = own.into_iter().chain(all.cloned());
    for (var, value) in candidates {
        if value.is_empty() {
            continue;
        }
        match describe(var, &value) {
            Ok(chosen) => return Some((chosen, value)),
            Err(reason) => {
                let entry = IgnoredProxy { var, reason };
                if !ignored.contains(&entry) {
                    ignored.push(entry);
                }
            }
        }
    }
    None
}

/// Checks that `value` is an `http://` proxy the client can speak to, and
/// describes it without its credentials. Accepts what hyper-util's matcher
/// accepts (a missing scheme means `http`), minus what our connector cannot
/// do: TLS to the proxy itself (`https://`) and SOCKS.
fn describe(var: &'static str, value: &str) -> Result<Chosen, &'static str> {
    let uri: Uri = value.parse().map_err(|_| "its value is not a proxy URL")?;
    match uri.scheme_str() {
        None | Some("http") => {}
        Some("https") => return Err("https:// proxies (TLS to the proxy) are not supported"),
        Some("socks4" | "socks4a" | "socks5" | "socks5h") => {
            return Err("SOCKS proxies are not supported");
        }
        Some(_) => return Err("its scheme is not a proxy scheme (use http://)"),
    }
    let authority = uri.authority().ok_or("its value has no host")?.as_str();
    let (has_credentials, host_port) = match authority.rsplit_once('@') {
        Some((_, host_port)) => (true, host_port),
        None => (false, authority),
    };
    if host_port.is_empty() {
        return Err("its value has no host");
    }
    Ok(Chosen {
        var,
        proxy: format!("http://{host_port}"),
        has_credentials,
    })
}

/// How an `http://` request to `uri` goes through a forward proxy: `None`
/// when it goes direct, else `Some` of the `Proxy-Authorization` value it
/// must carry (`None` inside when the proxy has no credentials). `https://`
/// destinations are tunnelled instead: their credentials travel in the
/// CONNECT request, and a header on the request itself would reach the
/// upstream through the tunnel.
pub(crate) fn forward_proxy(matcher: &Matcher, uri: &Uri) -> Option<Option<HeaderValue>> {
    if uri.scheme() != Some(&http::uri::Scheme::HTTP) {
        return None;
    }
    Some(matcher.intercept(uri)?.basic_auth().cloned())
}

impl Default for ProxyRules {
    /// The rules of this process's environment, like [`ProxyRules::from_env`].
    fn default() -> Self {
        Self::from_env()
    }
}

impl fmt::Debug for ProxyRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyRules")
            .field("http", &self.http)
            .field("https", &self.https)
            .field("no_proxy", &self.no_proxy)
            .field("ignored", &self.ignored)
            .finish()
    }
}

impl fmt::Debug for Chosen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credentials = if self.has_credentials {
            ", with credentials"
        } else {
            ""
        };
        write!(f, "{} (from {}{credentials})", self.proxy, self.var)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(vars: &[(&str, &str)]) -> ProxyRules {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ProxyRules::from_vars(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    fn proxy_for(rules: &ProxyRules, dst: &str) -> Option<String> {
        let uri: Uri = dst.parse().unwrap();
        rules
            .matcher()?
            .intercept(&uri)
            .map(|i| i.uri().authority().unwrap().to_string())
    }

    #[test]
    fn nothing_set_means_no_proxy_and_no_matcher() {
        let r = rules(&[]);
        assert!(!r.is_enabled());
        assert!(r.ignored().is_empty());
        // NO_PROXY alone enables nothing either.
        assert!(!rules(&[("NO_PROXY", "example.com")]).is_enabled());
    }

    #[test]
    fn each_scheme_uses_its_variable_then_all_proxy() {
        let r = rules(&[("HTTPS_PROXY", "http://tls-proxy:3128")]);
        assert_eq!(
            proxy_for(&r, "https://api.openai.com/v1").as_deref(),
            Some("tls-proxy:3128")
        );
        assert_eq!(proxy_for(&r, "http://api.openai.com/v1"), None);

        let r = rules(&[
            ("ALL_PROXY", "http://all:1"),
            ("HTTP_PROXY", "http://plain:2"),
        ]);
        assert_eq!(
            proxy_for(&r, "http://example.com/").as_deref(),
            Some("plain:2")
        );
        assert_eq!(
            proxy_for(&r, "https://example.com/").as_deref(),
            Some("all:1")
        );
    }

    /// Host names are RFC 3986 names for the proxy, the destination and `NO_PROXY`
    /// alike: a last label that looks numeric does not make an IPv4 address.
    #[test]
    fn host_names_with_numeric_last_labels_are_names() {
        let r = rules(&[
            ("HTTP_PROXY", "http://squid-v3.6:3128"),
            ("NO_PROXY", "nomic-embed-v1.5"),
        ]);
        assert!(r.ignored().is_empty());
        assert_eq!(
            proxy_for(&r, "http://ollama-0.1:11434/v1").as_deref(),
            Some("squid-v3.6:3128")
        );
        assert_eq!(proxy_for(&r, "http://nomic-embed-v1.5:8080/v1"), None);
    }

    #[test]
    fn upper_case_wins_and_lower_case_works_alone() {
        let r = rules(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
        ]);
        assert_eq!(
            proxy_for(&r, "https://example.com/").as_deref(),
            Some("upper:1")
        );
        let r = rules(&[("https_proxy", "lower:2"), ("no_proxy", ".internal")]);
        assert_eq!(
            proxy_for(&r, "https://example.com/").as_deref(),
            Some("lower:2")
        );
        assert_eq!(proxy_for(&r, "https://llm.internal/"), None);
    }

    #[test]
    fn empty_value_counts_as_unset() {
        let r = rules(&[("HTTPS_PROXY", ""), ("ALL_PROXY", "http://all:1")]);
        assert_eq!(
            proxy_for(&r, "https://example.com/").as_deref(),
            Some("all:1")
        );
        assert!(r.ignored().is_empty());
    }

    #[test]
    fn socks_and_https_proxies_are_ignored_by_name() {
        let r = rules(&[("ALL_PROXY", "socks5h://user:secret@127.0.0.1:1080")]);
        assert!(!r.is_enabled());
        assert_eq!(
            r.ignored(),
            [IgnoredProxy {
                var: "ALL_PROXY",
                reason: "SOCKS proxies are not supported"
            }]
        );
        assert!(!format!("{r:?}").contains("secret"));

        // An unusable HTTPS_PROXY falls back to a usable ALL_PROXY.
        let r = rules(&[
            ("HTTPS_PROXY", "https://tls-proxy:443"),
            ("ALL_PROXY", "http://all:1"),
        ]);
        assert_eq!(
            proxy_for(&r, "https://example.com/").as_deref(),
            Some("all:1")
        );
        assert_eq!(r.ignored()[0].var, "HTTPS_PROXY");

        let r = rules(&[("http_proxy", "not a url")]);
        assert!(!r.is_enabled());
        assert_eq!(r.ignored()[0].var, "http_proxy");
    }

    #[test]
    fn cgi_ignores_the_variables() {
        let r = rules(&[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:1")]);
        assert!(!r.is_enabled());
    }

    #[test]
    fn debug_never_prints_credentials() {
        let r = rules(&[
            ("HTTPS_PROXY", "http://alice:hunter2@proxy.corp:3128"),
            ("NO_PROXY", "localhost"),
        ]);
        let debug = format!("{r:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("alice"), "{debug}");
        assert!(
            debug.contains("http://proxy.corp:3128 (from HTTPS_PROXY, with credentials)"),
            "{debug}"
        );
    }

    #[test]
    fn forward_proxy_only_for_http_destinations() {
        let r = rules(&[("ALL_PROXY", "http://user:p%40ss@proxy:3128")]);
        let m = r.matcher().unwrap();
        let auth = forward_proxy(m, &"http://example.com/v1".parse().unwrap())
            .unwrap()
            .unwrap();
        // base64("user:p@ss"): the password is percent-decoded first.
        assert_eq!(auth, "Basic dXNlcjpwQHNz");
        assert!(auth.is_sensitive());
        assert_eq!(
            forward_proxy(m, &"https://example.com/v1".parse().unwrap()),
            None
        );

        let r = rules(&[("ALL_PROXY", "http://proxy:3128")]);
        let m = r.matcher().unwrap();
        assert_eq!(
            forward_proxy(m, &"http://example.com/v1".parse().unwrap()),
            Some(None)
        );
        let r = rules(&[
            ("ALL_PROXY", "http://proxy:3128"),
            ("NO_PROXY", "example.com"),
        ]);
        let m = r.matcher().unwrap();
        assert_eq!(
            forward_proxy(m, &"http://example.com/v1".parse().unwrap()),
            None
        );
    }
}
