//! A faithful Rust port of VADER as released in the Python package `vaderSentiment` 3.3.2
//! (`SentimentIntensityAnalyzer.polarity_scores`; Hutto & Gilbert 2014, MIT licence, © C.J.
//! Hutto — see `data/vader.LICENSE`).
//!
//! Both lexicons of that release are compiled in byte for byte (`data/vader_lexicon.txt`,
//! `data/emoji_utf8_lexicon.txt`) and parsed once per process. Every rule follows the Python
//! code statement by statement, *including its quirks*, because this scorer is the training
//! judge and "fixing" a rule would silently change what a policy is rewarded for. The quirks
//! worth knowing (all present in 3.3.2, all reproduced here):
//!
//! * Tokens are the whitespace-separated pieces of the text with leading/trailing ASCII
//!   punctuation removed — unless that leaves two characters or fewer, in which case the
//!   original piece is kept (so `:)` survives, but so does `ok!`, which then is not the
//!   lexicon word `ok`). No token is dropped for being short.
//! * `so` or `this` directly before a sentiment word multiplies it by 1.25 whenever the third
//!   word back exists and is not a lexicon word (the "never so/this" rule's condition is
//!   `never so|this … or so|this`), on top of `so` being a booster.
//! * Negation is the 59-word `NEGATE` list or any token containing `n't` (the typographic
//!   apostrophe in `don’t` does not count).
//! * "no" directly before a lexicon word scores 0 instead of its own −1.2, and "no" negates a
//!   lexicon word one or two words after it (three, with `or`/`nor` just before the word).
//! * The "but" rule halves the valence of words before the first `but` and multiplies later
//!   ones by 1.5 — located with Python's `list.index(value)`, i.e. at the *first position
//!   holding an equal value*, which can hit a different word than the one being visited.
//! * Special-case idioms (`the shit`, `the bomb`, `kiss of death`, …) and the `kind of` /
//!   `sort of` / `just enough` dampeners are only looked at for a sentiment word with at least
//!   three words before it, the third of which is not a lexicon word. The sentiment-laden
//!   idioms table of the Python file is dead code there and is not ported.
//! * Emoji (single code points of the emoji lexicon) are replaced by their English
//!   description before anything else, so their words get lexicon valences and their `!`
//!   (🔛 → "ON! arrow") counts as punctuation emphasis.
//!
//! String predicates follow Python's `str` semantics (`isspace` includes U+001C–U+001F,
//! `isupper` rejects titlecase letters). The one known remaining difference: case and
//! whitespace properties come from Rust's Unicode tables, not Python 3's, so letters added to
//! Unicode after the Python build's version (14.0 for Python 3.11) can be cased here and
//! uncased there.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

/// Booster increment `B_INCR` (empirical mean intensity increase of a booster word).
pub const B_INCR: f64 = 0.293;
/// Dampener increment `B_DECR`.
pub const B_DECR: f64 = -0.293;
/// ALL-CAPS emphasis increment `C_INCR` (applies only when some, not all, words are caps).
pub const C_INCR: f64 = 0.733;
/// Negation scalar `N_SCALAR`.
pub const N_SCALAR: f64 = -0.74;
/// Normalisation constant of the compound score `s / sqrt(s² + ALPHA)`.
pub const ALPHA: f64 = 15.0;

/// `vader_lexicon.txt` of vaderSentiment 3.3.2, byte for byte.
const LEXICON_TXT: &str = include_str!("../data/vader_lexicon.txt");
/// `emoji_utf8_lexicon.txt` of vaderSentiment 3.3.2, byte for byte.
const EMOJI_TXT: &str = include_str!("../data/emoji_utf8_lexicon.txt");

/// Membership in the `NEGATE` list of vaderSentiment 3.3.2 (59 words).
#[rustfmt::skip]
fn is_negate_word(word: &str) -> bool {
    matches!(
        word,
        "aint" | "arent" | "cannot" | "cant" | "couldnt" | "darent" | "didnt" | "doesnt"
            | "ain't" | "aren't" | "can't" | "couldn't" | "daren't" | "didn't" | "doesn't"
            | "dont" | "hadnt" | "hasnt" | "havent" | "isnt" | "mightnt" | "mustnt" | "neither"
            | "don't" | "hadn't" | "hasn't" | "haven't" | "isn't" | "mightn't" | "mustn't"
            | "neednt" | "needn't" | "never" | "none" | "nope" | "nor" | "not" | "nothing"
            | "nowhere" | "oughtnt" | "shant" | "shouldnt" | "uhuh" | "wasnt" | "werent"
            | "oughtn't" | "shan't" | "shouldn't" | "uh-uh" | "wasn't" | "weren't" | "without"
            | "wont" | "wouldnt" | "won't" | "wouldn't" | "rarely" | "seldom" | "despite"
    )
}

