//! Mutations of valid protocol input for differential tests: a few random
//! edits (a flipped bit, a byte removed, a cut, a header line repeated, a
//! snippet put at a line's start or anywhere), the same engine for every
//! parser compared with a reference.

use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The inputs of one differential run: every valid input as it is, then
/// mutations of them, for a bounded time (2 s and at most 20,000 cases by
/// default). `SWITCHYARD_DIFF_SEED` and `SWITCHYARD_DIFF_SECS` choose another
/// seed or a longer run.
#[derive(Debug)]
pub struct DiffCases {
    valid: &'static [&'static [u8]],
    snippets: &'static [&'static [u8]],
    rng: SmallRng,
    budget: Duration,
    started: Instant,
    cases: usize,
}

impl DiffCases {
    /// Cases from `valid`, mutated with `snippets`, seeded with `seed` unless
    /// the environment names another.
    pub fn new(
        valid: &'static [&'static [u8]],
        snippets: &'static [&'static [u8]],
        seed: u64,
    ) -> Self {
        let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        Self {
            valid,
            snippets,
            rng: SmallRng::seed_from_u64(env("SWITCHYARD_DIFF_SEED").unwrap_or(seed)),
            budget: Duration::from_secs(env("SWITCHYARD_DIFF_SECS").unwrap_or(2)),
            started: Instant::now(),
            cases: 0,
        }
    }

    /// How many cases were handed out.
    pub fn handed_out(&self) -> usize {
        self.cases
    }
}

impl Iterator for DiffCases {
    /// The input, and whether it is one of the valid inputs as it is.
    type Item = (Vec<u8>, bool);

    fn next(&mut self) -> Option<(Vec<u8>, bool)> {
        let more = self.started.elapsed() < self.budget
            && (self.cases < 20_000 || self.budget.as_secs() > 2);
        if !more {
            return None;
        }
        let case = match self.valid.get(self.cases) {
            Some(valid) => (valid.to_vec(), true),
            None => {
                let base = self.valid[self.rng.random_range(0..self.valid.len())].to_vec();
                (mutate(&mut self.rng, base, self.snippets), false)
            }
        };
        self.cases += 1;
        Some(case)
    }
}

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
