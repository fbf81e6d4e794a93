#!/usr/bin/env python3
"""PyTorch (CPU, float32) twins of two hot loops of `wind`, for a like-for-like speed comparison
(wind time / torch time): same sizes, same batch, same optimizer, same number of steps.

Twin 1 — `bandit_twin`: the sample-based learners WIND-SQ and SPPO of crates/wind-learn on the
fig1 contextual bandit (20 contexts × 10 actions, 8 features), as `wind bench` times them
(crates/wind-cli/src/bench.rs `learners()`). One iteration is exactly what `Learner::iterate`
(crates/wind-learn/src/learner.rs) does:
  1. freeze π_t (the exact table of the current policy, kept in float64 as wind's `Policy`);
  2. draw `batch` contexts x ~ ρ, then per context 2 (WIND-SQ) or k (SPPO) responses y ~ π_t(·|x);
  3. query the Bernoulli oracle o ~ Bernoulli(P(y ≻ y'|x)): 1 pair per prompt (WIND-SQ), all
     k² ordered pairs, diagonal included but replaced by ½ (SPPO);
  4. build the θ-independent rows in float64, cast to float32:
       WIND-SQ: rows (y, o − ½) and (y', ½ − o), b = ηβ·(log π_ref − log π_t)(y),
                loss mean((log π_θ − log π_t − b − η·label)²) / η²;
       SPPO:    ŵ_i = (½ + Σ_{j≠i} o_ij) / k,
                loss mean((log π_θ − log π_t − η·(ŵ − ½))²) / η²;
  5. take `steps` Adam steps (burn's Adam: β = (0.9, 0.999), ε = 1e-5, no weight decay — same
     update rule as torch.optim.Adam with eps=1e-5), each recomputing the full [C, n] table
     log_softmax(log π_ref + f_θ) and gathering the batch rows; the loss is read back once per
     iteration (at the last step), as wind does;
  6. extract the new exact policy (float32 log-probs → float64, renormalised on π_ref's support).
Policy classes (crates/wind-learn/src/policy.rs), all with f_θ ≡ 0 at init so π_θ = π_ref:
  tabular    f_θ(x,y) = Δ[x,y]                       (Δ ∈ R^{C×n}, zeros)
  log_linear f_θ(x,y) = φ(x,y)·θ                     (θ ∈ R^{d×1}, zeros)
  mlp        f_θ(x,y) = W₂ᵀ tanh(W₁ᵀφ + b₁) + b₂      (W₁ d×h Glorot-uniform, b₁ = 0, W₂ = 0, b₂ = 0)
The learner's per-context offset c(x) (used only by WIND-NCE) is a parameter as in wind's
`LearnerNet`; it gets no gradient from these two losses, so Adam skips it in both codes.

Twin 2 — `lm_twin`: one SFT step of the tiny fig2 language model (crates/wind-lm/src/model.rs,
crates/wind-lm/src/sft.rs) at the `wind bench` configuration (bench.rs `lm()`): vocab 257,
d_model 128, 4 layers, 4 query heads / 2 KV heads (head dim 32), d_ff 384, RoPE base 1e4 on
adjacent pairs (2i, 2i+1), RMSNorm ε 1e-5, tied embedding/head, batch 16 × seq 128, Adam lr 3e-3
with wind's cosine schedule (warm-up 0). A step = sample 16 windows of 129 tokens from the same
synthetic stream as the bench, forward (embedding gather, blocks, final norm, tied head over all
16·128 positions, log_softmax, gather, mean), backward, read the loss back, Adam step.
Attention: `sdpa=False` (default) writes it as wind does — softmax(QKᵀ/√d + B)V with an explicit
additive mask B (−1e9 above the diagonal) and K/V heads materialised to the query heads;
`sdpa=True` uses F.scaled_dot_product_attention(is_causal=True) on the same expanded K/V.
Parameter count 820,480 (= `LmConfig::n_params`, "0.82M params" in the bench).

What differs from wind (on purpose, or because it cannot be the same):
  * RNG streams: wind uses its own WindRng/ChaCha8 streams; here one torch.Generator. Same
    distributions, different draws — so trajectories agree in law, not bit for bit.
  * Sampling and oracle labels are vectorised torch ops (multinomial / rand < p) where wind runs
    scalar host loops over the batch; the work (numbers drawn, queries counted) is the same.
  * The MLP's Glorot-uniform draw, the LM's N(0, 0.02²) init and the windows come from torch's
    generator instead of wind's Box–Muller/ChaCha streams (same distributions).
  * RoPE tables and the mask are built with torch ops each step (wind builds them on the host each
    call; both are rebuilt per step here too).
  * Timing: the bandit twin times `iters` iterations after one warm-up (as bench.rs does); the LM
    twin reports the median of `steps` steps after one warm-up step; the wind side of
    `just bench-peers` (`wind bench --serve`, op lm_step) likewise drops its first step and reports
    every later step, so bench_peers.py compares a median of wind's steps with the median of the
    twin's per-call medians. (`wind bench`'s own LM row is the mean over its 6 steps, warm-up
    included.)

Usage: target/peers-venv/bin/python tools/peers/torch_twins.py [--game game.json] [--check]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

# wind-learn/src/policy.rs: logit used off π_ref's support.
MASKED_LOGIT = -1.0e9
# burn 0.22.1 AdamConfig::new() defaults (burn-optim/src/optim/adam.rs).
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-5


def _threads(threads: int | None) -> int:
    n = threads or os.cpu_count() or 1
    torch.set_num_threads(n)
    return n


# --------------------------------------------------------------------------------------------
# Games: a random contextual game in the format the Rust side exports, and π*_β.
# --------------------------------------------------------------------------------------------

def regularized_nash(pref, reference, beta: float, tol: float = 1e-13) -> np.ndarray:
    """π*_β per context: the fixed point π = softmax(log π_ref + (A π)/β) on supp(π_ref), A = P − ½
    (crates/wind-game/src/regularized.rs, g = identity; ρ does not enter: it is per context).
    Newton on the bordered system with backtracking and continuation in β (β₀ = max(β, 1)), as
    wind does; checked by the log-space residual."""
    pref = np.asarray(pref, float)
    reference = np.asarray(reference, float)
    out = np.zeros_like(reference)
    for x in range(pref.shape[0]):
        supp = np.flatnonzero(reference[x] > 0)
        a = (pref[x] - 0.5)[np.ix_(supp, supp)]
        a = 0.5 * (a - a.T)  # exactly skew, as Game stores it
        lref = np.log(reference[x, supp])
        lref = lref - np.logaddexp.reduce(lref)
        m = len(supp)

        def resid(u, b):
            logits = lref + a @ np.exp(u) / b
            t = logits - np.logaddexp.reduce(logits)
            r = u - t
            return r, float(np.max(np.abs(r))) if np.all(np.isfinite(r)) else math.inf

        def newton(u, b, tol, max_iter):
            r, norm = resid(u, b)
            for _ in range(max_iter):
                if norm <= tol:
                    break
                pi = np.exp(u)
                jac = np.zeros((m + 1, m + 1))
                jac[:m, :m] = np.eye(m) - a * pi[None, :] / b
                jac[:m, m] = 1.0
                jac[m, :m] = pi
                try:
                    d = np.linalg.solve(jac, np.concatenate([-r, [0.0]]))[:m]
                except np.linalg.LinAlgError:
                    break
                alpha, ok = 1.0, False
                for _ in range(40):
                    c = u + alpha * d
                    c = c - np.logaddexp.reduce(c)
                    rc, nc = resid(c, b)
                    if math.isfinite(nc) and (nc < norm * (1 - 1e-4 * alpha) or nc <= tol):
                        u, r, norm, ok = c, rc, nc, True
                        break
                    alpha *= 0.5
                if not ok:
                    break
            return u, norm

        if m == 1:
            out[x, supp] = 1.0
            continue
        b_good = max(beta, 1.0)
        u, n0 = newton(lref.copy(), b_good, 1e-10, 100)
        ratio = 0.5
        while True:
            final = b_good * ratio <= beta * (1 + 1e-12)
            b_next = beta if final else b_good * ratio
            un, norm = newton(u, b_next, tol if final else 1e-10, 60)
            if norm <= (1e-12 if final else 1e-8):
                u, b_good = un, b_next
                if final:
                    break
                ratio = max(ratio * math.sqrt(ratio), 0.25)
            else:
                ratio = math.sqrt(ratio)
                if ratio > 0.999:
                    raise RuntimeError(f"π*_β: continuation stalled in context {x}")
        out[x, supp] = np.exp(u)
    return out


def damped_fixed_point(pref, reference, beta: float, damping: float = 0.02,
                       iters: int = 200_000, tol: float = 1e-12) -> np.ndarray:
    """Cross-check of π*_β: log π ← (1−ε)·log π + ε·(log π_ref + (Pπ)/β), renormalised (P π and
    A π differ by the constant ½, which normalisation removes). Converges for small ε."""
    pref = np.asarray(pref, float)
    lref = np.log(np.asarray(reference, float))
    v = lref.copy()
    for it in range(iters):
        h = np.einsum("xij,xj->xi", pref, np.exp(v))
        w = (1 - damping) * v + damping * (lref + h / beta)
        w -= np.logaddexp.reduce(w, axis=1, keepdims=True)
        step = np.max(np.abs(w - v))
        v = w
        if step < tol * damping:
            break
    return np.exp(v)


def kl_star(game: dict, probs) -> float:
    """E_ρ KL(π*_β ‖ π) (crates/wind-game/src/metrics.rs `kl`)."""
    ps = np.asarray(game["pi_star"], float)
    q = np.asarray(probs, float)
    rho = np.asarray(game["rho"], float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(ps > 0, ps * (np.log(ps) - np.log(q)), 0.0)
    return float(np.sum(rho * np.maximum(t.sum(axis=1), 0.0)))


def random_game(C: int = 20, n: int = 10, d: int = 8, seed: int = 0, beta: float = 0.1,
                lam: float = 0.5, temperature: float = 1.0, scale: float = 3.0,
                sigma: float = 1.0) -> dict:
    """A random contextual game shaped like wind's `GameSpec::Contextual` (generators.rs):
    φ(x,y) ~ N(0, I_d), θ* ~ N(0, I/d), M skew with N(0, 1/d) entries,
    P = λ·σ(θ*·(φ(y) − φ(y'))/T) + (1−λ)·(½ + ½·tanh(s·φ(y)ᵀMφ(y'))); uniform ρ;
    π_ref = softmax(N(0, σ²)) per context (`ReferenceSpec::SoftmaxGaussian`); π*_β attached."""
    rng = np.random.default_rng(seed)
    sd = math.sqrt(d)
    theta = rng.standard_normal(d) / sd
    mm = np.triu(rng.standard_normal((d, d)) / sd, 1)
    mm = mm - mm.T
    phi = rng.standard_normal((C, n, d))
    r = phi @ theta                                              # [C, n]
    bt = 1.0 / (1.0 + np.exp(-(r[:, :, None] - r[:, None, :]) / temperature)) - 0.5
    cy = 0.5 * np.tanh(scale * np.einsum("xia,ab,xjb->xij", phi, mm, phi))
    a = lam * bt + (1 - lam) * cy
    a = 0.5 * (a - np.swapaxes(a, 1, 2))                         # exactly skew, zero diagonal
    pref = 0.5 + a
    logits = sigma * rng.standard_normal((C, n))
    ref = np.exp(logits - np.logaddexp.reduce(logits, axis=1, keepdims=True))
    game = {
        "name": f"random_contextual_{C}x{n}_d{d}_seed{seed}",
        "contexts": C,
        "actions": n,
        "beta": beta,
        "pref": pref.tolist(),
        "rho": [1.0 / C] * C,
        "reference": ref.tolist(),
        "features": {"dim": d, "data": phi.reshape(C, n * d).tolist()},
    }
    game["pi_star"] = regularized_nash(pref, ref, beta).tolist()
    return game


# --------------------------------------------------------------------------------------------
# Twin 1: WIND-SQ and SPPO on a contextual bandit.
# --------------------------------------------------------------------------------------------

class _Policy:
    """log π_θ = log_softmax(base + f_θ) over the whole [C, n] table (wind-learn policy.rs)."""

    def __init__(self, cls: str, game: dict, hidden: int, gen: torch.Generator):
        C, n = game["contexts"], game["actions"]
        ref = torch.tensor(game["reference"], dtype=torch.float64)
        self.support = ref > 0
        lref64 = torch.where(self.support, ref.log(), torch.tensor(-math.inf, dtype=torch.float64))
        self.lref64 = lref64 - torch.logsumexp(lref64, 1, keepdim=True)   # π_ref, float64 host side
        self.base = torch.where(self.support, self.lref64, torch.tensor(MASKED_LOGIT,
                                dtype=torch.float64)).float()
        self.C, self.n, self.cls = C, n, cls
        feats = game.get("features")
        if cls in ("log_linear", "mlp"):
            if not feats:
                raise ValueError(f"policy class '{cls}' needs features φ(x,y); the game has none")
            d = feats["dim"]
            self.phi = torch.tensor(feats["data"], dtype=torch.float32).reshape(C * n, d)
        if cls == "tabular":
            self.params = [torch.zeros(C, n, requires_grad=True)]
        elif cls == "log_linear":
            self.params = [torch.zeros(d, 1, requires_grad=True)]
        elif cls == "mlp":
            a = math.sqrt(6.0 / (d + hidden))
            w1 = (a * (2 * torch.rand(d, hidden, generator=gen, dtype=torch.float64) - 1)).float()
            # burn Linear: y = x·W + b, W stored [d_in, d_out]
            self.params = [w1.requires_grad_(), torch.zeros(hidden, requires_grad=True),
                           torch.zeros(hidden, 1, requires_grad=True),
                           torch.zeros(1, requires_grad=True)]
        else:
            raise ValueError(f"unknown policy class {cls!r}: tabular, log_linear or mlp")

    def delta(self) -> torch.Tensor:
        shape = (self.C, self.n)
        if self.cls == "tabular":
            return self.params[0]
        if self.cls == "log_linear":
            return (self.phi @ self.params[0]).reshape(shape)
        w1, b1, w2, b2 = self.params
        return (torch.tanh(self.phi @ w1 + b1) @ w2 + b2).reshape(shape)

    def log_probs_flat(self) -> torch.Tensor:
        return torch.log_softmax(self.base + self.delta(), 1).reshape(-1)

    @torch.no_grad()
    def exact(self) -> torch.Tensor:
        """`to_policy`: float32 log-probs → float64, renormalised on the support; [C, n]."""
        lp = torch.log_softmax(self.base + self.delta(), 1).double()
        lp = torch.where(self.support, lp, torch.tensor(-math.inf, dtype=torch.float64))
        return lp - torch.logsumexp(lp, 1, keepdim=True)


def bandit_twin(game: dict, method: str, policy_class: str, iters: int, seed: int = 0,
                batch: int | None = None, steps: int | None = None, lr: float | None = None,
                eta: float | None = None, k: int | None = None, hidden: int = 32,
                threads: int | None = None) -> dict:
    """Run `iters` timed iterations (after one warm-up) of WIND-SQ or SPPO; see the module doc.

    Defaults are wind's: batch 64, steps 20 (`LearnerKind::default_steps`), lr 0.05
    (`LearnerSpec::new`), k = 5 for SPPO (`default_k_sppo`); η has no default in wind's TOML
    schema, so None means η = 1.0, the value bench.rs passes for both methods."""
    _threads(threads)
    if method not in ("wind_sq", "sppo"):
        raise ValueError(f"method {method!r}: wind_sq or sppo")
    batch = 64 if batch is None else batch
    steps = 20 if steps is None else steps
    lr = 0.05 if lr is None else lr
    eta = 1.0 if eta is None else eta
    k = 5 if k is None else k
    beta = float(game["beta"])
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError("η must be finite and > 0")
    if method == "wind_sq" and eta * beta >= 1:
        raise ValueError(f"ηβ must be < 1; got {eta * beta}")
    if method == "sppo" and not 2 <= k <= 64:
        raise ValueError("k must be in 2..=64")

    gen = torch.Generator().manual_seed(seed)
    pol = _Policy(policy_class, game, hidden, gen)
    C, n = pol.C, pol.n
    offset = torch.zeros(C, requires_grad=True)         # c(x): unused by these losses
    opt = torch.optim.Adam(pol.params + [offset], lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS)
    pref = torch.tensor(game["pref"], dtype=torch.float64)   # [C, n, n]
    rho = torch.tensor(game["rho"], dtype=torch.float64)
    lref = pol.lref64
    current = pol.exact()                              # log π_t, float64
    counters = {"samples": 0, "queries": 0, "grad_steps": 0}
    m = 2 if method == "wind_sq" else k

    def iterate() -> float:
        old = current
        probs = old.exp()
        ctx = torch.multinomial(rho, batch, replacement=True, generator=gen)          # [B]
        ys = torch.multinomial(probs[ctx], m, replacement=True, generator=gen)       # [B, m]
        counters["samples"] += batch * m
        lo = old[ctx[:, None], ys]                                                   # [B, m]
        idx = (ctx[:, None] * n + ys).reshape(-1)
        if method == "wind_sq":
            p = pref[ctx, ys[:, 0], ys[:, 1]]
            o = (torch.rand(batch, generator=gen, dtype=torch.float64) < p).double()
            counters["queries"] += batch
            label = torch.stack([o - 0.5, 0.5 - o], 1)                               # [B, 2]
            b = eta * beta * (lref[ctx[:, None], ys] - lo)
            rows = (lo.reshape(-1).float(), b.reshape(-1).float(), label.reshape(-1).float())
        else:
            p = pref[ctx[:, None, None], ys[:, :, None], ys[:, None, :]]              # [B, k, k]
            o = (torch.rand(batch, k, k, generator=gen, dtype=torch.float64) < p).double()
            counters["queries"] += batch * k * k
            o.diagonal(dim1=1, dim2=2).fill_(0.5)
            w = o.sum(2) / k
            rows = (lo.reshape(-1).float(), w.reshape(-1).float())
        loss_v = 0.0
        for step in range(steps):
            at = pol.log_probs_flat()[idx]
            if method == "wind_sq":
                lo32, b32, lab32 = rows
                r = at - lo32 - b32 - lab32 * eta
            else:
                lo32, w32 = rows
                r = at - lo32 - (w32 - 0.5) * eta
            loss = r.pow(2).mean() / (eta * eta)
            if step + 1 == steps:
                loss_v = loss.item()        # wind reads the loss back once per iteration
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            counters["grad_steps"] += 1
        return loss_v

    iterate_state = {}

    def run_one():
        nonlocal current
        iterate_state["loss"] = iterate()
        if steps > 0:
            current = pol.exact()

    run_one()                                          # warm-up
    c0 = dict(counters)
    t0 = time.perf_counter()
    for _ in range(iters):
        run_one()
    seconds = time.perf_counter() - t0
    out = {
        "method": method,
        "policy": policy_class if policy_class != "mlp" else f"mlp{hidden}",
        "batch": batch, "steps": steps, "lr": lr, "eta": eta,
        **({"k": k} if method == "sppo" else {}),
        "seconds": seconds,
        "iters": iters,
        "samples": counters["samples"] - c0["samples"],
        "grad_steps": counters["grad_steps"] - c0["grad_steps"],
        "queries": counters["queries"] - c0["queries"],
        "loss": iterate_state["loss"],
        "probs": current.exp().tolist(),
    }
    if game.get("pi_star") is not None:
        out["kl_star"] = kl_star(game, out["probs"])
    return out


# --------------------------------------------------------------------------------------------
# Twin 2: the tiny language model's SFT step.
# --------------------------------------------------------------------------------------------

TINY = dict(vocab=257, d_model=128, n_layers=4, n_heads=4, n_kv_heads=2, d_ff=384,
            rope_base=10000.0, norm_eps=1e-5, tied=True)


def rust_n_params(c: dict = TINY) -> int:
    """`LmConfig::n_params` (crates/wind-lm/src/model.rs)."""
    d, hd = c["d_model"], c["d_model"] // c["n_heads"]
    attn = d * c["n_heads"] * hd * 2 + d * c["n_kv_heads"] * hd * 2
    block = attn + 3 * d * c["d_ff"] + 2 * d
    head = 0 if c["tied"] else d * c["vocab"]
    return c["vocab"] * d + c["n_layers"] * block + d + head


class TinyLM(torch.nn.Module):
    """wind-lm's `Transformer` (matrices stored [in, out], x·W as in burn)."""

    def __init__(self, c: dict, gen: torch.Generator, sdpa: bool = False):
        super().__init__()
        self.c, self.sdpa = c, sdpa
        d, nh, nkv, ff, v = c["d_model"], c["n_heads"], c["n_kv_heads"], c["d_ff"], c["vocab"]
        hd = d // nh
        self.hd = hd
        std, proj = 0.02, 0.02 / math.sqrt(2 * c["n_layers"])
        P = lambda *s, sd: torch.nn.Parameter(torch.randn(*s, generator=gen) * sd)  # noqa: E731
        ones = lambda: torch.nn.Parameter(torch.ones(d))  # noqa: E731
        self.embed = P(v, d, sd=std)
        self.blocks = torch.nn.ModuleList()
        for _ in range(c["n_layers"]):
            b = torch.nn.Module()
            b.attn_norm = ones()
            b.wq, b.wk, b.wv = P(d, nh * hd, sd=std), P(d, nkv * hd, sd=std), P(d, nkv * hd, sd=std)
            b.wo = P(nh * hd, d, sd=proj)
            b.ffn_norm = ones()
            b.w_gate, b.w_up, b.w_down = P(d, ff, sd=std), P(d, ff, sd=std), P(ff, d, sd=proj)
            self.blocks.append(b)
        self.norm = ones()
        self.head = None if c["tied"] else P(d, v, sd=std)

    def rms_norm(self, x, g):
        ms = x.pow(2).mean(-1, keepdim=True)
        return x * (ms + self.c["norm_eps"]).sqrt().reciprocal() * g

    @staticmethod
    def rope(x, cos, sin):
        """Rotate adjacent pairs (2i, 2i+1) of x: [B, H, T, hd]."""
        b, h, t, d = x.shape
        x = x.reshape(b, h, t, d // 2, 2)
        x0, x1 = x[..., 0], x[..., 1]
        return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], -1).reshape(b, h, t, d)

    def geometry(self, b: int, t: int):
        """RoPE tables [B, 1, T, hd/2] (angles in float64, cast to f32) and the additive mask
        [B, 1, T, T] (0 at or before the query, −1e9 after), as wind's `geometry`."""
        half = self.hd // 2
        inv = self.c["rope_base"] ** (-2.0 * torch.arange(half, dtype=torch.float64) / (2 * half))
        ang = torch.arange(t, dtype=torch.float64)[:, None] * inv[None, :]
        cos = ang.cos().float().expand(b, 1, t, half)
        sin = ang.sin().float().expand(b, 1, t, half)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        bias = torch.full((t, t), -1.0e9).masked_fill(causal, 0.0).expand(b, 1, t, t)
        return cos, sin, bias

    def lm_loss(self, windows: torch.Tensor) -> torch.Tensor:
        """Mean next-token cross-entropy over windows [B, T+1] (wind's `Transformer::lm_loss`)."""
        c = self.c
        b, l = windows.shape
        t = l - 1
        nh, nkv, hd = c["n_heads"], c["n_kv_heads"], self.hd
        group = nh // nkv
        cos, sin, bias = self.geometry(b, t)
        x = self.embed[windows[:, :t].reshape(-1)]                       # [B·T, d]
        scale = 1.0 / math.sqrt(hd)
        for blk in self.blocks:
            h = self.rms_norm(x, blk.attn_norm)
            q = (h @ blk.wq).reshape(b, t, nh, hd).transpose(1, 2)
            k = (h @ blk.wk).reshape(b, t, nkv, hd).transpose(1, 2)
            v = (h @ blk.wv).reshape(b, t, nkv, hd).transpose(1, 2)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            # query head i uses KV head i // group (wind: unsqueeze, repeat_dim, reshape)
            k = k.unsqueeze(2).expand(b, nkv, group, t, hd).reshape(b, nh, t, hd)
            v = v.unsqueeze(2).expand(b, nkv, group, t, hd).reshape(b, nh, t, hd)
            if self.sdpa:
                att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                scores = (q @ k.transpose(2, 3)) * scale + bias
                att = torch.softmax(scores, 3) @ v                          # [B, nh, T, hd]
            x = x + att.transpose(1, 2).reshape(b * t, nh * hd) @ blk.wo
            h = self.rms_norm(x, blk.ffn_norm)
            x = x + (F.silu(h @ blk.w_gate) * (h @ blk.w_up)) @ blk.w_down
        h = self.rms_norm(x, self.norm)
        logits = h @ (self.embed.t() if self.head is None else self.head)     # [B·T, V]
        tg = windows[:, 1:].reshape(-1, 1)
        return -torch.log_softmax(logits, 1).gather(1, tg).mean()


