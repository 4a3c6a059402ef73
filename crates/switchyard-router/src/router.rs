//! The [`Router`]: resolve the model group, pick a deployment, call it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rustc_hash::FxHashMap;
use serde_json::value::RawValue;
use switchyard_providers::client::{HttpClientOptions, build_http_client};
use switchyard_providers::mock::MockProvider;
use switchyard_providers::{Endpoint, Provider, ProviderResponse, is_supported_provider};
use switchyard_types::{RequestBody, seconds};
use tokio::time::Instant;

use crate::config::{Config, ConfigWarning, ModelGroupAlias};
use crate::cooldown::{CooldownSettings, Cooldowns};
use crate::deployment::Deployment;
use crate::error::RouterError;
use crate::fallback::{FallbackSettings, RequestFallbacks};
use crate::pricing::PriceTable;
use crate::response::RoutedResponse;
use crate::retry::{self, CallPlan, RequestFacts, RetrySettings, Success};
use crate::scheduler::{DEFAULT_MAX_QUEUE_DEPTH, Scheduler};
use crate::slots::{SlotPermit, Slots, max_parallel_requests};
use crate::state::{MemoryStore, StateStore};
use crate::strategy::{LatencyArgs, RoutingStrategy};
use crate::timeouts::{RequestTimeouts, RouterTimeouts};
use crate::wildcard::{self, Pattern};

/// A problem that keeps a router from being built (a deployment that cannot be resolved).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {message}")]
pub struct BuildError {
    /// YAML path of the offending deployment.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Why a router could not be set up from config text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SetupError {
    /// The config is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A deployment could not be resolved.
    #[error("invalid deployments:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Build(Vec<BuildError>),
}

impl From<Vec<BuildError>> for SetupError {
    fn from(errors: Vec<BuildError>) -> Self {
        SetupError::Build(errors)
    }
}

/// Routes OpenAI-shaped requests over the deployments of a config.
///
/// Cheap to clone; clones share state.
#[derive(Debug, Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

/// Everything a call reads; shared by clones of a [`Router`].
#[derive(Debug)]
pub(crate) struct Inner {
    // Looked up by the client's model name on every call; built once from the config
    // and never grown by requests, so a fast non-keyed hash is safe.
    pub(crate) groups: FxHashMap<String, Vec<Arc<Deployment>>>,
    aliases: FxHashMap<String, ModelGroupAlias>,
    /// Visible aliases, then group names in config order: what `/models` lists.
    listed_names: Vec<String>,
    warnings: Vec<ConfigWarning>,
    pub(crate) store: Arc<dyn StateStore>,
    rng: Mutex<StdRng>,
    pub(crate) mock: Arc<dyn Provider>,
    pub(crate) router_defaults: Vec<(String, Box<RawValue>)>,
    pub(crate) retry: RetrySettings,
    pub(crate) fallbacks: FallbackSettings,
    pub(crate) cooldowns: Cooldowns,
    pub(crate) slots: Slots,
    pub(crate) strategy: RoutingStrategy,
    pub(crate) scheduler: Scheduler,
    /// `default_priority`: the priority of requests that name none.
    pub(crate) default_priority: Option<u32>,
    /// `enable_pre_call_checks`: context-window and region filters.
    pub(crate) pre_call_checks: bool,
    /// `dangerously_allow_mock_testing_request_params`.
    pub(crate) allow_mock_testing: bool,
    /// `enable_tag_filtering`.
    pub(crate) tag_filtering: bool,
    /// Model groups whose name holds a `*`.
    wildcards: Vec<Pattern>,
    /// The price table, kept when there are wildcard groups: it names the
    /// provider of a bare model name (`gpt-4.1-nano` is OpenAI's).
    providers: Option<Arc<PriceTable>>,
    /// Whether any routing rule reads the request's token count.
    needs_tokens: bool,
    /// Latency samples kept per deployment, and for how long.
    pub(crate) latency_window: (usize, Duration),
    /// The router's part of every attempt's timeout.
    pub(crate) timeouts: RouterTimeouts,
    /// `switchyard_settings.request_deadline`: the whole request's bound, when set.
    request_deadline: Option<Duration>,
}

