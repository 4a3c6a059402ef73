//! `x-litellm-call-id`: one id per request, on its answer whatever the
//! outcome, so a client can quote it when something went wrong. A client
//! that sends its own (up to 256 characters) gets it back, as LiteLLM does;
//! otherwise it is a fresh random UUID.

use rand::RngCore;

use crate::answer::HeaderLines;

pub(crate) const CALL_ID: &str = "x-litellm-call-id";

/// LiteLLM's `MAX_LITELLM_CALL_ID_LENGTH`.
const MAX_CLIENT_ID_LEN: usize = 256;

/// Adds the request's call id: `theirs` (the request's header), else a new one.
pub(crate) fn write(lines: &mut HeaderLines, theirs: Option<&[u8]>) {
    match theirs {
        Some(theirs) if !theirs.is_empty() && theirs.len() <= MAX_CLIENT_ID_LEN => {
            lines.push(CALL_ID, theirs);
        }
        _ => lines.push(CALL_ID, &new_uuid()),
    }
}

/// A random (version 4) UUID in its usual 36-character form.
fn new_uuid() -> [u8; 36] {
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
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_of(lines: &HeaderLines) -> String {
        let (_, value) = lines.iter().next().unwrap();
        String::from_utf8(value.to_vec()).unwrap()
    }

    #[test]
    fn fresh_ids_are_distinct_v4_uuids_and_a_clients_own_is_kept() {
        let (mut a, mut b) = (HeaderLines::default(), HeaderLines::default());
        write(&mut a, None);
        write(&mut b, None);
        let (a, b) = (id_of(&a), id_of(&b));
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4', "{a}");
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{a}");
        assert_eq!(a.matches('-').count(), 4);

        let mut theirs = HeaderLines::default();
        write(&mut theirs, Some(b"trace-42"));
        assert_eq!(id_of(&theirs), "trace-42");
        let mut long = HeaderLines::default();
        write(&mut long, Some("x".repeat(257).as_bytes()));
        assert_eq!(id_of(&long).len(), 36);
    }
}
