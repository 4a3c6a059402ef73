//! OpenAI's dialect: one implementation for every host that speaks it
//! (OpenAI, Azure OpenAI, vLLM, Groq, Together, Mistral, DeepSeek, Fireworks,
//! OpenRouter), with the differences kept in [`quirks`].
//!
//! Bodies pass through as bytes: the router has already set `model`, and
//! fields the gateway does not know reach the upstream untouched.

pub(crate) mod output;
pub mod quirks;
mod stream;

use std::fmt;
use std::task::Poll;
use std::time::Duration;

use futures::future::BoxFuture;
use http::Uri;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};

use crate::capped::{ERROR_BODY_CAP, SUCCESS_BODY_CAP, read_body, read_body_truncated};
use crate::classify::{
    TransportError, classify, classify_stream_error, classify_transport, is_error_payload,
};
use crate::client::{HttpClient, PreparedRequest, Response};
use crate::{
    Answered, Endpoint, ErrorKind, Provider, ProviderError, ProviderRequest, ProviderResponse,
};

use quirks::{AuthStyle, PathStyle, Quirks};

const ENDPOINTS: [Endpoint; 4] = [
    Endpoint::ChatCompletions,
    Endpoint::Completions,
    Endpoint::Embeddings,
    Endpoint::ImageGenerations,
];

fn endpoint_index(endpoint: Endpoint) -> usize {
    match endpoint {
        Endpoint::ChatCompletions => 0,
        Endpoint::Completions => 1,
        Endpoint::Embeddings => 2,
        Endpoint::ImageGenerations => 3,
    }
}

/// An upstream that speaks OpenAI's dialect.
///
/// Everything a request needs (URLs, auth header, the whole request head)
/// is computed once here, so sending does no formatting.
#[derive(Clone)]
pub struct OpenAiCompatible {
    name: &'static str,
    /// `api_base` in normal form, without user info: shown, never holds credentials.
    api_base: String,
    /// One prepared request per [`Endpoint`], indexed by `endpoint_index`.
    /// Its head carries the key: it never shows in `Debug` output.
    requests: [PreparedRequest; 4],
    /// The auth header's name, for `Debug`.
    auth: Option<HeaderName>,
    client: HttpClient,
}

impl fmt::Debug for OpenAiCompatible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiCompatible")
            .field("name", &self.name)
            .field("api_base", &self.api_base)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// What a deployment's settings make of its requests: the base URL, one URL per
/// [`Endpoint`], the auth header. Checked without a client (the config loader does).
pub(crate) struct Endpoints {
    /// The base URL without user info, for display.
    public_base: String,
    urls: [Uri; 4],
    auth: Option<(HeaderName, HeaderValue)>,
}

/// Why [`Endpoints::new`] failed.
pub(crate) enum EndpointsError {
    /// `api_base` is not a usable URL (what is wrong with it).
    ApiBase(String),
    /// Another setting cannot be sent (the message never shows the key).
    Other(String),
}

impl Endpoints {
    pub(crate) fn new(
        quirks: &'static Quirks,
        api_base: &str,
        deployment: &str,
        api_version: &str,
        api_key: Option<&str>,
    ) -> Result<Self, EndpointsError> {
        // Read as httpx reads it (RFC 3986 host names, IDNA, percent-encoding, default
        // ports dropped), once; requests use the `Uri`s built from it.
        let parsed = crate::base_url::parse(api_base).map_err(EndpointsError::ApiBase)?;
        let base = parsed.as_str();
        let url_for = |endpoint: Endpoint| -> Result<Uri, EndpointsError> {
            let text = match quirks.path {
                PathStyle::Append => format!("{base}{}", endpoint.path()),
                PathStyle::AzureDeployment => format!(
                    "{base}/openai/deployments/{}{}?api-version={}",
                    crate::base_url::quote_path(deployment),
                    endpoint.path(),
                    crate::base_url::quote_query(api_version),
                ),
            };
            // Only the endpoint's own parts can fail here (an Azure deployment name or
            // `api_version` with characters a URL cannot hold); the base is not quoted.
            Uri::try_from(text).map_err(|_| {
                EndpointsError::Other(format!(
                    "the upstream URL for {} is not valid (check the deployment name and api_version)",
                    endpoint.path()
                ))
            })
        };
        let urls = [
            url_for(ENDPOINTS[0])?,
            url_for(ENDPOINTS[1])?,
            url_for(ENDPOINTS[2])?,
            url_for(ENDPOINTS[3])?,
        ];
        let auth = match api_key {
            None => None,
            Some(key) => {
                let (name, value) = match quirks.auth {
                    AuthStyle::Bearer => (AUTHORIZATION, format!("Bearer {key}")),
                    AuthStyle::ApiKeyHeader => (HeaderName::from_static("api-key"), key.to_owned()),
                };
                // The error would echo the key: say only what is wrong.
                let mut value = HeaderValue::from_str(&value).map_err(|_| {
                    EndpointsError::Other(
                        "api_key contains characters not allowed in an HTTP header".to_owned(),
                    )
                })?;
                value.set_sensitive(true);
                Some((name, value))
            }
        };
        Ok(Self {
            public_base: parsed.public(),
            urls,
            auth,
        })
    }
}

