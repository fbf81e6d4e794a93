//! A Llama-style decoder-only transformer on burn: RMSNorm, rotary position embedding on
//! adjacent pairs `(2i, 2i+1)` (the layout of GGUF Llama weights), grouped-query attention,
//! SiLU-gated MLP, tied or untied LM head.
//!
//! One forward path serves every use: a batch of rows, each a left-padded token sequence with a
//! validity mask. Positions (for RoPE) count only the valid tokens of a row, and attention sees
//! only valid keys at or before the query, so left padding changes nothing a row computes. The
//! same path runs with a KV cache for generation ([`crate::generate`]) and without one for the
//! differentiable sequence log-probabilities of [`Transformer::sequence_logprobs`].

use burn::module::{Module, Param};
use burn::tensor::activation::{log_softmax, silu, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Additive attention bias for masked keys (finite, so fully masked padding rows stay NaN-free).
const MASKED: f32 = -1.0e9;

/// Architecture hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LmConfig {
    /// Vocabulary size.
    pub vocab: usize,
    /// Model width.
    pub d_model: usize,
    /// Number of blocks.
    pub n_layers: usize,
    /// Query heads.
    pub n_heads: usize,
    /// Key/value heads (divides `n_heads`; `n_heads / n_kv_heads` queries share one KV head).
    pub n_kv_heads: usize,
    /// Hidden width of the gated MLP.
    pub d_ff: usize,
    /// RoPE base θ.
    pub rope_base: f64,
    /// RMSNorm ε.
    pub norm_eps: f64,
    /// LM head tied to the token embedding.
    pub tied: bool,
    /// Longest sequence (prompt + response) the model is used with.
    pub max_seq: usize,
}

impl LmConfig {
    /// Head dimension.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.n_heads
    }

    /// Check the shape constraints; the message says which and how to fix.
    pub fn validate(&self) -> Result<(), String> {
        let c = self;
        if c.vocab == 0 || c.d_model == 0 || c.n_layers == 0 || c.n_heads == 0 || c.d_ff == 0 {
            return Err("vocab, d_model, n_layers, n_heads and d_ff must all be ≥ 1".into());
        }
        if !c.d_model.is_multiple_of(c.n_heads) {
            return Err(format!(
                "d_model = {} is not a multiple of n_heads = {}; choose n_heads dividing d_model",
                c.d_model, c.n_heads
            ));
        }
        if !c.head_dim().is_multiple_of(2) {
            return Err(format!(
                "head dimension d_model/n_heads = {} must be even (RoPE rotates pairs)",
                c.head_dim()
            ));
        }
        if c.n_kv_heads == 0 || !c.n_heads.is_multiple_of(c.n_kv_heads) {
            return Err(format!(
                "n_kv_heads = {} must divide n_heads = {}",
                c.n_kv_heads, c.n_heads
            ));
        }
        if c.rope_base.is_nan() || c.rope_base <= 1.0 || c.norm_eps.is_nan() || c.norm_eps <= 0.0 {
            return Err("rope_base must be > 1 and norm_eps > 0".into());
        }
        if c.max_seq < 2 {
            return Err("max_seq must be ≥ 2".into());
        }
        Ok(())
    }

    /// Number of parameters.
    pub fn n_params(&self) -> usize {
        let (d, hd) = (self.d_model, self.head_dim());
        let attn = d * self.n_heads * hd * 2 + d * self.n_kv_heads * hd * 2;
        let block = attn + 3 * d * self.d_ff + 2 * d;
        let head = if self.tied { 0 } else { d * self.vocab };
        self.vocab * d + self.n_layers * block + d + head
    }
}

