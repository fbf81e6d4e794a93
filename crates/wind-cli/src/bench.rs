//! `wind bench`: median wall time of the exact solvers and one exact-WIND iteration.

use anyhow::Result;
use std::path::Path;
use std::time::Instant;
use wind_dynamics::{MethodSpec, Problem, State, build_solver};
use wind_game::{GameSpec, Policy, Transform, solve_nash, solve_regularized};

fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// Run the benchmarks and print a table.
pub fn run(quick: bool, backend: wind_learn::BackendChoice) -> Result<()> {
    let dev = wind_learn::select_device(backend).map_err(anyhow::Error::msg)?;
    let sizes: &[usize] = if quick { &[10, 100] } else { &[10, 100, 1000] };
    println!("{:<40} {:>8} {:>14}", "benchmark", "reps", "median");
    for &n in sizes {
        let g = GameSpec::Cyclic {
            contexts: 1,
            actions: n,
            scale: 3.0,
        }
        .build(1, Path::new("."))?;
        let reps = if n >= 1000 {
            3
        } else if n >= 100 {
            10
        } else {
            200
        };
        let t = median_secs(reps, || {
            solve_nash(&g).expect("nash");
        });
        println!(
            "{:<40} {:>8} {:>12.3} ms",
            format!("nash (cyclic, n = {n})"),
            reps,
            t * 1e3
        );
        let r = Policy::uniform(1, n);
        let t = median_secs(reps, || {
            solve_regularized(&g, &r, 0.1, Transform::Identity).expect("reg");
        });
        println!(
            "{:<40} {:>8} {:>12.3} ms",
            format!("regularized nash (β = 0.1, n = {n})"),
            reps,
            t * 1e3
        );
    }
    let (c, n) = if quick { (10, 100) } else { (100, 100) };
    let g = GameSpec::Cyclic {
        contexts: c,
        actions: n,
        scale: 3.0,
    }
    .build(2, Path::new("."))?;
    let r = Policy::uniform(c, n);
    let p = Problem::new(g, r, 0.1)?;
    let mut s = build_solver(&MethodSpec::Wind {
        g: Transform::Identity,
        eta: 1.0,
    });
    let st = State {
        iter: 0,
        policy: p.reference.clone(),
        aux: None,
    };
    let reps = 20;
    let t = median_secs(reps, || {
        std::hint::black_box(s.next_iter(&p, &st));
    });
    let bytes = (c * n * n * 8) as f64;
    println!(
        "{:<40} {:>8} {:>12.3} ms  ({:.2} GB/s of payoff matrix)",
        format!("exact WIND iteration ({c} ctx × {n} actions)"),
        reps,
        t * 1e3,
        bytes / t / 1e9
    );
    learners(quick, &dev)?;
    lm(quick, &dev)?;
    Ok(())
}

/// The tiny fig2 architecture the LM benchmarks (and the PyTorch twin) use: 0.82 M parameters.
pub(crate) fn tiny_lm_config() -> wind_lm::LmConfig {
    wind_lm::LmConfig {
        vocab: 257,
        d_model: 128,
        n_layers: 4,
        n_heads: 4,
        n_kv_heads: 2,
        d_ff: 384,
        rope_base: 10000.0,
        norm_eps: 1e-5,
        tied: true,
        max_seq: 192,
    }
}

/// A deterministic synthetic byte stream for the SFT-step benchmarks.
pub(crate) fn bench_tokens(n: u32) -> Vec<u32> {
    (0..n).map(|i| (i * 7919 + i / 13) % 251).collect()
}