/// FNV-1a, a fast hash for the compiled-in (not attacker-chosen) lexicon keys.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[derive(Clone, Copy, Default)]
struct FnvBuild;

impl BuildHasher for FnvBuild {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

/// `BOOSTER_DICT` of vaderSentiment 3.3.2 for one token (single-word keys).
#[rustfmt::skip]
fn booster(word: &str) -> Option<f64> {
    match word {
        "absolutely" | "amazingly" | "awfully" | "completely" | "considerable" | "considerably"
        | "decidedly" | "deeply" | "effing" | "enormous" | "enormously" | "entirely"
        | "especially" | "exceptional" | "exceptionally" | "extreme" | "extremely"
        | "fabulously" | "flipping" | "flippin" | "frackin" | "fracking" | "fricking"
        | "frickin" | "frigging" | "friggin" | "fully" | "fuckin" | "fucking" | "fuggin"
        | "fugging" | "greatly" | "hella" | "highly" | "hugely" | "incredible" | "incredibly"
        | "intensely" | "major" | "majorly" | "more" | "most" | "particularly" | "purely"
        | "quite" | "really" | "remarkably" | "so" | "substantially" | "thoroughly" | "total"
        | "totally" | "tremendous" | "tremendously" | "uber" | "unbelievably" | "unusually"
        | "utter" | "utterly" | "very" => Some(B_INCR),
        "almost" | "barely" | "hardly" | "kinda" | "kindof" | "kind-of" | "less" | "little"
        | "marginal" | "marginally" | "occasional" | "occasionally" | "partly" | "scarce"
        | "scarcely" | "slight" | "slightly" | "somewhat" | "sorta" | "sortof" | "sort-of" => {
            Some(B_DECR)
        }
        _ => None,
    }
}

/// The two-word keys of `BOOSTER_DICT` ("just enough", "kind of", "sort of").
fn booster2(a: &str, b: &str) -> Option<f64> {
    match (a, b) {
        ("just", "enough") | ("kind", "of") | ("sort", "of") => Some(B_DECR),
        _ => None,
    }
}

/// The two-word keys of `SPECIAL_CASES`. (Its one-word key "badass" can never equal a joined
/// n-gram in the Python code, so it has no effect there and none here.)
fn special2(a: &str, b: &str) -> Option<f64> {
    match (a, b) {
        ("the", "shit") | ("the", "bomb") => Some(3.0),
        ("bad", "ass") => Some(1.5),
        ("bus", "stop") => Some(0.0),
        ("yeah", "right") => Some(-2.0),
        ("beating", "heart") => Some(3.5),
        _ => None,
    }
}

/// The three-word keys of `SPECIAL_CASES`.
fn special3(a: &str, b: &str, c: &str) -> Option<f64> {
    match (a, b, c) {
        ("kiss", "of", "death") => Some(-1.5),
        ("to", "die", "for") => Some(3.0),
        _ => None,
    }
}

/// Python's `str.isspace` for one character: Unicode White_Space plus the ASCII information
/// separators U+001C–U+001F (bidi class B/S), which Python counts and Rust does not.
pub(crate) fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Unicode titlecase letters (general category Lt; the same 31 in Unicode 14 through 16).
fn is_titlecase(c: char) -> bool {
    matches!(c,
        '\u{1c5}' | '\u{1c8}' | '\u{1cb}' | '\u{1f2}'
        | '\u{1f88}'..='\u{1f8f}' | '\u{1f98}'..='\u{1f9f}' | '\u{1fa8}'..='\u{1faf}'
        | '\u{1fbc}' | '\u{1fcc}' | '\u{1ffc}')
}

/// Python's `str.isupper`: at least one uppercase character and no lowercase or titlecase one.
pub(crate) fn py_isupper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        if c.is_uppercase() {
            cased = true;
        }
    }
    cased
}