impl OpenAiCompatible {
    /// Builds the provider for one deployment.
    ///
    /// `api_base` is used as given (trailing `/` removed): the endpoint path is
    /// appended to it, as the OpenAI SDK does, so `http://host:8000/v1` posts to
    /// `http://host:8000/v1/chat/completions`. For Azure, `deployment` and
    /// `api_version` build `/openai/deployments/{deployment}/...?api-version=`.
    pub fn new(
        quirks: &'static Quirks,
        api_base: &str,
        deployment: &str,
        api_version: &str,
        api_key: Option<&str>,
        client: HttpClient,
    ) -> Result<Self, String> {
        let Endpoints {
            public_base,
            urls,
            auth,
        } = Endpoints::new(quirks, api_base, deployment, api_version, api_key).map_err(
            |e| match e {
                EndpointsError::ApiBase(e) => format!("invalid api_base: {e}"),
                EndpointsError::Other(e) => e,
            },
        )?;
        let mut headers = vec![(CONTENT_TYPE, HeaderValue::from_static("application/json"))];
        headers.extend(auth.clone());
        let requests = urls.map(|url| client.prepare(&url, &headers));
        Ok(Self {
            name: quirks.name,
            api_base: public_base,
            requests,
            auth: auth.map(|(name, _)| name),
            client,
        })
    }

    /// The URL requests for `endpoint` go to.
    pub fn url(&self, endpoint: Endpoint) -> &Uri {
        self.requests[endpoint_index(endpoint)].uri()
    }

    async fn attempt(&self, request: ProviderRequest) -> Result<Answered, ProviderError> {
        let prepared = &self.requests[endpoint_index(request.endpoint)];
        let mut resp = self
            .client
            .send(prepared, request.body)
            .await
            .map_err(|e| classify_transport(self.name, &TransportError::Send(e)))?;
        let status = resp.status();
        if !(200..300).contains(&status) {
            let body = read_body_truncated(&mut resp, ERROR_BODY_CAP)
                .await
                .unwrap_or_default();
            return Err(classify(self.name, status, resp.headers(), &body));
        }
        let event_stream = request.stream && is_event_stream(&resp);
        let headers = resp.take_headers();
        if event_stream {
            return stream::open(self.name, resp).await.map(|events| Answered {
                response: ProviderResponse::Stream(events),
                headers,
            });
        }
        let body = match read_body(&mut resp, SUCCESS_BODY_CAP).await {
            Ok(Ok(body)) => body,
            Ok(Err(_)) => {
                let message = format!("response body larger than {SUCCESS_BODY_CAP} bytes");
                return Err(ProviderError::new(
                    ErrorKind::InvalidResponse,
                    self.name,
                    message,
                ));
            }
            Err(e) => return Err(classify_transport(self.name, &TransportError::Body(e))),
        };
        if request.stream {
            // Asked for a stream, got a plain body: an error object some
            // servers send with a 200, or a server that ignored `stream`.
            if is_error_payload(&body) {
                return Err(classify_stream_error(self.name, &body));
            }
            let message = "asked for a stream but the upstream answered with a non-SSE body";
            return Err(ProviderError::new(
                ErrorKind::InvalidResponse,
                self.name,
                message,
            ));
        }
        Ok(Answered {
            response: ProviderResponse::Complete(body),
            headers,
        })
    }
}

fn is_event_stream(resp: &Response) -> bool {
    match resp.content_type() {
        // No content type: assume the stream we asked for.
        None => true,
        Some(ct) => !ct
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json"),
    }
}

fn timed_out(provider: &'static str, after: Duration, stream: bool) -> ProviderError {
    let what = if stream {
        "no first stream token"
    } else {
        "no complete response"
    };
    ProviderError::new(
        ErrorKind::Timeout,
        provider,
        format!("{what} within {after:?}"),
    )
}

impl Provider for OpenAiCompatible {
    fn name(&self) -> &'static str {
        self.name
    }

    fn api_base(&self) -> Option<&str> {
        Some(&self.api_base)
    }

    fn call(&self, request: ProviderRequest) -> BoxFuture<'_, Result<Answered, ProviderError>> {
        Box::pin(async move {
            let (timeout, stream) = (request.timeout, request.stream);
            // The bound covers everything before the commit point: connect,
            // headers, and the body (non-stream) or first token (stream). The
            // returned stream itself is not bounded here.
            let Some(after) = timeout else {
                return self.attempt(request).await;
            };
            // Raced by hand rather than with `tokio::time::timeout`, which would
            // move the (large) attempt future twice more before its first poll.
            let mut attempt = std::pin::pin!(self.attempt(request));
            let mut deadline = std::pin::pin!(tokio::time::sleep(after));
            std::future::poll_fn(|cx| {
                if let Poll::Ready(outcome) = attempt.as_mut().poll(cx) {
                    return Poll::Ready(outcome);
                }
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(timed_out(self.name, after, stream))),
                    Poll::Pending => Poll::Pending,
                }
            })
            .await
        })
    }
}
