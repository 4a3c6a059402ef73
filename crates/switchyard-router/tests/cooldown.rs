//! Cooldown rules (LiteLLM 1.106's, with Switchyard's fixes), one test per rule, against
//! `MemoryStore` under paused tokio time.

use std::sync::Arc;
use std::time::Duration;

use switchyard_router::config::{Config, load_str};
use switchyard_router::cooldown::{
    AllowedFailsPolicy, CooldownSettings, Cooldowns, DeploymentCooldownConfig,
};
use switchyard_router::state::{MemoryStore, StateError, StateStore, StoreFuture, answer_later};
use switchyard_router::{ErrorKind, ProviderError};

const SECS: fn(u64) -> Duration = Duration::from_secs;

fn err(kind: ErrorKind) -> ProviderError {
    let mut e = ProviderError::new(kind, "openai", "upstream said no");
    e.status = Some(kind.http_status());
    e
}

fn retry_after(kind: ErrorKind, after: Duration) -> ProviderError {
    let mut e = err(kind);
    e.retry_after = Some(after);
    e
}

fn setup(settings: CooldownSettings) -> (Cooldowns, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    (Cooldowns::new(settings, store.clone()), store)
}

fn with_allowed_fails(n: u32) -> CooldownSettings {
    CooldownSettings {
        allowed_fails: Some(n),
        ..Default::default()
    }
}

async fn remaining(store: &MemoryStore, id: &str) -> Option<Duration> {
    store.cooldowns(&[id]).await.unwrap()[0]
}

fn none() -> DeploymentCooldownConfig {
    DeploymentCooldownConfig::default()
}

