//! Llama-architecture models to and from GGUF: SmolLM2-135M-Instruct (Q4_1/Q8_0/F32 as
//! published) and the small model trained here (cached as an F32 GGUF in the same layout, so
//! one loader serves both).

use crate::model::{HostBlock, HostWeights, LmConfig, Transformer};
use burn::tensor::Device;
use std::path::Path;
use wind_text::gguf::{GgmlType, Gguf, GgufWriter, MetaValue};

/// `[out, in]` (GGUF row-major) → `[in, out]`.
fn transpose(v: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0f32; v.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = v[r * cols + c];
        }
    }
    t
}

/// An f32 metadata value as the decimal it was written from (1e-5, not 9.99999974e-6).
fn f32_decimal(v: f32) -> f64 {
    format!("{v}").parse().unwrap_or(v as f64)
}

fn err(path: &str, e: impl std::fmt::Display) -> String {
    format!("{path}: {e}")
}

/// Read the architecture of a Llama GGUF (`general.architecture = "llama"`).
pub fn llama_config(g: &Gguf, src: &str, max_seq: usize) -> Result<LmConfig, String> {
    let arch = g
        .meta_str("general.architecture")
        .map_err(|e| err(src, e))?;
    if arch != "llama" {
        return Err(format!(
            "{src}: general.architecture = {arch:?}; only Llama-architecture models (SmolLM2, Llama 2/3, TinyLlama…) are supported"
        ));
    }
    let u = |k: &str| g.meta_usize(&format!("llama.{k}")).map_err(|e| err(src, e));
    let embd = g
        .tensor_info("token_embd.weight")
        .ok_or_else(|| format!("{src}: tensor token_embd.weight is missing"))?;
    let shape = embd.shape();
    let cfg = LmConfig {
        vocab: shape[0],
        d_model: u("embedding_length")?,
        n_layers: u("block_count")?,
        n_heads: u("attention.head_count")?,
        n_kv_heads: u("attention.head_count_kv").or_else(|_| u("attention.head_count"))?,
        d_ff: u("feed_forward_length")?,
        rope_base: g
            .meta_f32("llama.rope.freq_base")
            .map(f32_decimal)
            .unwrap_or(10000.0),
        norm_eps: g
            .meta_f32("llama.attention.layer_norm_rms_epsilon")
            .map(f32_decimal)
            .map_err(|e| err(src, e))?,
        tied: g.tensor_info("output.weight").is_none(),
        max_seq: max_seq.min(u("context_length").unwrap_or(max_seq)),
    };
    cfg.validate().map_err(|e| err(src, e))?;
    if shape.len() != 2 || shape[1] != cfg.d_model {
        return Err(format!(
            "{src}: token_embd.weight has shape {shape:?}, expected [vocab, {}]",
            cfg.d_model
        ));
    }
    Ok(cfg)
}

/// Load a Llama GGUF onto `device` (dequantized to f32).
pub fn load_llama(
    g: &Gguf,
    src: &str,
    max_seq: usize,
    device: &Device,
) -> Result<Transformer, String> {
    let cfg = llama_config(g, src, max_seq)?;
    let get = |name: &str, want: &[usize]| -> Result<Vec<f32>, String> {
        let (shape, v) = g.tensor_f32(name).map_err(|e| err(src, e))?;
        if shape != want {
            return Err(format!(
                "{src}: tensor {name} has shape {shape:?}, expected {want:?}"
            ));
        }
        Ok(v)
    };
    let (d, hd, ff) = (cfg.d_model, cfg.head_dim(), cfg.d_ff);
    let (qd, kd) = (cfg.n_heads * hd, cfg.n_kv_heads * hd);
    // GGUF stores matrices as [out, in]; the model wants [in, out].
    let mat = |name: &str, out: usize, inp: usize| -> Result<Vec<f32>, String> {
        Ok(transpose(&get(name, &[out, inp])?, out, inp))
    };
    let mut blocks = Vec::with_capacity(cfg.n_layers);
    for i in 0..cfg.n_layers {
        let n = |s: &str| format!("blk.{i}.{s}.weight");
        blocks.push(HostBlock {
            attn_norm: get(&n("attn_norm"), &[d])?,
            wq: mat(&n("attn_q"), qd, d)?,
            wk: mat(&n("attn_k"), kd, d)?,
            wv: mat(&n("attn_v"), kd, d)?,
            wo: mat(&n("attn_output"), d, qd)?,
            ffn_norm: get(&n("ffn_norm"), &[d])?,
            w_gate: mat(&n("ffn_gate"), ff, d)?,
            w_up: mat(&n("ffn_up"), ff, d)?,
            w_down: mat(&n("ffn_down"), d, ff)?,
        });
    }
    let head = if cfg.tied {
        None
    } else {
        Some(mat("output.weight", cfg.vocab, d)?)
    };
    let w = HostWeights {
        embed: get("token_embd.weight", &[cfg.vocab, d])?,
        blocks,
        norm: get("output_norm.weight", &[d])?,
        head,
    };
    Transformer::from_host(cfg, w, device).map_err(|e| err(src, e))
}

