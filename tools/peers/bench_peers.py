#!/usr/bin/env python3
"""`just bench-peers`: wind against the Python peers, both sides alternately in one run.

The Rust side is `wind bench --serve` (crates/wind-cli/src/bench_serve.rs), kept running as a
subprocess that answers JSON requests, so process start-up is never inside a timed region. For
every task the two sides alternate within each round (wind first in odd rounds, the peers first in
even ones); each time is the median over all repetitions of all rounds. Every game is built once by
wind and exported as JSON, so both sides solve the same numbers; every accuracy is computed here
by the same numpy function for both sides.

Tasks and peers
  nash         exact symmetric Nash of one random cyclic game, n = 10 … 1000:
               scipy HiGHS LP, nashpy Lemke–Howson, pygambit lp_solve, OpenSpiel lp_solver (cvxopt);
               accuracy = exploitability max_i (A x)_i (0 at the equilibrium).
  regularized  π*_β (β = 0.1, uniform π_ref) = logit QRE at λ = 1/β, n = 10 … 1000:
               scipy.optimize.root with continuation in λ (tools/peers/peers.py `qre`), pygambit's
               logit path-follower, OpenSpiel MMD (small n only);
               accuracy = probability-space fixed-point residual max|x − softmax(λ·A·x)|.
  dynamics     one exact-WIND iteration over C contexts × n actions: numpy twins (einsum, and
               a batched BLAS matmul);
               plus the memory-bandwidth bound (payoff bytes / measured copy bandwidth);
               accuracy = max |Δ| between the two next iterates.
  bon          the reward-BoN operator with ties: a numpy twin; accuracy = max |Δ|.
  learner      WIND-SQ and SPPO on the fig1 bandit (20 × 10, 8 features) per policy class:
               the PyTorch CPU twin (tools/peers/torch_twins.py), same sizes, batch, optimizer,
               steps; accuracy = KL(π*_β ‖ π) after the timed iterations.
  lm_step      the tiny LM's training step (forward, backward, Adam; batch 16 × 128): the PyTorch
               twin; accuracy = none (the first-step losses are reported in the note).

Writes results/bench/ratios.csv (one row per task × size × peer: wind seconds, peer seconds,
ratio = wind / peer, both accuracies, the goal and whether it is met), results/bench/raw.csv
(every repetition) and results/bench/machine.json, each atomically. `--table` prints the README
table from ratios.csv; `--readme README.md` rewrites the block between the bench-table markers.
"""
import argparse, csv, datetime, io, json, os, platform, subprocess, sys, time
from pathlib import Path
import importlib.metadata as md
import numpy as np
import warnings

warnings.filterwarnings("ignore", category=RuntimeWarning)   # peers' overflow chatter (nashpy)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

PEER_BUDGET_S = 30.0   # a peer whose single run exceeds this is not run at larger sizes
TASKS = ("nash", "regularized", "dynamics", "bon", "learners", "lm")
FIELDS = ["task", "size", "peer", "wind_s", "peer_s", "ratio", "wind_accuracy", "peer_accuracy",
          "accuracy_metric", "goal", "met", "note"]


