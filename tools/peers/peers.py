#!/usr/bin/env python3
"""Reference values from solvers nobody in this project wrote, for `wind`'s cross-checks.

For a fixed catalogue of symmetric zero-sum (skew) preference games, computes
  * Nash equilibria with scipy's HiGHS LP, nashpy (support enumeration, small games),
    pygambit (enummixed / lcp) and OpenSpiel's lp_solver (where each is installed), and
  * the logit QRE at λ = 1/β with uniform reference — which equals wind's π*_β — three ways:
      - scipy.optimize.root on the QRE equations x = softmax(λ·A·x), polished to 1e-15;
      - OpenSpiel's magnetic mirror descent (mmd_dilated.MMDDilatedEnt, alpha = β, uniform
        magnet, OpenSpiel's default stepsize α/max|A|²) on the turn-based form of the matrix
        game, iterated until the QRE fixed-point residual of the last iterate reaches the
        rounding floor of the iteration (1e-15 … 2.5e-13, see qre_openspiel_mmd);
      - pygambit's logit QRE path-follower (pygambit.qre.logit_solve_lambda) at λ = 1/β.
Writes tests/fixtures/peers/peers.json (committed, so CI needs no Python).

Run through `just peers` (creates a venv and installs tools/peers/requirements.txt). The MMD
runs take tens of minutes (~1e5 updates per game at β = 0.01); set PEERS_CACHE=some/file.json to
let an interrupted run resume where it stopped.
"""
import json, sys, importlib.metadata as md
from pathlib import Path
import numpy as np
from scipy.optimize import linprog, root

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "peers" / "peers.json"


def skew_from_table(rows):
    a = np.array(rows, dtype=float)
    return a / (2 * np.abs(a).max())  # P = ½ + A/(2 max|A|), as SPEC §2


def catalogue():
    g = []
    rps = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]
    g.append(("rps", skew_from_table(rps)))
    g.append(("biased_rps", skew_from_table([[0, -0.25, 0.5], [0.25, 0, -0.05], [-0.5, 0.05, 0]])))
    g.append(("perturbed_rps", skew_from_table([[0, -1, 3], [1, 0, -3], [-3, 3, 0]])))
    case1 = [[0,-1,-1,-1,1,-1],[1,0,1,-1,-1,-1],[1,-1,0,-1,-1,1],[1,1,1,0,-1,-1],[-1,1,1,1,0,-1],[1,1,-1,1,1,0]]
    g.append(("public_case1", np.array(case1, float) / 2))   # P = (1 + A)/2
    case2 = [[0,1,0,-1],[-1,0,1,1],[0,-1,0,1],[1,-1,-1,0]]
    g.append(("public_case2_segment", np.array(case2, float) / 2))
    dup = [[0, 0, -1, 1], [0, 0, -1, 1], [1, 1, 0, -1], [-1, -1, 1, 0]]  # rock listed twice
    g.append(("public_case3_duplicate_rock", np.array(dup, float) / 2))
    rng = np.random.default_rng(20261203)
    for n in [5, 10, 20, 50]:
        z = np.triu(rng.standard_normal((n, n)), 1)
        a = 0.5 * np.tanh(3.0 * (z - z.T))   # P = ½ + ½·tanh(s·A), s = 3
        g.append((f"random_cyclic_{n}", a))
    return g


def exploitability(a, x):
    return float((a @ x).max())


def nash_highs(a):
    n = a.shape[0]
    # find x ≥ 0, Σx = 1 with (A x)_i ≤ v for all i, minimise v (value 0 for skew games)
    c = np.zeros(n + 1); c[-1] = 1.0
    a_ub = np.hstack([a, -np.ones((n, 1))]); b_ub = np.zeros(n)
    a_eq = np.hstack([np.ones((1, n)), np.zeros((1, 1))])
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0],
                  bounds=[(0, None)] * n + [(None, None)], method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    x = np.clip(res.x[:n], 0, None); x /= x.sum()
    return [x.tolist()]


def nash_nashpy(a):
    import nashpy
    if a.shape[0] > 8:
        return None
    eqs = []
    for r, _c in nashpy.Game(a, -a).support_enumeration(tol=1e-12):
        eqs.append(np.asarray(r, float).tolist())
    return eqs


