//! Tokenizers: GPT-2-style byte-level BPE ([`BpeTokenizer`], e.g. SmolLM2's vocabulary read
//! from its GGUF) and a plain byte tokenizer ([`ByteTokenizer`]) for models trained from scratch.
//!
//! Byte-level BPE: every UTF-8 byte of the text is a base token (the vocabulary spells bytes
//! with GPT-2's `bytes_to_unicode` characters, e.g. space = `Ġ`); the text is first split into
//! pre-tokens (SmolLM2: every digit on its own, then the GPT-2 regex
//! `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`), and inside
//! each pre-token adjacent tokens are merged by merge rank (lowest rank first, leftmost first
//! among equal ranks), exactly as Hugging Face `tokenizers` does without dropout.
//!
//! [`Tokenizer::encode`] treats the text literally (a `<|im_end|>` in user text is ordinary
//! characters); [`Tokenizer::encode_with_specials`] recognises special tokens.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, OnceLock};

use regex::Regex;

use crate::gguf::{Gguf, GgufError};

/// The SmolLM2 default system prompt used by [`BpeTokenizer::chatml`] when none is given.
pub const SMOLLM_DEFAULT_SYSTEM: &str =
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

/// GGUF token type: normal token.
pub const TOKEN_TYPE_NORMAL: i32 = 1;
/// GGUF token type: control (special) token, e.g. `<|im_start|>`.
pub const TOKEN_TYPE_CONTROL: i32 = 3;
/// GGUF token type: user-defined (added) token, matched like a special but not dropped on decode.
pub const TOKEN_TYPE_USER_DEFINED: i32 = 4;

/// The GPT-2 pre-tokenizer regex as written by GPT-2 / Hugging Face (needs a backtracking
/// engine such as `fancy-regex`). [`BpeTokenizer`] implements it by hand; this constant is the
/// reference for tests.
pub const GPT2_PATTERN: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// Small fast non-cryptographic hasher (the Fx hash of rustc) for the merge table and word
/// cache; keys are not attacker-controlled in a way that matters here.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Marks a byte without a base token in `BpeTokenizer::byte_ids`.
const NO_TOKEN: u32 = u32::MAX;

/// Words longer than this (in bytes) are not cached.
const CACHE_MAX_WORD: usize = 64;
/// The cache is cleared when it reaches this many words.
const CACHE_MAX_ENTRIES: usize = 1 << 17;

/// Errors of building a tokenizer or using its special tokens.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// Reading the GGUF metadata failed.
    #[error(transparent)]
    Gguf(#[from] GgufError),
    /// The vocabulary / merges / specials are inconsistent.
    #[error("invalid tokenizer: {0}")]
    Invalid(String),
    /// The tokenizer kind or pre-tokenizer is not implemented.
    #[error("unsupported tokenizer: {0}")]
    Unsupported(String),
    /// A special token needed by the operation is not in the vocabulary.
    #[error(
        "special token `{0}` is not in the vocabulary (this model does not use that chat template)"
    )]
    MissingSpecial(String),
    /// The text contains a byte that has no token in this vocabulary.
    #[error(
        "byte 0x{byte:02X} at byte offset {offset} (in character {ch:?}) has no token in this vocabulary; \
         remove or replace that character (plain `encode` drops it)"
    )]
    UnencodableByte {
        /// The byte.
        byte: u8,
        /// Its byte offset in the text.
        offset: usize,
        /// The character containing it.
        ch: char,
    },
    /// An id is outside the vocabulary.
    #[error("token id {id} at position {pos} is out of range (vocabulary size {vocab_size})")]
    IdOutOfRange {
        /// The id.
        id: u32,
        /// Its index in the id sequence.
        pos: usize,
        /// The vocabulary size.
        vocab_size: usize,
    },
}

/// What a language model needs from a tokenizer.
pub trait Tokenizer: Send + Sync {
    /// Encodes text literally: special-token strings in the text are ordinary characters.
    fn encode(&self, text: &str) -> Vec<u32>;