# ---------------------------------------------------------------- the Rust side
class Wind:
    def __init__(self, exe):
        self.p = subprocess.Popen([exe, "bench", "--serve"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, cwd=ROOT)

    def ask(self, **req):
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise SystemExit(f"wind bench --serve exited (request {req.get('op')})")
        ans = json.loads(line)
        if "error" in ans:
            raise SystemExit(f"wind bench --serve: {req.get('op')}: {ans['error']}")
        return ans

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


# ---------------------------------------------------------------- accuracy (shared by both sides)
def skew(game, x=0):
    return np.asarray(game["pref"][x], float) - 0.5


def exploitability(a, x):
    return float((a @ np.asarray(x, float)).max())


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def qre_residual(a, beta, x):
    x = np.asarray(x, float)
    return float(np.abs(x - softmax((a @ x) / beta)).max())


def kl_star(game, probs):
    s, p = np.asarray(game["pi_star"], float), np.maximum(np.asarray(probs, float), 1e-300)
    rho = np.asarray(game["rho"], float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(s > 0, s * (np.log(s) - np.log(p)), 0.0)
    return float((rho * t.sum(axis=1)).sum())


# ---------------------------------------------------------------- peers
class Own:
    """A peer result that carries its own timing (a twin that excludes its set-up and warm-up,
    as the wind side does)."""
    def __init__(self, value, seconds):
        self.value, self.seconds = value, seconds


class PeerTimeout(Exception):
    pass


def _alarm(_sig, _frm):
    raise PeerTimeout()


def timed(fn, reps, limit=None):
    """Time `reps` calls; a call running past `limit` seconds (default 4 × PEER_BUDGET_S) is
    interrupted with PeerTimeout (signal-based: interrupts Python-level loops such as nashpy's)."""
    import signal
    out, ts = None, []
    for _ in range(reps):
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, limit or 4 * PEER_BUDGET_S)
        t = time.perf_counter()
        try:
            out = fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        dt = time.perf_counter() - t
        if isinstance(out, Own):
            out, dt = out.value, out.seconds
        ts.append(dt)
    return ts, out


def nash_peers(a):
    from peers import nash_highs
    n = a.shape[0]
    peers = {"scipy_highs": lambda: nash_highs(a)[0]}

    def nashpy_lh():
        import nashpy
        r, _c = nashpy.Game(a, -a).lemke_howson(initial_dropped_label=0)
        return np.asarray(r, float)
    peers["nashpy_lemke_howson"] = nashpy_lh

    try:
        import pygambit as gbt
        g = gbt.Game.from_arrays(a, -a)      # built outside the timed call, as wind's game is

        def gambit_lp():
            eq = gbt.nash.lp_solve(g, rational=False).equilibria[0]
            p = list(g.players)[0]
            return np.array([float(eq[p][s]) for s in p.strategies])
        peers["pygambit_lp"] = gambit_lp
    except ImportError:
        pass
    try:
        import pyspiel
        from open_spiel.python.algorithms import lp_solver
        mg = pyspiel.create_matrix_game(a.tolist(), (-a).tolist())

        def openspiel_lp():
            return np.asarray(lp_solver.solve_zero_sum_matrix_game(mg)[0], float).ravel()
        peers["openspiel_lp"] = openspiel_lp
    except ImportError:
        pass
    return peers


def regularized_peers(a, beta, n):
    from peers import qre
    peers = {"scipy_root": lambda: np.asarray(qre(a, beta)[0])}
    try:
        import pygambit as gbt
        g = gbt.Game.from_arrays(a, -a)

        def gambit_logit():
            (q,) = gbt.qre.logit_solve_lambda(g, 1.0 / beta)
            p = list(g.players)[0]
            return np.array([float(q.profile[p][s]) for s in p.strategies])
        peers["pygambit_logit"] = gambit_logit
    except ImportError:
        pass
    if n <= 10:
        try:
            from peers import qre_openspiel_mmd
            peers["openspiel_mmd"] = lambda: np.asarray(qre_openspiel_mmd(a, beta)["pi"])
        except ImportError:
            pass
    return peers


def numpy_wind_iter(a3, logref, logpi, beta, eta, blas=False):
    """One exact-WIND step (SPEC §5): log π' = (1−ηβ)·log π + ηβ·log π_ref + η·w_π − log Z.
    `blas`: the payoff product as a batched matmul (numpy's BLAS, multi-threaded) instead of
    einsum (one thread)."""
    p = np.exp(logpi)
    w = 0.5 + (np.matmul(a3, p[..., None])[..., 0] if blas else np.einsum("cij,cj->ci", a3, p))
    z = (1 - eta * beta) * logpi + eta * beta * logref + eta * w
    z -= z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def numpy_bon(probs, rewards, n):
    """Reward BoN with exact ties: group mass × (F(r)^N − F(r⁻)^N) shared in proportion to π."""
    p, r = np.asarray(probs, float), np.asarray(rewards, float)
    levels, inv = np.unique(r, return_inverse=True)
    mass = np.bincount(inv, weights=p, minlength=len(levels))
    hi = np.cumsum(mass)
    lo = hi - mass
    bon = hi ** n - lo ** n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mass[inv] > 0, bon[inv] * p / mass[inv], 0.0)


