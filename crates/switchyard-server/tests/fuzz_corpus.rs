//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through
//! the checks the fuzz targets run (`fuzz/src/lib.rs`, included here), so
//! whatever the fuzzer once found interesting is checked by `cargo test`.

#[path = "../../../fuzz/src/lib.rs"]
mod checks;

use std::path::Path;

/// A target's checks.
type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 8] = [
    ("request_head", checks::request_head),
    ("chunked", checks::chunked),
    ("request_body", checks::request_body),
    ("response_head", checks::response_head),
    ("sse_decoder", checks::sse_decoder),
    ("config_loader", checks::config_loader),
    ("stream_commit", checks::stream_commit),
    ("base_url", checks::base_url),
];

#[test]
fn every_corpus_file_passes_its_target_checks() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (target, check) in TARGETS {
        let dir = corpus.join(target);
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            let data = match std::fs::read(&path) {
                Ok(data) => data,
                // A fuzzer running beside the test replaces its files.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("{}: {e}", path.display()),
            };
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{target}: {} failed", path.display());
            files += 1;
        }
        assert!(files > 0, "{target}: empty corpus");
    }
}
