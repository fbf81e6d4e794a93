//! Sequence-level learners: WIND-SQ, SPPO and online IPO on whole responses, with the losses of
//! `wind-learn` (written once on per-sample log-probabilities) applied to sequence
//! log-probabilities `log π(y|x) = Σ_t log π(y_t | x, y_<t)`.
//!
//! One iteration: freeze `π_t`, **generate** responses from it, query the **judge**, **train**
//! `θ` by a few Adam steps, then evaluate (not part of the iteration's cost): win rate of fresh
//! `π_{t+1}` samples against fixed base-model samples under the training judge and a held-out
//! judge, a Monte-Carlo `KL(π_{t+1}‖π_ref)`, mean length, distinct-n.

use crate::generate::{GenConfig, Generation, generate};
use crate::model::{SeqBatch, Transformer, uniform};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use wind_learn::losses;
use wind_text::judge::{PairJudge, Scorer, distinct_n, mean_len_words};
use wind_text::tokenizer::Tokenizer;

/// A pairwise preference oracle that counts its calls per prompt.
pub trait Preference: Sync {
    /// `P(a ≻ b | prompt)`; one counted call.
    fn prob(&self, prompt: usize, a: &str, b: &str) -> f64;
    /// Calls so far.
    fn calls(&self) -> u64;
    /// Calls so far for one prompt.
    fn calls_for(&self, prompt: usize) -> u64;
}

impl<S: Scorer> Preference for PairJudge<S> {
    fn prob(&self, prompt: usize, a: &str, b: &str) -> f64 {
        PairJudge::prob(self, prompt, a, b)
    }
    fn calls(&self) -> u64 {
        PairJudge::calls(self)
    }
    fn calls_for(&self, prompt: usize) -> u64 {
        PairJudge::calls_for(self, prompt)
    }
}

/// Which sequence-level learner (`method = "…"` in TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum SeqMethod {
    /// WIND-SQ: two samples and ONE judge query per prompt.
    WindSq {
        /// Step size η.
        eta: f64,
        /// KL regularisation β (ηβ < 1).
        beta: f64,
    },
    /// SPPO: K samples, K² judge calls per prompt (diagonal ½).
    Sppo {
        /// Step size η.
        eta: f64,
        /// Samples per prompt.
        k: usize,
    },
    /// Online IPO on pairs from `sg(π_θ)`: two samples, one query per prompt.
    OnlineIpo {
        /// β.
        beta: f64,
    },
}

impl SeqMethod {
    /// Name for CSV.
    pub fn name(&self) -> &'static str {
        match self {
            SeqMethod::WindSq { .. } => "wind_sq",
            SeqMethod::Sppo { .. } => "sppo",
            SeqMethod::OnlineIpo { .. } => "online_ipo",
        }
    }
    /// Responses sampled per prompt.
    pub fn samples_per_prompt(&self) -> usize {
        match self {
            SeqMethod::Sppo { k, .. } => *k,
            _ => 2,
        }
    }
    /// Judge calls per prompt per iteration.
    pub fn calls_per_prompt(&self) -> u64 {
        match self {
            SeqMethod::Sppo { k, .. } => (k * k) as u64,
            _ => 1,
        }
    }
    /// Check parameters.
    pub fn validate(&self) -> Result<(), String> {
        let pos = |n: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{n} = {v} must be a positive number"))
            }
        };
        match *self {
            SeqMethod::WindSq { eta, beta } => {
                pos("eta", eta)?;
                if !(beta.is_finite() && beta >= 0.0) || eta * beta >= 1.0 {
                    return Err(format!(
                        "wind_sq: need beta ≥ 0 and eta·beta < 1 (got eta = {eta}, beta = {beta})"
                    ));
                }
                Ok(())
            }
            SeqMethod::Sppo { eta, k } => {
                pos("eta", eta)?;
                if !(2..=32).contains(&k) {
                    return Err(format!("sppo: k = {k}; use 2..=32 samples per prompt"));
                }
                Ok(())
            }
            SeqMethod::OnlineIpo { beta } => pos("beta", beta),
        }
    }
}