    /// Encodes text, turning occurrences of special-token strings (e.g. `<|im_start|>`) into their ids.
    fn encode_with_specials(&self, text: &str) -> Vec<u32>;

    /// The bytes a token stands for (a special token's bytes are its text), `None` if out of range.
    fn token_bytes(&self, id: u32) -> Option<&[u8]>;

    /// Number of token ids (valid ids are `0..vocab_size`).
    fn vocab_size(&self) -> usize;

    /// End-of-sequence id (generation stops on it).
    fn eos_id(&self) -> u32;

    /// Beginning-of-sequence id, if the tokenizer has one.
    fn bos_id(&self) -> Option<u32>;

    /// Whether the id is a special (control) token, dropped by [`Tokenizer::decode_skip_special`].
    fn is_special(&self, id: u32) -> bool;

    /// Ids that end generation: the EOS id plus e.g. `<|im_end|>` for chat models.
    fn stop_ids(&self) -> Vec<u32> {
        vec![self.eos_id()]
    }

    /// Concatenated bytes of the tokens; an out-of-range id contributes U+FFFD (use
    /// [`Tokenizer::validate_ids`] first to reject such ids).
    fn decode_bytes(&self, ids: &[u32]) -> Vec<u8> {
        let mut out = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            out.extend_from_slice(self.token_bytes(id).unwrap_or("\u{FFFD}".as_bytes()));
        }
        out
    }

    /// Decodes to a string; invalid UTF-8 (e.g. a sequence cut in the middle of a character)
    /// becomes U+FFFD. Special tokens are rendered as their text.
    fn decode(&self, ids: &[u32]) -> String {
        String::from_utf8_lossy(&self.decode_bytes(ids)).into_owned()
    }

    /// Decodes, dropping special tokens.
    fn decode_skip_special(&self, ids: &[u32]) -> String {
        let kept: Vec<u32> = ids
            .iter()
            .copied()
            .filter(|&id| !self.is_special(id))
            .collect();
        self.decode(&kept)
    }

    /// Errors on the first id outside the vocabulary.
    fn validate_ids(&self, ids: &[u32]) -> Result<(), TokenizerError> {
        let vocab_size = self.vocab_size();
        match ids.iter().position(|&id| id as usize >= vocab_size) {
            Some(pos) => Err(TokenizerError::IdOutOfRange {
                id: ids[pos],
                pos,
                vocab_size,
            }),
            None => Ok(()),
        }
    }
}

/// GPT-2's `bytes_to_unicode`: the printable character each byte is spelled with in a
/// byte-level vocabulary (printable Latin-1 bytes map to themselves, the rest to U+0100 + n).
pub fn bytes_to_unicode() -> [char; 256] {
    let mut map = ['\0'; 256];
    let mut n = 0u32;
    for b in 0..256u32 {
        let printable =
            (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
        let c = if printable {
            b
        } else {
            n += 1;
            255 + n
        };
        map[b as usize] = char::from_u32(c).expect("codepoints below 0x144 are valid chars");
    }
    map
}

/// Inverse of [`bytes_to_unicode`]: the byte for a vocabulary character, if it is one.
fn unicode_to_byte_table() -> Vec<Option<u8>> {
    let mut table = vec![None; 0x144];
    for (b, c) in bytes_to_unicode().iter().enumerate() {
        table[*c as usize] = Some(b as u8);
    }
    table
}

/// Character classes of the GPT-2 regex: `\p{L}`, `\p{N}`, `\s`, and everything else.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum CharClass {
    Letter,
    Number,
    Space,
    Other,
}

/// `\p{L}` membership of the Basic Multilingual Plane as a bitset (built once from the
/// `regex` crate's Unicode tables, so it agrees with `\p{L}` there).
fn bmp_letters() -> &'static [u64] {
    static TABLE: OnceLock<Vec<u64>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let all: String = (0x80u32..0x10000).filter_map(char::from_u32).collect();
        let re = Regex::new(r"\p{L}").expect("valid regex");
        let mut bits = vec![0u64; 0x10000 / 64];
        for m in re.find_iter(&all) {
            for c in m.as_str().chars() {
                bits[c as usize / 64] |= 1 << (c as usize % 64);
            }
        }
        bits
    })
}