/// Open and load a GGUF file.
pub fn open_llama(
    path: &Path,
    max_seq: usize,
    device: &Device,
) -> Result<(Gguf, Transformer), String> {
    let src = path.display().to_string();
    let g = Gguf::open(path).map_err(|e| err(&src, e))?;
    let m = load_llama(&g, &src, max_seq, device)?;
    Ok((g, m))
}

/// Write `model` as an F32 Llama GGUF with extra metadata (e.g. the SFT settings and corpus
/// hash), atomically (temp file + rename).
pub fn save_llama(
    model: &Transformer,
    path: &Path,
    extra: &[(&str, MetaValue)],
) -> Result<(), String> {
    let c = &model.config;
    let w = model.to_host();
    let mut g = GgufWriter::new();
    let u = |v: usize| MetaValue::U32(v as u32);
    g.add_meta("general.architecture", MetaValue::String("llama".into()));
    g.add_meta("llama.block_count", u(c.n_layers));
    g.add_meta("llama.embedding_length", u(c.d_model));
    g.add_meta("llama.feed_forward_length", u(c.d_ff));
    g.add_meta("llama.attention.head_count", u(c.n_heads));
    g.add_meta("llama.attention.head_count_kv", u(c.n_kv_heads));
    g.add_meta("llama.context_length", u(c.max_seq));
    g.add_meta("llama.rope.freq_base", MetaValue::F32(c.rope_base as f32));
    g.add_meta(
        "llama.attention.layer_norm_rms_epsilon",
        MetaValue::F32(c.norm_eps as f32),
    );
    for (k, v) in extra {
        g.add_meta(k, v.clone());
    }
    let (d, hd, ff) = (c.d_model, c.head_dim(), c.d_ff);
    let (qd, kd) = (c.n_heads * hd, c.n_kv_heads * hd);
    let f = GgmlType::F32;
    let e = |x: wind_text::gguf::GgufError| x.to_string();
    g.add_f32_tensor("token_embd.weight", &[c.vocab, d], &w.embed, f)
        .map_err(e)?;
    for (i, b) in w.blocks.iter().enumerate() {
        let n = |s: &str| format!("blk.{i}.{s}.weight");
        g.add_f32_tensor(&n("attn_norm"), &[d], &b.attn_norm, f)
            .map_err(e)?;
        g.add_f32_tensor(&n("attn_q"), &[qd, d], &transpose(&b.wq, d, qd), f)
            .map_err(e)?;
        g.add_f32_tensor(&n("attn_k"), &[kd, d], &transpose(&b.wk, d, kd), f)
            .map_err(e)?;
        g.add_f32_tensor(&n("attn_v"), &[kd, d], &transpose(&b.wv, d, kd), f)
            .map_err(e)?;
        g.add_f32_tensor(&n("attn_output"), &[d, qd], &transpose(&b.wo, qd, d), f)
            .map_err(e)?;
        g.add_f32_tensor(&n("ffn_norm"), &[d], &b.ffn_norm, f)
            .map_err(e)?;
        g.add_f32_tensor(&n("ffn_gate"), &[ff, d], &transpose(&b.w_gate, d, ff), f)
            .map_err(e)?;
        g.add_f32_tensor(&n("ffn_up"), &[ff, d], &transpose(&b.w_up, d, ff), f)
            .map_err(e)?;
        g.add_f32_tensor(&n("ffn_down"), &[d, ff], &transpose(&b.w_down, ff, d), f)
            .map_err(e)?;
    }
    g.add_f32_tensor("output_norm.weight", &[d], &w.norm, f)
        .map_err(e)?;
    if let Some(h) = &w.head {
        g.add_f32_tensor("output.weight", &[c.vocab, d], &transpose(h, d, c.vocab), f)
            .map_err(e)?;
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|x| format!("{}: {x}", dir.display()))?;
    }
    let tmp = path.with_extension("gguf.tmp");
    g.write(&tmp).map_err(e)?;
    std::fs::rename(&tmp, path).map_err(|x| format!("{}: {x}", path.display()))
}
