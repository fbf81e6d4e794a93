//! `wind bench --serve`: the Rust side of `just bench-peers` (tools/peers/bench_peers.py).
//!
//! Reads one JSON request per line on stdin and answers one JSON line on stdout, so the peer
//! script can alternate the two sides task by task in one run without paying process start-up
//! inside any timed region. Every timed region covers the same work the peer twin times:
//! inputs are built (and exported for the peer) before the clock starts.
//!
//! Requests (`op` selects):
//! - `{"op":"game","id":ID,"game":GameSpec,"reference":ReferenceSpec,"seed":S,"beta":B,"out":PATH}`
//!   builds a game, keeps it under `ID`, solves `π*_β` and writes both as JSON to `PATH`;
//! - `{"op":"nash","id":ID,"reps":R}`: `solve_nash` of context 0;
//! - `{"op":"regularized","id":ID,"beta":B,"reps":R}`: `solve_regularized` (identity);
//! - `{"op":"dynamics","id":ID,"method":MethodSpec,"reps":R}`: one `next_iter` from `π_ref`;
//! - `{"op":"bon","probs":[..],"rewards":[..],"n":N,"reps":R}`: `reward_bon`;
//! - `{"op":"learner","id":ID,"method":"wind_sq"|"sppo","class":"tabular"|…,"iters":I,"seed":S}`;
//! - `{"op":"lm_step","steps":S,"batch":B,"seq":T}`: tiny-LM SFT steps;
//! - `{"op":"copy","mib":M,"reps":R}`: memory bandwidth (copy and read-only sum of `M` MiB).
//!
//! Answers carry `seconds` (one entry per repetition) and the result (`solution`, `probs`…).
//! An error answers `{"error": "..."}` and the server keeps going.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;
use wind_dynamics::{MethodSpec, Problem, State, build_solver};
use wind_game::{Game, GameSpec, Policy, ReferenceSpec, Transform, solve_regularized};

struct Entry {
    game: Game,
    reference: Policy,
    beta: f64,
    /// The dynamics' problem (π*_β solved once, at `op: game`).
    problem: Problem,
}

fn times(reps: usize, mut f: impl FnMut()) -> Vec<f64> {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect()
}

fn field<'a>(req: &'a Value, key: &str) -> Result<&'a Value> {
    req.get(key)
        .ok_or_else(|| anyhow!("request is missing the field `{key}`"))
}

/// Upper bound on repetitions, iterations and steps (a typo should not hang the peer script).
const MAX_COUNT: usize = 1_000_000;

fn usize_of(req: &Value, key: &str, default: usize) -> Result<usize> {
    match req.get(key) {
        None => Ok(default),
        Some(v) => match v.as_u64() {
            Some(v) if v as usize <= MAX_COUNT => Ok(v as usize),
            _ => bail!("`{key}` must be an integer in 0..={MAX_COUNT}; got {v}"),
        },
    }
}

/// A count that must be ≥ 1 (repetitions, iterations, steps).
fn count_of(req: &Value, key: &str, default: usize) -> Result<usize> {
    let v = usize_of(req, key, default)?;
    if v == 0 {
        bail!("`{key}` must be ≥ 1");
    }
    Ok(v)
}

/// A seed: any non-negative 64-bit integer.
fn seed_of(req: &Value) -> Result<u64> {
    match req.get("seed") {
        None => Ok(0),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| anyhow!("`seed` must be a non-negative integer; got {v}")),
    }
}

/// An optional number: absent → `None`, present but not a number → error.
fn opt_f64(req: &Value, key: &str) -> Result<Option<f64>> {
    match req.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| anyhow!("`{key}` must be a number; got {v}")),
    }
}

fn str_of<'a>(req: &'a Value, key: &str) -> Result<&'a str> {
    field(req, key)?
        .as_str()
        .ok_or_else(|| anyhow!("`{key}` must be a string"))
}

fn f64_of(req: &Value, key: &str) -> Result<f64> {
    field(req, key)?
        .as_f64()
        .ok_or_else(|| anyhow!("`{key}` must be a number"))
}

fn vec_of(req: &Value, key: &str) -> Result<Vec<f64>> {
    serde_json::from_value(field(req, key)?.clone()).with_context(|| format!("`{key}`"))
}

/// Serve requests until stdin closes.
pub fn serve() -> Result<()> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let mut games: HashMap<String, Entry> = HashMap::new();
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Value>(&line) {
            Ok(req) => {
                handle(&req, &mut games).unwrap_or_else(|e| json!({"error": format!("{e:#}")}))
            }
            Err(e) => json!({"error": format!("request is not JSON: {e}")}),
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    Ok(())
}

fn entry<'a>(games: &'a HashMap<String, Entry>, req: &Value) -> Result<&'a Entry> {
    let id = str_of(req, "id")?;
    games
        .get(id)
        .ok_or_else(|| anyhow!("no game `{id}` (send an `op: game` request first)"))
}