/// One transformer block. Matrices are stored `[in, out]`.
#[derive(Module, Debug)]
pub struct Block {
    /// RMSNorm gain before attention.
    pub attn_norm: Param<Tensor<1>>,
    /// `[d, n_heads·hd]`.
    pub wq: Param<Tensor<2>>,
    /// `[d, n_kv·hd]`.
    pub wk: Param<Tensor<2>>,
    /// `[d, n_kv·hd]`.
    pub wv: Param<Tensor<2>>,
    /// `[n_heads·hd, d]`.
    pub wo: Param<Tensor<2>>,
    /// RMSNorm gain before the MLP.
    pub ffn_norm: Param<Tensor<1>>,
    /// `[d, d_ff]`.
    pub w_gate: Param<Tensor<2>>,
    /// `[d, d_ff]`.
    pub w_up: Param<Tensor<2>>,
    /// `[d_ff, d]`.
    pub w_down: Param<Tensor<2>>,
}

/// The trainable network.
#[derive(Module, Debug)]
pub struct LmNet {
    /// Token embedding `[vocab, d]` (also the head when tied).
    pub embed: Param<Tensor<2>>,
    /// Blocks.
    pub blocks: Vec<Block>,
    /// Final RMSNorm gain.
    pub norm: Param<Tensor<1>>,
    /// Untied head `[d, vocab]`.
    pub head: Option<Param<Tensor<2>>>,
}

/// Host-side weights in the layout of [`LmNet`] (`[in, out]` matrices, row-major).
#[derive(Debug, Clone)]
pub struct HostWeights {
    /// `[vocab·d]`.
    pub embed: Vec<f32>,
    /// Per block.
    pub blocks: Vec<HostBlock>,
    /// `[d]`.
    pub norm: Vec<f32>,
    /// `[d·vocab]` when untied.
    pub head: Option<Vec<f32>>,
}

/// Host-side weights of one block.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct HostBlock {
    pub attn_norm: Vec<f32>,
    pub wq: Vec<f32>,
    pub wk: Vec<f32>,
    pub wv: Vec<f32>,
    pub wo: Vec<f32>,
    pub ffn_norm: Vec<f32>,
    pub w_gate: Vec<f32>,
    pub w_up: Vec<f32>,
    pub w_down: Vec<f32>,
}

/// A model: configuration + network.
#[derive(Debug)]
pub struct Transformer {
    /// Architecture.
    pub config: LmConfig,
    /// Parameters.
    pub net: LmNet,
}

/// Per-layer key/value cache (post-RoPE keys), `[B, n_kv, S, hd]`.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor<4>, Tensor<4>)>>,
    /// Key positions stored so far.
    pub len: usize,
}

/// The per-call attention geometry: RoPE tables of the queries and the additive mask.
struct Geometry {
    cos: Tensor<4>,
    sin: Tensor<4>,
    bias: Tensor<4>,
}

fn param<const D: usize>(v: Vec<f32>, shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    let t = Tensor::from_data(TensorData::new(v, shape), device);
    Param::from_tensor(if device.is_autodiff() {
        t.require_grad()
    } else {
        t
    })
}

fn check_len(what: &str, v: &[f32], n: usize) -> Result<(), String> {
    if v.len() == n {
        Ok(())
    } else {
        Err(format!("weight {what}: {} values, expected {n}", v.len()))
    }
}