/// Requests and tokens counted against a deployment this minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeploymentUsage {
    /// Requests sent (failed ones included, as LiteLLM counts them).
    pub rpm: u64,
    /// Tokens: reported usage where known, else the estimate or the counted stream.
    pub tpm: u64,
}

/// Builds a [`Router`]: from a [`Config`], with an optional state store, RNG seed and HTTP client.
#[derive(Debug, Default)]
pub struct RouterBuilder {
    config: Config,
    store: Option<Arc<dyn StateStore>>,
    seed: Option<u64>,
    client: Option<switchyard_providers::client::HttpClient>,
    strategy: Option<RoutingStrategy>,
    prices: Option<PriceTable>,
}

impl RouterBuilder {
    /// Uses this config (model list and settings).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Adds one deployment.
    pub fn deployment(mut self, deployment: crate::config::DeploymentConfig) -> Self {
        self.config.model_list.push(deployment);
        self
    }

    /// Uses this state store instead of a fresh [`MemoryStore`].
    pub fn state_store(mut self, store: Arc<dyn StateStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Seeds the routing RNG, for reproducible picks.
    pub fn rng_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Uses this routing strategy instead of the config's `routing_strategy`
    /// (the way to plug in a [`CustomStrategy`](crate::strategy::CustomStrategy)).
    pub fn routing_strategy(mut self, strategy: RoutingStrategy) -> Self {
        self.strategy = Some(strategy);
        self
    }

    /// Uses this price table (e.g. a LiteLLM `model_prices_and_context_window.json`
    /// merged over the built-in one) for costs and context windows.
    pub fn price_table(mut self, prices: PriceTable) -> Self {
        self.prices = Some(prices);
        self
    }

    /// Uses this HTTP client for upstream calls.
    pub fn http_client(mut self, client: switchyard_providers::client::HttpClient) -> Self {
        self.client = Some(client);
        self
    }

    /// Resolves every deployment; all problems are reported together.
    pub fn build(self) -> Result<Router, Vec<BuildError>> {
        let client = self
            .client
            .unwrap_or_else(|| build_http_client(&HttpClientOptions::default()));
        let cfg = self.config;
        let prices = self
            .prices
            .as_ref()
            .unwrap_or_else(|| PriceTable::builtin());
        let mut groups: FxHashMap<String, Vec<Arc<Deployment>>> = FxHashMap::default();
        let mut listed_names = Vec::new();
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        for (i, d) in cfg.model_list.iter().enumerate() {
            let model = &d.litellm_params.model;
            if !is_supported_provider(model) && d.litellm_params.mock_response.is_none() {
                warnings.push(ConfigWarning {
                    path: format!("model_list[{i}].litellm_params.model"),
                    message: format!(
                        "provider of {model:?} is not supported by Switchyard yet; this deployment is not routed to"
                    ),
                });
                continue;
            }
            match Deployment::from_config(d, &client, prices) {
                Ok(dep) => {
                    let group = groups.entry(d.model_name.clone()).or_default();
                    if group.is_empty() {
                        listed_names.push(d.model_name.clone());
                    }
                    group.push(Arc::new(dep));
                }
                Err(message) => errors.push(BuildError {
                    path: format!("model_list[{i}].litellm_params.model"),
                    message,
                }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let aliases: FxHashMap<String, ModelGroupAlias> = cfg
            .router_settings
            .model_group_alias
            .clone()
            .into_iter()
            .collect();
        // Visible aliases are listed first, as LiteLLM lists them.
        let visible_aliases: Vec<String> = cfg
            .router_settings
            .model_group_alias
            .iter()
            .filter(|(alias, target)| !target.hidden && !groups.contains_key(*alias))
            .map(|(alias, _)| alias.clone())
            .collect();
        listed_names.splice(0..0, visible_aliases);
        let router_defaults = cfg
            .router_settings
            .default_litellm_params
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::value::to_raw_value(v).expect("a JSON value serialises"),
                )
            })
            .collect();
        let default_parallel = cfg.router_settings.default_max_parallel_requests;
        let slots = Slots::new(groups.values().flatten().map(|d| {
            (
                d.id.as_str(),
                max_parallel_requests(
                    d.max_parallel_requests,
                    d.snapshot.rpm,
                    d.snapshot.tpm,
                    default_parallel,
                ),
            )
        }));
        let rs = &cfg.router_settings;
        let strategy = match self.strategy {
            Some(s) => s,
            None => RoutingStrategy::from_config(
                rs.routing_strategy.as_deref(),
                &rs.routing_strategy_args,
            )
            .map_err(|message| {
                vec![BuildError {
                    path: "router_settings.routing_strategy".into(),
                    message,
                }]
            })?,
        };
        let latency = LatencyArgs::from_args(&rs.routing_strategy_args).unwrap_or_default();
        let latency_window = (latency.max_latency_list_size, latency.ttl);
        let pre_call_checks = rs.enable_pre_call_checks.unwrap_or(false);
        let any_tpm = groups.values().flatten().any(|d| d.snapshot.tpm.is_some());
        let needs_tokens = pre_call_checks
            || any_tpm
            || matches!(
                strategy,
                RoutingStrategy::UsageBased | RoutingStrategy::UsageBasedV2
            );
        let wildcards: Vec<Pattern> = groups
            .keys()
            .filter_map(|name| Pattern::parse(name))
            .collect();
        let store: Arc<dyn StateStore> = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let rng = match self.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Ok(Router {
            inner: Arc::new(Inner {
                groups,
                aliases,
                listed_names,
                warnings,
                cooldowns: Cooldowns::new(CooldownSettings::from_config(&cfg), Arc::clone(&store)),
                store,
                rng: Mutex::new(rng),
                mock: Arc::new(MockProvider),
                router_defaults,
                retry: RetrySettings::from_config(&cfg),
                fallbacks: FallbackSettings::from_config(&cfg),
                slots,
                strategy,
                scheduler: Scheduler::new(DEFAULT_MAX_QUEUE_DEPTH),
                default_priority: rs.default_priority,
                pre_call_checks,
                allow_mock_testing: cfg.general_settings.allow_mock_testing_params,
                tag_filtering: rs.enable_tag_filtering.unwrap_or(false),
                providers: (!wildcards.is_empty()).then(|| Arc::new(prices.clone())),
                wildcards,
                needs_tokens,
                latency_window,
                timeouts: RouterTimeouts::new(
                    cfg.router_settings.timeout,
                    cfg.router_settings.stream_timeout,
                    cfg.litellm_settings.request_timeout,
                ),
                request_deadline: cfg.switchyard_settings.request_deadline,
            }),
        })
    }
}

impl Router {
    /// A builder with an empty config.
    pub fn builder() -> RouterBuilder {
        RouterBuilder::default()
    }