def nash_gambit(a):
    import pygambit as gbt
    game = gbt.Game.from_arrays(a, -a)
    solver = gbt.nash.enummixed_solve if a.shape[0] <= 10 else gbt.nash.lcp_solve
    res = solver(game, rational=False)
    out = []
    for eq in res.equilibria:
        p = list(game.players)[0]
        out.append([float(eq[p][s]) for s in p.strategies])
    return out


def nash_openspiel(a):
    import pyspiel
    from open_spiel.python.algorithms import lp_solver
    game = pyspiel.create_matrix_game(a.tolist(), (-a).tolist())
    p0, _p1, _v0, _v1 = lp_solver.solve_zero_sum_matrix_game(game)
    return [np.asarray(p0, float).ravel().tolist()]


def qre(a, beta):
    lam = 1.0 / beta
    n = a.shape[0]

    def f(u):  # u = log x; residual of u = λ·A·x − lse(λ·A·x)
        x = np.exp(u - u.max()); x /= x.sum()
        z = lam * (a @ x)
        return u - (z - (z.max() + np.log(np.exp(z - z.max()).sum())))

    u = np.full(n, -np.log(n))
    # continuation in λ for small β
    for l in np.geomspace(min(1.0, lam), lam, 30):
        def g(u, l=l):
            x = np.exp(u - u.max()); x /= x.sum()
            z = l * (a @ x)
            return u - (z - (z.max() + np.log(np.exp(z - z.max()).sum())))
        u = root(g, u, method="hybr", tol=1e-15).x
    r = float(np.abs(f(u)).max())
    x = np.exp(u - u.max()); x /= x.sum()
    return x.tolist(), r


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def qre_residuals(a, lam, x, y):
    """Fixed-point residuals of the two-player logit QRE of the zero-sum game (A, −A) at λ:
    x = softmax(λ·A·y), y = softmax(−λ·Aᵀ·x). Returns (max-abs in probabilities, max-abs in logs)."""
    bx, by = _softmax(lam * (a @ y)), _softmax(-lam * (a.T @ x))
    rp = max(np.abs(x - bx).max(), np.abs(y - by).max())
    with np.errstate(divide="ignore"):
        rl = max(np.abs(np.log(x) - np.log(bx)).max(), np.abs(np.log(y) - np.log(by)).max())
    return float(rp), float(rl)


MMD_FLOOR = 1e-16        # per-update rounding in MMD's log-domain update ...
MMD_TOL_MIN = 1e-15      # ... amplified by 1/(η·α): stop at residual ≤ max(MMD_TOL_MIN, MMD_FLOOR/(η·α))
MMD_STALL = 10_000       # or once the best residual has not halved in this many updates (the floor)
MMD_MAX_ITER = 400_000   # safety cap; the default stepsize needs ~1e5 updates at β = 0.01
MMD_CHECK = 100          # residual checked every MMD_CHECK updates
MMD_SAVE = 2_000         # with $PEERS_CACHE set, the MMD state is saved every MMD_SAVE updates