impl Transformer {
    /// Build from host weights (validated against the configuration).
    pub fn from_host(config: LmConfig, w: HostWeights, device: &Device) -> Result<Self, String> {
        config.validate()?;
        let (d, hd, v, ff) = (config.d_model, config.head_dim(), config.vocab, config.d_ff);
        let (qd, kd) = (config.n_heads * hd, config.n_kv_heads * hd);
        check_len("embed", &w.embed, v * d)?;
        check_len("norm", &w.norm, d)?;
        if w.blocks.len() != config.n_layers {
            return Err(format!(
                "{} blocks of weights, configuration says n_layers = {}",
                w.blocks.len(),
                config.n_layers
            ));
        }
        if config.tied == w.head.is_some() {
            return Err("head weights present iff the head is untied".into());
        }
        let mut blocks = Vec::with_capacity(config.n_layers);
        for (i, b) in w.blocks.into_iter().enumerate() {
            let n = |s: &str| format!("blk.{i}.{s}");
            check_len(&n("attn_norm"), &b.attn_norm, d)?;
            check_len(&n("wq"), &b.wq, d * qd)?;
            check_len(&n("wk"), &b.wk, d * kd)?;
            check_len(&n("wv"), &b.wv, d * kd)?;
            check_len(&n("wo"), &b.wo, qd * d)?;
            check_len(&n("ffn_norm"), &b.ffn_norm, d)?;
            check_len(&n("w_gate"), &b.w_gate, d * ff)?;
            check_len(&n("w_up"), &b.w_up, d * ff)?;
            check_len(&n("w_down"), &b.w_down, ff * d)?;
            blocks.push(Block {
                attn_norm: param(b.attn_norm, [d], device),
                wq: param(b.wq, [d, qd], device),
                wk: param(b.wk, [d, kd], device),
                wv: param(b.wv, [d, kd], device),
                wo: param(b.wo, [qd, d], device),
                ffn_norm: param(b.ffn_norm, [d], device),
                w_gate: param(b.w_gate, [d, ff], device),
                w_up: param(b.w_up, [d, ff], device),
                w_down: param(b.w_down, [ff, d], device),
            });
        }
        let head = match w.head {
            Some(h) => {
                check_len("head", &h, d * v)?;
                Some(param(h, [d, v], device))
            }
            None => None,
        };
        Ok(Transformer {
            net: LmNet {
                embed: param(w.embed, [v, d], device),
                blocks,
                norm: param(w.norm, [d], device),
                head,
            },
            config,
        })
    }