/// A learner as written in `[[learners]]` of fig2. (Parsed in two stages — the common keys,
/// then the method's own with `deny_unknown_fields` — because serde's `flatten` cannot reject
/// unknown keys.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct SeqSpec {
    /// The method and its parameters.
    #[serde(flatten)]
    pub method: SeqMethod,
    /// Adam steps per iteration.
    pub steps: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Display label (defaults to the method name).
    #[serde(default)]
    pub label: Option<String>,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for SeqSpec {
    type Error = String;
    fn try_from(mut m: serde_json::Map<String, serde_json::Value>) -> Result<Self, String> {
        let steps = m
            .remove("steps")
            .ok_or("learner: missing key `steps` (Adam steps per iteration)")?;
        let steps = steps
            .as_u64()
            .ok_or_else(|| format!("learner: steps = {steps} must be a positive integer"))?
            as usize;
        let lr = m
            .remove("lr")
            .ok_or("learner: missing key `lr` (Adam learning rate)")?;
        let lr = lr
            .as_f64()
            .ok_or_else(|| format!("learner: lr = {lr} must be a number"))?;
        let label = match m.remove("label") {
            None => None,
            Some(serde_json::Value::String(s)) => Some(s),
            Some(v) => return Err(format!("learner: label = {v} must be a string")),
        };
        let method: SeqMethod = serde_json::from_value(serde_json::Value::Object(m))
            .map_err(|e| format!("learner: {e}"))?;
        Ok(SeqSpec {
            method,
            steps,
            lr,
            label,
        })
    }
}

impl SeqSpec {
    /// Label used in CSV and figures.
    pub fn label(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| self.method.name().to_string())
    }
}

/// Judge labels: a Bernoulli draw of `P(y ≻ y')` or the probability itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Labels {
    /// `o ∼ Bernoulli(p)` (what a preference oracle gives).
    #[default]
    Bernoulli,
    /// `o = p`.
    Soft,
}

/// Run settings shared by every learner of one experiment.
#[derive(Debug, Clone)]
pub struct SeqRun {
    /// Iterations.
    pub iterations: usize,
    /// Sampling for training responses (temperature 1 keeps them samples of `π_t`).
    pub sampling: GenConfig,
    /// Label kind.
    pub labels: Labels,
    /// Blocks frozen at the bottom (0 = train all; the embedding is frozen when > 0).
    pub frozen_layers: usize,
    /// Seed.
    pub seed: u64,
}

/// What the judges, tokenizer and prompts are.
pub struct SeqTask<'a> {
    /// Tokenizer (decode responses for the judges).
    pub tokenizer: &'a dyn Tokenizer,
    /// Training prompts (token ids, template applied).
    pub prompts: &'a [Vec<u32>],
    /// Evaluation prompts.
    pub eval_prompts: &'a [Vec<u32>],
    /// Training judge (its calls are the learner's judge calls).
    pub judge: &'a dyn Preference,
    /// Training judge, separate counter, for evaluation.
    pub eval_judge: &'a dyn Preference,
    /// Held-out judge, evaluation only.
    pub heldout: &'a dyn Preference,
}

/// One row per iteration (iteration 0 = the base model).
#[derive(Debug, Clone, PartialEq)]
pub struct SeqRecord {
    /// Learner label.
    pub label: String,
    /// Method name.
    pub method: String,
    /// Iteration.
    pub iteration: usize,
    /// Cumulative policy samples used for training.
    pub samples: u64,
    /// Cumulative training-judge calls.
    pub judge_calls: u64,
    /// Training-judge calls per prompt in this iteration (min over prompts).
    pub calls_per_prompt_min: u64,
    /// … (max over prompts).
    pub calls_per_prompt_max: u64,
    /// Loss at the last step (as reported by the loss, i.e. divided by its scale).
    pub loss: f64,
    /// Mean `P(π_t ≻ π_ref)` under the training judge on evaluation prompts.
    pub win_train: f64,
    /// Same under the held-out judge.
    pub win_heldout: f64,
    /// Monte-Carlo `KL(π_t‖π_ref)` per response (nats).
    pub kl_ref: f64,
    /// Mean response length in tokens.
    pub mean_tokens: f64,
    /// Mean response length in words.
    pub mean_words: f64,
    /// distinct-1 of the evaluation responses.
    pub distinct1: f64,
    /// distinct-2.
    pub distinct2: f64,
    /// Fraction of responses that ended on a stop token.
    pub stop_rate: f64,
    /// Seconds generating training responses.
    pub gen_s: f64,
    /// Seconds in judge calls.
    pub judge_s: f64,
    /// Seconds training.
    pub train_s: f64,
    /// Seconds evaluating (not part of the iteration's cost).
    pub eval_s: f64,
}