fn handle(req: &Value, games: &mut HashMap<String, Entry>) -> Result<Value> {
    let op = str_of(req, "op")?;
    let reps = count_of(req, "reps", 5)?;
    match op {
        "game" => {
            let id = str_of(req, "id")?.to_string();
            let spec: GameSpec = serde_json::from_value(field(req, "game")?.clone())?;
            let rspec: ReferenceSpec = match req.get("reference") {
                Some(v) => serde_json::from_value(v.clone())?,
                None => ReferenceSpec::Uniform {},
            };
            let seed = seed_of(req)?;
            let beta = f64_of(req, "beta")?;
            let game = spec.build(seed, Path::new("."))?;
            let reference = rspec.build(&game, seed, Path::new("."))?;
            let star = solve_regularized(&game, &reference, beta, Transform::Identity)?;
            let c = game.n_contexts();
            let n = game.n_actions();
            let pref: Vec<Vec<Vec<f64>>> = (0..c).map(|x| game.matrix(x)).collect();
            let features = game
                .features()
                .map(|f| json!({"dim": f.dim, "data": f.data}));
            let doc = json!({
                "name": id, "contexts": c, "actions": n, "beta": beta,
                "pref": pref, "rho": game.rho(), "reference": reference.all_probs(),
                "features": features, "pi_star": star.policy.all_probs(),
            });
            let path = field(req, "out")?
                .as_str()
                .ok_or_else(|| anyhow!("`out` must be a path"))?;
            std::fs::write(path, doc.to_string()).with_context(|| format!("writing {path}"))?;
            let problem = Problem::new(game.clone(), reference.clone(), beta)?;
            games.insert(
                id,
                Entry {
                    game,
                    reference,
                    beta,
                    problem,
                },
            );
            Ok(json!({"ok": true, "contexts": c, "actions": n}))
        }
        "nash" => {
            let e = entry(games, req)?;
            let n = e.game.n_actions();
            let a = e.game.skew(0).to_vec();
            let mut sol = None;
            let t = times(reps, || {
                sol = Some(wind_game::nash::solve_symmetric(
                    std::hint::black_box(&a),
                    n,
                ));
            });
            let sol = sol.unwrap().map_err(|m| anyhow!("nash: {m}"))?;
            Ok(json!({"seconds": t, "solution": sol.strategy, "pivots": sol.pivots}))
        }
        "regularized" => {
            let e = entry(games, req)?;
            let beta = opt_f64(req, "beta")?.unwrap_or(e.beta);
            let mut sol = None;
            let t = times(reps, || {
                sol = Some(solve_regularized(
                    &e.game,
                    &e.reference,
                    beta,
                    Transform::Identity,
                ));
            });
            let sol = sol.unwrap()?;
            Ok(
                json!({"seconds": t, "solution": sol.policy.all_probs(), "newton_steps": sol.newton_steps}),
            )
        }
        "dynamics" => {
            let e = entry(games, req)?;
            let method: MethodSpec = serde_json::from_value(field(req, "method")?.clone())?;
            method
                .validate(e.beta)
                .map_err(|(f, m)| anyhow!("method `{f}`: {m}"))?;
            let p = &e.problem;
            let mut s = build_solver(&method);
            let st = State {
                iter: 0,
                policy: p.reference.clone(),
                aux: None,
            };
            let mut next = None;
            let t = times(reps, || {
                next = Some(s.next_iter(p, std::hint::black_box(&st)));
            });
            Ok(json!({"seconds": t, "probs": next.unwrap().policy.all_probs()}))
        }
        "bon" => {
            let probs = vec_of(req, "probs")?;
            let rewards = vec_of(req, "rewards")?;
            let n = usize_of(req, "n", 2)?;
            if !(1..=i32::MAX as usize).contains(&n) {
                bail!("`n` must be ≥ 1 (Best-of-N); got {n}");
            }
            let n = n as u32;
            if probs.len() != rewards.len() {
                bail!("`probs` and `rewards` differ in length");
            }
            wind_game::game::validate_distribution(&probs, probs.len(), "probs")?;
            if rewards.iter().any(|r| !r.is_finite()) {
                bail!("`rewards` must be finite");
            }
            let mut r = Vec::new();
            let t = times(reps, || {
                r = wind_bond::reward_bon(std::hint::black_box(&probs), &rewards, n);
            });
            Ok(json!({"seconds": t, "solution": r}))
        }
        "learner" => learner(req, entry(games, req)?),
        "lm_step" => lm_step(req),
        "copy" => {
            let mib = usize_of(req, "mib", 256)?;
            if !(1..=4096).contains(&mib) {
                bail!(
                    "`mib` must be in 1..=4096 (two buffers of that size are allocated); got {mib}"
                );
            }
            let len = mib * (1 << 20) / 8;
            let src: Vec<f64> = (0..len).map(|i| i as f64).collect();
            let mut dst = vec![0.0f64; len];
            let tc = times(reps, || {
                dst.copy_from_slice(std::hint::black_box(&src));
            });
            // the same copy split over two threads (the dynamics use every core)
            let tc2 = times(reps, || {
                let (d0, d1) = dst.split_at_mut(len / 2);
                let (s0, s1) = src.split_at(len / 2);
                std::thread::scope(|sc| {
                    sc.spawn(|| d0.copy_from_slice(std::hint::black_box(s0)));
                    d1.copy_from_slice(std::hint::black_box(s1));
                });
            });
            std::hint::black_box(&dst);
            // a plain 8-accumulator read (not the compensated sum, which is compute-bound)
            let mut acc = 0.0;
            let ts = times(reps, || {
                let mut l = [0.0f64; 8];
                for c in std::hint::black_box(&src).chunks_exact(8) {
                    for k in 0..8 {
                        l[k] += c[k];
                    }
                }
                acc += l.iter().sum::<f64>();
            });
            std::hint::black_box(acc);
            Ok(
                json!({"copy_seconds": tc, "copy2_seconds": tc2, "sum_seconds": ts, "bytes": len * 8}),
            )
        }
        other => bail!(
            "unknown op `{other}` (game, nash, regularized, dynamics, bon, learner, lm_step, copy)"
        ),
    }
}