    /// A freshly initialised model (GPT-2 style: N(0, 0.02²) weights, output projections scaled by
    /// `1/√(2·n_layers)`, unit norm gains), deterministic in `seed`.
    pub fn init(config: LmConfig, seed: u64, device: &Device) -> Result<Self, String> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (d, hd, v, ff) = (config.d_model, config.head_dim(), config.vocab, config.d_ff);
        let (qd, kd) = (config.n_heads * hd, config.n_kv_heads * hd);
        let std = 0.02f64;
        let proj = std / (2.0 * config.n_layers as f64).sqrt();
        let mut normal = |n: usize, s: f64| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    // Box–Muller on two uniforms in (0,1].
                    let u1 = 1.0 - rng.next_u64() as f64 / u64::MAX as f64;
                    let u2 = rng.next_u64() as f64 / u64::MAX as f64;
                    let z = (-2.0 * u1.max(1e-300).ln()).sqrt()
                        * (2.0 * std::f64::consts::PI * u2).cos();
                    (s * z) as f32
                })
                .collect()
        };
        let embed = normal(v * d, std);
        let blocks = (0..config.n_layers)
            .map(|_| HostBlock {
                attn_norm: vec![1.0; d],
                wq: normal(d * qd, std),
                wk: normal(d * kd, std),
                wv: normal(d * kd, std),
                wo: normal(qd * d, proj),
                ffn_norm: vec![1.0; d],
                w_gate: normal(d * ff, std),
                w_up: normal(d * ff, std),
                w_down: normal(ff * d, proj),
            })
            .collect();
        let head = (!config.tied).then(|| normal(d * v, std));
        let w = HostWeights {
            embed,
            blocks,
            norm: vec![1.0; d],
            head,
        };
        Self::from_host(config, w, device)
    }

    /// Device of the parameters.
    pub fn device(&self) -> Device {
        self.net.embed.val().device()
    }

    fn geometry(&self, rows: &[RowState], t: usize, past: usize) -> Geometry {
        let b = rows.len();
        let half = self.config.head_dim() / 2;
        let s = past + t;
        let inv: Vec<f64> = (0..half)
            .map(|i| {
                self.config
                    .rope_base
                    .powf(-2.0 * i as f64 / (2 * half) as f64)
            })
            .collect();
        let mut cos = Vec::with_capacity(b * t * half);
        let mut sin = Vec::with_capacity(b * t * half);
        let mut bias = vec![MASKED; b * t * s];
        for (r, row) in rows.iter().enumerate() {
            debug_assert_eq!(row.valid.len(), s);
            for i in 0..t {
                let pos = row.pos[past + i] as f64;
                for f in &inv {
                    let a = pos * f;
                    cos.push(a.cos() as f32);
                    sin.push(a.sin() as f32);
                }
                let base = (r * t + i) * s;
                for j in 0..=past + i {
                    if row.valid[j] {
                        bias[base + j] = 0.0;
                    }
                }
            }
        }
        let device = self.device();
        let f = |v: Vec<f32>, shape: [usize; 4]| {
            Tensor::<4>::from_data(TensorData::new(v, shape), &device)
        };
        Geometry {
            cos: f(cos, [b, 1, t, half]),
            sin: f(sin, [b, 1, t, half]),
            bias: f(bias, [b, 1, t, s]),
        }
    }

    fn embed(&self, tokens: &[u32]) -> Tensor<2> {
        let device = self.device();
        let ids: Vec<i64> = tokens.iter().map(|&x| x as i64).collect();
        let n = ids.len();
        let ids = Tensor::<1, Int>::from_data(TensorData::new(ids, [n]), &device);
        self.net.embed.val().select(0, ids) // [B·T, d]
    }

    /// Run blocks `layers` on residual stream `x: [B·T, d]`.
    fn run_blocks(
        &self,
        mut x: Tensor<2>,
        g: &Geometry,
        b: usize,
        t: usize,
        layers: std::ops::Range<usize>,
        mut cache: Option<&mut KvCache>,
    ) -> Tensor<2> {
        let c = &self.config;
        let (hd, nh, nkv) = (c.head_dim(), c.n_heads, c.n_kv_heads);
        if let Some(k) = cache.as_deref_mut()
            && k.layers.len() != c.n_layers
        {
            k.layers = vec![None; c.n_layers];
        }
        let scale = 1.0 / (hd as f64).sqrt();
        for l in layers {
            let blk = &self.net.blocks[l];
            let h = rms_norm(x.clone(), blk.attn_norm.val(), c.norm_eps);
            let q = h
                .clone()
                .matmul(blk.wq.val())
                .reshape([b, t, nh, hd])
                .swap_dims(1, 2);
            let k = h
                .clone()
                .matmul(blk.wk.val())
                .reshape([b, t, nkv, hd])
                .swap_dims(1, 2);
            let v = h
                .matmul(blk.wv.val())
                .reshape([b, t, nkv, hd])
                .swap_dims(1, 2);
            let q = rope(q, &g.cos, &g.sin);
            let k = rope(k, &g.cos, &g.sin);
            let (k, v) = match cache.as_deref_mut() {
                Some(kc) => {
                    let (k, v) = match kc.layers[l].take() {
                        Some((pk, pv)) => {
                            (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2))
                        }
                        None => (k, v),
                    };
                    kc.layers[l] = Some((k.clone(), v.clone()));
                    (k, v)
                }
                None => (k, v),
            };
            let s = k.dims()[2];
            let group = nh / nkv;
            let expand = |m: Tensor<4>| -> Tensor<4> {
                if group == 1 {
                    m
                } else {
                    m.unsqueeze_dim::<5>(2)
                        .repeat_dim(2, group)
                        .reshape([b, nh, s, hd])
                }
            };
            let (k, v) = (expand(k), expand(v));
            let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(scale) + g.bias.clone();
            let att = softmax(scores, 3).matmul(v); // [B, nh, T, hd]
            let att = att.swap_dims(1, 2).reshape([b * t, nh * hd]);
            x = x + att.matmul(blk.wo.val());
            let h = rms_norm(x.clone(), blk.ffn_norm.val(), c.norm_eps);
            let gate = silu(h.clone().matmul(blk.w_gate.val()));
            let up = h.matmul(blk.w_up.val());
            x = x + (gate * up).matmul(blk.w_down.val());
        }
        x
    }

    /// Hidden states after the final norm, `[B, T, d]`, for the `t` newest tokens of each row
    /// (`tokens` is `[B·T]` row-major). With a cache, keys/values of earlier calls are reused
    /// and this call's are appended.
    fn hidden(
        &self,
        tokens: &[u32],
        rows: &[RowState],
        t: usize,
        mut cache: Option<&mut KvCache>,
    ) -> Tensor<3> {
        let b = rows.len();
        let past = cache.as_ref().map_or(0, |k| k.len);
        let g = self.geometry(rows, t, past);
        let x = self.embed(tokens);
        let x = self.run_blocks(x, &g, b, t, 0..self.config.n_layers, cache.as_deref_mut());
        if let Some(k) = cache {
            k.len = past + t;
        }
        rms_norm(x, self.net.norm.val(), self.config.norm_eps).reshape([b, t, self.config.d_model])
    }

    /// Logits `[N, vocab]` of hidden rows `[N, d]`.
    pub fn head(&self, h: Tensor<2>) -> Tensor<2> {
        match &self.net.head {
            Some(w) => h.matmul(w.val()),
            None => h.matmul(self.net.embed.val().transpose()),
        }
    }

    /// Full logits `[B, T, vocab]` of left-padded rows (`valid[r][j]` false for padding).
    pub fn logits(&self, tokens: &[Vec<u32>], valid: &[Vec<bool>]) -> Tensor<3> {
        let (rows, flat, t) = pack(tokens, valid);
        let h = self.hidden(&flat, &rows, t, None);
        let [b, t, d] = h.dims();
        self.head(h.reshape([b * t, d]))
            .reshape([b, t, self.config.vocab])
    }

    /// `log π(response | prompt)` per row, differentiable, `[B]`: the sum of the response
    /// tokens' log-probabilities (the stop token included when present). The head is applied
    /// only at response positions.
    pub fn sequence_logprobs(&self, prompts: &[&[u32]], responses: &[&[u32]]) -> Tensor<1> {
        let batch = SeqBatch::new(self, prompts, responses, 0);
        self.batch_logprobs(&batch)
    }

    /// `log π(y|x)` of a prepared batch, `[B]` (differentiable in the blocks from
    /// `batch.start_layer` on, the final norm and the head).
    pub fn batch_logprobs(&self, batch: &SeqBatch) -> Tensor<1> {
        let device = self.device();
        let (b, t) = (batch.b, batch.t);
        let n = batch.target.len();
        if n == 0 {
            return Tensor::zeros([b], &device);
        }
        let x = match &batch.prefix {
            Some(x) => x.clone(),
            None => self.embed(&batch.flat),
        };
        let x = self.run_blocks(
            x,
            &batch.geometry,
            b,
            t,
            batch.start_layer..self.config.n_layers,
            None,
        );
        let h = rms_norm(x, self.net.norm.val(), self.config.norm_eps);
        let idx = Tensor::<1, Int>::from_data(TensorData::new(batch.pick.clone(), [n]), &device);
        let lp = log_softmax(self.head(h.select(0, idx)), 1); // [N, V]
        let tg =
            Tensor::<2, Int>::from_data(TensorData::new(batch.target.clone(), [n, 1]), &device);
        let tok = lp.gather(1, tg); // [N, 1]
        let mut assign = vec![0.0f32; b * n];
        for (k, &i) in batch.owner.iter().enumerate() {
            assign[i * n + k] = 1.0;
        }
        let a = Tensor::<2>::from_data(TensorData::new(assign, [b, n]), &device);
        a.matmul(tok).reshape([b])
    }

    /// Mean next-token cross-entropy (nats/token) over full rows of equal length `[B, T+1]`
    /// (`windows` row-major): the SFT objective.
    pub fn lm_loss(&self, windows: &[Vec<u32>]) -> Tensor<1> {
        let b = windows.len();
        let l = windows[0].len();
        let t = l - 1;
        let inputs: Vec<Vec<u32>> = windows.iter().map(|w| w[..t].to_vec()).collect();
        let valid = vec![vec![true; t]; b];
        let logits = self
            .logits(&inputs, &valid)
            .reshape([b * t, self.config.vocab]);
        let target: Vec<i64> = windows
            .iter()
            .flat_map(|w| w[1..].iter().map(|&x| x as i64))
            .collect();
        let device = self.device();
        let tg = Tensor::<2, Int>::from_data(TensorData::new(target, [b * t, 1]), &device);
        log_softmax(logits, 1).gather(1, tg).mean().neg()
    }

    /// One decoding step for rows whose newest token is `tokens[r]` (or the prefill of whole
    /// rows when the cache is empty): returns log-probabilities `[B, vocab]` of the next token.
    pub(crate) fn step(
        &self,
        tokens: &[u32],
        rows: &[RowState],
        t: usize,
        cache: &mut KvCache,
    ) -> Vec<f32> {
        let h = self.hidden(tokens, rows, t, Some(cache));
        let [b, t, d] = h.dims();
        let last = h.narrow(1, t - 1, 1).reshape([b, d]);
        let lp = log_softmax(self.head(last), 1);
        lp.into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 logits")
    }

    /// Host copy of every weight, `[in, out]` layout (for caching a trained model).
    pub fn to_host(&self) -> HostWeights {
        let v = |p: &Param<Tensor<1>>| {
            p.val()
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32")
        };
        let m = |p: &Param<Tensor<2>>| {
            p.val()
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32")
        };
        HostWeights {
            embed: m(&self.net.embed),
            blocks: self
                .net
                .blocks
                .iter()
                .map(|b| HostBlock {
                    attn_norm: v(&b.attn_norm),
                    wq: m(&b.wq),
                    wk: m(&b.wk),
                    wv: m(&b.wv),
                    wo: m(&b.wo),
                    ffn_norm: v(&b.ffn_norm),
                    w_gate: m(&b.w_gate),
                    w_up: m(&b.w_up),
                    w_down: m(&b.w_down),
                })
                .collect(),
            norm: v(&self.net.norm),
            head: self.net.head.as_ref().map(m),
        }
    }
}