/// Language-model throughput (flex backend): the tiny fig2 model's SFT steps and batched
/// KV-cache generation, and SmolLM2-135M's generation and last-block training step when
/// its GGUF is cached.
fn lm(quick: bool, dev: &wind_learn::SelectedDevice) -> Result<()> {
    use burn::module::Module;
    use rand_core::SeedableRng;
    use wind_lm::seqlearn::freeze_bottom;
    use wind_lm::{GenConfig, Transformer, generate};
    println!();
    println!(
        "{:<52} {:>14} {:>14}",
        format!("language model ({})", dev.name),
        "throughput",
        "per call"
    );
    let tiny = tiny_lm_config();
    let ad = dev.device.clone();
    let text = bench_tokens(20_000);
    let sft = wind_lm::sft::SftConfig {
        steps: if quick { 2 } else { 6 },
        batch: 16,
        seq: 128,
        lr: 3e-3,
        warmup: 0,
        val_frac: 0.0,
        eval_every: 1000,
        seed: 0,
    };
    let m = Transformer::init(tiny.clone(), 0, &ad).map_err(anyhow::Error::msg)?;
    let t = std::time::Instant::now();
    let _ = wind_lm::sft::train_sft(m, &text, &sft, &mut |_| {}).map_err(anyhow::Error::msg)?;
    let per = t.elapsed().as_secs_f64() / sft.steps as f64;
    println!(
        "{:<52} {:>10.0} tok/s {:>11.3} s",
        "tiny SFT step (0.82M params, batch 16 × 128)",
        2048.0 / per,
        per
    );
    let inf =
        Transformer::init(tiny, 0, &ad.clone().without_autodiff()).map_err(anyhow::Error::msg)?;
    let prompts: Vec<Vec<u32>> = (0..64u32).map(|i| vec![10 + i % 50; 20]).collect();
    let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
    let g = GenConfig {
        max_tokens: 48,
        temperature: 1.0,
        top_p: 1.0,
        stop: vec![],
    };
    let t = std::time::Instant::now();
    let out = generate(
        &inf,
        &refs,
        &g,
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(0),
    )
    .map_err(anyhow::Error::msg)?;
    let s = t.elapsed().as_secs_f64();
    let n: usize = out.iter().map(|o| o.tokens.len()).sum();
    println!(
        "{:<52} {:>10.0} tok/s {:>11.3} s",
        "tiny generation (64 rows × 48 tokens, KV cache)",
        n as f64 / s,
        s
    );
    let path = std::path::PathBuf::from("data/cache/smol/SmolLM2-135M-Instruct.Q4_1.gguf");
    if !path.exists() {
        println!("smol: skipped (run `wind data fetch smol`)");
        return Ok(());
    }
    let (gg, smol) = wind_lm::gguf_model::open_llama(&path, 320, &ad.clone().without_autodiff())
        .map_err(anyhow::Error::msg)?;
    let tok =
        wind_text::tokenizer::BpeTokenizer::from_gguf(&gg).map_err(|e| anyhow::anyhow!("{e}"))?;
    let p = tok
        .chatml(None, "Write a short poem about the sea.")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for rows in [1usize, 8] {
        let refs: Vec<&[u32]> = (0..rows).map(|_| p.as_slice()).collect();
        let g = GenConfig {
            max_tokens: 24,
            temperature: 1.0,
            top_p: 1.0,
            stop: vec![],
        };
        let t = std::time::Instant::now();
        let out = generate(
            &smol,
            &refs,
            &g,
            &mut rand_chacha::ChaCha8Rng::seed_from_u64(0),
        )
        .map_err(anyhow::Error::msg)?;
        let s = t.elapsed().as_secs_f64();
        let n: usize = out.iter().map(|o| o.tokens.len()).sum();
        println!(
            "{:<52} {:>10.1} tok/s {:>11.3} s",
            format!(
                "smol generation ({rows} × 24 new tokens, {}-token prompt)",
                p.len()
            ),
            n as f64 / s,
            s
        );
    }
    // One training step of the last block on 8 responses (frozen prefix computed once).
    let policy = Transformer::from_host(smol.config.clone(), smol.to_host(), &ad)
        .map_err(anyhow::Error::msg)?;
    let policy = freeze_bottom(policy, 29);
    let resp: Vec<Vec<u32>> = (0..8u32).map(|i| vec![100 + i; 24]).collect();
    let pr: Vec<&[u32]> = (0..8).map(|_| p.as_slice()).collect();
    let rr: Vec<&[u32]> = resp.iter().map(|r| r.as_slice()).collect();
    let t = std::time::Instant::now();
    let batch = wind_lm::model::SeqBatch::new(&policy, &pr, &rr, 29);
    let prep = t.elapsed().as_secs_f64();
    let mut optim = burn::optim::AdamConfig::new().init();
    let mut net = policy.net;
    let steps = if quick { 1 } else { 3 };
    let t = std::time::Instant::now();
    for _ in 0..steps {
        let m = Transformer {
            config: smol.config.clone(),
            net,
        };
        let loss = m.batch_logprobs(&batch).mean().neg();
        let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &m.net);
        net = optim.step(1e-5, m.net, grads);
    }
    let per = t.elapsed().as_secs_f64() / steps as f64;
    let _ = net.valid();
    println!(
        "{:<52} {:>10.2} step/s {:>10.3} s  (frozen-prefix pass {:.2} s, once per iteration)",
        "smol train step (last block, 8 × 24 response tokens)",
        1.0 / per,
        per,
        prep
    );
    Ok(())
}