fn is_letter(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        c.is_ascii_alphabetic()
    } else if u < 0x10000 {
        bmp_letters()[u as usize / 64] >> (u % 64) & 1 == 1
    } else {
        static ASTRAL: OnceLock<Regex> = OnceLock::new();
        ASTRAL
            .get_or_init(|| Regex::new(r"^\p{L}$").expect("valid regex"))
            .is_match(c.encode_utf8(&mut [0; 4]))
    }
}

/// Class of a character; `char::is_whitespace` is Unicode `White_Space` (= regex `\s`) and
/// `char::is_numeric` is categories Nd/Nl/No (= `\p{N}`).
#[inline]
fn char_class(c: char) -> CharClass {
    if c.is_ascii() {
        if c.is_ascii_alphabetic() {
            CharClass::Letter
        } else if c.is_ascii_digit() {
            CharClass::Number
        } else if c.is_whitespace() {
            CharClass::Space
        } else {
            CharClass::Other
        }
    } else if c.is_whitespace() {
        CharClass::Space
    } else if c.is_numeric() {
        CharClass::Number
    } else if is_letter(c) {
        CharClass::Letter
    } else {
        CharClass::Other
    }
}

/// Which pre-tokenizer splits text before BPE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreTokenizer {
    /// GPT-2 regex only (GGUF `tokenizer.ggml.pre` = `gpt2`).
    Gpt2,
    /// Every digit on its own, then the GPT-2 regex (GGUF `tokenizer.ggml.pre` = `smollm`).
    SmolLm,
}

/// Special-token settings for [`BpeTokenizer::from_parts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Specials {
    /// Ids of control tokens: matched by `encode_with_specials`, dropped by `decode_skip_special`.
    pub control: Vec<u32>,
    /// Beginning-of-sequence id.
    pub bos: Option<u32>,
    /// End-of-sequence id.
    pub eos: u32,
}

/// GPT-2-style byte-level BPE tokenizer.
pub struct BpeTokenizer {
    tokens: Vec<String>,
    token_to_id: HashMap<String, u32>,
    /// Decoded bytes of each token.
    bytes: Vec<Vec<u8>>,
    /// Base token id of each byte ([`NO_TOKEN`] where the vocabulary has none).
    byte_ids: [u32; 256],
    /// (left id, right id) → (rank, merged id).
    merges: FxMap<(u32, u32), (u32, u32)>,
    special: Vec<bool>,
    /// Special strings matched by `encode_with_specials`, as one leftmost-longest alternation.
    special_re: Option<Regex>,
    bos: Option<u32>,
    eos: u32,
    stop: Vec<u32>,
    pre: PreTokenizer,
    cache: Mutex<FxMap<String, Vec<u32>>>,
}

impl std::fmt::Debug for BpeTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BpeTokenizer")
            .field("vocab_size", &self.tokens.len())
            .field("merges", &self.merges.len())
            .field("pre", &self.pre)
            .field("bos", &self.bos)
            .field("eos", &self.eos)
            .finish()
    }
}