/// Validity and positions of one row over all key positions seen so far.
#[derive(Debug, Clone)]
pub(crate) struct RowState {
    pub valid: Vec<bool>,
    pub pos: Vec<usize>,
}

impl RowState {
    pub(crate) fn new(valid: Vec<bool>) -> Self {
        let mut pos = Vec::with_capacity(valid.len());
        let mut n = 0usize;
        // pos[j] = number of valid tokens strictly before j.
        for &v in &valid {
            pos.push(n);
            n += usize::from(v);
        }
        RowState { valid, pos }
    }

    pub(crate) fn push(&mut self, valid: bool) {
        let n = self.valid.iter().filter(|&&v| v).count();
        self.pos.push(n);
        self.valid.push(valid);
    }
}

fn pack(tokens: &[Vec<u32>], valid: &[Vec<bool>]) -> (Vec<RowState>, Vec<u32>, usize) {
    let t = tokens.first().map_or(0, |r| r.len());
    let mut flat = Vec::with_capacity(tokens.len() * t);
    let mut rows = Vec::with_capacity(tokens.len());
    for (r, v) in tokens.iter().zip(valid) {
        assert_eq!(r.len(), t, "rows must be padded to one length");
        assert_eq!(v.len(), t);
        flat.extend_from_slice(r);
        rows.push(RowState::new(v.clone()));
    }
    (rows, flat, t)
}

