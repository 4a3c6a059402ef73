//! Token counting, which runs on the request path only when something reads the
//! count (tpm limits, usage-based routing, pre-call checks): a short chat, a
//! 1 KB and a 16 KB prompt, under cl100k and o200k.
//!
//! `cargo bench -p switchyard-router --bench tokens` (about 20 s).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use switchyard_router::tokens;
use switchyard_types::RequestBody;

/// English-like prose of about `bytes` bytes.
fn prose(bytes: usize) -> String {
    const SENTENCE: &str = "The router picks a deployment, counts its tokens and sends the call on; \
                            when the upstream fails it retries, cools the deployment down or falls back. ";
    SENTENCE.repeat(bytes / SENTENCE.len() + 1)[..bytes].to_owned()
}

fn chat(prompt: &str) -> RequestBody {
    let body = serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": prompt},
        ],
    });
    RequestBody::from_slice(body.to_string().as_bytes()).expect("valid body")
}

fn bench(c: &mut Criterion) {
    tokens::warm_up();
    let mut group = c.benchmark_group("count_chat_tokens");
    for (name, bytes) in [("short", 20), ("1KB", 1024), ("16KB", 16 * 1024)] {
        let body = chat(&prose(bytes));
        group.throughput(Throughput::Bytes(bytes as u64));
        for model in ["gpt-4", "gpt-4o"] {
            group.bench_with_input(BenchmarkId::new(model, name), &body, |b, body| {
                b.iter(|| tokens::count_chat_tokens(black_box(model), black_box(body)))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