fn vec1(t: Tensor<1>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32")
}

fn t1(v: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

fn texts(tok: &dyn Tokenizer, gens: &[Generation]) -> Vec<String> {
    gens.iter()
        .map(|g| tok.decode_skip_special(&g.tokens))
        .collect()
}

/// Fixed base-model samples on the evaluation prompts (the opponent of every win rate).
pub struct Reference {
    texts: Vec<String>,
}

impl Reference {
    /// Sample once from the base model with `seed`.
    pub fn sample(
        base: &Transformer,
        task: &SeqTask,
        sampling: &GenConfig,
        seed: u64,
    ) -> Result<Self, String> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_0ef0);
        let p: Vec<&[u32]> = task.eval_prompts.iter().map(|p| p.as_slice()).collect();
        let g = generate(base, &p, sampling, &mut rng)?;
        Ok(Reference {
            texts: texts(task.tokenizer, &g),
        })
    }
}

struct Eval {
    win_train: f64,
    win_heldout: f64,
    kl: f64,
    tokens: f64,
    words: f64,
    d1: f64,
    d2: f64,
    stop: f64,
}

fn evaluate(
    policy: &Transformer,
    base: &Transformer,
    task: &SeqTask,
    reference: &Reference,
    sampling: &GenConfig,
    rng: &mut ChaCha8Rng,
) -> Result<Eval, String> {
    let p: Vec<&[u32]> = task.eval_prompts.iter().map(|p| p.as_slice()).collect();
    let g = generate(policy, &p, sampling, rng)?;
    let tx = texts(task.tokenizer, &g);
    let n = g.len().max(1) as f64;
    let (mut wt, mut wh) = (0.0, 0.0);
    for (i, (a, b)) in tx.iter().zip(&reference.texts).enumerate() {
        wt += task.eval_judge.prob(i, a, b);
        wh += task.heldout.prob(i, a, b);
    }
    let resp: Vec<&[u32]> = g.iter().map(|x| x.tokens.as_slice()).collect();
    let lref = vec1(base.sequence_logprobs(&p, &resp));
    let kl = g
        .iter()
        .zip(&lref)
        .map(|(x, &r)| x.logp() - r as f64)
        .sum::<f64>()
        / n;
    let refs: Vec<&str> = tx.iter().map(|s| s.as_str()).collect();
    Ok(Eval {
        win_train: wt / n,
        win_heldout: wh / n,
        kl,
        tokens: g.iter().map(|x| x.tokens.len()).sum::<usize>() as f64 / n,
        words: mean_len_words(&refs),
        d1: distinct_n(&refs, 1),
        d2: distinct_n(&refs, 2),
        stop: g.iter().filter(|x| x.stopped).count() as f64 / n,
    })
}

fn inference(m: &Transformer) -> Transformer {
    use burn::module::Module;
    Transformer {
        config: m.config.clone(),
        net: m.net.valid(),
    }
}

/// Freeze the embedding and the first `k` blocks (no gradients flow into them).
pub fn freeze_bottom(mut m: Transformer, k: usize) -> Transformer {
    use burn::module::Module;
    if k == 0 {
        return m;
    }
    let k = k.min(m.config.n_layers);
    m.net.embed = m.net.embed.clone().set_require_grad(false);
    let blocks = std::mem::take(&mut m.net.blocks);
    m.net.blocks = blocks
        .into_iter()
        .enumerate()
        .map(|(i, b)| if i < k { b.no_grad() } else { b })
        .collect();
    m
}