    /// Builds a router from a validated config with the in-memory state store.
    pub fn from_config(config: Config) -> Result<Router, Vec<BuildError>> {
        Self::builder().config(config).build()
    }

    /// Builds a router from LiteLLM YAML (or JSON, a subset of it), with
    /// `os.environ/NAME` resolved from the process environment.
    pub fn from_yaml(yaml: &str) -> Result<Router, SetupError> {
        let loaded = crate::config::load_str(yaml, &|name| std::env::var(name).ok())?;
        let router = Self::from_config(loaded.config)?;
        for w in loaded.warnings.iter().chain(router.warnings()) {
            tracing::warn!(path = %w.path, "config: {}", w.message);
        }
        Ok(router)
    }

    /// Builds a router from a `model_list` written in code, as LiteLLM's
    /// `Router(model_list=[...])` takes it.
    pub fn from_model_list(model_list: serde_json::Value) -> Result<Router, SetupError> {
        Self::from_yaml(&serde_json::json!({ "model_list": model_list }).to_string())
    }

    /// Model names clients may send: every group, then every visible alias.
    pub fn model_names(&self) -> &[String] {
        &self.inner.listed_names
    }

    /// What `/v1/models` says of each listed name, in [`model_names`](Self::model_names)'
    /// order: the first deployment's (for an alias, its group's) mode and token limits.
    ///
    /// A provider's wildcard group (`openai/*`) stands for the models the
    /// price table knows of that provider, listed as `openai/<model>` in name
    /// order, as LiteLLM expands it; the pattern itself is listed only with
    /// `with_wildcard_routes` (LiteLLM's `return_wildcard_routes=true`).
    pub fn listed_models(&self, with_wildcard_routes: bool) -> Vec<ListedModel> {
        let mut out = Vec::with_capacity(self.inner.listed_names.len());
        for name in &self.inner.listed_names {
            let group = self.inner.resolve_group(name).unwrap_or(name);
            let first = self.inner.groups.get(group).and_then(|d| d.first());
            let provider = name.strip_suffix("/*").filter(|p| !p.contains(['/', '*']));
            match (provider, &self.inner.providers) {
                (Some(provider), Some(table)) => {
                    if with_wildcard_routes {
                        out.push(ListedModel::of(name, first));
                    }
                    let mut known: Vec<ListedModel> = table
                        .iter()
                        .filter(|(_, price)| price.provider.as_deref() == Some(provider))
                        .map(|(key, price)| ListedModel {
                            id: match key.strip_prefix(provider).and_then(|k| k.strip_prefix('/')) {
                                Some(_) => key.to_owned(),
                                None => format!("{provider}/{key}"),
                            },
                            mode: price.mode.clone(),
                            max_input_tokens: price.max_input_tokens,
                            max_output_tokens: price.max_output_tokens,
                        })
                        .collect();
                    known.sort_by(|a, b| a.id.cmp(&b.id));
                    known.dedup_by(|a, b| a.id == b.id);
                    out.extend(known);
                }
                _ => out.push(ListedModel::of(name, first)),
            }
        }
        out
    }

