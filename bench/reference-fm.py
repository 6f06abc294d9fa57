"""PyTorch reference for the FM benchmark (bench/run.ts --cases fm): the same factorization machine as
seqrec's --model fm (src/models/fm/fm.ts) on the data bench/fm-seqrec.ts exported (ML-100k 5-core with
u.user / u.item features, the same ids, sizes, batch of 128 users, maxlen 200, one uniform negative per
position, BPR + the per-example L2 on every parameter an example reads, Adam), written the usual PyTorch
way: each example's features as an EmbeddingBag with per-sample weights. Prints per-epoch times and a
RESULT_JSON line.

  python3 bench/reference-fm.py --data .cache/bench/fm-data.json [--epochs 3] [--threads 1]
"""
import argparse
import json
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--epochs", type=int, default=3)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--seed", type=int, default=42)
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)
spec = json.load(open(args.data))
d, B, L, lam = spec["d"], spec["batchSize"], spec["maxlen"], spec["l2Reg"]
U, N = spec["userNum"], spec["itemNum"]


class Rows:
    """CSR feature rows over dense ids, gathered as EmbeddingBag inputs for a batch of ids."""

    def __init__(self, r):
        self.num = r["featureNum"]
        self.ptr = np.array(r["rowPtr"], dtype=np.int64)
        self.idx = np.array(r["idx"], dtype=np.int64)
        self.val = np.array(r["val"], dtype=np.float32)

    def bags(self, ids):
        ids = np.where(ids < len(self.ptr) - 1, ids, 0)
        starts, ends = self.ptr[ids], self.ptr[ids + 1]
        lens = ends - starts
        offsets = np.concatenate([[0], np.cumsum(lens)[:-1]])
        pos = np.repeat(starts - offsets, lens) + np.arange(lens.sum())
        return torch.from_numpy(self.idx[pos]), torch.from_numpy(offsets), torch.from_numpy(self.val[pos])


urows, irows = Rows(spec["users"]), Rows(spec["items"])


def normal(*shape):
    return torch.nn.Parameter(torch.randn(*shape) * 0.1)


user_v, item_v = normal(U + 1, d), normal(N + 1, d)
item_w = torch.nn.Parameter(torch.zeros(N + 1))
ufeat_v, ifeat_v = normal(urows.num, d), normal(irows.num, d)
ifeat_w = torch.nn.Parameter(torch.zeros(irows.num, 1))
params = [user_v, item_v, item_w, ufeat_v, ifeat_v, ifeat_w]
opt = torch.optim.Adam(params, lr=spec["lr"], betas=(0.9, 0.98), eps=1e-8)


def bag(table, rows, ids, square=False):
    idx, off, val = rows.bags(ids)
    return F.embedding_bag(idx, table, off, mode="sum", per_sample_weights=val * val if square else val)


def user_side(u):
    return user_v[torch.from_numpy(u)] + bag(ufeat_v, urows, u)


def item_side(i):
    """I, and the item's own term Σ w x + ½(‖I‖² − ‖v_i‖² − Σ ‖v_g‖² x_g²)."""
    ids = item_v[torch.from_numpy(i)]
    vec = ids + bag(ifeat_v, irows, i)
    own = item_w[torch.from_numpy(i)] + bag(ifeat_w, irows, i).squeeze(1)
    sq = bag((ifeat_v * ifeat_v).sum(1, keepdim=True), irows, i, square=True).squeeze(1)
    return vec, own + 0.5 * ((vec * vec).sum(1) - (ids * ids).sum(1) - sq)


def user_l2(u):
    """Σ θ² over the user rows the examples read: the id's vector and its features' vectors."""
    return (user_v[torch.from_numpy(u)] ** 2).sum() + (ufeat_v[urows.bags(u)[0]] ** 2).sum()


def item_l2(i):
    """Σ θ² over the item rows the examples read: the id's vector and bias, its features' vectors and weights."""
    t = torch.from_numpy(i)
    f = irows.bags(i)[0]
    return (item_v[t] ** 2).sum() + (item_w[t] ** 2).sum() + (ifeat_v[f] ** 2).sum() + (ifeat_w[f] ** 2).sum()


seqs = [np.array(s, dtype=np.int64) for s in spec["train"]]
users = np.array([u for u in range(1, U + 1) if len(seqs[u]) >= 2])
steps = (len(users) + B - 1) // B
times, cpu = [], []
for epoch in range(1, args.epochs + 1):
    t0, c0 = time.perf_counter(), time.process_time()
    order = rng.permutation(users)
    loss_sum = 0.0
    examples = 0
    for s in range(steps):
        chunk = order[s * B : (s + 1) * B]
        us, pos = [], []
        for u in chunk:
            seq = seqs[u][-(L + 1) :]
            us.append(np.full(len(seq) - 1, u))
            pos.append(seq[1:])
        u = np.concatenate(us)
        i = np.concatenate(pos)
        j = rng.integers(1, N + 1, size=len(i))
        uvec = user_side(u)
        pv, po = item_side(i)
        nv, no = item_side(j)
        diff = (uvec * pv).sum(1) + po - (uvec * nv).sum(1) - no
        M = len(i)
        examples += M
        loss = -F.logsigmoid(diff).mean() + lam / M * (user_l2(u) + item_l2(i) + item_l2(j))
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss_sum += loss.item()
    dt = time.perf_counter() - t0
    times.append(dt)
    cpu.append(time.process_time() - c0)
    print(f"epoch {epoch}: train {dt:.3f} s ({steps} steps, {examples} examples), mean loss {loss_sum / steps:.4f}", flush=True)
def mean_after_first(xs):
    steady = xs[1:] if len(xs) > 1 else xs
    return round(sum(steady) / len(steady), 3)


print("RESULT_JSON " + json.dumps({
    "torch": torch.__version__,
    "threads": args.threads,
    "steps_per_epoch": steps,
    "examples_per_epoch": examples,
    "epoch_s": [round(t, 3) for t in times],
    "mean_epoch_s_excl_first": mean_after_first(times),
    "mean_epoch_cpu_s_excl_first": mean_after_first(cpu),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