def bench_text(n: int = 20_000) -> torch.Tensor:
    """The synthetic token stream of bench.rs `lm()`: (i·7919 + i/13) mod 251."""
    i = torch.arange(n, dtype=torch.int64)
    return (i * 7919 + i // 13) % 251


def lm_twin(steps: int = 6, batch: int = 16, seq: int = 128, seed: int = 0, sdpa: bool = False,
            lr: float = 3e-3, threads: int | None = None) -> dict:
    """One warm-up SFT step, then `steps` timed steps; see the module doc."""
    nthreads = _threads(threads)
    gen = torch.Generator().manual_seed(seed)
    model = TinyLM(TINY, gen, sdpa=sdpa)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == rust_n_params(), (n_params, rust_n_params())
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS)
    text = bench_text()
    w = seq + 1
    total = steps + 1
    offs = torch.arange(w)

    def one(step: int) -> float:
        # wind's schedule with warm-up 0: lr·(0.1 + 0.9·½(1 + cos(π·step/steps)))
        p = step / total
        for gparam in opt.param_groups:
            gparam["lr"] = lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))
        s = torch.randint(0, len(text) - w, (batch,), generator=gen)
        windows = text[s[:, None] + offs[None, :]]                           # [B, seq+1]
        loss = model.lm_loss(windows)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        v = loss.item()
        opt.step()
        return v

    losses = [one(1)]                                  # warm-up
    times = []
    for st in range(2, total + 1):
        t0 = time.perf_counter()
        losses.append(one(st))
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return {
        "attention": "sdpa" if sdpa else "explicit softmax(QK^T/sqrt(d) + mask) V",
        "threads": nthreads,
        "steps": steps,
        "batch": batch,
        "seq": seq,
        "seconds_per_step": med,
        "seconds_per_step_mean": statistics.fmean(times),
        "tokens_per_s": batch * seq / med,
        "params": n_params,
        "params_rust": rust_n_params(),
        "loss_first": losses[0],
        "loss_last": losses[-1],
    }