# ---------------------------------------------------------------- the run
class Run:
    def __init__(self, args):
        self.args, self.rows, self.raw = args, [], []
        self.wind = Wind(args.wind)
        self.dead = set()          # (task, peer) over budget at a smaller size
        self.seen = {}             # (task, peer) → (n, median seconds) at the last size run
        self.tmp = ROOT / "target" / "bench-peers"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def game(self, gid, spec, beta, reference=None, seed=1):
        out = self.tmp / f"{gid}.json"
        self.wind.ask(op="game", id=gid, game=spec, reference=reference or {"kind": "uniform"},
                      seed=seed, beta=beta, out=str(out))
        return json.loads(out.read_text())

    def alternate(self, task, size, wind_call, peers, reps, n=None):
        """Run wind_call() (→ (seconds list, result)) and every peer (→ callable) alternately over
        the rounds; returns (wind median, wind result, {peer: (median, result, note)}).
        With `n` (the game size), a peer whose time at the previous size, scaled by (n/n_prev)³,
        predicts more than the hard limit is not started (a solver in C cannot be interrupted)."""
        wt, wres, pt, pres, notes, first = [], None, {k: [] for k in peers}, {}, {}, {}
        if n is not None:
            for who in peers:
                prev = self.seen.get((task, who))
                if prev and (task, who) not in self.dead:
                    guess = prev[1] * (n / prev[0]) ** 3
                    if guess > 4 * PEER_BUDGET_S:
                        self.dead.add((task, who))
                        notes[who] = (f"not run: {prev[1]:.1f} s at n = {prev[0]} predicts "
                                      f"≈ {guess:.0f} s here (n³), over the {4 * PEER_BUDGET_S:.0f} s limit")
        for rnd in range(self.args.rounds):
            order = ["wind"] + list(peers) if rnd % 2 == 0 else list(peers) + ["wind"]
            for who in order:
                if who == "wind":
                    t, wres = wind_call()
                    wt += t
                    continue
                if (task, who) in self.dead or (task, size, who) in self.dead:
                    continue
                try:
                    if rnd == 0:     # one call first: its time sets this peer's repetitions
                        t, pres[who] = timed(peers[who], 1)
                        first[who] = t[0]
                        more = min(reps, max(1, int(PEER_BUDGET_S / max(t[0], 1e-9)))) - 1
                        if more > 0 and t[0] <= PEER_BUDGET_S:
                            t2, pres[who] = timed(peers[who], more)
                            t += t2
                    else:
                        k = min(reps, max(1, int(PEER_BUDGET_S / max(first[who], 1e-9))))
                        t, pres[who] = timed(peers[who], k)
                    pt[who] += t
                    if t[0] > PEER_BUDGET_S and n is not None:
                        self.dead.add((task, who))
                        notes[who] = f"one run took {t[0]:.0f} s > {PEER_BUDGET_S:.0f} s: not run at larger sizes"
                except PeerTimeout:
                    notes[who] = f"stopped after {4 * PEER_BUDGET_S:.0f} s without an answer"
                    self.dead.add((task, who) if n is not None else (task, size, who))
                except Exception as e:       # a failing peer is recorded, not hidden
                    notes[who] = f"failed: {type(e).__name__}: {str(e)[:80]}"
                    self.dead.add((task, who) if n is not None else (task, size, who))
        for k, v in [("wind", wt)] + list(pt.items()):
            for i, s in enumerate(v):
                self.raw.append({"task": task, "size": size, "side": k, "rep": i, "seconds": s})
        if n is not None:
            for k, v in pt.items():
                if v:
                    self.seen[(task, k)] = (n, float(np.median(v)))
        res = {k: (float(np.median(v)), pres.get(k), notes.get(k, "")) for k, v in pt.items() if v}
        for k in peers:
            if k not in res and k in notes:
                res[k] = (float("nan"), None, notes[k])
        return float(np.median(wt)), wres, res

    def row(self, task, size, peer, wind_s, peer_s, wacc, pacc, metric, goal, met, note=""):
        ratio = wind_s / peer_s if peer_s == peer_s and peer_s > 0 else float("nan")
        self.rows.append({"task": task, "size": size, "peer": peer, "wind_s": f"{wind_s:.6g}",
                          "peer_s": f"{peer_s:.6g}", "ratio": f"{ratio:.4g}",
                          "wind_accuracy": "" if wacc is None else f"{wacc:.3g}",
                          "peer_accuracy": "" if pacc is None else f"{pacc:.3g}",
                          "accuracy_metric": metric, "goal": goal,
                          "met": "" if met is None else ("yes" if met else "no"), "note": note})
        print(f"  {task:<12} {size:<26} {peer:<22} wind {wind_s:10.4g} s  peer {peer_s:10.4g} s"
              f"  ratio {ratio:8.3g}  acc {wacc if wacc is None else f'{wacc:.1e}'} / "
              f"{pacc if pacc is None else f'{pacc:.1e}'}  {note}", flush=True)

    def exact_goal_rows(self, task, size, wind_s, wacc, res, acc_fn, metric, tol):
        """One row per peer; the goal row compares with the fastest peer whose accuracy is
        within `tol` (or better than wind's)."""
        ok = {k: v for k, v in res.items() if v[1] is not None}
        accs = {k: acc_fn(v[1]) for k, v in ok.items()}
        fastest = min((k for k in ok if accs[k] <= max(tol, wacc)), key=lambda k: ok[k][0], default=None)
        if fastest is None:
            self.row(task, size, "(no peer)", wind_s, float("nan"), wacc, None, metric,
                     "≤ 0.5 × fastest peer at equal or better accuracy", None,
                     "no peer reached the accuracy tolerance within the time limits")
        for k, (s, r, note) in res.items():
            if r is None:
                self.row(task, size, k, wind_s, float("nan"), wacc, None, metric, "", None, note)
                continue
            is_f = k == fastest
            goal = "≤ 0.5 × fastest peer at equal or better accuracy" if is_f else ""
            met = (wind_s <= 0.5 * s and wacc <= max(accs[k], tol)) if is_f else None
            self.row(task, size, k, wind_s, s, wacc, accs[k], metric, goal, met,
                     (note + ("; fastest accurate peer" if is_f else "")).strip("; "))

    # ---- tasks
    def nash(self):
        for n in self.args.sizes:
            g = self.game(f"nash{n}", {"kind": "cyclic", "contexts": 1, "actions": n, "scale": 3.0}, 0.1)
            a = skew(g)
            reps = 20 if n <= 100 else 5 if n <= 300 else 3
            wind_call = lambda: (lambda r: (r["seconds"], np.asarray(r["solution"])))(
                self.wind.ask(op="nash", id=f"nash{n}", reps=reps))
            ws, wres, res = self.alternate("nash", f"n={n}", wind_call, nash_peers(a), reps, n=n)
            self.exact_goal_rows("nash", f"n={n}", ws, exploitability(a, wres), res,
                                 lambda x: exploitability(a, x), "exploitability", 1e-9)

    def regularized(self, beta=0.1):
        for n in self.args.sizes:
            gid = f"nash{n}"
            g = json.loads((self.tmp / f"{gid}.json").read_text())
            a = skew(g)
            reps = 20 if n <= 100 else 5 if n <= 300 else 3
            wind_call = lambda: (lambda r: (r["seconds"], np.asarray(r["solution"][0])))(
                self.wind.ask(op="regularized", id=gid, beta=beta, reps=reps))
            ws, wres, res = self.alternate("regularized", f"n={n} β={beta}", wind_call,
                                           regularized_peers(a, beta, n), reps, n=n)
            self.exact_goal_rows("regularized", f"n={n} β={beta}", ws, qre_residual(a, beta, wres),
                                 res, lambda x: qre_residual(a, beta, x), "fixed-point residual", 1e-12)

    def dynamics(self):
        bw = self.wind.ask(op="copy", mib=256, reps=5)
        t_copy = min(float(np.median(bw["copy_seconds"])), float(np.median(bw["copy2_seconds"])))
        t_sum = float(np.median(bw["sum_seconds"]))
        copy_bw = 2 * bw["bytes"] / t_copy       # STREAM convention: bytes read + bytes written
        read_bw = bw["bytes"] / t_sum
        src = np.arange(bw["bytes"] // 8, dtype=float)
        dst = np.empty_like(src)
        np_copy = float(np.median(timed(lambda: np.copyto(dst, src), 5)[0]))
        self.machine["copy_bandwidth_GBps"] = copy_bw / 1e9
        self.machine["read_bandwidth_GBps (wind sum)"] = read_bw / 1e9
        self.machine["copy_bandwidth_note"] = ("the faster of a 1-thread and a 2-thread copy of "
                                               f"{bw['bytes'] >> 20} MiB, 2 × bytes / time")
        self.machine["numpy_copy_bandwidth_GBps"] = 2 * bw["bytes"] / np_copy / 1e9
        print(f"  memory: copy {copy_bw/1e9:.2f} GB/s (wind), {2*bw['bytes']/np_copy/1e9:.2f} GB/s (numpy); "
              f"read-only sum {read_bw/1e9:.2f} GB/s", flush=True)
        del src, dst
        for c, n in self.args.dyn_sizes:
            gid = f"dyn{c}x{n}"
            beta, eta = 0.1, 1.0
            g = self.game(gid, {"kind": "cyclic", "contexts": c, "actions": n, "scale": 3.0}, beta, seed=2)
            a3 = np.asarray(g["pref"], float) - 0.5
            logref = np.log(np.asarray(g["reference"], float))
            reps = 20
            wind_call = lambda: (lambda r: (r["seconds"], np.asarray(r["probs"])))(
                self.wind.ask(op="dynamics", id=gid, reps=reps,
                              method={"kind": "wind", "g": "identity", "eta": eta}))
            peers = {"numpy_einsum": lambda: np.exp(numpy_wind_iter(a3, logref, logref, beta, eta)),
                     "numpy_matmul": lambda: np.exp(numpy_wind_iter(a3, logref, logref, beta, eta, True))}
            ws, wres, res = self.alternate("dynamics", f"wind C={c} n={n}", wind_call, peers, reps)
            for peer in peers:
                s, r, note = res.get(peer, (float("nan"), None, "no result"))
                diff = float(np.abs(wres - r).max()) if r is not None else None
                self.row("dynamics", f"wind C={c} n={n}", peer, ws, s, diff, diff,
                         "max |Δ| between iterates", "", None, note)
            nbytes = c * n * n * 8
            bound = nbytes / copy_bw
            self.row("dynamics", f"wind C={c} n={n}", "memory_bound", ws, bound, None, None,
                     f"bound = {nbytes/2**20:.0f} MiB payoff / copy bandwidth", "≤ 2 × memory bound",
                     ws <= 2 * bound, f"{nbytes / ws / 1e9:.2f} GB/s of payoff read")

    def bon(self):
        rng = np.random.default_rng(7)
        for n_act in [100, 1000, 10000]:
            for big_n in [2, 16, 256]:
                p = rng.dirichlet(np.ones(n_act))
                r = rng.integers(0, max(2, n_act // 10), n_act).astype(float)   # ~10 per tie group
                reps = 50
                wind_call = lambda: (lambda x: (x["seconds"], np.asarray(x["solution"])))(
                    self.wind.ask(op="bon", probs=p.tolist(), rewards=r.tolist(), n=big_n, reps=reps))
                ws, wres, res = self.alternate("bon", f"n={n_act} N={big_n} ties",
                                               wind_call, {"numpy": lambda: numpy_bon(p, r, big_n)}, reps)
                s, x, note = res.get("numpy", (float("nan"), None, "no result"))
                d = float(np.abs(wres - x).max()) if x is not None else None
                self.row("bon", f"n={n_act} N={big_n} ties", "numpy", ws, s, d, d, "max |Δ|", "", None, note)

    def learners(self):
        import torch_twins
        g = self.game("fig1", {"kind": "contextual", "contexts": 20, "actions": 10, "dim": 8,
                               "lambda": 0.5, "temperature": 1.0, "scale": 3.0}, 0.1,
                      reference={"kind": "softmax_gaussian", "sigma": 1.0}, seed=0)
        settings = {"wind_sq": dict(eta=1.0, batch=256, steps=1, lr=0.1),
                    "sppo": dict(eta=0.3, k=5, batch=64, steps=2, lr=0.1)}   # experiments/fig1.toml
        for cls in ["tabular", "log_linear", "mlp"]:
            for method, kw in settings.items():
                iters = self.args.learner_iters
                wind_call = lambda: (lambda r: ([r["seconds"] / r["iters"]], r))(
                    self.wind.ask(op="learner", id="fig1", method=method, **{"class": cls},
                                  iters=iters, seed=0, **kw))
                peers = {"pytorch_cpu": lambda: (lambda r: Own(r, r["seconds"] / r["iters"]))(
                    torch_twins.bandit_twin(g, method, cls, iters, seed=0, **kw))}
                ws, wres, res = self.alternate("learner", f"{method} {cls}", wind_call, peers, 1)
                s, r, note = res.get("pytorch_cpu", (float("nan"), None, "no result"))
                self.row("learner", f"{method} {cls}", "pytorch_cpu", ws, s,
                         kl_star(g, wres["probs"]), kl_star(g, r["probs"]) if r else None,
                         f"KL(π*‖π) after {iters + 1} iterations; seconds per iteration",
                         "≤ 0.5 × PyTorch twin (same work)", ws <= 0.5 * s if r else None,
                         (note + "; one seed each side: accuracies agree in law, not draw by draw").strip("; "))

    def lm(self):
        import torch_twins
        wind_call = lambda: (lambda r: (r["seconds"], r))(
            self.wind.ask(op="lm_step", steps=self.args.lm_steps, batch=16, seq=128))
        peers = {"pytorch_cpu": lambda: (lambda r: Own(r, r["seconds_per_step"]))(
            torch_twins.lm_twin(steps=self.args.lm_steps, batch=16, seq=128))}
        ws, wres, res = self.alternate("lm_step", "tiny 0.82M, 16×128", wind_call, peers, 1)
        s, r, note = res.get("pytorch_cpu", (float("nan"), None, "no result"))
        if r and r.get("params") != wres["params"]:
            note = f"parameter counts differ: wind {wres['params']}, torch {r.get('params')}"
        self.row("lm_step", "tiny 0.82M, 16×128", "pytorch_cpu", ws, s, None, None,
                 f"seconds per step ({wres['params']} parameters both sides)",
                 "≤ 1 × PyTorch CPU", ws <= s if r else None, note)

    def run(self):
        self.machine = machine_info(self.args)
        order = ["nash", "regularized", "dynamics", "bon", "learners", "lm"]
        tasks = [t for t in order if t in self.args.tasks]
        print(f"bench-peers: {self.args.rounds} rounds, tasks {', '.join(tasks)}", flush=True)
        done = False
        try:
            for t in tasks:
                getattr(self, t)()
            done = True
        finally:
            try:
                self.wind.close()
            except Exception:
                self.wind.p.kill()
            out = ROOT / self.args.out
            if not done:   # never replace earlier complete results with a partial run
                self.machine["partial"] = True
                out = out / "partial"
            out.mkdir(parents=True, exist_ok=True)
            write_csv(out / "ratios.csv", FIELDS, self.rows)
            write_csv(out / "raw.csv", ["task", "size", "side", "rep", "seconds"], self.raw)
            atomic_write(out / "machine.json", json.dumps(self.machine, indent=1, ensure_ascii=False) + "\n")
            print(f"wrote {out}/ratios.csv ({len(self.rows)} rows{'' if done else ', PARTIAL: a task failed'}), raw.csv, machine.json")
        print()
        print(table(ROOT / self.args.out / "ratios.csv", ROOT / self.args.out / "machine.json"), end="")


def machine_info(args):
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    vers = {}
    for p in ["numpy", "scipy", "nashpy", "pygambit", "open_spiel", "cvxopt", "torch"]:
        try:
            vers[p] = md.version(p)
        except md.PackageNotFoundError:
            vers[p] = None
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "commit": commit, "rounds": args.rounds, "versions": vers}


def atomic_write(path, text):
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text)
    tmp.replace(path)


def write_csv(path, fields, rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write(path, buf.getvalue())


# ---------------------------------------------------------------- the README table
def table(ratios, machine):
    rows = list(csv.DictReader(open(ratios)))
    m = json.loads(Path(machine).read_text()) if Path(machine).exists() else {}
    out = []
    if m:
        v = m.get("versions", {})
        out.append(f"Measured {m.get('date')} on {m.get('cpu')} ({m.get('cores')} cores), commit "
                   f"{m.get('commit')}, {m.get('rounds')} alternating rounds; peers: "
                   + ", ".join(f"{k} {x}" for k, x in v.items() if x) + ". "
                   + (f"Copy bandwidth {m['copy_bandwidth_GBps']:.1f} GB/s (read+write, STREAM "
                      f"convention), read-only {m['read_bandwidth_GBps (wind sum)']:.1f} GB/s."
                      if "copy_bandwidth_GBps" in m else ""))
        out.append("")
    out.append("| task | size | peer | wind (s) | peer (s) | wind/peer | wind accuracy | peer accuracy | goal | met |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        note = f" ({r['note']})" if r["note"] else ""
        out.append(f"| {r['task']} | {r['size']} | {r['peer']}{note} | {float(r['wind_s']):.3g} | "
                   f"{float(r['peer_s']):.3g} | {r['ratio']} | {r['wind_accuracy']} | {r['peer_accuracy']} | "
                   f"{r['goal']} | {r['met']} |")
    metrics = sorted({(r["task"], r["accuracy_metric"]) for r in rows})
    out.append("")
    out.append("Accuracy: " + "; ".join(f"{t}: {mt}" for t, mt in metrics) + ".")
    return "\n".join(out) + "\n"


START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"


def update_readme(readme, text):
    s = Path(readme).read_text()
    if START not in s or END not in s:
        raise SystemExit(f"{readme}: no {START} … {END} block to replace")
    head, rest = s.split(START, 1)
    _, tail = rest.split(END, 1)
    atomic_write(Path(readme), head + START + "\n" + text + END + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    pos = lambda lo: (lambda v: int(v) if int(v) >= lo else ap.error(f"must be ≥ {lo}: {v}"))
    ap.add_argument("--wind", default=str(ROOT / "target" / "release" / "wind"),
                    help="the wind binary (default: target/release/wind)")
    ap.add_argument("--rounds", type=pos(1), default=3, help="alternating rounds (default 3)")
    ap.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS),
                    help="tasks to run (default: all)")
    ap.add_argument("--sizes", type=pos(2), nargs="+", default=[10, 30, 100, 300, 1000],
                    help="action counts of the nash and regularized tasks")
    ap.add_argument("--dyn-sizes", type=lambda s: tuple(int(v) for v in s.split("x")), nargs="+",
                    default=[(10, 100), (100, 300), (10, 1000)],
                    help="CxN sizes of the dynamics task (default 10x100 100x300 10x1000)")
    ap.add_argument("--learner-iters", type=pos(1), default=100, help="timed learner iterations")
    ap.add_argument("--lm-steps", type=pos(1), default=5, help="timed tiny-LM steps")
    ap.add_argument("--out", default="results/bench",
                    help="output folder, relative to the repository root (default results/bench)")
    ap.add_argument("--table", action="store_true", help="print the README table from OUT/ratios.csv")
    ap.add_argument("--readme", help="rewrite the bench-table block of this README from OUT/ratios.csv")
    args = ap.parse_args()
    out = ROOT / args.out
    if args.table or args.readme:
        if not (out / "ratios.csv").is_file():
            raise SystemExit(f"error: {out / 'ratios.csv'} does not exist (run `just bench-peers` first)")
        t = table(out / "ratios.csv", out / "machine.json")
        if args.readme:
            update_readme(args.readme, t)
        else:
            print(t, end="")
        return
    try:   # fail now, not after the benchmark
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise SystemExit(f"error: cannot write to the output folder {out}: {e}")
    if not Path(args.wind).is_file():
        raise SystemExit(f"error: {args.wind} not found (build it with `cargo build --release`)")
    if "regularized" in args.tasks and "nash" not in args.tasks:
        args.tasks.append("nash")   # regularized reuses nash's exported games (run first)
    Run(args).run()


if __name__ == "__main__":
    main()