/// Python's `str.lower` (full case mapping; borrowed when already lower case ASCII).
pub(crate) fn py_lower(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// `SentiText._strip_punc_if_word`: strip leading/trailing `string.punctuation`, unless that
/// leaves two characters or fewer (then the token is kept unchanged).
pub(crate) fn strip_punc_if_word(token: &str) -> &str {
    let stripped = token.trim_matches(|c: char| c.is_ascii_punctuation());
    if stripped.chars().count() <= 2 {
        token
    } else {
        stripped
    }
}

/// Python's `round(x, ndigits)`: correctly rounded, ties to even on the exact binary value.
/// Rust's fixed-precision formatting rounds the same way, and parsing back gives the nearest
/// double, as CPython does.
pub fn py_round(x: f64, ndigits: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    format!("{x:.ndigits$}").parse().unwrap_or(x)
}

struct Lexicons {
    /// Lexicon entry (as written in the file, not lower-cased) → mean valence.
    words: HashMap<&'static str, f64, FnvBuild>,
    /// Single-code-point emoji → description. (Multi-code-point keys of the file can never
    /// match: the Python code looks up one character at a time.)
    emojis: HashMap<char, &'static str, FnvBuild>,
}

/// Python's `str.strip()` (whitespace per [`py_isspace`]).
fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

fn lexicons() -> &'static Lexicons {
    static LEX: OnceLock<Lexicons> = OnceLock::new();
    LEX.get_or_init(|| {
        // make_lex_dict: lines of `rstrip('\n').split('\n')`, empty ones skipped, then
        // `line.strip().split('\t')[0:2]`; a later duplicate key overrides an earlier one.
        let mut words = HashMap::with_capacity_and_hasher(7600, FnvBuild);
        for line in LEXICON_TXT.trim_end_matches('\n').split('\n') {
            if line.is_empty() {
                continue;
            }
            let mut f = py_strip(line).split('\t');
            let (Some(word), Some(measure)) = (f.next(), f.next()) else {
                panic!("vendored data/vader_lexicon.txt: line without a tab: {line:?}");
            };
            let v: f64 = measure.parse().unwrap_or_else(|_| {
                panic!("vendored data/vader_lexicon.txt: bad valence {line:?}")
            });
            words.insert(word, v);
        }
        let mut emojis = HashMap::with_capacity_and_hasher(1300, FnvBuild);
        for line in EMOJI_TXT.trim_end_matches('\n').split('\n') {
            let mut f = py_strip(line).split('\t');
            let (Some(emoji), Some(description)) = (f.next(), f.next()) else {
                panic!("vendored data/emoji_utf8_lexicon.txt: line without a tab: {line:?}");
            };
            let mut cs = emoji.chars();
            if let (Some(c), None) = (cs.next(), cs.next()) {
                emojis.insert(c, description);
            }
        }
        Lexicons { words, emojis }
    })
}

/// The four scores of `polarity_scores`, **unrounded** (Python rounds `neg`/`neu`/`pos` to 3
/// and `compound` to 4 decimals before returning them; [`PolarityScores::rounded`] does the
/// same).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolarityScores {
    /// Proportion of negative valence mass.
    pub neg: f64,
    /// Proportion of neutral words.
    pub neu: f64,
    /// Proportion of positive valence mass.
    pub pos: f64,
    /// Normalised sum of valences, in `[-1, 1]`.
    pub compound: f64,
}

impl PolarityScores {
    /// The values exactly as Python returns them (`round(.., 3)`, compound `round(.., 4)`).
    pub fn rounded(&self) -> PolarityScores {
        PolarityScores {
            neg: py_round(self.neg, 3),
            neu: py_round(self.neu, 3),
            pos: py_round(self.pos, 3),
            compound: py_round(self.compound, 4),
        }
    }
}

/// One token of `SentiText.words_and_emoticons` with the properties the rules ask for.
struct Tok<'a> {
    /// `raw.lower()`, where `raw` is the token after `_strip_punc_if_word`.
    lower: Cow<'a, str>,
    /// `raw.isupper()`.
    upper: bool,
    /// `self.lexicon[raw.lower()]` if present.
    lex: Option<f64>,
}

impl Tok<'_> {
    /// `negated([word])` with `include_nt=True`.
    fn negated(&self) -> bool {
        is_negate_word(&self.lower) || self.lower.contains("n't")
    }
}

