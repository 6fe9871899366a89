#!/usr/bin/env python3
"""NumPy float32 peer of the feature-purification flagship experiment.

This script is the benchmark's independent NumPy implementation of the
flagship experiment (Allen-Zhu & Li, "Feature Purification: How Adversarial
Training Performs Robust Deep Learning").  The benchmark runs it next to the
TypeScript engine as a speed peer and as a sanity check on the science: it
shares no code with the engine, only the protocol below.

Data (sparse coding)
    M in R^{d x D}, D = d, a random rotation: QR of a Gaussian matrix with the
    column signs fixed by sign(diag(R)), so M has orthonormal columns.
    z in R^D has exactly k non-zeros at uniformly random positions, each +-1.
    w* in {+-1}^D;  y = sign(<w*, z>)  (k odd, so never 0).
    x = M z + xi,   xi ~ N(0, sigma^2/d I).

Network
    f(x) = sum_i a_i s_{b_i}(<w_i, x>),   a_i = 1 fixed, only W in R^{m x d}
    trains.  s_b(t) = ReLU(t - b) - ReLU(-t - b) = t - clip(t, -b, b) is the
    symmetric thresholded ReLU, with relative threshold b_i = rho ||w_i||.
    Init w_i ~ N(0, s0^2/d I).

Gradients (analytic).  With t_ni = <w_i, x_n>, active set A_ni = [|t_ni| > b_i]
and per-sample loss l_n = log(1 + exp(-y_n f(x_n))), mean over a batch of n:
    g_n      = dL/df_n = -y_n sigmoid(-y_n f_n) / n
    ds/dt    = A,            ds/db = -sign(t) A
    dL/dw_i  = sum_n g_n A_ni x_n  -  rho (sum_n g_n sign(t_ni) A_ni) w_i/||w_i||
    dl_n/dx_n = -y_n sigmoid(-y_n f_n) sum_i A_ni w_i

Training: SGD (lr, batch, reshuffle every epoch) on the mean logistic loss for
cleanEpochs, then adversarialEpochs more from those weights where every
minibatch is replaced by its l2 PGD perturbation (trainSteps steps, radius eps,
step 2.5 eps / steps, no random start; each step moves delta along the
per-sample input gradient normalised to unit l2 norm, a zero gradient leaves
the sample in place, then delta is projected onto the eps ball).

Evaluation (after each phase, on the test set; f(x) = 0 counts as wrong):
    clean accuracy            mean(y f(x) > 0)
    robust accuracy           under PGD with evalSteps steps at eps
    mixture-direction acc.    on x - y eps u,  u = M w* / ||M w*||
    mixture ratio (median)    c_i = M^T w_i; 1 - max_j c_ij^2 / ||c_i||^2
    participation ratio (med) (sum_j c_ij^2)^2 / sum_j c_ij^4

Everything runs in float32 (data drawn in float64 then cast once).

Usage:  python3 bench/numpy_flagship.py [--config JSON] [--seed N]
Prints one JSON line on stdout.
"""

import argparse
import json
import sys
import time

import numpy as np

F32 = np.float32

DEFAULTS = {
    "d": 128,
    "k": 5,
    "m": 128,
    "sigma": 0.1,
    "rho": 0.5,
    "initScale": 1.0,
    "lr": 0.5,
    "batchSize": 100,
    "trainSize": 8000,
    "testSize": 2000,
    "cleanEpochs": 30,
    "adversarialEpochs": 30,
    "eps": 0.3,
    "trainSteps": 5,
    "evalSteps": 20,
}

INT_KEYS = {"d", "k", "m", "batchSize", "trainSize", "testSize",
            "cleanEpochs", "adversarialEpochs", "trainSteps", "evalSteps"}


