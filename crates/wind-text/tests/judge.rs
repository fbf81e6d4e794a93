//! Tests of the sentiment judges, the Bradley–Terry pair judge and the text metrics.

use std::sync::Arc;

use wind_text::judge::{
    Afinn, BradleyTerry, PairJudge, Scorer, Vader, distinct_n, mean_len_words, normalise,
    repetition_rate, words,
};

/// Reference compound scores printed by the Python `vaderSentiment` 3.3.2 (PyPI wheel, run
/// offline on these exact strings; values are rounded to 4 decimals by that implementation)
/// that the crate reproduces to 1e-4. The reference sentences it does not reproduce are in
/// `vader_known_deviations_from_python_3_3_2`.
const VADER_REFERENCE: &[(&str, f64)] = &[
    ("VADER is smart, handsome, and funny.", 0.8316),
    ("VADER is smart, handsome, and funny!", 0.8439),
    ("VADER is not smart, handsome, nor funny.", -0.7424),
    ("The book was good.", 0.4404),
    ("At least it isn't a horrible book.", 0.431),
    ("The book was only kind of good.", 0.3832),
    (
        "The plot was good, but the characters are uncompelling and the dialog is not great.",
        -0.7042,
    ),
    ("Today SUX!", -0.5461),
    ("Not bad at all", 0.431),
    ("Sentiment analysis has never been good.", -0.3412),
    ("Sentiment analysis has never been this good!", 0.5672),
    ("Most automated sentiment analysis tools are shit.", -0.5574),
    ("Without a doubt, excellent idea.", 0.7013),
    ("With VADER, sentiment analysis is the shit!", 0.6476),
    ("Not such a badass after all.", -0.2584),
    (
        "Roger Dodger is one of the least compelling variations on this theme.",
        -0.1695,
    ),
    ("I love this movie, it is wonderful.", 0.836),
    ("This is terrible and I hate it.", -0.7783),
    ("", 0.0),
];

#[test]
fn vader_matches_python_reference() {
    let v = Vader::new();
    let mut bad = Vec::new();
    for &(s, want) in VADER_REFERENCE {
        let got = v.score(s);
        // The reference prints 4 decimals, so agreement means |got - want| <= 5e-5 (+ slack).
        if (got - want).abs() > 1e-4 {
            bad.push(format!("{s:?}: crate {got:.6}, python {want}"));
        }
    }
    assert!(
        bad.is_empty(),
        "VADER deviates from the Python reference:\n{}",
        bad.join("\n")
    );
    // The crate's README value, unrounded.
    assert!((v.score("VADER is smart, handsome, and funny.") - 0.8316320352807864).abs() < 1e-12);
}

#[test]
fn vader_known_deviations_from_python_3_3_2() {
    // Documented deviations of the Rust port (vader_sentiment 0.1.1) from vaderSentiment 3.3.2.
    // The two lexicons hold the same word -> valence values; the differences are rules. The
    // main one: the port's `special_idioms_check` looks for booster words as *substrings* of
    // the 3-word window before a sentiment word and always adds +0.293, where Python compares
    // whole n-grams. So a booster two words back is counted twice ("very smart, handsome"),
    // negative words get less negative ("quite bad"), and boosters hidden inside other words
    // count ("so" in "also"). Emoji descriptions go through the same rule.
    // Second: its `least_check` negates "at least X" (Python negates only "least X" not
    // preceded by "at"/"very"), which flips the "Roger Dodger is at least compelling" sign.
    // Pinned here as (sentence, Python 3.3.2, crate) so a crate upgrade that changes them is
    // noticed. VADER is the *training* judge, so this bias is part of what a policy can game.
    let v = Vader::new();
    let cases: &[(&str, f64, f64)] = &[
        (
            "VADER is very smart, handsome, and funny.",
            0.8545,
            0.873742,
        ),
        (
            "VADER is VERY SMART, handsome, and FUNNY.",
            0.9227,
            0.930678,
        ),
        (
            "VADER is VERY SMART, handsome, and FUNNY!!!",
            0.9342,
            0.940589,
        ),
        (
            "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
            0.9469,
            0.953758,
        ),
        ("Make sure you :) or :D today!", 0.8633, 0.884901),
        (
            "Other sentiment analysis tools can be quite bad.",
            -0.5849,
            -0.542326,
        ),
        ("VADER is such a badass!", 0.4003, 0.419921),
        (
            "Roger Dodger is one of the most compelling variations on this theme.",
            0.2944,
            0.358221,
        ),
        ("Today only kinda sux! But I'll get by, lol", 0.5249, 0.5010),
        ("Catch utf-8 emoji such as 💘 and 💋 and 😁", 0.875, 0.7003),
        ("On the other hand, VADER is quite bad ass", 0.802, 0.8310),
        (
            "Roger Dodger is at least compelling as a variation on the theme.",
            0.2263,
            -0.1695,
        ),
    ];
    for &(s, python, crate_value) in cases {
        let got = v.score(s);
        assert!(
            (got - crate_value).abs() < 1e-4,
            "{s:?}: crate now gives {got:.6}, pinned {crate_value}"
        );
        assert!(
            (got - python).abs() > 1e-3,
            "{s:?}: now agrees with Python ({python}); move it to VADER_REFERENCE"
        );
    }
    // The substring effect in isolation: Python scores both 0.4404.
    let plain = v.score("I think it good");
    assert!((plain - 0.4404).abs() < 1e-4);
    assert!(
        v.score("I also think it good") > plain + 0.05,
        "\"so\" inside \"also\" boosts in the port"
    );
}