/// VADER's `SentimentIntensityAnalyzer` (vaderSentiment 3.3.2). Cheap to construct after the
/// first time (the lexicons are parsed once per process); `Send + Sync`.
#[derive(Clone, Copy)]
pub struct SentimentIntensityAnalyzer {
    lex: &'static Lexicons,
}

impl Default for SentimentIntensityAnalyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl SentimentIntensityAnalyzer {
    /// The analyzer with the compiled-in 3.3.2 lexicons.
    pub fn new() -> Self {
        SentimentIntensityAnalyzer { lex: lexicons() }
    }

    /// Number of distinct lexicon entries (7,506 in 3.3.2).
    pub fn lexicon_len(&self) -> usize {
        self.lex.words.len()
    }

    /// Valence of a lexicon entry, looked up exactly as written (the rules look up the
    /// lower-cased token).
    pub fn valence(&self, entry: &str) -> Option<f64> {
        self.lex.words.get(entry).copied()
    }

    /// Description that replaces emoji `c` before scoring (e.g. 😁 → "beaming face with
    /// smiling eyes").
    pub fn emoji_description(&self, c: char) -> Option<&'static str> {
        self.lex.emojis.get(&c).copied()
    }

    /// The compound score only (unrounded).
    pub fn compound(&self, text: &str) -> f64 {
        self.polarity_scores(text).compound
    }

    /// `polarity_scores(text)`, unrounded (see [`PolarityScores::rounded`]).
    pub fn polarity_scores(&self, text: &str) -> PolarityScores {
        // Emoji → description. No ASCII character is a key, so ASCII text passes unchanged.
        let translated: Cow<'_, str> = if text.is_ascii() {
            Cow::Borrowed(text)
        } else {
            let mut out = String::with_capacity(text.len() + 16);
            let mut prev_space = true;
            for c in text.chars() {
                if let Some(&description) = self.lex.emojis.get(&c) {
                    if !prev_space {
                        out.push(' ');
                    }
                    out.push_str(description);
                    prev_space = false;
                } else {
                    out.push(c);
                    prev_space = c == ' ';
                }
            }
            Cow::Owned(out)
        };
        let text = py_strip(&translated);

        let toks: Vec<Tok<'_>> = text
            .split(py_isspace)
            .filter(|w| !w.is_empty())
            .map(|w| {
                let raw = strip_punc_if_word(w);
                let lower = py_lower(raw);
                let lex = self.lex.words.get(&*lower).copied();
                Tok {
                    upper: py_isupper(raw),
                    lower,
                    lex,
                }
            })
            .collect();
        let n = toks.len();
        // allcap_differential: some but not all tokens are ALL CAPS.
        let n_upper = toks.iter().filter(|t| t.upper).count();
        let is_cap_diff = 0 < n - n_upper && n - n_upper < n;

        let mut sentiments: Vec<f64> = Vec::with_capacity(n);
        for i in 0..n {
            if booster(&toks[i].lower).is_some()
                || (i + 1 < n && toks[i].lower == "kind" && toks[i + 1].lower == "of")
            {
                sentiments.push(0.0);
                continue;
            }
            sentiments.push(sentiment_valence(&toks, i, is_cap_diff));
        }
        but_check(&toks, &mut sentiments);
        score_valence(&sentiments, text)
    }
}

/// `scalar_inc_dec(word, valence, is_cap_diff)`.
fn scalar_inc_dec(word: &Tok<'_>, valence: f64, is_cap_diff: bool) -> f64 {
    let mut scalar = 0.0;
    if let Some(b) = booster(&word.lower) {
        scalar = b;
        if valence < 0.0 {
            scalar *= -1.0;
        }
        if word.upper && is_cap_diff {
            if valence > 0.0 {
                scalar += C_INCR;
            } else {
                scalar -= C_INCR;
            }
        }
    }
    scalar
}