def qre_openspiel_mmd(a, beta, checkpoint=None):
    """OpenSpiel MMD (dilated entropy, alpha = β, uniform magnet = uniform start) on the
    turn-based form of the matrix game; for a one-shot game the sequence form is the normal form
    and the dilated entropy is the plain entropy, so MMD's fixed point is the logit QRE at λ = 1/β
    (for any stepsize; OpenSpiel's default α/max|A|² is kept).

    `checkpoint`, if given, is a (load, save) pair through which the iteration state (MMD's
    sequences, which alone determine its next update, and the stopping bookkeeping) is saved
    every MMD_SAVE updates and resumed from, so an interrupted run continues bit for bit."""
    import pyspiel
    from open_spiel.python.algorithms import mmd_dilated
    from open_spiel.python.algorithms import exploitability as os_exploitability
    beta = float(beta)
    game = pyspiel.convert_to_turn_based(pyspiel.create_matrix_game(a.tolist(), (-a).tolist()))
    mmd = mmd_dilated.MMDDilatedEnt(game, alpha=beta)   # stepsize None: OpenSpiel's default
    n = a.shape[0]
    root = game.new_initial_state()
    p1_state = root.child(root.legal_actions()[0])       # player 1's single information set

    def current():
        pol = mmd.get_policies()
        px, py = pol.action_probabilities(root), pol.action_probabilities(p1_state)
        return pol, np.array([px[i] for i in range(n)]), np.array([py[i] for i in range(n)])

    # MMD contracts by ~1/(1 + η·α) per update, so rounding noise of ~1e-16 per update settles at
    # ~1e-16/(η·α) (2.5e-13 at β = 0.01 with the default η): iterate down to that floor.
    tol = max(MMD_TOL_MIN, MMD_FLOOR / (mmd.stepsize * beta))
    updates = 0
    _pol, x, y = current()
    best = qre_residuals(a, 1.0 / beta, x, y)[0]
    halved_at, halved_best = 0, best   # MMD spirals in cyclic games: the residual is not monotone
    state = checkpoint[0]() if checkpoint else None
    if state:
        mmd.sequences = [np.array(q, float) for q in state["sequences"]]
        mmd.iteration_count += state["updates"]
        updates, best, halved_at, halved_best = (state[k] for k in ("updates", "best", "halved_at", "halved_best"))
    while best > tol and updates < MMD_MAX_ITER and updates - halved_at < MMD_STALL:
        for _ in range(MMD_CHECK):
            mmd.update_sequences()
        updates += MMD_CHECK
        _pol, x, y = current()
        best = min(best, qre_residuals(a, 1.0 / beta, x, y)[0])
        if best <= halved_best / 2:
            halved_at, halved_best = updates, best
        if checkpoint and updates % MMD_SAVE == 0:
            checkpoint[1]({"sequences": [q.tolist() for q in mmd.sequences], "updates": updates,
                           "best": best, "halved_at": halved_at, "halved_best": halved_best})
    pol, x, y = current()
    rp, rl = qre_residuals(a, 1.0 / beta, x, y)
    return {"pi": x.tolist(), "pi_p1": y.tolist(), "iterations": updates,
            "stepsize": float(mmd.stepsize), "tolerance": tol, "residual": rp, "log_residual": rl,
            "gap": float(mmd.get_gap()),
            "nash_conv": float(os_exploitability.nash_conv(game, pol))}


def cached(fn, *args, tag):
    """fn(*args, checkpoint=…), memoised — result and in-progress state — in the JSON file named
    by $PEERS_CACHE if set (opt-in; off by default). The key holds the function, its inputs, the
    MMD settings and the peers' versions, so a stale entry is not picked up; it only lets a long
    run resume after an interruption."""
    import hashlib, os
    path = os.environ.get("PEERS_CACHE")
    if not path:
        return fn(*args)
    key = hashlib.sha256(repr((tag, [np.asarray(x, float).tobytes().hex() for x in args],
                               MMD_FLOOR, MMD_TOL_MIN, MMD_STALL, MMD_MAX_ITER, MMD_CHECK,
                               version("open_spiel"), version("numpy"))).encode()).hexdigest()
    p = Path(path)

    def load():
        return json.loads(p.read_text()) if p.exists() else {}

    def store(k, v):
        cache = load()
        cache[k] = v
        tmp = p.with_name(p.name + ".partial")
        tmp.write_text(json.dumps(cache))
        tmp.replace(p)

    done = load().get(key)
    if done is None:
        done = fn(*args, checkpoint=(lambda: load().get(key + ":state"), lambda st: store(key + ":state", st)))
        store(key, done)
    return done


def qre_gambit(a, beta):
    """pygambit's logit QRE: traces the principal branch from the centroid (λ = 0) to λ = 1/β.
    Gambit's payoffs enter unscaled (x_i ∝ exp(λ·u_i)), so its λ is our 1/β. Its path tracer stops
    once |λ − target| < 1e-8 (c_newtonTol in Gambit's path.cc), so the λ it reached is recorded."""
    import pygambit as gbt
    lam = 1.0 / beta
    game = gbt.Game.from_arrays(a, -a)
    (q,) = gbt.qre.logit_solve_lambda(game, lam)
    p0, p1 = list(game.players)
    x = np.array([float(q.profile[p0][s]) for s in p0.strategies])
    y = np.array([float(q.profile[p1][s]) for s in p1.strategies])
    rp, rl = qre_residuals(a, float(q.lam), x, y)
    rp_target, _ = qre_residuals(a, lam, x, y)
    return {"pi": x.tolist(), "pi_p1": y.tolist(), "lambda_target": lam, "lambda": float(q.lam),
            "residual": rp, "log_residual": rl, "residual_at_target": rp_target}