def parse_config(text):
    cfg = dict(DEFAULTS)
    if text is None:
        return cfg
    try:
        over = json.loads(text)
    except json.JSONDecodeError as exc:
        sys.exit(f"--config is not valid JSON: {exc}")
    if not isinstance(over, dict):
        sys.exit("--config must be a flat JSON object")
    for key, val in over.items():
        if key not in DEFAULTS:
            sys.exit(f"unknown config key: {key}")
        if isinstance(val, bool) or not isinstance(val, (int, float)):
            sys.exit(f"config key {key} must be a number")
        if key in INT_KEYS:
            if float(val) != int(val):
                sys.exit(f"config key {key} must be an integer")
            cfg[key] = int(val)
        else:
            # Plain Python floats are "weak" scalars under NumPy 2 (NEP 50), so
            # they never promote the float32 arrays they multiply.
            cfg[key] = float(val)
    return cfg


def blas_name():
    # np.__config__.CONFIG is a plain dict built at compile time: reading it is
    # free and, unlike show_config(), prints nothing.
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        name = blas.get("name", "unknown")
        version = blas.get("version")
        return f"{name} {version}" if version else name
    except Exception:
        return "unknown"


# ---------------------------------------------------------------- data

def make_problem(rng, d, k):
    g = rng.standard_normal((d, d))
    q, r = np.linalg.qr(g)
    # Multiplying column j by sign(R_jj) makes the QR factor unique, so M is a
    # Haar-distributed rotation rather than one biased by the QR convention.
    dictionary = q * np.sign(np.diag(r))
    w_star = rng.choice(np.array([-1.0, 1.0]), size=d)
    return dictionary, w_star


def make_data(rng, dictionary, w_star, n, k, sigma):
    d, big_d = dictionary.shape
    # argpartition of i.i.d. uniforms picks a uniformly random k-subset per
    # row without a Python loop.
    support = np.argpartition(rng.random((n, big_d)), k, axis=1)[:, :k]
    z = np.zeros((n, big_d))
    np.put_along_axis(z, support, rng.choice(np.array([-1.0, 1.0]), size=(n, k)), axis=1)
    y = np.sign(z @ w_star)
    x = z @ dictionary.T + rng.standard_normal((n, d)) * (sigma / np.sqrt(d))
    return x.astype(F32), y.astype(F32)


# ---------------------------------------------------------------- model

def thresholds(w, rho):
    norms = np.sqrt(np.einsum("ij,ij->i", w, w))
    return norms, rho * norms


def forward(x, w, b):
    """Return pre-activations t and f(x).  s_b(t) = t - clip(t, -b, b)."""
    t = x @ w.T
    s = np.minimum(np.maximum(t, -b), b)
    np.subtract(t, s, out=s)
    return t, s, s.sum(axis=1)


def sgd_step(x, y, w, lr, rho):
    norms, b = thresholds(w, rho)
    _, s, f = forward(x, w, b)
    # sigmoid(-y f) = (1 - tanh(y f / 2)) / 2: no overflow for any f in float32.
    g = (-0.5 / x.shape[0]) * y * (1.0 - np.tanh(0.5 * y * f))
    # s != 0 exactly where |t| > b (t - b > 0 is exact in IEEE with subnormals),
    # so sign(s) = sign(t) * A and |sign(s)| = A: one array serves both terms.
    sgn = np.sign(s)
    act = np.abs(sgn, out=s)  # reuse s's buffer; s is no longer needed
    grad = (act * g[:, None]).T @ x
    # Gradient through b_i = rho ||w_i||: ds/db = -sign(t) A, db/dw = rho w/||w||.
    coef = (g @ sgn) * rho / np.maximum(norms, np.finfo(F32).tiny)
    grad -= coef[:, None] * w
    w -= lr * grad


def predict(x, w, rho):
    _, b = thresholds(w, rho)
    return forward(x, w, b)[2]


def pgd(x, y, w, rho, eps, steps):
    """l2 PGD on the logistic loss, no random start.

    The per-sample input gradient is -y sigmoid(-y f) sum_i A_i w_i.  The
    sigmoid factor is strictly positive and the step normalises it away, so
    the direction is that of -y (A @ W); dropping the factor saves the
    exp/tanh per step without changing any iterate.
    """
    _, b = thresholds(w, rho)  # W is fixed during the attack
    alpha = 2.5 * eps / steps
    delta = np.zeros_like(x)
    neg_y = -y[:, None]
    for _ in range(steps):
        t = (x + delta) @ w.T
        act = (np.abs(t) > b).astype(F32)
        grad = act @ w
        grad *= neg_y
        gnorm = np.sqrt(np.einsum("ij,ij->i", grad, grad))
        # Samples with an exactly zero gradient stay put (no division by zero).
        scale = np.divide(alpha, gnorm, out=np.zeros_like(gnorm), where=gnorm > 0)
        delta += scale[:, None] * grad
        dnorm = np.sqrt(np.einsum("ij,ij->i", delta, delta))
        shrink = np.divide(eps, dnorm, out=np.ones_like(dnorm), where=dnorm > eps)
        delta *= shrink[:, None]
    return x + delta


