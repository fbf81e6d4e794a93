//! Supervised pre-training of the small model on a token stream (the `π_ref` of the tiny
//! fig2 tier): random windows, Adam with linear warm-up and cosine decay, a held-out tail for
//! validation loss, every step's loss recorded.

use crate::model::Transformer;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// SFT settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SftConfig {
    /// Optimizer steps.
    pub steps: usize,
    /// Windows per step.
    pub batch: usize,
    /// Tokens per window (the model sees `seq` inputs, predicts `seq` targets).
    pub seq: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Warm-up steps (linear from 0).
    #[serde(default)]
    pub warmup: usize,
    /// Fraction of the stream held out (its tail) for validation.
    #[serde(default = "val_frac")]
    pub val_frac: f64,
    /// Evaluate validation loss every this many steps (and at the last).
    #[serde(default = "eval_every")]
    pub eval_every: usize,
    /// Seed of window sampling.
    #[serde(default)]
    pub seed: u64,
}

fn val_frac() -> f64 {
    0.02
}
fn eval_every() -> usize {
    50
}

impl SftConfig {
    /// Check every value (called when the experiment file is loaded, before any work).
    pub fn validate(&self) -> Result<(), String> {
        if self.steps == 0 || self.steps > 10_000_000 {
            return Err(format!(
                "sft.steps = {} must be in 1..=10000000",
                self.steps
            ));
        }
        if self.batch == 0 || self.batch > 65_536 {
            return Err(format!("sft.batch = {} must be in 1..=65536", self.batch));
        }
        if self.seq < 2 {
            return Err(format!("sft.seq = {} must be ≥ 2", self.seq));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(format!(
                "sft.lr = {} must be a positive number (e.g. 3e-3)",
                self.lr
            ));
        }
        if self.warmup > self.steps {
            return Err(format!(
                "sft.warmup = {} exceeds sft.steps = {}",
                self.warmup, self.steps
            ));
        }
        if !(0.0..0.5).contains(&self.val_frac) {
            return Err(format!(
                "sft.val_frac = {} must be in [0, 0.5)",
                self.val_frac
            ));
        }
        if self.eval_every == 0 {
            return Err(
                "sft.eval_every must be ≥ 1 (validation loss every this many steps)".into(),
            );
        }
        Ok(())
    }
}

/// One row of the loss curve.
#[derive(Debug, Clone, PartialEq)]
pub struct SftRow {
    /// 1-based step.
    pub step: usize,
    /// Training loss of that step's batch (nats/token).
    pub train_loss: f64,
    /// Validation loss when evaluated at this step.
    pub val_loss: Option<f64>,
    /// Learning rate used.
    pub lr: f64,
    /// Seconds since the start.
    pub elapsed_s: f64,
}

fn scalar(t: burn::tensor::Tensor<1>) -> f64 {
    t.into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .expect("scalar")[0]
}

/// Train `model` (on an autodiff device) on `tokens`. `progress(row)` is called every step.
pub fn train_sft(
    mut model: Transformer,
    tokens: &[u32],
    cfg: &SftConfig,
    progress: &mut dyn FnMut(&SftRow),
) -> Result<(Transformer, Vec<SftRow>), String> {
    cfg.validate()?;
    if cfg.seq + 1 > model.config.max_seq {
        return Err(format!(
            "sft: seq {} + 1 exceeds max_seq {}",
            cfg.seq, model.config.max_seq
        ));
    }
    let n_val = ((tokens.len() as f64) * cfg.val_frac) as usize;
    let train = &tokens[..tokens.len() - n_val];
    let val = &tokens[tokens.len() - n_val..];
    let w = cfg.seq + 1;
    if train.len() < w + 1 {
        return Err(format!(
            "sft: corpus of {} tokens is too short for windows of {w}",
            train.len()
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut optim = AdamConfig::new().init();
    let mut rows = Vec::with_capacity(cfg.steps);
    let start = std::time::Instant::now();
    // Fixed validation windows: evenly spaced over the held-out tail.
    let val_windows: Vec<Vec<u32>> = if val.len() > w {
        let k = 8.min(val.len() / w).max(1);
        (0..k)
            .map(|i| val[i * (val.len() - w) / k..][..w].to_vec())
            .collect()
    } else {
        Vec::new()
    };
    for step in 1..=cfg.steps {
        let lr = if step <= cfg.warmup {
            cfg.lr * step as f64 / cfg.warmup as f64
        } else {
            let p = (step - cfg.warmup) as f64 / (cfg.steps - cfg.warmup).max(1) as f64;
            cfg.lr * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * p).cos()))
        };
        let windows: Vec<Vec<u32>> = (0..cfg.batch)
            .map(|_| {
                let s = (rng.next_u64() % (train.len() - w) as u64) as usize;
                train[s..s + w].to_vec()
            })
            .collect();
        let loss = model.lm_loss(&windows);
        let grads = GradientsParams::from_grads(loss.backward(), &model.net);
        let train_loss = scalar(loss.detach());
        model.net = optim.step(lr, model.net, grads);
        let val_loss = (!val_windows.is_empty()
            && (step % cfg.eval_every == 0 || step == cfg.steps))
            .then(|| {
                let eval = Transformer {
                    config: model.config.clone(),
                    net: model.net.valid(),
                };
                scalar(eval.lm_loss(&val_windows))
            });
        let row = SftRow {
            step,
            train_loss,
            val_loss,
            lr,
            elapsed_s: start.elapsed().as_secs_f64(),
        };
        progress(&row);
        rows.push(row);
    }
    Ok((model, rows))
}
