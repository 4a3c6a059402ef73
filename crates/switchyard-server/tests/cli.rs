//! The `switchyard` binary: `check`, config errors, and the README's run command.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn switchyard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
}

/// `switchyard check --config PATH` with these flags first.
fn check(path: impl AsRef<std::ffi::OsStr>, flags: &[&str]) -> std::process::Output {
    switchyard()
        .arg("check")
        .args(flags)
        .arg("--config")
        .arg(path)
        .output()
        .unwrap()
}

fn repo_path(rel: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn write_temp(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("switchyard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn check_accepts_every_bundled_config() {
    let dir = repo_path("config");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        seen += 1;
        let out = switchyard()
            .arg("check")
            .arg("--config")
            .arg(&path)
            // Bundled configs read their secrets from the environment.
            .envs(bundled_config_env())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(seen >= 2, "expected bundled configs in {}", dir.display());
}

/// Every variable the bundled configs name with `os.environ/`.
fn bundled_config_env() -> Vec<(String, String)> {
    let mut vars = Vec::new();
    for entry in std::fs::read_dir(repo_path("config")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        for part in text.split("os.environ/").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // Ports must parse as numbers; everything else is an opaque string.
            let value = if name.ends_with("PORT") {
                "6379"
            } else if name.contains("API_BASE") {
                "http://127.0.0.1:9"
            } else {
                "test-value"
            };
            vars.push((name, value.to_owned()));
        }
    }
    vars
}

#[test]
fn check_reports_every_problem_with_its_path_and_fails() {
    let path = write_temp(
        "broken.yaml",
        r#"
model_list:
  - model_name: a
    litellm_params: { model: openai/gpt-4o, rpm: "ten" }
  - model_name: b
    litellm_params: { api_key: os.environ/SWITCHYARD_SURELY_UNSET_VAR }
"#,
    );
    let out = check(&path, &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("model_list[0].litellm_params.rpm"),
        "{stderr}"
    );
    assert!(
        stderr.contains("model_list[1].litellm_params.model"),
        "{stderr}"
    );
    assert!(stderr.contains("SWITCHYARD_SURELY_UNSET_VAR"), "{stderr}");
}

#[test]
fn strict_turns_unknown_keys_into_a_failure() {
    let path = write_temp(
        "unknown-key.yaml",
        "model_list:\n  - model_name: a\n    litellm_params: { model: openai/gpt-4o, mock_response: hi }\nrouter_settings:\n  not_a_litellm_key: 1\n",
    );
    let lenient = check(&path, &[]);
    assert!(lenient.status.success());
    assert!(String::from_utf8_lossy(&lenient.stderr).contains("router_settings.not_a_litellm_key"));
    let strict = check(&path, &["--strict"]);
    assert!(!strict.status.success());
}

/// Configs found in public repositories: a copy-pasted deployment, an `.env` placeholder
/// left in `api_base`, a docker-compose service name, a provider without an adapter yet.
const SERVED_IN_PART: &str = r#"
model_list:
  - model_name: chat
    litellm_params: { model: openai/llama3, api_base: "${OLLAMA_API_BASE}/v1", api_key: sk-never-shown }
  - model_name: chat
    litellm_params: { model: openai/llama3, api_base: "http://127.0.0.1:11434/v1", mock_response: hi }
  - model_name: chat
    litellm_params: { model: openai/llama3, api_base: "http://127.0.0.1:11434/v1", mock_response: hi }
  - model_name: embed
    litellm_params: { model: openai/nomic-embed-text, api_base: "http://nomic-embed-v1.5:8080/v1", rpm: "100" }
  - model_name: claude
    litellm_params: { model: bedrock/anthropic.claude-v2 }
  - model_name: claude
    litellm_params: { model: openai/claude, api_base: "http://user:sk-never-shown@:8080" }
"#;

#[test]
fn check_says_what_will_serve() {
    let path = write_temp("served-in-part.yaml", SERVED_IN_PART);
    let out = check(&path, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert_eq!(
        stdout.trim_end(),
        format!(
            "{}: served in part: 2 of 6 deployments routable, 2 of 3 model groups served, 4 warnings",
            path.display()
        )
    );
    for expected in [
        "warning: model_list[0].litellm_params.api_base: not a usable URL: ",
        "warning: model_list[2]: same deployment id ",
        " as model_list[1] ",
        "warning: model_list[4].litellm_params.model: provider of \"bedrock/anthropic.claude-v2\" is not supported",
        "warning: model_list[5].litellm_params.api_base: not a usable URL: it has no host",
        "warning: model group \"claude\" has no routable deployment (every one is skipped: model_list[4], model_list[5])",
    ] {
        assert!(stderr.contains(expected), "{expected:?} not in {stderr}");
    }
    assert!(!stderr.contains("sk-never-shown"), "{stderr}");
    assert!(!stderr.contains("model_list[3]"), "{stderr}");

    let strict = check(&path, &["--strict"]);
    assert!(!strict.status.success());
    let stderr = String::from_utf8_lossy(&strict.stderr);
    assert!(
        stderr.contains("error: 1 model group(s) without a routable deployment with --strict"),
        "{stderr}"
    );
}

#[test]
fn check_says_everything_is_served() {
    let path = write_temp(
        "all-served.yaml",
        "model_list:\n  - model_name: embed\n    litellm_params: { model: openai/nomic-embed-text, api_base: \"http://nomic-embed-v1.5:8080/v1\", rpm: \"100\", max_parallel_requests: \" 4 \" }\n  - model_name: chat\n    litellm_params: { model: openai/gpt-4o, mock_response: hi }\n",
    );
    for strict in [false, true] {
        let mut cmd = switchyard();
        cmd.arg("check").arg("--config").arg(&path);
        if strict {
            cmd.arg("--strict");
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}{stderr}");
        assert_eq!(stderr, "");
        assert_eq!(
            stdout.trim_end(),
            format!(
                "{}: ok: 2 of 2 deployments routable, 2 of 2 model groups served, 0 warnings",
                path.display()
            )
        );
    }
}

#[test]
fn the_readme_run_command_serves_the_quickstart_config_offline() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = switchyard()
        .args(["--config"])
        .arg(repo_path("config/quickstart.yaml"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log_lines = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let result = ureq_like_post(
            port,
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"Hello!"}]}"#,
        );
        match result {
            Ok(body) => break body,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("proxy did not answer: {e}"),
        }
    };
    assert!(body.contains("\"chat.completion\""), "{body}");
    // SIGTERM: a graceful stop with exit code 0.
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let logs = log_lines.join().unwrap().join("\n");
    assert!(
        logs.contains("/v1/chat/completions"),
        "one log line per request: {logs}"
    );
    assert!(
        !logs.contains("sk-1234"),
        "the master key never appears in logs"
    );
}