def train(x, y, w, cfg, rng, epochs, adversarial):
    n = x.shape[0]
    bs = cfg["batchSize"]
    lr, rho = cfg["lr"], cfg["rho"]
    eps, steps = cfg["eps"], cfg["trainSteps"]
    for _ in range(epochs):
        perm = rng.permutation(n)
        # One gather per epoch gives contiguous minibatch views below.
        xs, ys = x[perm], y[perm]
        for start in range(0, n, bs):
            xb = xs[start:start + bs]
            yb = ys[start:start + bs]
            if adversarial:
                xb = pgd(xb, yb, w, rho, eps, steps)
            sgd_step(xb, yb, w, lr, rho)


def evaluate(w, x, y, dictionary, w_star, cfg):
    rho, eps = cfg["rho"], cfg["eps"]

    def acc(xx):
        return float(np.mean(y * predict(xx, w, rho) > 0))

    u = dictionary @ w_star
    u = (u / np.linalg.norm(u)).astype(F32)
    c = w @ dictionary  # row i is c_i = M^T w_i
    c2 = c * c
    energy = c2.sum(axis=1)
    mixture = 1.0 - c2.max(axis=1) / energy
    participation = energy * energy / (c2 * c2).sum(axis=1)
    return {
        "cleanAccuracy": acc(x),
        "robustAccuracy": acc(pgd(x, y, w, rho, eps, cfg["evalSteps"])),
        "mixtureDirectionAccuracy": acc(x - (eps * y)[:, None] * u),
        "mixtureRatioMedian": float(np.median(mixture)),
        "participationRatioMedian": float(np.median(participation)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="flat JSON object of overrides")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cfg = parse_config(args.config)
    if cfg["k"] > cfg["d"]:
        sys.exit("k must not exceed d")

    t0 = time.perf_counter()
    cpu0 = time.process_time()  # CPU seconds of every thread of this process (BLAS's too)
    rng = np.random.default_rng(args.seed)
    d = cfg["d"]
    dictionary64, w_star64 = make_problem(rng, d, cfg["k"])
    x_tr, y_tr = make_data(rng, dictionary64, w_star64, cfg["trainSize"], cfg["k"], cfg["sigma"])
    x_te, y_te = make_data(rng, dictionary64, w_star64, cfg["testSize"], cfg["k"], cfg["sigma"])
    dictionary = dictionary64.astype(F32)
    w_star = w_star64.astype(F32)
    w = (rng.standard_normal((cfg["m"], d)) * (cfg["initScale"] / np.sqrt(d))).astype(F32)

    train_seconds = 0.0
    t1 = time.perf_counter()
    train(x_tr, y_tr, w, cfg, rng, cfg["cleanEpochs"], adversarial=False)
    train_seconds += time.perf_counter() - t1
    after_clean = evaluate(w, x_te, y_te, dictionary, w_star, cfg)

    t1 = time.perf_counter()
    train(x_tr, y_tr, w, cfg, rng, cfg["adversarialEpochs"], adversarial=True)
    train_seconds += time.perf_counter() - t1
    final = evaluate(w, x_te, y_te, dictionary, w_star, cfg)
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - cpu0

    assert w.dtype == F32, "weights were promoted out of float32"
    print(json.dumps({
        "seconds": seconds,
        "trainSeconds": train_seconds,
        "cpuSeconds": cpu_seconds,
        "afterClean": after_clean,
        "final": final,
        "numpy": np.__version__,
        "blas": blas_name(),
    }))


if __name__ == "__main__":
    main()
