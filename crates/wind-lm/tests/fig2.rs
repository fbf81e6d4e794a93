//! A one-iteration tiny fig2 run end to end (synthetic corpus, a few SFT steps): both methods
//! in the CSV, judge calls per prompt (SPPO K², WIND 1), samples, deterministic bytes; and bad
//! configurations rejected with the key and the fix.

use std::path::Path;
use wind_lm::fig2::{
    Fig2Options, MICRO_TOML, load_config, run_fig2, run_offline, shakespeare_prompts,
};

const TOML: &str = MICRO_TOML;

fn run(dir: &Path, toml: &str) -> Result<wind_lm::fig2::Fig2Output, String> {
    let path = dir.join("fig2t.toml");
    std::fs::write(&path, toml).unwrap();
    run_offline(&load_config(&path)?, dir)
}

#[test]
fn one_iteration_wind_and_sppo() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), TOML).unwrap();
    let m = std::fs::read_to_string(out.dir.join("metrics.csv")).unwrap();
    let rows: Vec<Vec<&str>> = m.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let header: Vec<&str> = m.lines().next().unwrap().split(',').collect();
    let c = |n: &str| header.iter().position(|h| *h == n).unwrap();
    // Two methods × (iteration 0 + 1).
    assert_eq!(rows.len(), 4, "{m}");
    for method in ["wind_sq", "sppo"] {
        let r1 = rows
            .iter()
            .find(|r| r[c("method")] == method && r[c("iteration")] == "1")
            .unwrap();
        let (lo, hi): (u64, u64) = (
            r1[c("calls_per_prompt_min")].parse().unwrap(),
            r1[c("calls_per_prompt_max")].parse().unwrap(),
        );
        let (want, samples) = if method == "sppo" {
            (25, 3 * 5)
        } else {
            (1, 3 * 2)
        };
        assert_eq!((lo, hi), (want, want), "{method} judge calls per prompt");
        assert_eq!(r1[c("judge_calls")].parse::<u64>().unwrap(), 3 * want);
        assert_eq!(r1[c("samples")].parse::<u64>().unwrap(), samples);
        let w: f64 = r1[c("win_train")].parse().unwrap();
        assert!((0.0..=1.0).contains(&w));
    }
    assert!(out.dir.join("timing.csv").exists() && out.dir.join("sft.csv").exists());
    let s = &out.summary;
    assert!(s["wind_sppo_time_ratio"].as_f64().unwrap() > 0.0);
    assert_eq!(s["sft_cached"], false);

    // Same seed: identical bytes, and the SFT model now comes from the cache.
    let first = m.clone();
    let again = run(dir.path(), TOML).unwrap();
    assert_eq!(again.summary["sft_cached"], true);
    assert_eq!(
        std::fs::read_to_string(again.dir.join("metrics.csv")).unwrap(),
        first
    );
    let sft = std::fs::read_to_string(again.dir.join("sft.csv")).unwrap();
    assert_eq!(
        sft.lines().count(),
        5,
        "header + one row per SFT step: {sft}"
    );
}

#[test]
fn bad_configs_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (TOML.replace("k = 5", "k = 5\nkk = 1"), "unknown field"),
        (TOML.replace("max_tokens = 12", "max_tokens = 12\ntemperature = 0.7"), "temperature = 1"),
        (TOML.replace("beta = 0.1", "beta = 2.0"), "eta·beta < 1"),
        (TOML.replace("default_tier = \"tiny\"", "default_tier = \"huge\""), "default_tier"),
        (TOML.replace("method = \"sppo\"", "method = \"ppo\""), "unknown variant"),
        (TOML.replace("steps = 2\nlr = 1e-3\n[[tiers.tiny.learners]]", "lr = 1e-3\n[[tiers.tiny.learners]]"), "missing key `steps`"),
        (TOML.replace("seeds = [3]", "seeds = []"), "seeds is empty"),
        (TOML.replace("seeds = [3]", "seeds = [3, 3]"), "appears twice"),
        (TOML.replace("eval_every = 2", "eval_every = 0"), "eval_every"),
        (TOML.replace("lr = 3e-3", "lr = -3e-3"), "sft.lr"),
        (TOML.replace("iterations = 1", "iterations = 1000000000000"), "iterations"),
        (TOML.replace("max_seq = 96", "max_seq = 96\nfrozen_layers = 2"), "frozen_layers = 2"),
        (TOML.replace("name = \"fig2t\"", "name = \"../escape\""), "name"),
        (TOML.replace("k = 5\n", "k = 5\nlabel = \"sppo, k5\"\n"), "without commas"),
        (TOML.replace("source = \"shakespeare\"\ntrain = 3\neval = 4\nwords = 2", "source = \"mtbench\"\ntrain = 3\neval = 4"), "no chat template"),
        (TOML.replace("source = \"tiny\"\nd_model = 32\nn_layers = 2\nn_heads = 4\nn_kv_heads = 2\nd_ff = 64", "source = \"smol\"\npath = \"x.gguf\""), "unknown field `path`"),
        (format!("{TOML}\n[tiers.tiny.judge]\ntrain = \"afinn\"\nheldout = \"afinn\"\n"), "must differ"),
    ];
    for (text, want) in cases {
        let e = run(dir.path(), &text).unwrap_err();
        assert!(e.contains(want), "expected {want:?} in: {e}");
        assert!(
            !dir.path().join("results/fig2t/metrics.csv").exists(),
            "no output on error"
        );
    }
    // A max_tokens that cannot fit the model's context.
    let e = run(
        dir.path(),
        &TOML.replace("max_tokens = 12", "max_tokens = 90"),
    )
    .unwrap_err();
    assert!(e.contains("max_seq"), "{e}");
}

#[test]
fn shakespeare_prompt_extraction() {
    let p = shakespeare_prompts(
        "ROMEO.\nBut soft, what light\n\nnot a tag.\nx y z w\nJULIET.\nAy\n",
        2,
        10,
    );
    assert_eq!(p, vec!["ROMEO.\nBut soft, ".to_string()]);
}

#[test]
fn committed_fig2_file_is_valid_and_paper_tier_names_missing_files() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../experiments/fig2.toml"
    ));
    let cfg = load_config(path).unwrap();
    assert_eq!(cfg.default_tier, "tiny");
    for t in ["tiny", "smol", "paper"] {
        assert!(cfg.tiers.contains_key(t), "tier {t}");
    }
    let dir = tempfile::tempdir().unwrap();
    let mut log = |_: &str| {};
    let mut o = Fig2Options {
        cache: dir.path().join("cache"),
        results: dir.path().join("results"),
        fetch: false,
        log: &mut log,
        corpus_override: None,
        device: None,
        backend: "flex (cpu)".into(),
    };
    let e = run_fig2(&cfg, "paper", &mut o).unwrap_err();
    assert!(
        e.contains("needs files you supply")
            && e.contains("model.path")
            && e.contains("prompts.path"),
        "{e}"
    );
    let e = run_fig2(&cfg, "giant", &mut o).unwrap_err();
    assert!(e.contains("available: paper, smol, tiny"), "{e}");
    assert!(!dir.path().join("results").exists());
}