fn rms_norm<const D: usize>(x: Tensor<D>, gain: Tensor<1>, eps: f64) -> Tensor<D> {
    let ms = x.clone().powi_scalar(2).mean_dim(D - 1);
    let g = gain.unsqueeze::<D>();
    x * (ms + eps).sqrt().recip() * g
}

/// Rotate adjacent pairs `(2i, 2i+1)` of the last dim of `x: [B, H, T, hd]`.
fn rope(x: Tensor<4>, cos: &Tensor<4>, sin: &Tensor<4>) -> Tensor<4> {
    let [b, h, t, d] = x.dims();
    let x = x.reshape([b, h, t, d / 2, 2]);
    let x0 = x.clone().narrow(4, 0, 1).reshape([b, h, t, d / 2]);
    let x1 = x.narrow(4, 1, 1).reshape([b, h, t, d / 2]);
    let r0 = x0.clone() * cos.clone() - x1.clone() * sin.clone();
    let r1 = x0 * sin.clone() + x1 * cos.clone();
    Tensor::cat(vec![r0.unsqueeze_dim::<5>(4), r1.unsqueeze_dim::<5>(4)], 4).reshape([b, h, t, d])
}

/// Draw from a log-probability row with temperature and nucleus (top-p) truncation;
/// `temperature = 0` is greedy (lowest id on ties). `u ∈ [0,1)`.
pub fn sample_token(logp: &[f32], temperature: f64, top_p: f64, u: f64) -> u32 {
    if temperature <= 0.0 {
        let mut best = 0usize;
        for (i, &v) in logp.iter().enumerate() {
            if v > logp[best] {
                best = i;
            }
        }
        return best as u32;
    }
    let m = logp.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let mut p: Vec<(u32, f64)> = logp
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as u32, ((v as f64 - m) / temperature).exp()))
        .collect();
    let z: f64 = p.iter().map(|x| x.1).sum();
    if top_p < 1.0 {
        p.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut acc = 0.0;
        let mut keep = 0;
        for (k, x) in p.iter().enumerate() {
            acc += x.1 / z;
            keep = k + 1;
            if acc >= top_p {
                break;
            }
        }
        p.truncate(keep);
    }
    let z: f64 = p.iter().map(|x| x.1).sum();
    let mut target = u * z;
    for &(i, w) in &p {
        if target < w {
            return i;
        }
        target -= w;
    }
    p.last().map_or(0, |x| x.0)
}