/// The quickstart config served on a free port with stderr piped, and its port.
fn spawn_quickstart(extra_args: &[&str]) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = switchyard()
        .arg("--config")
        .arg(repo_path("config/quickstart.yaml"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(extra_args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (child, port)
}

#[test]
fn request_lines_reach_a_piped_stderr_soon_without_colour_codes() {
    let (mut child, port) = spawn_quickstart(&[]);
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq_like_post(port, r#"{"model":"gpt-4o","messages":[]}"#).is_err() {
        assert!(Instant::now() < deadline, "proxy did not answer");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Lines are written in batches, but the proxy keeps running here: the
    // request's line must arrive on its own, well within a second.
    let answered = Instant::now();
    let request_line = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the request line reached stderr while the proxy ran");
        assert!(
            !line.contains('\x1b'),
            "no colour codes in a pipe: {line:?}"
        );
        if line.contains("path=/v1/chat/completions") {
            break line;
        }
    };
    assert!(answered.elapsed() < Duration::from_secs(2));
    assert!(request_line.contains(" INFO "), "{request_line}");
    assert!(request_line.contains("status=200"), "{request_line}");
    assert!(
        request_line.contains("model_group=gpt-4o"),
        "{request_line}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// A blocking HTTP/1.1 POST with the quickstart's master key, enough for this test.
fn ureq_like_post(port: u16, body: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer sk-1234\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    if !out.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(out));
    }
    Ok(out)
}

#[test]
fn json_logs_are_one_object_per_line_with_the_request_fields() {
    let (mut child, port) = spawn_quickstart(&["--log-format", "json"]);
    let stderr = child.stderr.take().unwrap();
    let lines = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq_like_post(port, r#"{"model":"gpt-4o","messages":[]}"#).is_err() {
        assert!(Instant::now() < deadline, "proxy did not answer");
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    child.wait().unwrap();
    let lines = lines.join().unwrap();
    let request_line = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
        })
        .find(|v| v["path"] == "/v1/chat/completions")
        .expect("a request log line");
    assert_eq!(request_line["status"], 200);
    assert_eq!(request_line["model_group"], "gpt-4o");
    assert!(request_line["deployment_id"].is_string());
    assert!(request_line["duration_ms"].is_number());
}

#[test]
fn a_user_price_file_is_read_and_a_broken_one_is_a_clear_error() {
    let good = write_temp(
        "prices.json",
        r#"{"my-model": {"max_input_tokens": 1000, "input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002, "litellm_provider": "openai", "mode": "chat"}}"#,
    );
    let out = switchyard()
        .arg("check")
        .arg("--config")
        .arg(repo_path("config/quickstart.yaml"))
        .arg("--model-prices")
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bad = write_temp("bad-prices.json", "{not json");
    let out = switchyard()
        .arg("check")
        .arg("--config")
        .arg(repo_path("config/quickstart.yaml"))
        .arg("--model-prices")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--model-prices") && stderr.contains("bad-prices.json"),
        "{stderr}"
    );
}

