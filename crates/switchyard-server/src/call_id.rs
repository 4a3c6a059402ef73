//! `x-litellm-call-id`: one id per request, on its answer whatever the
//! outcome, so a client can quote it when something went wrong. A client
//! that sends its own (up to 256 characters) gets it back, as LiteLLM does;
//! otherwise it is a fresh random UUID.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use rand::RngCore;

pub(crate) const CALL_ID: HeaderName = HeaderName::from_static("x-litellm-call-id");

/// LiteLLM's `MAX_LITELLM_CALL_ID_LENGTH`.
const MAX_CLIENT_ID_LEN: usize = 256;

/// The request's call id.
pub(crate) fn for_request(headers: &HeaderMap) -> HeaderValue {
    match headers.get(&CALL_ID) {
        Some(theirs) if !theirs.is_empty() && theirs.len() <= MAX_CLIENT_ID_LEN => theirs.clone(),
        _ => new_uuid(),
    }
}

/// A random (version 4) UUID in its usual 36-character form.
fn new_uuid() -> HeaderValue {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0u8; 36];
    let mut at = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text[at] = b'-';
            at += 1;
        }
        text[at] = HEX[usize::from(b >> 4)];
        text[at + 1] = HEX[usize::from(b & 0x0f)];
        at += 2;
    }
    HeaderValue::from_bytes(&text).expect("hex digits and dashes are a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_are_distinct_v4_uuids_and_a_clients_own_is_kept() {
        let a = for_request(&HeaderMap::new());
        let b = for_request(&HeaderMap::new());
        assert_ne!(a, b);
        let a = a.to_str().unwrap();
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4', "{a}");
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{a}");
        assert_eq!(a.matches('-').count(), 4);

        let mut theirs = HeaderMap::new();
        theirs.insert(CALL_ID, HeaderValue::from_static("trace-42"));
        assert_eq!(for_request(&theirs), "trace-42");
        theirs.insert(CALL_ID, HeaderValue::from_str(&"x".repeat(257)).unwrap());
        assert_ne!(for_request(&theirs), "x".repeat(257).as_str());
    }
}