fn learner(req: &Value, e: &Entry) -> Result<Value> {
    use wind_learn::{BackendChoice, Learner, LearnerKind, LearnerSpec, OracleMode, PolicyClass};
    let method = str_of(req, "method")?;
    let eta = opt_f64(req, "eta")?;
    let kind = match method {
        "wind_sq" => LearnerKind::WindSq {
            eta: eta.unwrap_or(1.0),
        },
        "sppo" => LearnerKind::Sppo {
            eta: eta.unwrap_or(1.0),
            k: usize_of(req, "k", 5)?,
        },
        other => bail!("learner `{other}`: the peer twins cover wind_sq and sppo"),
    };
    kind.validate(e.beta)
        .map_err(|(f, m)| anyhow!("learner `{f}`: {m}"))?;
    let class = match str_of(req, "class")? {
        "tabular" => PolicyClass::Tabular {},
        "log_linear" => PolicyClass::LogLinear {},
        "mlp" => PolicyClass::Mlp {
            hidden: usize_of(req, "hidden", 32)?,
        },
        other => bail!("policy class `{other}` (tabular, log_linear, mlp)"),
    };
    let mut spec = LearnerSpec::new(kind);
    spec.batch = usize_of(req, "batch", spec.batch)?;
    spec.steps = usize_of(req, "steps", spec.steps)?;
    spec.lr = opt_f64(req, "lr")?.unwrap_or(spec.lr);
    if spec.batch == 0 || spec.steps == 0 || !(spec.lr.is_finite() && spec.lr > 0.0) {
        bail!("learner: batch and steps must be ≥ 1 and lr finite and > 0");
    }
    let dev = wind_learn::select_device(BackendChoice::Cpu).map_err(anyhow::Error::msg)?;
    let seed = seed_of(req)?;
    let mut l = Learner::new(
        spec,
        class,
        OracleMode::Bernoulli,
        &e.game,
        &e.reference,
        e.beta,
        seed,
        &dev.device,
    )?;
    let iters = count_of(req, "iters", 20)?;
    l.iterate(&e.game); // warm-up, as the twin does
    let c0 = l.counters();
    let t = Instant::now();
    for _ in 0..iters {
        l.iterate(&e.game);
    }
    let secs = t.elapsed().as_secs_f64();
    let c = l.counters();
    Ok(json!({
        "seconds": secs, "iters": iters,
        "samples": c.samples - c0.samples, "grad_steps": c.grad_steps - c0.grad_steps,
        "queries": c.oracle_queries - c0.oracle_queries, "probs": l.policy().all_probs(),
    }))
}

fn lm_step(req: &Value) -> Result<Value> {
    use burn::tensor::Device;
    use wind_lm::Transformer;
    let cfg = crate::bench::tiny_lm_config();
    let steps = count_of(req, "steps", 6)?;
    let batch = usize_of(req, "batch", 16)?;
    let seq = usize_of(req, "seq", 128)?;
    let ad = Device::flex().autodiff();
    let text = crate::bench::bench_tokens(40_000);
    let mut per_step = Vec::new();
    let sft = wind_lm::sft::SftConfig {
        steps: steps + 1,
        batch,
        seq,
        lr: 3e-3,
        warmup: 0,
        val_frac: 0.0,
        eval_every: 1_000_000,
        seed: 0,
    };
    let m = Transformer::init(cfg, 0, &ad).map_err(anyhow::Error::msg)?;
    let params = m.config.n_params();
    let mut last = Instant::now();
    let mut losses = Vec::new();
    let _ = wind_lm::sft::train_sft(m, &text, &sft, &mut |row: &wind_lm::sft::SftRow| {
        let now = Instant::now();
        per_step.push(now.duration_since(last).as_secs_f64());
        losses.push(row.train_loss);
        last = now;
    })
    .map_err(anyhow::Error::msg)?;
    // the first step carries the warm-up (allocation, first-touch)
    let timed: Vec<f64> = per_step.into_iter().skip(1).collect();
    Ok(json!({"seconds": timed, "params": params, "losses": losses}))
}
