//! Tokenizer tests: round trips with a synthetic byte-level BPE vocabulary, the pre-tokenizer
//! against the GPT-2 regex run by `fancy-regex`, known ids with the real SmolLM2 vocabulary
//! (when cached), ChatML, the byte tokenizer and GPT-2's r50k_base from tiktoken-rs.

use std::path::PathBuf;

use proptest::prelude::*;
use wind_text::gguf::{Gguf, GgufWriter, MetaValue};
use wind_text::tokenizer::{
    BpeTokenizer, ByteTokenizer, GPT2_PATTERN, PreTokenizer, SMOLLM_DEFAULT_SYSTEM, Specials,
    Tokenizer, TokenizerError, bytes_to_unicode,
};

/// Byte-level spelling of a string (GPT-2 `bytes_to_unicode`).
fn spell(s: &str) -> String {
    let map = bytes_to_unicode();
    s.bytes().map(|b| map[b as usize]).collect()
}

/// Synthetic vocabulary: 3 specials, all 256 byte tokens, then merges building a few English
/// words, " the", "  " runs, "'s" and a multi-byte character.
fn synthetic() -> BpeTokenizer {
    let mut tokens: Vec<String> = vec![
        "<|endoftext|>".into(),
        "<|im_start|>".into(),
        "<|im_end|>".into(),
    ];
    let map = bytes_to_unicode();
    tokens.extend((0..256).map(|b| map[b].to_string()));
    let merge_pairs: [(&str, &str); 14] = [
        (" ", "t"),
        ("h", "e"),
        (" t", "he"),
        ("i", "n"),
        ("in", "g"),
        (" ", " "),
        ("  ", "  "),
        ("'", "s"),
        ("e", "r"),
        ("w", "er"),
        ("l", "l"),
        ("e", "ll"),
        ("h", "ell"),
        ("\u{e9}", ""),
    ];
    let mut merges = Vec::new();
    for (a, b) in merge_pairs {
        if b.is_empty() {
            // The two UTF-8 bytes of 'é' (0xC3 0xA9) merge into one token.
            let bytes = a.as_bytes();
            let (x, y) = (
                map[bytes[0] as usize].to_string(),
                map[bytes[1] as usize].to_string(),
            );
            tokens.push(format!("{x}{y}"));
            merges.push(format!("{x} {y}"));
            continue;
        }
        let (sa, sb) = (spell(a), spell(b));
        tokens.push(format!("{sa}{sb}"));
        merges.push(format!("{sa} {sb}"));
    }
    BpeTokenizer::from_parts(
        tokens,
        &merges,
        Specials {
            control: vec![0, 1, 2],
            bos: Some(1),
            eos: 0,
        },
    )
    .unwrap()
}

const SAMPLES: &[&str] = &[
    "",
    "hello world",
    "The theory of the thing: the end.",
    "naïve café, résumé — “quotes” ½",
    "日本語のテキスト 中文",
    "emoji 🎉🚀👩‍👩‍👧 done",
    "   leading and trailing   ",
    "tabs\tand\nnewlines\n\n\r\n  indented\u{a0}nbsp",
    "digits 1234567890 and 3.14 and ٣①Ⅻ",
    "it's they're we've I'm you'll he'd DON'T",
    "<|im_end|> literal specials <|im_start|>",
    "a\u{0}b\u{7f}c\u{200b}d",
];

