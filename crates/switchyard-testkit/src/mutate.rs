//! Mutations of valid protocol input for differential tests: a few random
//! edits (a flipped bit, a byte removed, a cut, a header line repeated, a
//! snippet put at a line's start or anywhere), the same engine for every
//! parser compared with a reference.

use rand::Rng;

/// `input` with one to four random edits; `snippets` are the byte strings
/// worth inserting for the format under test (framing headers, CR, LF...).
pub fn mutate(rng: &mut impl Rng, mut input: Vec<u8>, snippets: &[&[u8]]) -> Vec<u8> {
    for _ in 0..rng.random_range(1..=4) {
        let at = rng.random_range(0..=input.len());
        match rng.random_range(0..7) {
            0 if !input.is_empty() => {
                let at = at.min(input.len() - 1);
                input[at] ^= 1 << rng.random_range(0..8);
            }
            1 if !input.is_empty() => {
                input.remove(at.min(input.len() - 1));
            }
            2 => input.truncate(at),
            3 => {
                // Duplicate one header line.
                let text = input.clone();
                let starts: Vec<usize> = (0..text.len())
                    .filter(|&i| i > 0 && text[i - 1] == b'\n')
                    .collect();
                let start = starts.get(rng.random_range(0..starts.len().max(1)));
                if let Some(&start) = start
                    && let Some(len) = text[start..].iter().position(|b| *b == b'\n')
                {
                    let line = text[start..=start + len].to_vec();
                    input.splice(start..start, line);
                }
            }
            4 => {
                // A snippet at the start of a line.
                let starts: Vec<usize> = (0..input.len())
                    .filter(|&i| i > 0 && input[i - 1] == b'\n')
                    .collect();
                let at = starts
                    .get(rng.random_range(0..starts.len().max(1)))
                    .copied()
                    .unwrap_or(at);
                let snippet = snippets[rng.random_range(0..snippets.len())];
                input.splice(at..at, snippet.iter().copied());
            }
            _ => {
                let snippet = snippets[rng.random_range(0..snippets.len())];
                input.splice(at..at, snippet.iter().copied());
            }
        }
    }
    input
}