/// Run one learner for `run.iterations` iterations from `policy` (a copy of `base` on an
/// autodiff device). `base` (inference device) is `π_ref`. `progress` sees every record.
pub fn run_sequence_learner(
    base: &Transformer,
    policy: Transformer,
    spec: &SeqSpec,
    run: &SeqRun,
    task: &SeqTask,
    reference: &Reference,
    progress: &mut dyn FnMut(&SeqRecord),
) -> Result<Vec<SeqRecord>, String> {
    spec.method.validate()?;
    if spec.steps == 0 || !(spec.lr.is_finite() && spec.lr > 0.0) {
        return Err(format!(
            "learner {}: steps ≥ 1 and lr > 0 required",
            spec.label()
        ));
    }
    if task.prompts.is_empty() || task.eval_prompts.is_empty() {
        return Err("fig2 needs at least one training and one evaluation prompt".into());
    }
    let mut policy = freeze_bottom(policy, run.frozen_layers);
    let device = policy.device();
    let mut optim = AdamConfig::new().init();
    let mut rng = ChaCha8Rng::seed_from_u64(run.seed);
    let mut eval_rng = ChaCha8Rng::seed_from_u64(run.seed ^ 0xe7a1);
    let (k, nprompt) = (spec.method.samples_per_prompt(), task.prompts.len());
    let mut out = Vec::with_capacity(run.iterations + 1);
    let (mut samples, calls0) = (0u64, task.judge.calls());
    let mut record =
        |it: usize, loss: f64, ev: Eval, times: [f64; 4], cpp: (u64, u64), samples: u64| {
            let r = SeqRecord {
                label: spec.label(),
                method: spec.method.name().into(),
                iteration: it,
                samples,
                judge_calls: task.judge.calls() - calls0,
                calls_per_prompt_min: cpp.0,
                calls_per_prompt_max: cpp.1,
                loss,
                win_train: ev.win_train,
                win_heldout: ev.win_heldout,
                kl_ref: ev.kl,
                mean_tokens: ev.tokens,
                mean_words: ev.words,
                distinct1: ev.d1,
                distinct2: ev.d2,
                stop_rate: ev.stop,
                gen_s: times[0],
                judge_s: times[1],
                train_s: times[2],
                eval_s: times[3],
            };
            progress(&r);
            out.push(r);
        };
    let t = Instant::now();
    let ev = evaluate(
        &inference(&policy),
        base,
        task,
        reference,
        &run.sampling,
        &mut eval_rng,
    )?;
    record(
        0,
        f64::NAN,
        ev,
        [0.0, 0.0, 0.0, t.elapsed().as_secs_f64()],
        (0, 0),
        0,
    );

    for it in 1..=run.iterations {
        // Generate from the frozen iterate π_t.
        let t = Instant::now();
        let snap = inference(&policy);
        let rows: Vec<&[u32]> = task
            .prompts
            .iter()
            .flat_map(|p| std::iter::repeat_n(p.as_slice(), k))
            .collect();
        let gens = generate(&snap, &rows, &run.sampling, &mut rng)?;
        drop(snap);
        let tx = texts(task.tokenizer, &gens);
        samples += gens.len() as u64;
        let gen_s = t.elapsed().as_secs_f64();

        // Judge.
        let t = Instant::now();
        let before: Vec<u64> = (0..nprompt).map(|p| task.judge.calls_for(p)).collect();
        let mut labels = Vec::with_capacity(gens.len()); // per row: label / ŵ
        match spec.method {
            SeqMethod::WindSq { .. } | SeqMethod::OnlineIpo { .. } => {
                for p in 0..nprompt {
                    let (a, b) = (&tx[2 * p], &tx[2 * p + 1]);
                    let pr = task.judge.prob(p, a, b);
                    let o = match run.labels {
                        Labels::Soft => pr,
                        Labels::Bernoulli => f64::from(uniform(&mut rng) < pr),
                    };
                    labels.push(o);
                    labels.push(1.0 - o);
                }
            }
            SeqMethod::Sppo { .. } => {
                for p in 0..nprompt {
                    for i in 0..k {
                        let mut s = 0.0;
                        for j in 0..k {
                            // K² calls, as SPPO makes them; the diagonal is set to ½.
                            let pr = task.judge.prob(p, &tx[p * k + i], &tx[p * k + j]);
                            let o = match run.labels {
                                Labels::Soft => pr,
                                Labels::Bernoulli => f64::from(uniform(&mut rng) < pr),
                            };
                            s += if i == j { 0.5 } else { o };
                        }
                        labels.push(s / k as f64);
                    }
                }
            }
        }
        let per: Vec<u64> = (0..nprompt)
            .map(|p| task.judge.calls_for(p) - before[p])
            .collect();
        let cpp = (
            per.iter().copied().min().unwrap_or(0),
            per.iter().copied().max().unwrap_or(0),
        );
        let judge_s = t.elapsed().as_secs_f64();

        // Train.
        let t = Instant::now();
        let resp: Vec<&[u32]> = gens.iter().map(|g| g.tokens.as_slice()).collect();
        let batch = SeqBatch::new(&policy, &rows, &resp, run.frozen_layers);
        let needs_ref = matches!(spec.method, SeqMethod::WindSq { beta, .. } if beta > 0.0)
            || matches!(spec.method, SeqMethod::OnlineIpo { .. });
        let lref = if needs_ref {
            vec1(base.batch_logprobs(&SeqBatch::new(base, &rows, &resp, run.frozen_layers)))
        } else {
            vec![0.0; rows.len()]
        };
        let mut old: Option<Vec<f32>> = None;
        let mut loss_v = f64::NAN;
        for _ in 0..spec.steps {
            let lp = policy.batch_logprobs(&batch);
            // θ = θ_t at the first step: its values are log π_t (so s_θ starts at exactly 0).
            let lo = old.get_or_insert_with(|| vec1(lp.clone().detach())).clone();
            let loss = match spec.method {
                SeqMethod::WindSq { eta, beta } => {
                    let b: Vec<f32> = lref
                        .iter()
                        .zip(&lo)
                        .map(|(&r, &o)| (eta * beta * (r - o) as f64) as f32)
                        .collect();
                    let lab: Vec<f32> = labels.iter().map(|&o| (o - 0.5) as f32).collect();
                    losses::wind_sq(
                        lp,
                        t1(lo, &device),
                        t1(b, &device),
                        t1(lab, &device),
                        &None,
                        eta,
                    )
                    .0
                }
                SeqMethod::Sppo { eta, .. } => {
                    let w: Vec<f32> = labels.iter().map(|&w| w as f32).collect();
                    losses::sppo(lp, t1(lo, &device), t1(w, &device), &None, eta).0
                }
                SeqMethod::OnlineIpo { beta } => {
                    let n = rows.len() / 2;
                    let even = |v: &[f32], o: usize| -> Vec<f32> {
                        (0..n).map(|i| v[2 * i + o]).collect()
                    };
                    let idx = |o: usize| {
                        let ix: Vec<i64> = (0..n).map(|i| (2 * i + o) as i64).collect();
                        Tensor::<1, burn::tensor::Int>::from_data(TensorData::new(ix, [n]), &device)
                    };
                    let lab: Vec<f32> = (0..n).map(|i| labels[2 * i] as f32).collect();
                    losses::online_ipo(
                        lp.clone().select(0, idx(0)),
                        lp.select(0, idx(1)),
                        t1(even(&lref, 0), &device),
                        t1(even(&lref, 1), &device),
                        t1(lab, &device),
                        &None,
                        beta,
                    )
                    .0
                }
            };
            let grads = GradientsParams::from_grads(loss.backward(), &policy.net);
            loss_v = vec1(loss.detach())[0] as f64;
            policy.net = optim.step(spec.lr, policy.net, grads);
        }
        let train_s = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let ev = evaluate(
            &inference(&policy),
            base,
            task,
            reference,
            &run.sampling,
            &mut eval_rng,
        )?;
        let eval_s = t.elapsed().as_secs_f64();
        record(
            it,
            loss_v,
            ev,
            [gen_s, judge_s, train_s, eval_s],
            cpp,
            samples,
        );
    }
    Ok(out)
}