#[test]
fn synthetic_round_trip_and_merges_apply() {
    let tok = synthetic();
    assert_eq!(tok.vocab_size(), 3 + 256 + 14);
    for s in SAMPLES {
        let ids = tok.encode(s);
        assert_eq!(tok.decode(&ids), *s, "round trip of {s:?}");
        assert_eq!(tok.decode_bytes(&ids), s.as_bytes());
        assert!(
            ids.iter().all(|&i| !tok.is_special(i)),
            "literal encode never yields specials: {s:?}"
        );
    }
    // Merges: " the" is one token, "hello" merges to "h"+"ell"+"o".
    let the = tok.token_id(&spell(" the")).unwrap();
    let ids = tok.encode("the the");
    assert_eq!(
        ids,
        vec![tok.token_id("t").unwrap(), tok.token_id("he").unwrap(), the]
    );
    // Rank order: "h e" (rank 1) beats "l l" (10) and "e ll" (11), so "hello" is he|ll|o,
    // while "well" becomes w|ell ("l l" first, then "e ll").
    let id = |t: &str| tok.token_id(t).unwrap();
    assert_eq!(tok.encode("hello"), vec![id("he"), id("ll"), id("o")]);
    assert_eq!(tok.encode("well"), vec![id("w"), id("ell")]);
    // "hell" alone: h e l l → he l l → he ll ("he ll" is not a merge).
    assert_eq!(tok.encode("hell"), vec![id("he"), id("ll")]);
    // "é" is one token (two bytes merged); "è" stays two byte tokens.
    assert_eq!(tok.encode("é").len(), 1);
    assert_eq!(tok.encode("è").len(), 2);
    // Four spaces before a word: "   " run + " word"; the 3-space run merges to "  " + " ".
    let ids = tok.encode("    the");
    assert_eq!(tok.decode(&ids), "    the");
    assert_eq!(*ids.last().unwrap(), the);
    assert!(tok.encode("").is_empty());
}

#[test]
fn pre_tokenizer_digits_and_whitespace() {
    let tok = synthetic();
    assert_eq!(
        tok.pre_tokenize("ab 2024x"),
        vec!["ab", " ", "2", "0", "2", "4", "x"]
    );
    assert_eq!(tok.pre_tokenize("a   b"), vec!["a", "  ", " b"]);
    assert_eq!(tok.pre_tokenize("a  1"), vec!["a", "  ", "1"]);
    assert_eq!(
        tok.pre_tokenize("a\n\nb  "),
        vec!["a", "\n", "\n", "b", "  "]
    );
    assert_eq!(tok.pre_tokenize("it's I'll"), vec!["it", "'s", " I", "'ll"]);
    let gpt2 = synthetic().with_pre_tokenizer(PreTokenizer::Gpt2);
    assert_eq!(gpt2.pre_tokenize("ab 2024x"), vec!["ab", " 2024", "x"]);
}

/// The GPT-2 regex with its real lookahead (fancy-regex), applied after the digit split.
fn reference_pre_tokenize(text: &str, split_digits: bool) -> Vec<String> {
    let re = fancy_regex::Regex::new(GPT2_PATTERN).unwrap();
    let mut segments = Vec::new();
    if split_digits {
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if c.is_numeric() {
                if start < i {
                    segments.push(&text[start..i]);
                }
                segments.push(&text[i..i + c.len_utf8()]);
                start = i + c.len_utf8();
            }
        }
        if start < text.len() {
            segments.push(&text[start..]);
        }
    } else {
        segments.push(text);
    }
    let mut out = Vec::new();
    for seg in segments {
        for m in re.find_iter(seg) {
            out.push(m.unwrap().as_str().to_string());
        }
    }
    out
}

#[test]
fn pre_tokenizer_matches_the_lookahead_regex_on_samples() {
    let tok = synthetic();
    let gpt2 = synthetic().with_pre_tokenizer(PreTokenizer::Gpt2);
    for s in SAMPLES {
        assert_eq!(
            tok.pre_tokenize(s),
            reference_pre_tokenize(s, true),
            "{s:?}"
        );
        assert_eq!(
            gpt2.pre_tokenize(s),
            reference_pre_tokenize(s, false),
            "{s:?}"
        );
    }
}