/// A uniform in `[0,1)` from a ChaCha stream.
pub(crate) fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A batch of (prompt, response) rows prepared once for repeated log-prob evaluation: padded
/// tokens, attention geometry, response positions, and — when the first `start_layer` blocks
/// are frozen — their output, computed once without a graph (the expensive part of
/// fine-tuning only the last blocks).
pub struct SeqBatch {
    b: usize,
    t: usize,
    flat: Vec<u32>,
    geometry: Geometry,
    pick: Vec<i64>,
    target: Vec<i64>,
    owner: Vec<usize>,
    start_layer: usize,
    prefix: Option<Tensor<2>>,
}

impl SeqBatch {
    /// Prepare rows; blocks `0..frozen` (and the embedding) are run now, detached.
    pub fn new(
        model: &Transformer,
        prompts: &[&[u32]],
        responses: &[&[u32]],
        frozen: usize,
    ) -> Self {
        assert_eq!(prompts.len(), responses.len());
        let frozen = frozen.min(model.config.n_layers);
        let b = prompts.len();
        let lens: Vec<usize> = (0..b)
            .map(|i| prompts[i].len() + responses[i].len())
            .collect();
        let l = lens.iter().copied().max().unwrap_or(0).max(2);
        let t = l - 1; // inputs are row[..l-1], targets row[1..]
        let mut flat = Vec::with_capacity(b * t);
        let mut rows = Vec::with_capacity(b);
        let (mut pick, mut target, mut owner) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..b {
            assert!(
                !prompts[i].is_empty(),
                "every prompt needs at least one token"
            );
            let pad = l - lens[i];
            let mut row = vec![0u32; pad];
            row.extend_from_slice(prompts[i]);
            row.extend_from_slice(responses[i]);
            let mut ok = vec![false; pad];
            ok.extend(std::iter::repeat_n(true, lens[i]));
            for (k, &y) in responses[i].iter().enumerate() {
                let at = pad + prompts[i].len() + k; // position of y in the row
                pick.push((i * t + at - 1) as i64);
                target.push(y as i64);
                owner.push(i);
            }
            row.resize(l, 0);
            ok.resize(l, false);
            flat.extend_from_slice(&row[..t]);
            rows.push(RowState::new(ok[..t].to_vec()));
        }
        let geometry = model.geometry(&rows, t, 0);
        let prefix = (frozen > 0).then(|| {
            let x = model.embed(&flat).detach();
            model
                .run_blocks(x, &geometry, b, t, 0..frozen, None)
                .detach()
        });
        SeqBatch {
            b,
            t,
            flat,
            geometry,
            pick,
            target,
            owner,
            start_layer: frozen,
            prefix,
        }
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.b
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.b == 0
    }
}
