//! Transformer invariants: causality, padding invariance, KV cache = full forward, and the
//! log-probability of a generated sequence = the sum of its token log-probs at generation.

use burn::tensor::Device;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use wind_lm::{GenConfig, LmConfig, Transformer, generate};

fn device() -> Device {
    Device::flex()
}

fn tiny() -> LmConfig {
    LmConfig {
        vocab: 40,
        d_model: 32,
        n_layers: 2,
        n_heads: 4,
        n_kv_heads: 2,
        d_ff: 48,
        rope_base: 10000.0,
        norm_eps: 1e-5,
        tied: false,
        max_seq: 64,
    }
}

fn vec3(t: burn::tensor::Tensor<3>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

#[test]
fn attention_is_causal() {
    let m = Transformer::init(tiny(), 1, &device()).unwrap();
    let a = vec![vec![3u32, 7, 1, 9, 12, 5]];
    let mut b = a.clone();
    b[0][4] = 30; // change a later token
    let v = vec![vec![true; 6]];
    let (la, lb) = (vec3(m.logits(&a, &v)), vec3(m.logits(&b, &v)));
    let vocab = 40;
    for t in 0..4 {
        for k in 0..vocab {
            assert_eq!(
                la[t * vocab + k],
                lb[t * vocab + k],
                "position {t} saw a later token"
            );
        }
    }
    let diff: f32 = (4 * vocab..6 * vocab).map(|i| (la[i] - lb[i]).abs()).sum();
    assert!(
        diff > 1e-4,
        "the changed token must matter from its own position on"
    );
}

#[test]
fn left_padding_changes_nothing() {
    let m = Transformer::init(tiny(), 2, &device()).unwrap();
    let alone = vec3(m.logits(&[vec![5, 6, 7]], &[vec![true; 3]]));
    let padded = vec3(m.logits(
        &[vec![0, 0, 5, 6, 7], vec![1, 2, 3, 4, 5]],
        &[vec![false, false, true, true, true], vec![true; 5]],
    ));
    let vocab = 40;
    for t in 0..3 {
        for k in 0..vocab {
            let (x, y) = (alone[t * vocab + k], padded[(t + 2) * vocab + k]);
            assert!((x - y).abs() < 1e-4, "pos {t} tok {k}: {x} vs {y}");
        }
    }
}

#[test]
fn generation_logprob_equals_sequence_logprob() {
    let m = Transformer::init(tiny(), 3, &device()).unwrap();
    let prompts: Vec<Vec<u32>> = vec![vec![1, 2, 3], vec![4], vec![5, 6, 7, 8, 9], vec![1, 2, 3]];
    let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
    let cfg = GenConfig {
        max_tokens: 12,
        temperature: 1.0,
        top_p: 1.0,
        stop: vec![0],
    };
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let gens = generate(&m, &refs, &cfg, &mut rng).unwrap();
    assert_eq!(gens.len(), 4);
    let resp: Vec<&[u32]> = gens.iter().map(|g| g.tokens.as_slice()).collect();
    let lp = m
        .sequence_logprobs(&refs, &resp)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    for (g, &l) in gens.iter().zip(&lp) {
        assert!(!g.tokens.is_empty());
        assert!(g.stopped || g.tokens.len() == 12);
        assert!(
            (g.logp() - l as f64).abs() < 2e-3,
            "generation {} vs forward {l}",
            g.logp()
        );
    }
    // Same seed, same samples.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    assert_eq!(gens, generate(&m, &refs, &cfg, &mut rng).unwrap());
}

#[test]
fn greedy_with_cache_matches_argmax_of_full_forward() {
    let m = Transformer::init(tiny(), 4, &device()).unwrap();
    let prompt = vec![7u32, 8, 9];
    let cfg = GenConfig {
        max_tokens: 6,
        temperature: 0.0,
        top_p: 1.0,
        stop: vec![],
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let g = generate(&m, &[&prompt], &cfg, &mut rng).unwrap().remove(0);
    let mut seq = prompt.clone();
    for &tok in &g.tokens {
        let n = seq.len();
        let l = vec3(m.logits(&[seq.clone()], &[vec![true; n]]));
        let last = &l[(n - 1) * 40..n * 40];
        let arg = (0..40).fold(0, |b, k| if last[k] > last[b] { k } else { b });
        assert_eq!(arg as u32, tok);
        seq.push(tok);
    }
}

#[test]
fn bad_configs_are_rejected() {
    let mut c = tiny();
    c.n_kv_heads = 3;
    assert!(c.validate().unwrap_err().contains("n_kv_heads"));
    let mut c = tiny();
    c.d_model = 30;
    assert!(c.validate().is_err());
    let m = Transformer::init(tiny(), 1, &device()).unwrap();
    let long = vec![1u32; 60];
    let cfg = GenConfig {
        max_tokens: 10,
        temperature: 1.0,
        top_p: 1.0,
        stop: vec![],
    };
    let e = generate(&m, &[&long], &cfg, &mut ChaCha8Rng::seed_from_u64(0)).unwrap_err();
    assert!(e.contains("max_seq"), "{e}");
}