def version(pkg):
    try:
        return md.version(pkg)
    except md.PackageNotFoundError:
        return None


def main():
    peers = {"scipy_highs": nash_highs, "nashpy": nash_nashpy, "pygambit": nash_gambit, "openspiel": nash_openspiel}
    games = []
    for name, a in catalogue():
        entry = {"name": name, "preference": (0.5 + a).tolist(), "nash": {}, "qre": []}
        for peer, fn in peers.items():
            try:
                eqs = fn(a)
            except Exception as e:  # a missing or failing peer is recorded, not hidden
                entry["nash"][peer] = {"error": f"{type(e).__name__}: {e}"}
                continue
            if eqs is None:
                continue
            entry["nash"][peer] = {"equilibria": eqs, "exploitability": [exploitability(a, np.array(x)) for x in eqs]}
        for beta in [1.0, 0.1, 0.01]:
            x, r = qre(a, beta)
            q = {"beta": beta, "pi": x, "residual": r}
            mmd = lambda a, b: cached(qre_openspiel_mmd, a, b, tag="openspiel_mmd")
            for peer, fn in [("openspiel_mmd", mmd), ("pygambit_logit", qre_gambit)]:
                try:
                    q[peer] = fn(a, beta)
                except Exception as e:  # recorded, not hidden
                    q[peer] = {"error": f"{type(e).__name__}: {e}"}
            entry["qre"].append(q)
            m, gq = q["openspiel_mmd"], q["pygambit_logit"]
            print(f"  {name} β={beta}: mmd " + (f"{m['iterations']} it, residual {m['residual']:.1e}, "
                  f"|mmd − scipy| {np.abs(np.array(m['pi']) - x).max():.1e}" if "error" not in m else m["error"][:60])
                  + "; gambit " + (f"λ {gq['lambda']!r}, |gambit − scipy| {np.abs(np.array(gq['pi']) - x).max():.1e}"
                  if "error" not in gq else gq["error"][:60]), file=sys.stderr, flush=True)
        games.append(entry)
        print(f"{name}: " + ", ".join(f"{k}: {len(v.get('equilibria', []))} eq" if 'error' not in v else f"{k}: {v['error'][:40]}" for k, v in entry["nash"].items()), file=sys.stderr)
    meta = {"generated_by": "tools/peers/peers.py",
            "versions": {p: version(p) for p in ["numpy", "scipy", "nashpy", "pygambit", "open_spiel", "cvxopt"]},
            "qre_method": "scipy.optimize.root (hybr, tol 1e-15) on u = λAx − lse(λAx), continuation in λ; π*_β = QRE at λ = 1/β with uniform π_ref",
            "openspiel_mmd_method": f"open_spiel.python.algorithms.mmd_dilated.MMDDilatedEnt(convert_to_turn_based(matrix game (A, −A)), alpha=β), default stepsize α/max|A|², uniform start = magnet; last iterate after `iterations` update_sequences() calls, stopped once the probability-space QRE residual (checked every {MMD_CHECK}) is ≤ `tolerance` = max({MMD_TOL_MIN:g}, {MMD_FLOOR:g}/(stepsize·β)) (the rounding floor of the iteration), or has not halved in {MMD_STALL} updates, or at {MMD_MAX_ITER}; `gap` = MMDDilatedEnt.get_gap() (saddle gap of the regularized game), `nash_conv` = open_spiel exploitability.nash_conv of the MMD policy in the unregularized game",
            "pygambit_logit_method": "pygambit.qre.logit_solve_lambda(Game.from_arrays(A, −A), 1/β) (defaults first_step .03, max_accel 1.1); `lambda` is the λ its path tracer stopped at (|λ − 1/β| < 1e-8), `residual` the QRE residual there, `residual_at_target` at λ = 1/β"}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".json.partial")
    tmp.write_text(json.dumps({"meta": meta, "games": games}, indent=1))
    tmp.replace(OUT)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