    /// What `/v1/models/{name}` says of a model group. Only group names are
    /// looked up there, as in LiteLLM: an alias is `Err(ModelLookup::Alias)`.
    pub fn listed_model(&self, name: &str) -> Result<ListedModel, ModelLookup> {
        match self.inner.groups.get(name) {
            Some(deployments) => Ok(ListedModel::of(name, deployments.first())),
            None if self.inner.aliases.contains_key(name) => Err(ModelLookup::Alias),
            None => Err(ModelLookup::Unknown),
        }
    }

    /// Problems found while building that did not stop it (unsupported providers).
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.inner.warnings
    }

    /// The deployments of a group (resolving aliases), empty when unknown.
    pub fn deployments(&self, model: &str) -> &[Arc<Deployment>] {
        self.inner
            .resolve_group(model)
            .and_then(|g| self.inner.groups.get(g))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Every deployment of every group (wildcard groups included), in no particular order.
    pub fn all_deployments(&self) -> impl Iterator<Item = &Arc<Deployment>> {
        self.inner.groups.values().flatten()
    }

    /// The routing strategy that picks among a group's eligible deployments.
    pub fn routing_strategy(&self) -> &RoutingStrategy {
        &self.inner.strategy
    }

    /// A deployment's usage in the current UTC minute: requests and tokens counted
    /// against its `rpm`/`tpm` (LiteLLM's `get_model_group_usage`, per deployment).
    pub async fn deployment_usage(&self, deployment_id: &str) -> DeploymentUsage {
        let keys = crate::usage::UsageKeys::new(deployment_id);
        let (rpm, tpm) = crate::usage::read(&*self.inner.store, &[&keys]).await[0];
        DeploymentUsage { rpm, tpm }
    }

    /// The state store this router reads and writes.
    pub fn state_store(&self) -> &Arc<dyn StateStore> {
        &self.inner.store
    }

    /// `POST /chat/completions`.
    pub async fn chat_completion(&self, body: RequestBody) -> Result<RoutedResponse, RouterError> {
        self.call(Endpoint::ChatCompletions, body).await
    }

    /// `POST /completions`.
    pub async fn text_completion(&self, body: RequestBody) -> Result<RoutedResponse, RouterError> {
        self.call(Endpoint::Completions, body).await
    }

    /// `POST /embeddings`.
    pub async fn embedding(&self, body: RequestBody) -> Result<RoutedResponse, RouterError> {
        self.call(Endpoint::Embeddings, body).await
    }

    /// `POST /images/generations`.
    pub async fn image_generation(&self, body: RequestBody) -> Result<RoutedResponse, RouterError> {
        self.call(Endpoint::ImageGenerations, body).await
    }

    /// Routes one request through its model group, retries and fallbacks.
    pub async fn call(
        &self,
        endpoint: Endpoint,
        body: RequestBody,
    ) -> Result<RoutedResponse, RouterError> {
        self.call_with(endpoint, body, CallOptions::default()).await
    }

    /// [`call`](Self::call) with options a transport may add (a deadline from a header).
    pub async fn call_with(
        &self,
        endpoint: Endpoint,
        body: RequestBody,
        options: CallOptions,
    ) -> Result<RoutedResponse, RouterError> {
        let route = crate::validate::litellm_route(endpoint);
        crate::validate::require_inputs(endpoint, &body)?;
        crate::validate::allow_mock_testing(&body, self.inner.allow_mock_testing)?;
        // Numbers of seconds from the client: out of range is a 400 naming the field.
        let asked_timeouts = RequestTimeouts::read(&body)?;
        crate::validate::require_seconds_in_range(&body)?;
        let unknown = |requested: String| RouterError::UnknownModel {
            route,
            requested,
            available: self.inner.listed_names.clone(),
        };
        let Some(model) = body.get_str("model") else {
            // As LiteLLM words it: a missing model is `model=None`.
            let raw = body.get("model").filter(|raw| *raw != "null");
            return Err(unknown(raw.unwrap_or("None").to_owned()));
        };
        let (group, wildcard_match) = self
            .inner
            .resolve_request_group(&model)
            .ok_or_else(|| unknown(model.to_string()))?;
        let deployments = self
            .inner
            .groups
            .get(group)
            .map(Vec::as_slice)
            .unwrap_or_default();
        crate::validate::require_prompt(endpoint, &body, deployments)?;
        // Switchyard's own whole-request bound; LiteLLM's timeouts are all per attempt.
        let overall = options.timeout.or(self.inner.request_deadline);
        let plan = CallPlan {
            endpoint,
            stream: endpoint.can_stream() && body.get_bool("stream").unwrap_or(false),
            // Clamped to a year (a library caller's `Duration` may be anything), so the sum
            // cannot overflow.
            deadline: overall.map(|d| Instant::now() + seconds::clamp(d)),
            timeouts: asked_timeouts,
            num_retries: body
                .get_f64("num_retries")
                .filter(|n| *n >= 0.0)
                .map(|n| n as u32),
            fallbacks: RequestFallbacks::from_body(&body, group),
            facts: RequestFacts::read(&self.inner, endpoint, &model, &body, wildcard_match),
            mock_testing: retry::MockTesting::from_body(&body),
            body: &body,
        };
        let (success, trail) = retry::execute(&self.inner, group, &plan).await?;
        let Success {
            deployment,
            response,
            upstream_headers,
            guard,
            retries,
            fallbacks,
            ..
        } = success;
        let body = match response {
            ProviderResponse::Complete(bytes) => ProviderResponse::Complete(bytes),
            ProviderResponse::Stream(events) => {
                // The slot and the in-flight count are held until the stream ends or its reader drops it.
                let events = events.map(move |item| {
                    let _held = &guard;
                    item
                });
                ProviderResponse::Stream(events.boxed())
            }
        };
        Ok(RoutedResponse {
            deployment,
            body,
            upstream_headers,
            failed_attempts: trail.attempts,
            retries,
            fallbacks,
        })
    }
}

/// Per-call options that do not come from the request body.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// A deadline for the whole call (every attempt, backoff and fallback, and a
    /// committed stream), e.g. from the `x-switchyard-timeout` header. Wins over
    /// `switchyard_settings.request_deadline`; the body's `timeout` is per attempt.
    pub timeout: Option<Duration>,
}