#[test]
fn vader_is_shareable_and_total() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Vader>();
    assert_send_sync::<Afinn>();
    assert_send_sync::<PairJudge<Vader>>();
    assert_send_sync::<PairJudge<Box<dyn Scorer>>>();
    let v = Arc::new(Vader::new());
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let v = Arc::clone(&v);
            std::thread::spawn(move || v.score("The book was good."))
        })
        .collect();
    for h in handles {
        assert!((h.join().unwrap() - 0.4404).abs() < 1e-4);
    }
    // Odd inputs must not panic and must stay in range.
    let odd = [
        "",
        " ",
        "a",
        "!!!",
        "?",
        "but",
        "not",
        "kind of",
        "no no no no",
        "NOT BAD!!!!????",
        "\u{0}\u{7}\t\r\n",
        "😀",
        "😀😀😀",
        "at least",
        "very",
        "never so",
        "without doubt",
        "the shit",
        "x y z the bomb",
        "'",
        "''''",
        "n't",
        "é è ü ß",
        "日本語のテキスト",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z but but but",
    ];
    let a = Afinn::new();
    for s in odd {
        for (name, x) in [("vader", v.score(s)), ("afinn", a.score(s))] {
            assert!(
                x.is_finite() && (-1.0..=1.0).contains(&x),
                "{name} {s:?} -> {x}"
            );
        }
    }
}

#[test]
fn afinn_lexicon_is_the_vendored_one() {
    let a = Afinn::new();
    assert_eq!(a.len(), 3382);
    assert_eq!(a.valence("good"), Some(3));
    assert_eq!(a.valence("does not work"), Some(-3));
    assert_eq!(a.valence("can't stand"), Some(-3));
    assert_eq!(a.valence("xoxoxo"), Some(4));
    assert_eq!(a.valence("the"), None);
    assert_eq!(a.name(), "afinn");
}

fn norm(s: f64) -> f64 {
    s / (s * s + 15.0).sqrt()
}