fn config(yaml: &str) -> Config {
    load_str(yaml, &|_| None)
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

#[tokio::test(start_paused = true)]
async fn rate_limit_cools_at_once_only_when_the_group_has_other_deployments() {
    let (c, store) = setup(CooldownSettings::default());
    let e = err(ErrorKind::RateLimit);
    assert_eq!(
        c.record_failure("multi", &none(), &e, 2).await,
        Some(SECS(5))
    );
    assert_eq!(remaining(&store, "multi").await, Some(SECS(5)));

    // A group's only deployment is not cooled by 429s (nor by a handful of them).
    for _ in 0..10 {
        assert_eq!(c.record_failure("single", &none(), &e, 1).await, None);
    }
    assert_eq!(remaining(&store, "single").await, None);
}

#[tokio::test(start_paused = true)]
async fn auth_payment_and_not_found_cool_at_once() {
    let (c, store) = setup(CooldownSettings::default());
    for (id, kind) in [
        ("auth", ErrorKind::Authentication),
        ("payment", ErrorKind::PaymentRequired),
        ("missing", ErrorKind::NotFound),
    ] {
        assert_eq!(
            c.record_failure(id, &none(), &err(kind), 3).await,
            Some(SECS(5)),
            "{kind:?}"
        );
        assert!(remaining(&store, id).await.is_some());
    }
    // Alone in their group, 401 and 404 still cool (LiteLLM: status not retryable)...
    for kind in [ErrorKind::Authentication, ErrorKind::NotFound] {
        assert_eq!(
            c.record_failure("alone", &none(), &err(kind), 1).await,
            Some(SECS(5))
        );
    }
    // ...but not a 402 (LiteLLM's single-deployment exception for PaymentRequired).
    let e = err(ErrorKind::PaymentRequired);
    assert_eq!(c.record_failure("alone-402", &none(), &e, 1).await, None);
}

#[tokio::test(start_paused = true)]
async fn bad_request_and_permission_denied_never_cool() {
    for settings in [CooldownSettings::default(), with_allowed_fails(0)] {
        let (c, store) = setup(settings);
        for kind in [
            ErrorKind::BadRequest,
            ErrorKind::PermissionDenied,
            ErrorKind::ContextWindowExceeded,
            ErrorKind::ContentPolicyViolation,
            ErrorKind::UnprocessableEntity,
        ] {
            for _ in 0..10 {
                assert_eq!(c.record_failure("d", &none(), &err(kind), 3).await, None);
            }
        }
        assert_eq!(remaining(&store, "d").await, None);
    }
}

#[tokio::test(start_paused = true)]
async fn connection_errors_never_cool_but_count_toward_the_ratio() {
    let (c, store) = setup(CooldownSettings::default());
    c.record_success("d").await;
    for _ in 0..5 {
        let e = ProviderError::new(ErrorKind::ApiConnection, "openai", "connection refused");
        assert_eq!(c.record_failure("d", &none(), &e, 2).await, None);
    }
    assert_eq!(remaining(&store, "d").await, None);
    // 6 failures of 7 requests: the next cooldown-eligible failure cools it.
    assert_eq!(
        c.record_failure("d", &none(), &err(ErrorKind::InternalServer), 2)
            .await,
        Some(SECS(5))
    );
}

#[tokio::test(start_paused = true)]
async fn failure_ratio_over_half_with_five_requests_cools_multi_deployment_groups() {
    let (c, store) = setup(CooldownSettings::default());
    let e = err(ErrorKind::InternalServer);
    c.record_success("d").await;
    c.record_success("d").await;
    // 1/3, 2/4 (= 50 %, not over): no cooldown.
    assert_eq!(c.record_failure("d", &none(), &e, 2).await, None);
    assert_eq!(c.record_failure("d", &none(), &e, 2).await, None);
    assert_eq!(remaining(&store, "d").await, None);
    // 3/5: over 50 % with 5 requests.
    assert_eq!(c.record_failure("d", &none(), &e, 2).await, Some(SECS(5)));

    // Over 50 % but fewer than 5 requests: no cooldown.
    for _ in 0..4 {
        assert_eq!(c.record_failure("few", &none(), &e, 2).await, None);
    }
    assert_eq!(remaining(&store, "few").await, None);

    // Timeouts and 503s count the same way.
    for _ in 0..4 {
        let t = err(ErrorKind::Timeout);
        assert_eq!(c.record_failure("slow", &none(), &t, 2).await, None);
    }
    let u = err(ErrorKind::ServiceUnavailable);
    assert_eq!(
        c.record_failure("slow", &none(), &u, 2).await,
        Some(SECS(5))
    );
}

#[tokio::test(start_paused = true)]
async fn single_deployment_groups_skip_the_ratio_rule() {
    let (c, store) = setup(CooldownSettings::default());
    for kind in [
        ErrorKind::InternalServer,
        ErrorKind::Timeout,
        ErrorKind::ServiceUnavailable,
    ] {
        for _ in 0..20 {
            assert_eq!(c.record_failure("d", &none(), &err(kind), 1).await, None);
        }
    }
    assert_eq!(remaining(&store, "d").await, None);
}

#[tokio::test(start_paused = true)]
async fn single_deployment_cools_when_every_one_of_a_thousand_requests_failed() {
    let (c, _) = setup(CooldownSettings::default());
    let e = err(ErrorKind::InternalServer);
    for _ in 0..999 {
        assert_eq!(c.record_failure("d", &none(), &e, 1).await, None);
    }
    assert_eq!(c.record_failure("d", &none(), &e, 1).await, Some(SECS(5)));
}

#[tokio::test(start_paused = true)]
async fn allowed_fails_three_is_honoured() {
    // LiteLLM ignores allowed_fails == 3 (its own default); Switchyard does not.
    let (c, store) = setup(with_allowed_fails(3));
    let e = err(ErrorKind::InternalServer);
    for _ in 0..3 {
        assert_eq!(c.record_failure("d", &none(), &e, 1).await, None);
    }
    assert_eq!(remaining(&store, "d").await, None);
    assert_eq!(c.record_failure("d", &none(), &e, 1).await, Some(SECS(5)));

    // Under an allowance a 429 in a multi-deployment group is counted, not cooled at once.
    let r = err(ErrorKind::RateLimit);
    for _ in 0..3 {
        assert_eq!(c.record_failure("rl", &none(), &r, 3).await, None);
    }
    assert_eq!(c.record_failure("rl", &none(), &r, 3).await, Some(SECS(5)));
}

#[tokio::test(start_paused = true)]
async fn allowed_fails_zero_cools_on_the_first_failure() {
    let (c, _) = setup(with_allowed_fails(0));
    assert_eq!(
        c.record_failure("d", &none(), &err(ErrorKind::Timeout), 1)
            .await,
        Some(SECS(5))
    );
}

#[tokio::test(start_paused = true)]
async fn an_allowance_starts_afresh_after_its_cooldown() {
    let (c, store) = setup(with_allowed_fails(1));
    let e = err(ErrorKind::InternalServer);
    assert_eq!(c.record_failure("d", &none(), &e, 2).await, None);
    assert_eq!(c.record_failure("d", &none(), &e, 2).await, Some(SECS(5)));
    tokio::time::advance(SECS(6)).await;
    assert_eq!(remaining(&store, "d").await, None);
    // One failure is within the allowance again; the second exceeds it.
    assert_eq!(c.record_failure("d", &none(), &e, 2).await, None);
    assert_eq!(c.record_failure("d", &none(), &e, 2).await, Some(SECS(5)));
}

#[tokio::test(start_paused = true)]
async fn allowed_fails_policy_counts_each_class_against_its_own_allowance() {
    let cfg = config(
        r#"
router_settings:
  allowed_fails_policy:
    RateLimitErrorAllowedFails: 1
    InternalServerErrorAllowedFails: 3
"#,
    );
    let settings = CooldownSettings::from_config(&cfg);
    assert_eq!(
        settings.allowed_fails_policy,
        Some(AllowedFailsPolicy {
            rate_limit: Some(1),
            internal_server: Some(3),
            ..Default::default()
        })
    );
    let (c, store) = setup(settings);
    let rl = err(ErrorKind::RateLimit);
    let ise = err(ErrorKind::InternalServer);

    assert_eq!(c.record_failure("a", &none(), &rl, 2).await, None);
    assert_eq!(c.record_failure("a", &none(), &rl, 2).await, Some(SECS(5)));

    // Three 500s and one 429, interleaved: each class stays within its allowance.
    for e in [&ise, &rl, &ise, &ise] {
        assert_eq!(c.record_failure("b", &none(), e, 2).await, None);
    }
    assert_eq!(remaining(&store, "b").await, None);
    assert_eq!(c.record_failure("b", &none(), &ise, 2).await, Some(SECS(5)));

    // A class the policy does not name: LiteLLM's default allowance of 3.
    let auth = err(ErrorKind::Authentication);
    for _ in 0..3 {
        assert_eq!(c.record_failure("c", &none(), &auth, 2).await, None);
    }
    assert_eq!(
        c.record_failure("c", &none(), &auth, 2).await,
        Some(SECS(5))
    );
}

#[tokio::test(start_paused = true)]
async fn deployment_policy_in_model_info_overrides_the_router() {
    let cfg = config(
        r#"
model_list:
  - model_name: g
    litellm_params: { model: openai/a }
    model_info:
      id: patient
      allowed_fails_policy: { RateLimitErrorAllowedFails: 2, BadRequestErrorAllowedFails: 0 }
  - model_name: g
    litellm_params: { model: openai/b }
    model_info: { id: plain }
"#,
    );
    let patient = DeploymentCooldownConfig::from_deployment(&cfg.model_list[0]);
    let plain = DeploymentCooldownConfig::from_deployment(&cfg.model_list[1]);
    let (c, store) = setup(CooldownSettings::from_config(&cfg));
    let rl = err(ErrorKind::RateLimit);

    // The router's default would cool at the first 429; this deployment allows two.
    assert_eq!(c.record_failure("patient", &patient, &rl, 2).await, None);
    assert_eq!(c.record_failure("patient", &patient, &rl, 2).await, None);
    assert_eq!(
        c.record_failure("patient", &patient, &rl, 2).await,
        Some(SECS(5))
    );
    assert_eq!(
        c.record_failure("plain", &plain, &rl, 2).await,
        Some(SECS(5))
    );

    // Naming BadRequestError opts 400s in for this deployment only.
    let bad = err(ErrorKind::BadRequest);
    let (c, _) = setup(CooldownSettings::from_config(&cfg));
    assert_eq!(c.record_failure("plain", &plain, &bad, 2).await, None);
    assert_eq!(
        c.record_failure("patient", &patient, &bad, 2).await,
        Some(SECS(5))
    );

    // A class its policy does not name follows the router's rules (401: at once).
    let auth = err(ErrorKind::Authentication);
    let (c, _) = setup(CooldownSettings::from_config(&cfg));
    assert_eq!(
        c.record_failure("patient", &patient, &auth, 2).await,
        Some(SECS(5))
    );
    assert!(remaining(&store, "patient").await.is_some());
}

#[tokio::test(start_paused = true)]
async fn length_is_deployment_then_retry_after_then_router() {
    let cfg = config(
        r#"
router_settings: { cooldown_time: 7 }
model_list:
  - model_name: g
    litellm_params: { model: openai/a, cooldown_time: 30 }
    model_info: { id: own }
  - model_name: g
    litellm_params: { model: openai/b }
    model_info: { id: other }
  - model_name: g
    litellm_params: { model: openai/c, cooldown_time: 0 }
    model_info: { id: never }
"#,
    );
    let own = DeploymentCooldownConfig::from_deployment(&cfg.model_list[0]);
    let other = DeploymentCooldownConfig::from_deployment(&cfg.model_list[1]);
    let never = DeploymentCooldownConfig::from_deployment(&cfg.model_list[2]);
    let (c, store) = setup(CooldownSettings::from_config(&cfg));
    let with_header = retry_after(ErrorKind::RateLimit, SECS(12));

    assert_eq!(
        c.record_failure("own", &own, &with_header, 3).await,
        Some(SECS(30))
    );
    assert_eq!(
        c.record_failure("other", &other, &with_header, 3).await,
        Some(SECS(12))
    );
    assert_eq!(remaining(&store, "other").await, Some(SECS(12)));
    assert_eq!(
        c.record_failure("other2", &other, &err(ErrorKind::RateLimit), 3)
            .await,
        Some(SECS(7))
    );
    // A zero cooldown_time on the deployment: it never cools.
    assert_eq!(
        c.record_failure("never", &never, &with_header, 3).await,
        None
    );
    assert_eq!(remaining(&store, "never").await, None);
}

#[tokio::test(start_paused = true)]
async fn cooling_again_extends_to_the_later_deadline() {
    let (c, store) = setup(CooldownSettings::default());
    let long = retry_after(ErrorKind::RateLimit, SECS(30));
    let short = retry_after(ErrorKind::RateLimit, SECS(5));
    assert_eq!(
        c.record_failure("d", &none(), &long, 2).await,
        Some(SECS(30))
    );
    tokio::time::advance(SECS(10)).await;
    // A shorter cooldown does not cut the running one short...
    assert_eq!(
        c.record_failure("d", &none(), &short, 2).await,
        Some(SECS(5))
    );
    assert_eq!(remaining(&store, "d").await, Some(SECS(20)));
    // ...and a longer one extends it.
    tokio::time::advance(SECS(10)).await;
    assert_eq!(
        c.record_failure("d", &none(), &long, 2).await,
        Some(SECS(30))
    );
    assert_eq!(remaining(&store, "d").await, Some(SECS(30)));
}

#[tokio::test(start_paused = true)]
async fn disable_cooldowns_turns_everything_off() {
    let cfg = config("router_settings: { disable_cooldowns: true, allowed_fails: 0 }\n");
    let (c, store) = setup(CooldownSettings::from_config(&cfg));
    assert!(c.settings().disabled);
    for kind in [
        ErrorKind::RateLimit,
        ErrorKind::Authentication,
        ErrorKind::NotFound,
        ErrorKind::InternalServer,
    ] {
        for _ in 0..10 {
            assert_eq!(c.record_failure("d", &none(), &err(kind), 3).await, None);
        }
    }
    assert_eq!(remaining(&store, "d").await, None);
}

#[tokio::test(start_paused = true)]
async fn a_cooldown_expires_after_its_length() {
    let (c, store) = setup(CooldownSettings::default());
    assert_eq!(
        c.record_failure("d", &none(), &err(ErrorKind::Authentication), 2)
            .await,
        Some(SECS(5))
    );
    tokio::time::advance(Duration::from_millis(4_900)).await;
    assert_eq!(
        remaining(&store, "d").await,
        Some(Duration::from_millis(100))
    );
    tokio::time::advance(Duration::from_millis(100)).await;
    assert_eq!(remaining(&store, "d").await, None);
}

#[test]
fn settings_from_config_and_defaults() {
    let d = CooldownSettings::default();
    assert_eq!(d.cooldown_time, SECS(5));
    assert!(!d.disabled);
    assert_eq!(d.allowed_fails, None);
    assert_eq!(d.allowed_fails_policy, None);
    assert_eq!(CooldownSettings::from_config(&Config::default()), d);

    let s = CooldownSettings::from_config(&config(
        "litellm_settings: { cooldown_time: 9, allowed_fails: 4 }\n",
    ));
    assert_eq!(s.cooldown_time, SECS(9));
    assert_eq!(s.allowed_fails, Some(4));

    let s = CooldownSettings::from_config(&config(
        "router_settings: { cooldown_time: 1.5, allowed_fails: 3 }\nlitellm_settings: { cooldown_time: 9, allowed_fails: 4 }\n",
    ));
    assert_eq!(s.cooldown_time, Duration::from_millis(1500));
    assert_eq!(s.allowed_fails, Some(3));
}

/// A store that is down.
#[derive(Debug)]
struct DownStore;

fn down<T: Send + 'static>() -> StoreFuture<'static, Result<T, StateError>> {
    // As a remote store answers: later, through a boxed future.
    answer_later(async { Err(StateError("connection refused".into())) })
}

impl StateStore for DownStore {
    fn incr_in_flight(&self, _: &str) -> StoreFuture<'_, Result<u64, StateError>> {
        down()
    }
    fn decr_in_flight(&self, _: &str) {}
    fn in_flight(&self, _: &[&str]) -> StoreFuture<'_, Result<Vec<u64>, StateError>> {
        down()
    }
    fn incr_window(&self, _: &str, _: u64, _: i64) -> StoreFuture<'_, Result<u64, StateError>> {
        down()
    }
    fn push_latency(
        &self,
        _: &str,
        _: f64,
        _: usize,
        _: Duration,
    ) -> StoreFuture<'_, Result<(), StateError>> {
        down()
    }
    fn latencies(&self, _: &[&str]) -> StoreFuture<'_, Result<Vec<Vec<f64>>, StateError>> {
        down()
    }
    fn get_windows(&self, _: &[&str], _: u64) -> StoreFuture<'_, Result<Vec<u64>, StateError>> {
        down()
    }
    fn set_cooldown(&self, _: &str, _: Duration) -> StoreFuture<'_, Result<(), StateError>> {
        down()
    }
    fn cooldowns(&self, _: &[&str]) -> StoreFuture<'_, Result<Vec<Option<Duration>>, StateError>> {
        down()
    }
}

#[tokio::test(start_paused = true)]
async fn a_store_error_means_no_cooldown() {
    for settings in [CooldownSettings::default(), with_allowed_fails(0)] {
        let c = Cooldowns::new(settings, Arc::new(DownStore));
        c.record_success("d").await;
        for kind in [
            ErrorKind::RateLimit,
            ErrorKind::Authentication,
            ErrorKind::InternalServer,
        ] {
            assert_eq!(c.record_failure("d", &none(), &err(kind), 3).await, None);
        }
    }
}