impl BpeTokenizer {
    /// Builds the tokenizer from a GGUF's `tokenizer.ggml.*` metadata (model `gpt2`,
    /// pre-tokenizer `smollm` or `gpt2`).
    pub fn from_gguf(g: &Gguf) -> Result<BpeTokenizer, TokenizerError> {
        let model = g.meta_str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(TokenizerError::Unsupported(format!(
                "tokenizer.ggml.model is `{model}`; only byte-level BPE (`gpt2`) is implemented"
            )));
        }
        let pre = match g.meta("tokenizer.ggml.pre").and_then(|v| v.as_str()) {
            Some("smollm") => PreTokenizer::SmolLm,
            Some("gpt2") | Some("default") | None => PreTokenizer::Gpt2,
            Some(other) => {
                return Err(TokenizerError::Unsupported(format!(
                    "tokenizer.ggml.pre is `{other}`; supported pre-tokenizers: smollm, gpt2"
                )));
            }
        };
        let tokens: Vec<String> = g
            .meta_str_array("tokenizer.ggml.tokens")?
            .into_iter()
            .map(str::to_string)
            .collect();
        let merges = g.meta_str_array("tokenizer.ggml.merges")?;
        let types = if g.meta("tokenizer.ggml.token_type").is_some() {
            g.meta_i32_array("tokenizer.ggml.token_type")?
        } else {
            vec![TOKEN_TYPE_NORMAL; tokens.len()]
        };
        if types.len() != tokens.len() {
            return Err(TokenizerError::Invalid(format!(
                "tokenizer.ggml.token_type has {} entries but tokenizer.ggml.tokens has {}",
                types.len(),
                tokens.len()
            )));
        }
        let control: Vec<u32> = (0..tokens.len() as u32)
            .filter(|&i| types[i as usize] == TOKEN_TYPE_CONTROL)
            .collect();
        let user_defined: Vec<u32> = (0..tokens.len() as u32)
            .filter(|&i| types[i as usize] == TOKEN_TYPE_USER_DEFINED)
            .collect();
        let opt_id = |key: &str| -> Result<Option<u32>, TokenizerError> {
            match g.meta(key) {
                None => Ok(None),
                Some(_) => Ok(Some(g.meta_u32(key)?)),
            }
        };
        let eos = g.meta_u32("tokenizer.ggml.eos_token_id")?;
        let bos = opt_id("tokenizer.ggml.bos_token_id")?;
        if let Some(vs) = opt_id("llama.vocab_size")?
            && vs as usize != tokens.len()
        {
            return Err(TokenizerError::Invalid(format!(
                "llama.vocab_size is {vs} but tokenizer.ggml.tokens has {} entries",
                tokens.len()
            )));
        }
        Self::build(tokens, &merges, control, user_defined, bos, eos, pre)
    }

    /// Builds the tokenizer from its parts: the vocabulary (byte-level spelled strings, which
    /// must include all 256 single-byte tokens), merges in rank order as `"left right"`, and the
    /// special tokens. Uses the [`PreTokenizer::SmolLm`] pre-tokenizer (see [`BpeTokenizer::with_pre_tokenizer`]).
    pub fn from_parts<S: AsRef<str>>(
        tokens: Vec<String>,
        merges: &[S],
        specials: Specials,
    ) -> Result<BpeTokenizer, TokenizerError> {
        let merges: Vec<&str> = merges.iter().map(AsRef::as_ref).collect();
        Self::build(
            tokens,
            &merges,
            specials.control,
            Vec::new(),
            specials.bos,
            specials.eos,
            PreTokenizer::SmolLm,
        )
    }

    /// Replaces the pre-tokenizer.
    pub fn with_pre_tokenizer(mut self, pre: PreTokenizer) -> BpeTokenizer {
        self.pre = pre;
        self.cache
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self
    }

    fn build(
        tokens: Vec<String>,
        merges: &[&str],
        control: Vec<u32>,
        user_defined: Vec<u32>,
        bos: Option<u32>,
        eos: u32,
        pre: PreTokenizer,
    ) -> Result<BpeTokenizer, TokenizerError> {
        let n = tokens.len();
        if n > u32::MAX as usize {
            return Err(TokenizerError::Invalid(format!(
                "{n} tokens do not fit u32 ids"
            )));
        }
        let check = |what: &str, id: u32| {
            if (id as usize) < n {
                Ok(())
            } else {
                Err(TokenizerError::Invalid(format!(
                    "{what} id {id} is outside the vocabulary of {n} tokens"
                )))
            }
        };
        check("eos", eos)?;
        if let Some(b) = bos {
            check("bos", b)?;
        }
        let mut special = vec![false; n];
        for &id in &control {
            check("special token", id)?;
            special[id as usize] = true;
        }
        for &id in &user_defined {
            check("user-defined token", id)?;
        }

        let mut token_to_id = HashMap::with_capacity(n);
        for (i, t) in tokens.iter().enumerate() {
            // On duplicates the first id wins (as in llama.cpp).
            token_to_id.entry(t.clone()).or_insert(i as u32);
        }

        let u2b = unicode_to_byte_table();
        let mut literal_tok = special.clone();
        for &id in &user_defined {
            literal_tok[id as usize] = true;
        }
        let bytes: Vec<Vec<u8>> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if literal_tok[i] {
                    return t.as_bytes().to_vec();
                }
                let mut out = Vec::with_capacity(t.len());
                for c in t.chars() {
                    match u2b.get(c as usize).copied().flatten() {
                        Some(b) => out.push(b),
                        // Not a byte-level character: keep its UTF-8 (such tokens cannot be produced by BPE).
                        None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                    }
                }
                out
            })
            .collect();

        let b2u = bytes_to_unicode();
        let mut byte_ids = [NO_TOKEN; 256];
        for b in 0..256 {
            if let Some(&id) = token_to_id.get(b2u[b].encode_utf8(&mut [0; 4]) as &str) {
                byte_ids[b] = id;
            }
        }
        let n_bytes = byte_ids.iter().filter(|&&i| i != NO_TOKEN).count();
        // SmolLM2 lacks 21 byte tokens (rare control characters and bytes that never occur in
        // UTF-8); a vocabulary without most of them is not byte-level.
        if n_bytes < 128 {
            return Err(TokenizerError::Invalid(format!(
                "only {n_bytes} of the 256 byte tokens (GPT-2 `bytes_to_unicode` spelling, e.g. \"Ġ\" for space) \
                 are in the vocabulary: this is not a byte-level BPE vocabulary"
            )));
        }

        let mut merge_map = FxMap::with_capacity_and_hasher(merges.len(), Default::default());
        for (rank, m) in merges.iter().enumerate() {
            let mut parts = m.split(' ');
            let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(TokenizerError::Invalid(format!(
                    "merge {rank} is {m:?}; expected two tokens separated by one space"
                )));
            };
            let id = |t: &str| {
                token_to_id.get(t).copied().ok_or_else(|| {
                    TokenizerError::Invalid(format!(
                        "merge {rank} ({m:?}) uses {t:?}, which is not in the vocabulary"
                    ))
                })
            };
            let (ia, ib) = (id(a)?, id(b)?);
            let merged = id(&format!("{a}{b}"))?;
            // A repeated merge keeps its first (best) rank.
            merge_map.entry((ia, ib)).or_insert((rank as u32, merged));
        }

        let mut literal: Vec<(String, u32)> = control
            .iter()
            .chain(user_defined.iter())
            .map(|&id| (tokens[id as usize].clone(), id))
            .filter(|(s, _)| !s.is_empty())
            .collect();
        literal.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        literal.dedup_by(|a, b| a.0 == b.0);
        let special_re = if literal.is_empty() {
            None
        } else {
            let alt = literal
                .iter()
                .map(|(s, _)| regex::escape(s))
                .collect::<Vec<_>>()
                .join("|");
            Some(
                Regex::new(&alt)
                    .map_err(|e| TokenizerError::Invalid(format!("special tokens regex: {e}")))?,
            )
        };

        let mut stop = vec![eos];
        if let Some(&im_end) = token_to_id.get("<|im_end|>")
            && im_end != eos
        {
            stop.push(im_end);
        }

        Ok(BpeTokenizer {
            tokens,
            token_to_id,
            bytes,
            byte_ids,
            merges: merge_map,
            special,
            special_re,
            bos,
            eos,
            stop,
            pre,
            cache: Mutex::new(FxMap::default()),
        })
    }

    /// The id of a vocabulary string (byte-level spelled, e.g. `"Ġthe"`, or a special like `"<|im_end|>"`).
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.token_to_id.get(token).copied()
    }

    /// The vocabulary string of an id.
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// Bytes that have no base token; [`Tokenizer::encode`] drops them (as Hugging Face
    /// `tokenizers` and llama.cpp do), [`BpeTokenizer::encode_checked`] rejects them.
    /// SmolLM2: 0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2, 0xF5–0xFF.
    pub fn missing_bytes(&self) -> Vec<u8> {
        (0..=255u8)
            .filter(|&b| self.byte_ids[b as usize] == NO_TOKEN)
            .collect()
    }

    /// Like [`Tokenizer::encode`], but errors instead of dropping a byte that has no token.
    pub fn encode_checked(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        if let Some(offset) = text
            .bytes()
            .position(|b| self.byte_ids[b as usize] == NO_TOKEN)
        {
            let ch = text
                .char_indices()
                .take_while(|&(i, _)| i <= offset)
                .last()
                .map_or('\u{FFFD}', |(_, c)| c);
            return Err(TokenizerError::UnencodableByte {
                byte: text.as_bytes()[offset],
                offset,
                ch,
            });
        }
        Ok(self.encode(text))
    }

    /// Number of merges.
    pub fn n_merges(&self) -> usize {
        self.merges.len()
    }

    /// The pre-tokenizer in use.
    pub fn pre_tokenizer(&self) -> PreTokenizer {
        self.pre
    }

    /// Splits text into pre-tokens (the pieces BPE runs on), in order; their concatenation is the text.
    pub fn pre_tokenize<'t>(&self, text: &'t str) -> Vec<&'t str> {
        let mut out = Vec::new();
        self.for_each_pre_token(text, |p| out.push(p));
        out
    }

    fn for_each_pre_token<'t>(&self, text: &'t str, mut f: impl FnMut(&'t str)) {
        match self.pre {
            PreTokenizer::Gpt2 => self.regex_split(text, &mut f),
            PreTokenizer::SmolLm => {
                let mut start = 0;
                for (i, c) in text.char_indices() {
                    if c.is_numeric() {
                        if start < i {
                            self.regex_split(&text[start..i], &mut f);
                        }
                        let end = i + c.len_utf8();
                        f(&text[i..end]);
                        start = end;
                    }
                }
                if start < text.len() {
                    self.regex_split(&text[start..], &mut f);
                }
            }
        }
    }

    /// The GPT-2 regex split, hand-written (identical results to [`GPT2_PATTERN`] run by a
    /// backtracking engine, checked by property tests against `fancy-regex`): at each position,
    /// the first matching alternative of `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
    /// ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` is taken.
    fn regex_split<'t>(&self, text: &'t str, f: &mut impl FnMut(&'t str)) {
        let b = text.as_bytes();
        let len = text.len();
        let char_at = |i: usize| text[i..].chars().next();
        // End of the run of characters of class `cls` starting at `i`.
        let run = |mut i: usize, cls: CharClass| {
            while let Some(c) = char_at(i) {
                if char_class(c) != cls {
                    break;
                }
                i += c.len_utf8();
            }
            i
        };
        let mut i = 0;
        while let Some(c) = char_at(i) {
            // 's 't 're 've 'm 'll 'd
            if c == '\'' {
                let rest = &b[i + 1..];
                let n = if rest.starts_with(b"re")
                    || rest.starts_with(b"ve")
                    || rest.starts_with(b"ll")
                {
                    3
                } else if matches!(rest.first(), Some(b's' | b't' | b'm' | b'd')) {
                    2
                } else {
                    0
                };
                if n > 0 {
                    f(&text[i..i + n]);
                    i += n;
                    continue;
                }
            }
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
            let (j, first) = if c == ' ' {
                (i + 1, char_at(i + 1))
            } else {
                (i, Some(c))
            };
            if let Some(first) = first {
                let cls = char_class(first);
                if cls != CharClass::Space {
                    let e = run(j, cls);
                    f(&text[i..e]);
                    i = e;
                    continue;
                }
            }
            // `\s+(?!\S)|\s+`: a maximal whitespace run; if a non-space follows and the run has
            // two or more characters, its last character is left for the next piece.
            let mut e = run(i, CharClass::Space);
            if e < len {
                let last = text[i..e].char_indices().next_back().map_or(0, |(k, _)| k);
                if last > 0 {
                    e = i + last;
                }
            }
            f(&text[i..e]);
            i = e;
        }
    }

    /// BPE of one pre-token. Bytes without a base token are skipped.
    fn bpe(&self, word: &[u8], out: &mut Vec<u32>) {
        if word.len() == 1 {
            let id = self.byte_ids[word[0] as usize];
            if id != NO_TOKEN {
                out.push(id);
            }
            return;
        }
        let base: Vec<u32> = word
            .iter()
            .map(|&b| self.byte_ids[b as usize])
            .filter(|&id| id != NO_TOKEN)
            .collect();
        if base.len() <= 1 {
            out.extend_from_slice(&base);
            return;
        }
        #[derive(Clone, Copy)]
        struct Sym {
            id: u32,
            prev: usize,
            next: usize,
            alive: bool,
        }
        const NONE: usize = usize::MAX;
        let n = base.len();
        let mut syms: Vec<Sym> = base
            .iter()
            .enumerate()
            .map(|(i, &id)| Sym {
                id,
                prev: if i == 0 { NONE } else { i - 1 },
                next: if i + 1 == n { NONE } else { i + 1 },
                alive: true,
            })
            .collect();
        // (rank, left position, left id, right id); stale entries are skipped on pop.
        let mut heap: BinaryHeap<Reverse<(u32, usize, u32, u32)>> = BinaryHeap::new();
        let push = |heap: &mut BinaryHeap<_>, syms: &[Sym], i: usize| {
            let j = syms[i].next;
            if j != NONE
                && let Some(&(rank, _)) = self.merges.get(&(syms[i].id, syms[j].id))
            {
                heap.push(Reverse((rank, i, syms[i].id, syms[j].id)));
            }
        };
        for i in 0..n - 1 {
            push(&mut heap, &syms, i);
        }
        while let Some(Reverse((_, i, a, b))) = heap.pop() {
            let j = syms[i].next;
            if !syms[i].alive || j == NONE || syms[i].id != a || syms[j].id != b {
                continue;
            }
            let (_, merged) = self.merges[&(a, b)];
            syms[i].id = merged;
            syms[j].alive = false;
            let k = syms[j].next;
            syms[i].next = k;
            if k != NONE {
                syms[k].prev = i;
            }
            if syms[i].prev != NONE {
                push(&mut heap, &syms, syms[i].prev);
            }
            push(&mut heap, &syms, i);
        }
        let mut i = 0;
        while i != NONE {
            out.push(syms[i].id);
            i = syms[i].next;
        }
    }

    fn encode_literal_into(&self, text: &str, out: &mut Vec<u32>) {
        // If another thread holds the cache, encode without it rather than wait.
        let mut cache = self.cache.try_lock().ok();
        self.for_each_pre_token(text, |piece| {
            if let Some(c) = cache.as_mut() {
                if let Some(ids) = c.get(piece) {
                    out.extend_from_slice(ids);
                    return;
                }
                let start = out.len();
                self.bpe(piece.as_bytes(), out);
                if piece.len() <= CACHE_MAX_WORD {
                    if c.len() >= CACHE_MAX_ENTRIES {
                        c.clear();
                    }
                    c.insert(piece.to_string(), out[start..].to_vec());
                }
            } else {
                self.bpe(piece.as_bytes(), out);
            }
        });
    }

    fn special_id(&self, s: &str) -> Result<u32, TokenizerError> {
        self.token_id(s)
            .ok_or_else(|| TokenizerError::MissingSpecial(s.to_string()))
    }

    /// The ChatML prompt for one user message, ending with the assistant header:
    /// `<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n`,
    /// with the specials as ids and the texts encoded literally. `system` defaults to
    /// [`SMOLLM_DEFAULT_SYSTEM`]. Errors if the vocabulary lacks `<|im_start|>` / `<|im_end|>`.
    pub fn chatml(&self, system: Option<&str>, user: &str) -> Result<Vec<u32>, TokenizerError> {
        let start = self.special_id("<|im_start|>")?;
        let end = self.special_id("<|im_end|>")?;
        let system = system.unwrap_or(SMOLLM_DEFAULT_SYSTEM);
        let mut out = Vec::new();
        out.push(start);
        self.encode_literal_into(&format!("system\n{system}"), &mut out);
        out.push(end);
        self.encode_literal_into("\n", &mut out);
        out.push(start);
        self.encode_literal_into(&format!("user\n{user}"), &mut out);
        out.push(end);
        self.encode_literal_into("\n", &mut out);
        out.push(start);
        self.encode_literal_into("assistant\n", &mut out);
        Ok(out)
    }
}

