"""The Python side of the item-item benchmark (issue 18): EASE with numpy (Steck 2019's code: G = XᵀX +
λI, P = G⁻¹, B = −P / diag P, diag B = 0) and SLIM with scikit-learn's ElasticNet, one column at a time
(non-negative, no intercept, the column itself zeroed in X: the usual SLIM recipe), on the train sets
bench/linear-seqrec.ts exported, and a comparison with seqrec's weights when they were exported too.

SLIM's objective ½‖a_j − A w‖² + (l2/2)‖w‖² + l1‖w‖₁ is scikit-learn's
(1/2n)‖y − Xw‖² + α·ρ‖w‖₁ + (α(1 − ρ)/2)‖w‖² with n the users, α = (l1 + l2)/n, ρ = l1/(l1 + l2).

    /usr/bin/python3 bench/reference-linear.py --data DIR [--models ease,slim] [--threads 1]
        [--ease_l2 500] [--slim_l1 1] [--slim_l2 10] [--slim_columns 0 (all)]

Prints `RESULT_JSON {...}`. With --slim_columns k only the first k columns are fitted and the time is
extrapolated to all of them (marked as such).
"""
import argparse
import json
import os
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--models", default="ease,slim")
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--ease_l2", type=float, default=500.0)
parser.add_argument("--slim_l1", type=float, default=1.0)
parser.add_argument("--slim_l2", type=float, default=10.0)
parser.add_argument("--slim_columns", type=int, default=0)
args = parser.parse_args()

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402  (after the thread settings)
import scipy.sparse as sp  # noqa: E402

try:
    from threadpoolctl import threadpool_limits  # noqa: E402

    threadpool_limits(args.threads)
except ImportError:
    pass

with open(os.path.join(args.data, "train.json")) as f:
    train = json.load(f)
n = train["itemNum"]
indptr = np.asarray(train["indptr"], dtype=np.int64)
items = np.asarray(train["items"], dtype=np.int64) - 1
users = len(indptr) - 1
X = sp.csr_matrix((np.ones(len(items), dtype=np.float64), items, indptr), shape=(users, n))
out = {"users": users, "items": n, "nnz": int(X.nnz), "threads": args.threads, "numpy": np.__version__}
models = args.models.split(",")

if "ease" in models:
    t0 = time.perf_counter()
    G = (X.T @ X).toarray()
    G[np.diag_indices(n)] += args.ease_l2
    P = np.linalg.inv(G)
    B = P / (-np.diag(P))
    B[np.diag_indices(n)] = 0.0
    out["ease_fit_s"] = time.perf_counter() - t0
    path = os.path.join(args.data, "ease-B.f32")
    if os.path.exists(path):
        ours = np.fromfile(path, dtype=np.float32).reshape(n + 1, n + 1)[1:, 1:]
        out["ease_max_abs_diff"] = float(np.max(np.abs(ours - B)))
        out["ease_max_abs_weight"] = float(np.max(np.abs(B)))
    del G, P, B

if "slim" in models:
    import sklearn
    from sklearn.linear_model import ElasticNet

    out["sklearn"] = sklearn.__version__
    alpha = (args.slim_l1 + args.slim_l2) / users
    rho = args.slim_l1 / (args.slim_l1 + args.slim_l2)
    Xc = X.tocsc(copy=True)
    cols = n if args.slim_columns <= 0 else min(n, args.slim_columns)
    model = ElasticNet(alpha=alpha, l1_ratio=rho, positive=True, fit_intercept=False, copy_X=False, max_iter=100, tol=1e-4, selection="cyclic")
    W = np.zeros((n, cols))
    t0 = time.perf_counter()
    for j in range(cols):
        y = X[:, j].toarray().ravel()
        start, end = Xc.indptr[j], Xc.indptr[j + 1]
        saved = Xc.data[start:end].copy()
        Xc.data[start:end] = 0.0
        model.fit(Xc, y)
        Xc.data[start:end] = saved
        W[:, j] = model.coef_
    elapsed = time.perf_counter() - t0
    out["slim_columns"] = cols
    out["slim_fit_s"] = elapsed * n / cols
    out["slim_fit_extrapolated"] = cols < n
    out["slim_nnz"] = int(np.count_nonzero(W)) * n // cols
    path = os.path.join(args.data, "slim-W.json")
    if os.path.exists(path):
        with open(path) as f:
            w = json.load(f)
        ours = sp.csr_matrix((np.asarray(w["vals"]), np.asarray(w["cols"]) - 1, np.asarray(w["indptr"][1:], dtype=np.int64)), shape=(n, n + 1))[:, :cols].toarray()
        out["slim_max_abs_diff"] = float(np.max(np.abs(ours - W)))
        out["slim_max_abs_weight"] = float(np.max(np.abs(W)))
        out["slim_support_agreement"] = float(np.mean((ours > 0) == (W > 0)))

print("RESULT_JSON " + json.dumps(out))
sys.stdout.flush()