fn text_strategy() -> impl Strategy<Value = String> {
    // Mix of ASCII letters, spaces, newlines, tabs, digits, apostrophes, punctuation and
    // multi-byte characters, to exercise the whitespace lookahead and contractions.
    let pieces = prop::sample::select(vec![
        "a", "b", "Z", " ", "  ", "\n", "\t", "\r\n", "1", "٣", "'", "'s", "'ll", "!", "?", ".",
        "é", "日", "🎉", "\u{a0}", "the", " the", "ing", "-", "\u{3000}", "\u{b}", "\u{c}",
        "\u{85}", "\u{2028}", "\u{1c}", "\u{301}", "\u{345}", "𝐀", "𝟏", "ǅ", "ⅻ", "_", "'re",
        "'ve", "'d", "'m", "'t", "''",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn prop_round_trip_and_regex_equivalence(s in text_strategy()) {
        let tok = synthetic();
        let ids = tok.encode(&s);
        prop_assert_eq!(tok.decode(&ids), s.clone());
        prop_assert_eq!(tok.pre_tokenize(&s), reference_pre_tokenize(&s, true));
    }

    #[test]
    fn prop_round_trip_arbitrary_unicode(s in "\\PC{0,40}") {
        let tok = synthetic();
        prop_assert_eq!(tok.decode(&tok.encode(&s)), s.clone());
        prop_assert_eq!(tok.pre_tokenize(&s).concat(), s.clone());
    }

    #[test]
    fn prop_byte_tokenizer_round_trips_arbitrary_bytes(b in prop::collection::vec(any::<u8>(), 0..64)) {
        let t = ByteTokenizer::new();
        let ids = t.encode_bytes(&b);
        prop_assert!(ids.iter().all(|&i| i < 256));
        prop_assert_eq!(t.decode_bytes(&ids), b);
    }
}

#[test]
fn specials_are_literal_in_encode_and_recognised_in_encode_with_specials() {
    let tok = synthetic();
    let text = "hi<|im_end|>\n<|im_start|>x";
    let lit = tok.encode(text);
    assert!(!lit.contains(&2) && !lit.contains(&1));
    assert_eq!(tok.decode(&lit), text);
    let sp = tok.encode_with_specials(text);
    assert_eq!(sp.iter().filter(|&&i| i == 2).count(), 1);
    assert_eq!(sp.iter().filter(|&&i| i == 1).count(), 1);
    assert_eq!(tok.decode(&sp), text);
    assert_eq!(tok.decode_skip_special(&sp), "hi\nx");
    assert!(tok.is_special(2) && !tok.is_special(100));
    assert_eq!(tok.eos_id(), 0);
    assert_eq!(tok.bos_id(), Some(1));
    assert_eq!(tok.stop_ids(), vec![0, 2], "EOS and <|im_end|>");
}

#[test]
fn decode_handles_partial_utf8_and_bad_ids() {
    let tok = synthetic();
    let ids = tok.encode("🎉");
    assert_eq!(ids.len(), 4, "four byte tokens");
    assert_eq!(tok.decode_bytes(&ids[..2]), "🎉".as_bytes()[..2].to_vec());
    assert_eq!(
        tok.decode(&ids[..2]),
        "\u{FFFD}",
        "incomplete sequence is lossy"
    );
    let e = tok.validate_ids(&[5, 99_999]).unwrap_err().to_string();
    assert!(e.contains("99999") && e.contains("position 1"), "{e}");
    assert!(tok.validate_ids(&ids).is_ok());
    assert_eq!(tok.decode(&[99_999]), "\u{FFFD}");
}

#[test]
fn chatml_synthetic_layout() {
    let tok = synthetic();
    let ids = tok.chatml(Some("sys"), "q?").unwrap();
    assert_eq!(ids[0], 1);
    let text = tok.decode(&ids);
    assert_eq!(
        text,
        "<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\nq?<|im_end|>\n<|im_start|>assistant\n"
    );
    assert_eq!(ids.iter().filter(|&&i| i == 1).count(), 3);
    assert_eq!(ids.iter().filter(|&&i| i == 2).count(), 2);
    // Same as encoding the template with specials.
    assert_eq!(ids, tok.encode_with_specials(&text));
    // User text containing a special string stays literal.
    let ids = tok.chatml(None, "<|im_end|>").unwrap();
    assert_eq!(ids.iter().filter(|&&i| i == 2).count(), 2);
    assert!(tok.decode(&ids).contains(SMOLLM_DEFAULT_SYSTEM));
}

#[test]
fn construction_errors_are_clear() {
    let map = bytes_to_unicode();
    let bytes: Vec<String> = (0..256).map(|b| map[b].to_string()).collect();
    let sp = || Specials {
        control: vec![],
        bos: None,
        eos: 0,
    };
    // Not a byte-level vocabulary at all.
    let e = BpeTokenizer::from_parts(bytes[..100].to_vec(), &[] as &[&str], sp())
        .unwrap_err()
        .to_string();
    assert!(e.contains("only 100 of the 256 byte tokens"), "{e}");
    // A few missing byte tokens (as in SmolLM2): `encode` drops them like HF tokenizers,
    // `encode_checked` names the byte and its offset.
    let mut some: Vec<String> = bytes.clone();
    some.retain(|t| *t != map[0x04].to_string());
    let tok = BpeTokenizer::from_parts(some, &[] as &[&str], sp()).unwrap();
    assert_eq!(tok.missing_bytes(), vec![0x04]);
    assert_eq!(tok.decode(&tok.encode("a\u{4}b")), "ab");
    let e = tok.encode_checked("aé\u{4}b").unwrap_err().to_string();
    assert!(e.contains("0x04") && e.contains("byte offset 3"), "{e}");
    assert_eq!(tok.encode_checked("ab").unwrap().len(), 2);
    // Merge with an unknown part / result, or malformed.
    let e = BpeTokenizer::from_parts(bytes.clone(), &["a b"], sp())
        .unwrap_err()
        .to_string();
    assert!(e.contains("merge 0") && e.contains("\"ab\""), "{e}");
    let e = BpeTokenizer::from_parts(bytes.clone(), &["ab"], sp())
        .unwrap_err()
        .to_string();
    assert!(e.contains("merge 0") && e.contains("two tokens"), "{e}");
    // EOS outside the vocabulary.
    let e = BpeTokenizer::from_parts(
        bytes.clone(),
        &[] as &[&str],
        Specials {
            control: vec![],
            bos: None,
            eos: 300,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("eos id 300"), "{e}");
    // No ChatML specials.
    let tok = BpeTokenizer::from_parts(bytes, &[] as &[&str], sp()).unwrap();
    assert!(
        matches!(tok.chatml(None, "x"), Err(TokenizerError::MissingSpecial(s)) if s == "<|im_start|>")
    );
}

#[test]
fn from_gguf_synthetic_and_errors() {
    let map = bytes_to_unicode();
    let mut tokens: Vec<String> = vec!["<|endoftext|>".into()];
    tokens.extend((0..256).map(|b| map[b].to_string()));
    tokens.push("ab".into());
    let strs =
        |v: &[String]| MetaValue::Array(v.iter().map(|s| MetaValue::String(s.clone())).collect());
    let mut types = vec![MetaValue::I32(3)];
    types.extend((0..257).map(|_| MetaValue::I32(1)));
    let build = |model: &str, pre: &str, types: MetaValue| {
        let mut w = GgufWriter::new();
        w.add_meta("tokenizer.ggml.model", MetaValue::String(model.into()))
            .add_meta("tokenizer.ggml.pre", MetaValue::String(pre.into()))
            .add_meta("tokenizer.ggml.tokens", strs(&tokens))
            .add_meta("tokenizer.ggml.merges", strs(&["a b".to_string()]))
            .add_meta("tokenizer.ggml.token_type", types)
            .add_meta("tokenizer.ggml.eos_token_id", MetaValue::U32(0));
        Gguf::parse(w.to_bytes().unwrap()).unwrap()
    };
    let tok =
        BpeTokenizer::from_gguf(&build("gpt2", "smollm", MetaValue::Array(types.clone()))).unwrap();
    assert_eq!(tok.vocab_size(), 258);
    assert_eq!(tok.encode("ab1"), vec![257, tok.token_id("1").unwrap()]);
    assert!(tok.is_special(0));
    assert_eq!(tok.encode_with_specials("<|endoftext|>"), vec![0]);
    assert_eq!(tok.pre_tokenizer(), PreTokenizer::SmolLm);
    let e = BpeTokenizer::from_gguf(&build("llama", "smollm", MetaValue::Array(types.clone())))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`llama`") && e.contains("gpt2"), "{e}");
    let e = BpeTokenizer::from_gguf(&build("gpt2", "qwen2", MetaValue::Array(types.clone())))
        .unwrap_err()
        .to_string();
    assert!(e.contains("qwen2") && e.contains("smollm"), "{e}");
    let e = BpeTokenizer::from_gguf(&build(
        "gpt2",
        "gpt2",
        MetaValue::Array(types[..3].to_vec()),
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("token_type has 3 entries"), "{e}");
    let e = BpeTokenizer::from_gguf(&build("gpt2", "gpt2", MetaValue::U32(1)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("tokenizer.ggml.token_type"), "{e}");
}

#[test]
fn byte_tokenizer_basics() {
    let t = ByteTokenizer::new();
    assert_eq!(t.vocab_size(), 257);
    assert_eq!(t.eos_id(), 256);
    assert_eq!(t.bos_id(), Some(256));
    assert_eq!(t.encode("aé"), vec![97, 0xC3, 0xA9]);
    assert_eq!(t.decode(&[104, 105]), "hi");
    let ids = t.encode_with_specials("x<|endoftext|>y<|endoftext|>");
    assert_eq!(ids, vec![120, 256, 121, 256]);
    assert_eq!(t.decode(&ids), "x<|endoftext|>y<|endoftext|>");
    assert_eq!(t.decode_skip_special(&ids), "xy");
    assert_eq!(t.encode("<|endoftext|>").len(), 13, "literal");
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(t.decode_bytes(&t.encode_bytes(&all)), all);
    assert!(t.validate_ids(&[257]).is_err());
    assert!(t.is_special(256) && !t.is_special(255));
}

#[test]
fn tiktoken_r50k_known_ids() {
    let bpe = tiktoken_rs::r50k_base().unwrap();
    assert_eq!(bpe.encode_ordinary("Hello world"), vec![15496, 995]);
}

fn smol() -> Option<BpeTokenizer> {
    let path = match std::env::var_os("WIND_SMOL_GGUF") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/cache/smol/SmolLM2-135M-Instruct.Q4_1.gguf"
        )),
    };
    if !path.exists() {
        println!("skipped: SmolLM2 GGUF not cached (run `wind data fetch smol`)");
        return None;
    }
    Some(BpeTokenizer::from_gguf(&Gguf::open(&path).unwrap()).unwrap())
}

/// Reference ids computed with Hugging Face `tokenizers` 0.23.3 (Python), built from this
/// GGUF's `tokenizer.ggml.tokens`/`merges` with SmolLM2's pre-tokenizer
/// (`Sequence([Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)])`),
/// `encode(s, add_special_tokens=False)`.
const HF_REFERENCE: &[(&str, &[u32])] = &[
    (
        "What is the capital of France?",
        &[1780, 314, 260, 3575, 282, 4649, 47],
    ),
    ("Hello world", &[19556, 905]),
    (
        "The year 2024 had 366 days.",
        &[
            504, 713, 216, 34, 32, 34, 36, 761, 216, 35, 38, 38, 2009, 30,
        ],
    ),
    (
        "  leading spaces and trailing   ",
        &[216, 2899, 5600, 284, 35079, 333],
    ),
    (
        "tabs\tand\nnewlines\n\n  indented",
        &[100, 7366, 197, 397, 198, 2241, 5110, 8866, 641, 6574],
    ),
    (
        "I'm sure it's they're we've you'll he'd",
        &[
            57, 5248, 2090, 357, 506, 502, 2316, 392, 3543, 346, 3060, 384, 6737,
        ],
    ),
    (
        "Café naïve résumé",
        &[51, 1939, 2756, 15486, 46494, 412, 2756, 5422, 2756],
    ),
    (
        "日本語のテキスト",
        &[
            23274, 115, 40993, 179, 120, 248, 26453, 11100, 224, 10391, 251, 10391, 134, 11100, 226,
        ],
    ),
    (
        "emoji 🎉🚀 done",
        &[391, 33777, 15107, 232, 227, 10813, 244, 218, 2294],
    ),
    (
        "3.14159 + 2,000 = x²",
        &[
            35, 30, 33, 36, 33, 37, 41, 1232, 216, 34, 28, 32, 32, 32, 446, 1792, 19133,
        ],
    ),
    (
        "def f(x):\n    return x ** 2",
        &[1604, 275, 24, 104, 727, 472, 1003, 1792, 1903, 216, 34],
    ),
    (
        "Wherefore art thou Romeo?",
        &[9576, 892, 984, 17072, 30493, 47],
    ),
    (
        "O Romeo, Romeo! wherefore art thou Romeo?\nDeny thy father and refuse thy name;",
        &[
            63, 30493, 28, 30493, 17, 837, 892, 984, 17072, 30493, 47, 198, 30199, 105, 13987,
            4083, 284, 16907, 13987, 1462, 43,
        ],
    ),
    (
        "٣ and ① and Ⅻ",
        &[164, 113, 284, 216, 173, 235, 250, 284, 216, 173, 223, 121],
    ),
    (
        "multiple     spaces before word",
        &[30404, 289, 5600, 1092, 2229],
    ),
    ("", &[]),
];

#[test]
fn real_smollm2_known_ids() {
    let Some(tok) = smol() else { return };
    assert_eq!(tok.vocab_size(), 49152);
    assert_eq!(tok.n_merges(), 48900);
    assert_eq!(tok.eos_id(), 2);
    assert_eq!(tok.bos_id(), Some(1));
    assert_eq!(tok.token(1), Some("<|im_start|>"));
    assert!((0..17).all(|i| tok.is_special(i)) && !tok.is_special(17));
    for (s, ids) in HF_REFERENCE {
        assert_eq!(tok.encode(s), *ids, "ids of {s:?}");
        assert_eq!(tok.decode(ids), *s, "decode of {s:?}");
    }
    // Bytes without a token are dropped, as HF tokenizers does ("a\x04b" → [81, 82] there).
    let mut missing = vec![0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2];
    missing.extend(0xF5..=0xFF);
    assert_eq!(tok.missing_bytes(), missing);
    assert_eq!(tok.encode("a\u{4}b"), vec![81, 82]);
    assert_eq!(tok.encode("x\u{1d}y\u{13}"), vec![104, 105]);
    assert!(tok.encode_checked("a\u{4}b").is_err());
}

#[test]
fn real_smollm2_chatml() {
    let Some(tok) = smol() else { return };
    // HF tokenizers (same setup as HF_REFERENCE, specials added) on the full template string.
    let reference: &[u32] = &[
        1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411,
        407, 19712, 8182, 2, 198, 1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1,
        520, 9531, 198,
    ];
    let ids = tok.chatml(None, "What is the capital of France?").unwrap();
    assert_eq!(ids, reference);
    assert_eq!(ids[0], 1, "starts with <|im_start|>");
    assert_eq!(ids[19], 2, "<|im_end|> closes the system turn");
    assert_eq!(ids[31], 2, "<|im_end|> closes the user turn");
    assert_eq!(
        *ids.last().unwrap(),
        198,
        "ends with the newline after `assistant`"
    );
    assert_eq!(tok.stop_ids(), vec![2], "<|im_end|> is the EOS id");
    let template = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n";
    assert_eq!(tok.encode_with_specials(template), reference);
    assert_eq!(tok.decode(&ids), template);
    assert_eq!(
        tok.decode_skip_special(&ids),
        template
            .replace("<|im_start|>", "")
            .replace("<|im_end|>", "")
    );
}