impl Tokenizer for BpeTokenizer {
    fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        self.encode_literal_into(text, &mut out);
        out
    }

    fn encode_with_specials(&self, text: &str) -> Vec<u32> {
        let Some(re) = &self.special_re else {
            return self.encode(text);
        };
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        let mut pos = 0;
        for m in re.find_iter(text) {
            self.encode_literal_into(&text[pos..m.start()], &mut out);
            out.push(self.token_to_id[m.as_str()]);
            pos = m.end();
        }
        self.encode_literal_into(&text[pos..], &mut out);
        out
    }

    fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        self.bytes.get(id as usize).map(Vec::as_slice)
    }

    fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    fn eos_id(&self) -> u32 {
        self.eos
    }

    fn bos_id(&self) -> Option<u32> {
        self.bos
    }

    fn is_special(&self, id: u32) -> bool {
        self.special.get(id as usize).copied().unwrap_or(false)
    }

    fn stop_ids(&self) -> Vec<u32> {
        self.stop.clone()
    }
}

/// Byte tokenizer: ids 0..=255 are the bytes, 256 is `<|endoftext|>` (BOS and EOS); vocabulary 257.
#[derive(Clone, Debug, Default)]
pub struct ByteTokenizer;

impl ByteTokenizer {
    /// Id of `<|endoftext|>`.
    pub const EOT: u32 = 256;
    /// Text of the end-of-text special.
    pub const EOT_TEXT: &'static str = "<|endoftext|>";
    /// Vocabulary size.
    pub const VOCAB: usize = 257;