impl Inner {
    /// The group a model name or alias routes to.
    pub(crate) fn resolve_group(&self, model: &str) -> Option<&str> {
        if let Some((name, _)) = self.groups.get_key_value(model) {
            return Some(name.as_str());
        }
        let alias = self.aliases.get(model)?;
        self.groups
            .get_key_value(&alias.model)
            .map(|(name, _)| name.as_str())
    }

    /// Like [`resolve_group`](Self::resolve_group), then wildcard groups: the
    /// group and, for a wildcard, the part of `model` its `*` matched.
    pub(crate) fn resolve_request_group<'m>(
        &self,
        model: &'m str,
    ) -> Option<(&str, Option<&'m str>)> {
        if let Some(group) = self.resolve_group(model) {
            return Some((group, None));
        }
        if let Some((pattern, matched)) = wildcard::best_match(&self.wildcards, model) {
            let (name, _) = self.groups.get_key_value(&pattern.group)?;
            return Some((name.as_str(), Some(matched)));
        }
        // A bare name of a known model goes to its provider's wildcard group,
        // as LiteLLM infers the provider (`gpt-4.1-nano` → `openai/*`).
        let provider = self
            .providers
            .as_ref()?
            .lookup(model)?
            .provider
            .as_deref()?;
        let prefixed = format!("{provider}/{model}");
        let (pattern, matched) = wildcard::best_match(&self.wildcards, &prefixed)?;
        let (name, _) = self.groups.get_key_value(&pattern.group)?;
        // The matched part is the end of `prefixed`, so of `model` too (or all of it).
        let matched = &model[model.len().saturating_sub(matched.len())..];
        Some((name.as_str(), Some(matched)))
    }

    /// Whether the request's token count is needed (limits, usage routing, pre-call checks).
    pub(crate) fn needs_tokens(&self) -> bool {
        self.needs_tokens
    }

    /// The routing RNG.
    pub(crate) fn rng(&self) -> std::sync::MutexGuard<'_, StdRng> {
        self.rng.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// This attempt's timeout, resolved as LiteLLM resolves it.
    pub(crate) fn attempt_timeout(&self, plan: &CallPlan<'_>, deployment: &Deployment) -> Duration {
        let tiers = &deployment.timeouts;
        // Looked up only when the deployment has per-tier timeouts.
        let service_tier = (!tiers.by_service_tier.is_empty()
            || !tiers.stream_by_service_tier.is_empty())
        .then(|| plan.body.get_str("service_tier"))
        .flatten();
        crate::timeouts::attempt_timeout(
            plan.stream,
            &plan.timeouts,
            service_tier.as_deref(),
            tiers,
            &self.timeouts,
        )
    }
}