/// Throughput of the learners: policy samples/s and optimizer steps/s per policy class and
/// learner on the fig1 bandit (20 contexts × 10 actions, 8 features), flex backend.
fn learners(quick: bool, dev: &wind_learn::SelectedDevice) -> Result<()> {
    use wind_learn::{Learner, LearnerKind, LearnerSpec, OracleMode, PolicyClass};
    let g = GameSpec::Contextual {
        contexts: 20,
        actions: 10,
        dim: 8,
        lambda: 0.5,
        temperature: 1.0,
        scale: 3.0,
    }
    .build(0, Path::new("."))?;
    let r =
        wind_game::ReferenceSpec::SoftmaxGaussian { sigma: 1.0 }.build(&g, 0, Path::new("."))?;
    println!();
    println!(
        "{:<12} {:<12} {:>7} {:>12} {:>12} {:>12}   (batch 64, 20 steps/iter for iterative methods, flex)",
        "policy", "learner", "iters", "iters/s", "samples/s", "steps/s"
    );
    println!("backend: {}", dev.name);
    let kinds = [
        LearnerKind::WindSq { eta: 1.0 },
        LearnerKind::WindKl {
            eta: 1.0,
            k: 4,
            g: Transform::Identity,
        },
        LearnerKind::WindNce { eta: 1.0 },
        LearnerKind::Sppo { eta: 1.0, k: 5 },
        LearnerKind::Jbond {
            beta_j: 0.5,
            eta_j: 0.02,
            gamma: 0.0,
        },
        LearnerKind::NashMdPg { m: 0.1, tau: None },
        LearnerKind::OnlineIpo {},
        LearnerKind::OnlineDpo {},
        LearnerKind::BondMc { n: 2 },
    ];
    let classes = [
        PolicyClass::Tabular {},
        PolicyClass::LogLinear {},
        PolicyClass::Mlp { hidden: 32 },
    ];
    for class in classes {
        for kind in &kinds {
            let spec = LearnerSpec::new(kind.clone());
            let mut l = Learner::new(
                spec,
                class,
                OracleMode::Bernoulli,
                &g,
                &r,
                0.1,
                0,
                &dev.device,
            )?;
            let iters = if quick {
                3
            } else if kind.default_steps() > 1 {
                20
            } else {
                200
            };
            l.iterate(&g); // warm-up
            let c0 = l.counters();
            let t0 = Instant::now();
            for _ in 0..iters {
                l.iterate(&g);
            }
            let t = t0.elapsed().as_secs_f64();
            let c = l.counters();
            println!(
                "{:<12} {:<12} {:>7} {:>12.1} {:>12.0} {:>12.0}",
                class.name(),
                kind.name(),
                iters,
                iters as f64 / t,
                (c.samples - c0.samples) as f64 / t,
                (c.grad_steps - c0.grad_steps) as f64 / t
            );
        }
    }
    Ok(())
}