/// Waits until the proxy on `port` accepts connections.
fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "proxy did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends SIGTERM to `child` and returns how long it took to exit, and how.
fn terminate(
    child: &mut std::process::Child,
    limit: Duration,
) -> (Duration, std::process::ExitStatus) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let sent = Instant::now();
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            return (sent.elapsed(), exit);
        }
        if sent.elapsed() > limit {
            let _ = child.kill();
            panic!("still running {limit:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_with_a_half_sent_head_exits_at_once() {
    use std::io::Write;
    let (mut child, port) = spawn_quickstart(&["--drain-timeout", "10"]);
    wait_listening(port);
    let mut half = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    half.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-")
        .unwrap();
    let mut idle = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    idle.write_all(b"").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (took, exit) = terminate(&mut child, Duration::from_secs(10));
    assert!(exit.success(), "{exit:?}");
    assert!(
        took < Duration::from_secs(3),
        "a half-sent head held shutdown for {took:?}"
    );
}

#[test]
fn sigterm_lets_a_call_in_flight_finish_until_the_drain_deadline() {
    use std::io::{Read, Write};
    let (mut child, port) = spawn_quickstart(&["--drain-timeout", "1"]);
    wait_listening(port);
    let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"mock_delay":30}"#;
    let mut busy = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        busy,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-1234\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (took, exit) = terminate(&mut child, Duration::from_secs(10));
    assert!(exit.success(), "{exit:?}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "the drain deadline bounds shutdown: {took:?}"
    );
    // The cut call's connection is closed, not left hanging.
    busy.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = Vec::new();
    let _ = busy.read_to_end(&mut rest);
}

#[test]
fn refused_requests_are_logged_with_the_peer_and_the_reason() {
    use std::io::{Read, Write};
    let (mut child, port) = spawn_quickstart(&[]);
    wait_listening(port);
    let mut bad = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let local = bad.local_addr().unwrap();
    bad.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    bad.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = bad.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 501 "), "{answer}");
    let _ = terminate(&mut child, Duration::from_secs(10));
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let line = logs
        .lines()
        .find(|l| l.contains("refused"))
        .unwrap_or_else(|| panic!("no refusal line in:\n{logs}"));
    assert!(line.contains(&local.to_string()), "{line}");
    assert!(line.contains("transfer-encoding"), "{line}");
}

#[test]
fn help_lists_every_client_limit_flag() {
    let out = switchyard().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--head-timeout",
        "--keepalive_timeout",
        "--body-timeout",
        "--send-timeout",
        "--max-connections",
        "--drain-timeout",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    let out = switchyard()
        .args(["--config", "x.yaml", "--head-timeout", "1e20"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--head-timeout"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