/// Holds a call's in-flight count and parallel-request slot until dropped.
#[derive(Debug)]
pub(crate) struct CallGuard {
    store: Arc<dyn StateStore>,
    deployment: Arc<Deployment>,
    _slot: SlotPermit,
}

impl CallGuard {
    pub(crate) async fn acquire(
        store: &Arc<dyn StateStore>,
        deployment: &Arc<Deployment>,
        slot: SlotPermit,
    ) -> Self {
        if let Err(e) = store.incr_in_flight(&deployment.id).await {
            tracing::warn!(error = %e, "could not count an in-flight request");
        }
        Self {
            store: Arc::clone(store),
            deployment: Arc::clone(deployment),
            _slot: slot,
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.store.decr_in_flight(&self.deployment.id);
    }
}

/// One entry of the model list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedModel {
    /// The name clients send.
    pub id: String,
    /// What the model does (`chat`, `embedding`...), when known.
    pub mode: Option<String>,
    /// Its context window, when known.
    pub max_input_tokens: Option<u64>,
    /// Its longest completion, when known.
    pub max_output_tokens: Option<u64>,
}

impl ListedModel {
    fn of(name: &str, deployment: Option<&Arc<Deployment>>) -> Self {
        Self {
            id: name.to_owned(),
            mode: deployment.and_then(|d| d.mode.clone()),
            max_input_tokens: deployment.and_then(|d| d.max_input_tokens),
            max_output_tokens: deployment.and_then(|d| d.max_output_tokens),
        }
    }
}

/// Why [`Router::listed_model`] found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelLookup {
    /// The name is an alias, not a group.
    Alias,
    /// No group has the name.
    Unknown,
}
