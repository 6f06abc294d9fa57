#!/usr/bin/env python3
"""The PyTorch reference's side of the full-softmax (CE) training-step benchmark (bench/ce-seqrec.ts is
seqrec's): the reference SASRec (../shared/bench/pytorch-ref/model.py, d 50, 2 blocks, 1 head), the
logits of every position against item_emb, F.cross_entropy ignoring padding (as published SASRec+
code does it), backward and an Adam step, on batches of 128 users built like the reference sampler's
(the last maxlen + 1 train items, left-padded). Prints the median ms per step and a RESULT_JSON line.

  python3 bench/reference-ce.py --dataset F --maxlen 50 [--dropout 0.5] [--steps 10] [--warmup 2] [--threads 1]
"""
import argparse
import json
import os
import sys
import time

p = argparse.ArgumentParser()
p.add_argument('--dataset', required=True)
p.add_argument('--maxlen', type=int, default=50)
p.add_argument('--dropout', type=float, default=0.5)
p.add_argument('--steps', type=int, default=10)
p.add_argument('--warmup', type=int, default=2)
p.add_argument('--threads', type=int, default=1)
p.add_argument('--ref_dir', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../shared/bench/pytorch-ref'))
args = p.parse_args()
for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ[var] = str(args.threads)
try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print('reference-ce.py: no python with torch+numpy (%s)' % e, file=sys.stderr)
    sys.exit(2)
torch.set_num_threads(args.threads)
sys.path.insert(0, os.path.abspath(args.ref_dir))
from model import SASRec  # noqa: E402

# the reference's data_partition reads data/<name>.txt from the working directory; the same split here:
# per user, the last item for test, the one before for valid, the rest for training
users = {}
with open(args.dataset) as fh:
    for line in fh:
        f = line.split()
        if len(f) < 2:
            continue
        users.setdefault(int(f[0]), []).append(int(f[1]))
itemnum = max(i for s in users.values() for i in s)
train = {u: s[:-2] if len(s) >= 3 else s for u, s in users.items()}
trainable = [u for u, s in train.items() if len(s) > 1]
margs = argparse.Namespace(device='cpu', norm_first=False, hidden_units=50, maxlen=args.maxlen, dropout_rate=args.dropout, num_blocks=2, num_heads=1)
model = SASRec(len(users), itemnum, margs)
for _, param in model.named_parameters():
    try:
        torch.nn.init.xavier_normal_(param.data)
    except Exception:
        pass
model.pos_emb.weight.data[0, :] = 0
model.item_emb.weight.data[0, :] = 0
model.train()
adam = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.98))
rng = np.random.default_rng(1)
L = args.maxlen


def batch():
    seq = np.zeros((128, L), dtype=np.int64)
    pos = np.zeros((128, L), dtype=np.int64)
    for b, u in enumerate(rng.choice(trainable, 128)):
        s = train[u][-(L + 1):]
        seq[b, L - len(s) + 1:] = s[:-1]
        pos[b, L - len(s) + 1:] = s[1:]
    return seq, pos


times = []
for step in range(args.warmup + args.steps):
    seq, pos = batch()
    t0 = time.perf_counter()
    feats = model.log2feats(seq)
    logits = feats @ model.item_emb.weight.T
    loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), torch.LongTensor(pos).view(-1), ignore_index=0)
    adam.zero_grad()
    loss.backward()
    adam.step()
    ms = (time.perf_counter() - t0) * 1000
    if step >= args.warmup:
        times.append(ms)
times.sort()
result = {'threads': args.threads, 'items': itemnum, 'ms_per_step_median': round(times[len(times) // 2], 1)}
print('reference CE step: %.1f ms (median of %d), torch %s' % (result['ms_per_step_median'], args.steps, torch.__version__))
print('RESULT_JSON ' + json.dumps(result))