    /// The byte tokenizer.
    pub fn new() -> ByteTokenizer {
        ByteTokenizer
    }

    /// Encodes arbitrary bytes (not necessarily UTF-8).
    pub fn encode_bytes(&self, bytes: &[u8]) -> Vec<u32> {
        bytes.iter().map(|&b| u32::from(b)).collect()
    }
}

const BYTE_TABLE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as u8;
        i += 1;
    }
    t
};

impl Tokenizer for ByteTokenizer {
    fn encode(&self, text: &str) -> Vec<u32> {
        self.encode_bytes(text.as_bytes())
    }

    fn encode_with_specials(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find(Self::EOT_TEXT) {
            out.extend(rest[..i].bytes().map(u32::from));
            out.push(Self::EOT);
            rest = &rest[i + Self::EOT_TEXT.len()..];
        }
        out.extend(rest.bytes().map(u32::from));
        out
    }

    fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        match id {
            0..=255 => Some(&BYTE_TABLE[id as usize..id as usize + 1]),
            Self::EOT => Some(Self::EOT_TEXT.as_bytes()),
            _ => None,
        }
    }

    fn vocab_size(&self) -> usize {
        Self::VOCAB
    }

    fn eos_id(&self) -> u32 {
        Self::EOT
    }

    fn bos_id(&self) -> Option<u32> {
        Some(Self::EOT)
    }

    fn is_special(&self, id: u32) -> bool {
        id == Self::EOT
    }
}
