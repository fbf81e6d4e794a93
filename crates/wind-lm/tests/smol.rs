//! SmolLM2-135M-Instruct from its GGUF: the golden answer, and the tiny model's GGUF round trip.

use burn::tensor::Device;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use std::path::PathBuf;
use wind_lm::gguf_model::{open_llama, save_llama};
use wind_lm::{GenConfig, LmConfig, Transformer, generate};
use wind_text::tokenizer::{BpeTokenizer, Tokenizer};

fn smol_path() -> Option<PathBuf> {
    let p = std::env::var_os("WIND_SMOL_GGUF")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../data/cache/smol/SmolLM2-135M-Instruct.Q4_1.gguf"
            ))
        });
    p.exists().then_some(p)
}

#[test]
fn smol_golden_answer() {
    let Some(path) = smol_path() else {
        println!("skipped: SmolLM2 GGUF not cached (run `wind data fetch smol`)");
        return;
    };
    let device = Device::flex();
    let (g, model) = open_llama(&path, 512, &device).unwrap();
    assert_eq!(model.config.n_layers, 30);
    assert_eq!(model.config.vocab, 49152);
    assert!(model.config.tied);
    let tok = BpeTokenizer::from_gguf(&g).unwrap();
    let prompt = tok.chatml(None, "What is the capital of France?").unwrap();
    let cfg = GenConfig {
        max_tokens: 16,
        temperature: 0.0,
        top_p: 1.0,
        stop: vec![2],
    };
    let out = generate(&model, &[&prompt], &cfg, &mut ChaCha8Rng::seed_from_u64(0))
        .unwrap()
        .remove(0);
    assert_eq!(
        out.tokens.last(),
        Some(&2),
        "ends with <|im_end|>: {:?}",
        out.tokens
    );
    assert!(out.stopped);
    let text = tok.decode(&out.tokens[..out.tokens.len() - 1]);
    assert_eq!(text, "The capital of France is Paris.");
}

#[test]
fn tiny_model_gguf_round_trip() {
    let cfg = LmConfig {
        vocab: 64,
        d_model: 32,
        n_layers: 2,
        n_heads: 4,
        n_kv_heads: 2,
        d_ff: 64,
        rope_base: 10000.0,
        norm_eps: 1e-5,
        tied: false,
        max_seq: 64,
    };
    let device = Device::flex();
    let m = Transformer::init(cfg.clone(), 5, &device).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.gguf");
    save_llama(&m, &path, &[]).unwrap();
    let (_, back) = open_llama(&path, 64, &device).unwrap();
    assert_eq!(back.config, cfg);
    let (a, b) = (m.to_host(), back.to_host());
    assert_eq!(a.embed, b.embed);
    assert_eq!(a.head, b.head);
    assert_eq!(a.blocks[1].wq, b.blocks[1].wq);
    assert_eq!(a.blocks[0].w_down, b.blocks[0].w_down);
    // A truncated model file is an error, not a panic.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let e = open_llama(&path, 64, &device).unwrap_err();
    assert!(e.contains("tiny.gguf"), "{e}");
}

#[test]
fn smol_as_pairwise_judge() {
    use wind_lm::lmjudge::{JudgeModel, LmPairJudge};
    use wind_lm::seqlearn::Preference;
    let Some(path) = smol_path() else {
        println!("skipped: SmolLM2 GGUF not cached (run `wind data fetch smol`)");
        return;
    };
    let (g, model) = open_llama(&path, 512, &Device::flex()).unwrap();
    let tok = BpeTokenizer::from_gguf(&g).unwrap();
    let j = LmPairJudge::new(
        JudgeModel::new(model, tok).unwrap(),
        vec!["What is the capital of France?".into()],
    );
    let good = "The capital of France is Paris.";
    let bad = "Bananas are yellow and I do not know.";
    let p = j.prob(0, good, bad);
    let q = j.prob(0, bad, good);
    assert!(
        (p + q - 1.0).abs() < 1e-12,
        "order-averaged judge is antisymmetric: {p} + {q}"
    );
    assert!(p > 0.5, "the correct answer should be preferred: P = {p}");
    assert_eq!(j.prob(0, good, good), 0.5);
    assert_eq!((j.calls(), j.calls_for(0), j.calls_for(1)), (3, 3, 0));
}