/// `sentiment_valence` for token `i` (0 for a word not in the lexicon).
fn sentiment_valence(toks: &[Tok<'_>], i: usize, is_cap_diff: bool) -> f64 {
    let n = toks.len();
    let item = &toks[i];
    let Some(base) = item.lex else {
        return 0.0;
    };
    let w = |k: usize| -> &str { &toks[k].lower };
    let mut valence = base;
    // "no" as a negation of the next lexicon word rather than a sentiment word of its own.
    if w(i) == "no" && i != n - 1 && toks[i + 1].lex.is_some() {
        valence = 0.0;
    }
    if (i > 0 && w(i - 1) == "no")
        || (i > 1 && w(i - 2) == "no")
        || (i > 2 && w(i - 3) == "no" && matches!(w(i - 1), "or" | "nor"))
    {
        valence = base * N_SCALAR;
    }
    // ALL-CAPS emphasis (only when some, not all, tokens are caps).
    if item.upper && is_cap_diff {
        if valence > 0.0 {
            valence += C_INCR;
        } else {
            valence -= C_INCR;
        }
    }
    for start_i in 0..3 {
        // Boosters/dampeners up to three words back, damped with distance, each followed by
        // the negation check at that distance (and, at distance three, the idioms).
        if i > start_i && toks[i - (start_i + 1)].lex.is_none() {
            let mut s = scalar_inc_dec(&toks[i - (start_i + 1)], valence, is_cap_diff);
            if start_i == 1 && s != 0.0 {
                s *= 0.95;
            }
            if start_i == 2 && s != 0.0 {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, toks, start_i, i);
            if start_i == 2 {
                valence = special_idioms_check(valence, toks, i);
            }
        }
    }
    least_check(valence, toks, i)
}

/// `_negation_check` (with the "never so/this" and "without doubt" cases).
fn negation_check(mut valence: f64, toks: &[Tok<'_>], start_i: usize, i: usize) -> f64 {
    let w = |k: usize| -> &str { &toks[k].lower };
    match start_i {
        0 if toks[i - 1].negated() => valence *= N_SCALAR,
        1 => {
            if w(i - 2) == "never" && (w(i - 1) == "so" || w(i - 1) == "this") {
                valence *= 1.25;
            } else if w(i - 2) == "without" && w(i - 1) == "doubt" {
                // unchanged
            } else if toks[i - 2].negated() {
                valence *= N_SCALAR;
            }
        }
        2 => {
            // Python: `never and (so or this) or (so or this)` — the last pair is tested on
            // the word directly before the item, without "never".
            if (w(i - 3) == "never" && (w(i - 2) == "so" || w(i - 2) == "this"))
                || (w(i - 1) == "so" || w(i - 1) == "this")
            {
                valence *= 1.25;
            } else if w(i - 3) == "without" && (w(i - 2) == "doubt" || w(i - 1) == "doubt") {
                // unchanged
            } else if toks[i - 3].negated() {
                valence *= N_SCALAR;
            }
        }
        _ => {}
    }
    valence
}

/// `_special_idioms_check` (only reached with `i >= 3`).
fn special_idioms_check(mut valence: f64, toks: &[Tok<'_>], i: usize) -> f64 {
    let n = toks.len();
    let w = |k: usize| -> &str { &toks[k].lower };
    // Tokens hold no whitespace, so "a b" == key  <=>  the words are equal one by one.
    let sequences = [
        special2(w(i - 1), w(i)),               // onezero
        special3(w(i - 2), w(i - 1), w(i)),     // twoonezero
        special2(w(i - 2), w(i - 1)),           // twoone
        special3(w(i - 3), w(i - 2), w(i - 1)), // threetwoone
        special2(w(i - 3), w(i - 2)),           // threetwo
    ];
    if let Some(v) = sequences.into_iter().flatten().next() {
        valence = v;
    }
    if n - 1 > i
        && let Some(v) = special2(w(i), w(i + 1))
    {
        valence = v;
    }
    if n - 1 > i + 1
        && let Some(v) = special3(w(i), w(i + 1), w(i + 2))
    {
        valence = v;
    }
    // Booster/dampener bigrams ("kind of", "sort of", "just enough"); the three-word n-gram
    // threetwoone can never be a booster key. Added without sign adjustment, as in Python.
    for b in [booster2(w(i - 3), w(i - 2)), booster2(w(i - 2), w(i - 1))]
        .into_iter()
        .flatten()
    {
        valence += b;
    }
    valence
}

/// `_least_check`: "least X" negates X unless preceded by "at" or "very".
fn least_check(mut valence: f64, toks: &[Tok<'_>], i: usize) -> f64 {
    let w = |k: usize| -> &str { &toks[k].lower };
    if i > 1 && toks[i - 1].lex.is_none() && w(i - 1) == "least" {
        if w(i - 2) != "at" && w(i - 2) != "very" {
            valence *= N_SCALAR;
        }
    } else if i > 0 && toks[i - 1].lex.is_none() && w(i - 1) == "least" {
        valence *= N_SCALAR;
    }
    valence
}

/// `_but_check`, reproducing `for sentiment in sentiments: si = sentiments.index(sentiment)`:
/// the visited value is scaled at the first position that currently holds an equal value.
///
/// Short texts run that loop literally. For long ones zeros are skipped (scaling a zero only
/// changes the sign of a zero, which no score can see) and the positions of the other values
/// are kept per value (bit pattern; equal non-zero doubles have equal bits) in ordered sets,
/// so the pass is `O(n log n)` instead of Python's `O(n²)`.
fn but_check(toks: &[Tok<'_>], sentiments: &mut [f64]) {
    let Some(bi) = toks.iter().position(|t| t.lower == "but") else {
        return;
    };
    if sentiments.len() <= 64 {
        // Python's loop, literally: the first position holding an equal value is scaled.
        for k in 0..sentiments.len() {
            let val = sentiments[k];
            let si = sentiments[..k].iter().position(|&x| x == val).unwrap_or(k);
            if si < bi {
                sentiments[si] = val * 0.5;
            } else if si > bi {
                sentiments[si] = val * 1.5;
            }
        }
        return;
    }
    // Value bits -> positions < k holding that value.
    let mut at: HashMap<u64, BTreeSet<usize>> = HashMap::new();
    for k in 0..sentiments.len() {
        let val = sentiments[k];
        if val == 0.0 {
            continue;
        }
        let key = val.to_bits();
        let si = at.get(&key).and_then(|s| s.first().copied()).unwrap_or(k);
        let new = if si < bi {
            val * 0.5
        } else if si > bi {
            val * 1.5
        } else {
            val
        };
        if si != k {
            if let Some(s) = at.get_mut(&key) {
                s.remove(&si);
            }
            // Position k keeps its value and becomes a candidate for later look-ups.
            at.entry(key).or_default().insert(k);
        }
        sentiments[si] = new;
        if new != 0.0 {
            at.entry(new.to_bits()).or_default().insert(si);
        }
    }
}

/// `_amplify_ep` + `_amplify_qm`.
fn punctuation_emphasis(text: &str) -> f64 {
    let ep_count = text.bytes().filter(|&b| b == b'!').count().min(4);
    let ep_amplifier = ep_count as f64 * 0.292;
    let qm_count = text.bytes().filter(|&b| b == b'?').count();
    let qm_amplifier = if qm_count > 1 {
        if qm_count <= 3 {
            qm_count as f64 * 0.18
        } else {
            0.96
        }
    } else {
        0.0
    };
    ep_amplifier + qm_amplifier
}

/// `normalize(score, alpha=15)`.
fn normalize(score: f64) -> f64 {
    let norm_score = score / (score * score + ALPHA).sqrt();
    norm_score.clamp(-1.0, 1.0)
}

/// `score_valence` without the final rounding.
fn score_valence(sentiments: &[f64], text: &str) -> PolarityScores {
    if sentiments.is_empty() {
        return PolarityScores {
            neg: 0.0,
            neu: 0.0,
            pos: 0.0,
            compound: 0.0,
        };
    }
    // Python's sum() starts from the integer 0, i.e. +0.0, and adds left to right.
    let mut sum_s = sentiments.iter().fold(0.0, |a, &s| a + s);
    let punct_emph_amplifier = punctuation_emphasis(text);
    if sum_s > 0.0 {
        sum_s += punct_emph_amplifier;
    } else if sum_s < 0.0 {
        sum_s -= punct_emph_amplifier;
    }
    let compound = normalize(sum_s);

    // _sift_sentiment_scores
    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0f64, 0.0f64, 0usize);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += punct_emph_amplifier;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= punct_emph_amplifier;
    }
    let total = pos_sum + neg_sum.abs() + neu_count as f64;
    PolarityScores {
        neg: (neg_sum / total).abs(),
        neu: (neu_count as f64 / total).abs(),
        pos: (pos_sum / total).abs(),
        compound,
    }
}