/// (text, expected raw sum, expected matched entries)
type AfinnCase = (&'static str, i64, &'static [(&'static str, i32)]);

#[test]
fn afinn_hand_checked_values() {
    let a = Afinn::new();
    // (text, expected raw sum from the lexicon entries, the entries)
    let cases: &[AfinnCase] = &[
        // good +3
        ("The book was good.", 3, &[("good", 3)]),
        // love +3, wonderful +4
        (
            "I love this movie, it is wonderful.",
            7,
            &[("love", 3), ("wonderful", 4)],
        ),
        // terrible -3, hate -3
        (
            "This is terrible and I hate it.",
            -6,
            &[("terrible", -3), ("hate", -3)],
        ),
        // bigram "not good" -2 wins over "good" +3 (longest first)
        ("This is NOT good", -2, &[("not good", -2)]),
        // trigram "does not work" -3
        (
            "It does not work, sadly.",
            -3 + -2,
            &[("does not work", -3), ("sadly", -2)],
        ),
        // apostrophe entry, case-folded; typographic apostrophe too
        ("I Can’t stand it", -3, &[("can't stand", -3)]),
        // n't -> nt fallback: "don't like" matches "dont like" -2
        ("I don't like it", -2, &[("dont like", -2)]),
        // hyphenated entry kept whole; unknown compound split into parts
        (
            "self-confident and super-happy",
            2 + 3 + 3,
            &[("self-confident", 2), ("super", 3), ("happy", 3)],
        ),
        // "kind of" is a 0-valence entry: it consumes "kind" (+2)
        ("kind of", 0, &[("kind of", 0)]),
        ("kind", 2, &[("kind", 2)]),
        // no negation rule beyond the lexicon: "not happy" = happy +3
        ("not happy", 3, &[("happy", 3)]),
        // he'll is not hell
        ("he'll come", 0, &[]),
        ("", 0, &[]),
    ];
    for &(text, sum, entries) in cases {
        let m = a.matches(text);
        let want: Vec<(String, i32)> = entries.iter().map(|&(w, v)| (w.to_owned(), v)).collect();
        assert_eq!(m, want, "matches of {text:?}");
        assert_eq!(a.raw_sum(text), sum, "raw sum of {text:?}");
        let s = a.score(text);
        assert!(
            (s - if sum == 0 { 0.0 } else { norm(sum as f64) }).abs() < 1e-15,
            "{text:?}: {s}"
        );
    }
    // Exact normalised values: 3/sqrt(24), 7/sqrt(64) = 0.875, -6/sqrt(51).
    assert!((a.score("The book was good.") - 3.0 / 24f64.sqrt()).abs() < 1e-15);
    assert_eq!(a.score("I love this movie, it is wonderful."), 0.875);
    assert!((a.score("This is terrible and I hate it.") + 6.0 / 51f64.sqrt()).abs() < 1e-15);
    assert_eq!(normalise(0.0), 0.0);
    assert!(normalise(1e9) <= 1.0 && normalise(-1e9) >= -1.0);
}

#[test]
fn words_tokenisation() {
    assert_eq!(
        words("Hello, WORLD! It's self-made — ok?"),
        ["hello", "world", "it's", "self-made", "ok"]
    );
    assert!(words("  ...  ").is_empty());
}

#[test]
fn bradley_terry_symmetry_and_ties() {
    assert!(BradleyTerry::new(0.0).is_err());
    assert!(BradleyTerry::new(-1.0).is_err());
    assert!(BradleyTerry::new(f64::NAN).is_err());
    let msg = BradleyTerry::new(0.0).unwrap_err().to_string();
    assert!(msg.contains("> 0"), "{msg}");
    for scale in [0.05, 0.25, 1.0, 7.0] {
        let bt = BradleyTerry::new(scale).unwrap();
        for &x in &[0.0, 0.3, -0.7, 1.0, -1.0, 0.123456789] {
            assert_eq!(bt.prob(x, x), 0.5);
            for &y in &[0.0, 0.9, -0.2, 1.0, -1.0] {
                let (p, q) = (bt.prob(x, y), bt.prob(y, x));
                assert_eq!(p + q, 1.0, "scale {scale} x {x} y {y}");
                assert!((0.0..=1.0).contains(&p));
                if x > y {
                    assert!(p > 0.5);
                }
            }
        }
    }
    let bt = BradleyTerry::new(0.5).unwrap();
    assert!((bt.prob(1.0, 0.0) - 1.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-15);
}

/// A scorer for counting tests: the score is the text's length / 10, clamped.
struct LenScorer;
impl Scorer for LenScorer {
    fn name(&self) -> &str {
        "len"
    }
    fn score(&self, text: &str) -> f64 {
        (text.len() as f64 / 10.0).min(1.0)
    }
}

#[test]
fn pair_judge_counts_every_call() {
    let j = PairJudge::new(LenScorer, BradleyTerry::new(0.1).unwrap());
    assert_eq!(j.calls(), 0);
    assert_eq!(j.prob(3, "aa", "aa"), 0.5); // identical texts still count
    assert_eq!(j.prob(3, "aa", "aa"), 0.5);
    assert!(j.prob(7, "aaaa", "a") > 0.5);
    assert_eq!(j.outcome(7, "aaaa", "a", 0.0), 1.0);
    assert_eq!(j.outcome(7, "aaaa", "a", 0.999_999_999), 0.0);
    assert_eq!(j.calls(), 5);
    assert_eq!(j.calls_for(3), 2);
    assert_eq!(j.calls_for(7), 3);
    assert_eq!(j.calls_for(0), 0);
    assert_eq!(j.calls_per_prompt(), vec![(3, 2), (7, 3)]);
    // Calling the scorer directly does not count.
    let _ = j.scorer().score("x");
    assert_eq!(j.calls(), 5);
    j.reset();
    assert_eq!(j.calls(), 0);
    assert_eq!(j.calls_for(7), 0);
    assert!(j.calls_per_prompt().is_empty());

    // Shared across threads.
    let j = Arc::new(PairJudge::new(
        Box::new(Vader::new()) as Box<dyn Scorer>,
        BradleyTerry::new(0.25).unwrap(),
    ));
    let hs: Vec<_> = (0..2)
        .map(|t| {
            let j = Arc::clone(&j);
            std::thread::spawn(move || {
                for _ in 0..50 {
                    j.prob(t, "good", "bad");
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(j.calls(), 100);
    assert_eq!(j.calls_for(0), 50);
    assert_eq!(j.calls_for(1), 50);
    assert!(j.prob(0, "What a wonderful day!", "What an awful day!") > 0.9);
}

#[test]
fn distinct_n_hand_examples() {
    // "the cat the cat" → unigrams: the, cat, the, cat → 2 distinct / 4.
    assert_eq!(distinct_n(&["the cat the cat"], 1), 0.5);
    // bigrams: (the cat)(cat the)(the cat) → 2 / 3.
    assert!((distinct_n(&["the cat the cat"], 2) - 2.0 / 3.0).abs() < 1e-15);
    // pooled over texts, case- and punctuation-insensitive: "A b." + "a B!" → 2 distinct / 4.
    assert_eq!(distinct_n(&["A b.", "a B!"], 1), 0.5);
    // n-grams do not cross text boundaries: "x y" "z" → bigrams only (x y) → 1/1.
    assert_eq!(distinct_n(&["x y", "z"], 2), 1.0);
    assert_eq!(distinct_n(&[], 1), 0.0);
    assert_eq!(distinct_n(&["one"], 2), 0.0);
    assert_eq!(distinct_n(&["one two"], 0), 0.0);
}

#[test]
fn length_and_repetition() {
    assert_eq!(mean_len_words(&["a b c", "d"]), 2.0);
    assert_eq!(mean_len_words(&[]), 0.0);
    // "a b a b a b": bigrams ab ba ab ba ab → 3 repeats of 5.
    assert!((repetition_rate(&["a b a b a b"], 2) - 0.6).abs() < 1e-15);
    // Repeats are counted within a text only.
    assert_eq!(repetition_rate(&["a b", "a b"], 2), 0.0);
    assert_eq!(repetition_rate(&["a"], 2), 0.0);
}

#[test]
fn scorers_never_panic_on_random_word_salad() {
    // Deterministic LCG over a vocabulary that exercises every VADER/AFINN rule (boosters,
    // negations, "but", "kind of", "at least", idioms, caps, punctuation, emoji, contractions).
    const VOCAB: &[&str] = &[
        "good",
        "BAD",
        "not",
        "very",
        "VERY",
        "kind",
        "of",
        "but",
        "at",
        "least",
        "never",
        "so",
        "this",
        "without",
        "doubt",
        "the",
        "shit",
        "bomb",
        "yeah",
        "right",
        "isn't",
        "don't",
        "like",
        "can't",
        "stand",
        "does",
        "work",
        "!",
        "?",
        "!!!",
        ",",
        ".",
        ":)",
        ":D",
        "😀",
        "💘",
        "lol",
        "sux",
        "self-confident",
        "super-happy",
        "-",
        "'",
        "n't",
        "kinda",
        "sort",
        "most",
        "also",
        "",
        " ",
        "\t",
        "\n",
        "é",
        "日本",
    ];
    let (v, a) = (Vader::new(), Afinn::new());
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    for _ in 0..3000 {
        let n = next() % 12;
        let text: Vec<&str> = (0..n).map(|_| VOCAB[next() % VOCAB.len()]).collect();
        let sep = if next() % 2 == 0 { " " } else { "" };
        let text = text.join(sep);
        for x in [v.score(&text), a.score(&text)] {
            assert!(
                x.is_finite() && (-1.0..=1.0).contains(&x),
                "{text:?} -> {x}"
            );
        }
    }
}
