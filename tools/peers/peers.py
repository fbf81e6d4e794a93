#!/usr/bin/env python3
"""Reference values from solvers nobody in this project wrote, for `wind`'s cross-checks.

For a fixed catalogue of symmetric zero-sum (skew) preference games, computes
  * Nash equilibria with scipy's HiGHS LP, nashpy (support enumeration, small games),
    pygambit (enummixed / lcp) and OpenSpiel's lp_solver (where each is installed), and
  * the logit QRE at λ = 1/β with uniform reference — which equals wind's π*_β — by
    scipy.optimize.root on the QRE equations x = softmax(λ·A·x), polished to 1e-15.
Writes tests/fixtures/peers/peers.json (committed, so CI needs no Python).

Run through `just peers` (creates a venv and installs tools/peers/requirements.txt).
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
            entry["qre"].append({"beta": beta, "pi": x, "residual": r})
        games.append(entry)
        print(f"{name}: " + ", ".join(f"{k}: {len(v.get('equilibria', []))} eq" if 'error' not in v else f"{k}: {v['error'][:40]}" for k, v in entry["nash"].items()), file=sys.stderr)
    meta = {"generated_by": "tools/peers/peers.py",
            "versions": {p: version(p) for p in ["numpy", "scipy", "nashpy", "pygambit", "open_spiel", "cvxopt"]},
            "qre_method": "scipy.optimize.root (hybr, tol 1e-15) on u = λAx − lse(λAx), continuation in λ; π*_β = QRE at λ = 1/β with uniform π_ref"}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".json.partial")
    tmp.write_text(json.dumps({"meta": meta, "games": games}, indent=1))
    tmp.replace(OUT)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
