//! Batched autoregressive generation with a KV cache (temperature, top-p, max tokens, stop
//! tokens). Prompts of different lengths are left-padded; padding is masked out of attention
//! and does not advance positions, so each row generates exactly what it would alone.

use crate::model::{KvCache, RowState, Transformer, sample_token, uniform};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Sampling settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenConfig {
    /// Most new tokens per response.
    pub max_tokens: usize,
    /// Softmax temperature; 0 = greedy. Learning needs 1 (samples from the policy itself).
    #[serde(default = "one")]
    pub temperature: f64,
    /// Nucleus mass kept; 1 = no truncation.
    #[serde(default = "one")]
    pub top_p: f64,
    /// Token ids that end a response (kept as its last token).
    #[serde(default)]
    pub stop: Vec<u32>,
}

fn one() -> f64 {
    1.0
}

/// One generated response.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// New tokens, the stop token included when one was produced.
    pub tokens: Vec<u32>,
    /// `log π(token | prefix)` of each new token under the model itself (temperature 1, no
    /// truncation): their sum is the policy's `log π(y|x)` even when sampling was tempered.
    pub token_logp: Vec<f64>,
    /// Ended on a stop token (else on `max_tokens`).
    pub stopped: bool,
}

impl Generation {
    /// `log π(y|x)`.
    pub fn logp(&self) -> f64 {
        self.token_logp.iter().sum()
    }
}

/// Generate one response per prompt (repeat a prompt to get several samples), all rows in
/// one batch. `rng` supplies one uniform per active row per step, in row order.
pub fn generate(
    model: &Transformer,
    prompts: &[&[u32]],
    cfg: &GenConfig,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<Generation>, String> {
    let b = prompts.len();
    if b == 0 {
        return Ok(Vec::new());
    }
    let l = prompts.iter().map(|p| p.len()).max().unwrap_or(0);
    if prompts.iter().any(|p| p.is_empty()) {
        return Err("generate: every prompt needs at least one token".into());
    }
    if l + cfg.max_tokens > model.config.max_seq {
        return Err(format!(
            "generate: prompt length {l} + max_tokens {} exceeds the model's max_seq {}; shorten the prompts or lower max_tokens",
            cfg.max_tokens, model.config.max_seq
        ));
    }
    let vocab = model.config.vocab;
    if let Some(&s) = cfg.stop.iter().find(|&&s| s as usize >= vocab) {
        return Err(format!(
            "generate: stop token {s} is outside the vocabulary (size {vocab})"
        ));
    }
    let mut rows = Vec::with_capacity(b);
    let mut flat = Vec::with_capacity(b * l);
    for p in prompts {
        let pad = l - p.len();
        flat.extend(std::iter::repeat_n(0u32, pad));
        flat.extend_from_slice(p);
        let mut v = vec![false; pad];
        v.extend(std::iter::repeat_n(true, p.len()));
        rows.push(RowState::new(v));
    }
    let mut out: Vec<Generation> = (0..b)
        .map(|_| Generation {
            tokens: Vec::new(),
            token_logp: Vec::new(),
            stopped: false,
        })
        .collect();
    let mut cache = KvCache::default();
    let mut lp = model.step(&flat, &rows, l, &mut cache);
    for step in 0..cfg.max_tokens {
        let mut next = vec![0u32; b];
        let mut any = false;
        for r in 0..b {
            if out[r].stopped {
                continue;
            }
            let row = &lp[r * vocab..(r + 1) * vocab];
            let tok = sample_token(row, cfg.temperature, cfg.top_p, uniform(rng));
            out[r].tokens.push(tok);
            out[r].token_logp.push(row[tok as usize] as f64);
            if cfg.stop.contains(&tok) {
                out[r].stopped = true;
            } else {
                next[r] = tok;
                any = true;
            }
        }
        if !any || step + 1 == cfg.max_tokens {
            break;
        }
        for r in 0..b {
            let live = !out[r].stopped;
            rows[r].push(live);
        }
        lp = model.step(&next, &rows, 1, &mut cache);
    }
    Ok(out)
}