# --------------------------------------------------------------------------------------------

def learning_check(game: dict, iters: int = 200, seed: int = 0, **kw) -> dict:
    """WIND-SQ, tabular: KL(π*‖π) after `iters` iterations against KL(π*‖π_ref)."""
    r = bandit_twin(game, "wind_sq", "tabular", iters, seed=seed, **kw)
    return {"kl_star_ref": kl_star(game, game["reference"]), "kl_star_final": r["kl_star"],
            "iters": iters + 1, "settings": {k: r[k] for k in ("batch", "steps", "lr", "eta")}}


def _load_game(path: str) -> dict:
    with open(path) as f:
        g = json.load(f)
    if g.get("pi_star") is None:
        g["pi_star"] = regularized_nash(g["pref"], g["reference"], g["beta"]).tolist()
    return g


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--game", help="game JSON exported by wind (default: random_game(20, 10, 8))")
    ap.add_argument("--iters", type=int, default=3, help="timed bandit iterations (bench: 20)")
    ap.add_argument("--lm-steps", type=int, default=2, help="timed LM steps (bench: 6)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--check", action="store_true", help="also run the learning check")
    ap.add_argument("--probs", action="store_true", help="keep the final policies in the output")
    a = ap.parse_args()
    game = _load_game(a.game) if a.game else random_game(20, 10, 8, seed=0)
    res = {"game": game["name"], "torch": torch.__version__,
           "threads": _threads(a.threads), "bandit": [], "lm": []}
    for cls in ("tabular", "log_linear", "mlp"):
        for method in ("wind_sq", "sppo"):
            r = bandit_twin(game, method, cls, a.iters, threads=a.threads)
            if not a.probs:
                r.pop("probs")
            r["iters_per_s"] = r["iters"] / r["seconds"]
            r["samples_per_s"] = r["samples"] / r["seconds"]
            r["steps_per_s"] = r["grad_steps"] / r["seconds"]
            res["bandit"].append(r)
    for sdpa in (False, True):
        res["lm"].append(lm_twin(steps=a.lm_steps, sdpa=sdpa, threads=a.threads))
    if a.check:
        res["learning_check"] = {
            "fig1_settings": learning_check(game, batch=256, steps=1, lr=0.1, eta=1.0,
                                            threads=a.threads),
            "bench_defaults": learning_check(game, threads=a.threads),
        }
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
