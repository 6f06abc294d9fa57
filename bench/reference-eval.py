#!/usr/bin/env python3
"""The PyTorch reference's side of the evaluation / inference benchmark (bench/eval-seqrec.ts is
seqrec's). Reuses the reference's model.py and utils.data_partition (../shared/bench/pytorch-ref)
unchanged; an untrained SASRec (d=50, 2 blocks, 1 head, xavier init as bench.py), eval mode, under
torch.no_grad(). Cases, all on the test split over ALL evaluable users (not evaluate()'s 10000-user
sample):

  sampled    evaluate()'s candidate construction (held-out item + 100 negatives by np.random.randint,
             redrawn while in set(train[u]) | {0}) and rank ((-logits).argsort().argsort()[:, 0]),
             scoring with model.predict. --batch 1 is evaluate()'s own loop (one user per predict);
             --batch N stacks N users per predict call (same maths).
  full       full ranking as seqrec defines it (src/eval/protocols.ts): scores = log_feats[:, -1] @
             item_emb.T over all items, the user's train items and (test split) valid item and item 0
             excluded, except the held-out item; rank = number of remaining items scoring strictly
             higher than the held-out item.
  recommend  top-10 over all items for ONE history (train + valid, left-padded to maxlen as
             evaluate() does): model.predict(user, seq, items 1..itemnum), history masked, torch.topk.
             p50/p99 over --reps calls after --warmup calls (wall clock, and process CPU time per call); users: the longest history and a median one
             (the same rule as bench/eval-seqrec.ts).

Every evaluation timing covers candidate drawing, history building, scoring and ranking, as
evaluate()'s loop does. Prints one line per timing and a RESULT_JSON line.

  python3 bench/reference-eval.py --dataset F --maxlen 50 [--cases sampled,full,recommend]
          [--repeats 3] [--reps 1000] [--warmup 20] [--threads 1] [--batch 1] [--full_batch 128]
"""
import argparse
import json
import os
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', required=True)
    p.add_argument('--maxlen', type=int, default=200)
    p.add_argument('--cases', default='sampled,full,recommend')
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--reps', type=int, default=1000)
    p.add_argument('--warmup', type=int, default=20)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--batch', type=int, default=128, help='users per predict call, sampled protocol (1 = evaluate()\'s loop)')
    p.add_argument('--full_batch', type=int, default=128, help='users per scoring call, full ranking')
    p.add_argument('--seed', type=int, default=42)
    p.add_argument('--ref_dir', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../shared/bench/pytorch-ref'))
    return p.parse_args()


def main():
    args = parse_args()
    for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
        os.environ[var] = str(args.threads)
    try:
        import numpy as np
        import torch
    except ImportError as e:
        print('reference-eval.py: no python with torch+numpy (%s)' % e, file=sys.stderr)
        sys.exit(2)
    torch.set_num_threads(args.threads)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from reference_model import import_reference, reference_init  # after the thread variables, as it imports torch
    model_module, utils = import_reference(args.ref_dir)
    SASRec, data_partition = model_module.SASRec, utils.data_partition

    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    dataset = data_partition(args.dataset)
    user_train, user_valid, user_test, usernum, itemnum = dataset
    margs = argparse.Namespace(device='cpu', norm_first=False, hidden_units=50, maxlen=args.maxlen, dropout_rate=0.2,
                               num_blocks=2, num_heads=1, batch_size=128)
    model = SASRec(usernum, itemnum, margs).to('cpu')
    reference_init(model)
    model.eval()

    users = [u for u in range(1, usernum + 1) if len(user_train[u]) >= 1 and len(user_test[u]) >= 1]
    maxlen = args.maxlen
    cases = args.cases.split(',')
    res = dict(side='reference', torch_version=torch.__version__, threads=args.threads, torch_threads=torch.get_num_threads(),
               users=usernum, items=itemnum, eval_users=len(users), maxlen=maxlen)

    def history_row(u):
        # evaluate()'s test history: valid item last, train items before it, left-padded with 0
        seq = np.zeros([maxlen], dtype=np.int32)
        idx = maxlen - 1
        seq[idx] = user_valid[u][0]
        idx -= 1
        for i in reversed(user_train[u]):
            if idx == -1:
                break
            seq[idx] = i
            idx -= 1
        return seq

    def candidates(u):
        rated = set(user_train[u])
        rated.add(0)
        item_idx = [user_test[u][0]]
        for _ in range(100):
            t = np.random.randint(1, itemnum + 1)
            while t in rated:
                t = np.random.randint(1, itemnum + 1)
            item_idx.append(t)
        return item_idx

    def add_metrics(ranks, acc):
        for rank in ranks:
            acc[2] += 1
            if rank < 10:
                acc[0] += 1 / np.log2(rank + 2)
                acc[1] += 1

    def run_sampled():
        acc = [0.0, 0.0, 0]
        B = args.batch
        with torch.no_grad():
            if B == 1:  # evaluate()'s loop, verbatim apart from the user set
                for u in users:
                    seq = history_row(u)
                    item_idx = candidates(u)
                    predictions = -model.predict(*[np.array(l) for l in [[u], [seq], item_idx]])
                    predictions = predictions[0]
                    rank = predictions.argsort().argsort()[0].item()
                    add_metrics([rank], acc)
            else:
                for s in range(0, len(users), B):
                    bu = users[s:s + B]
                    seqs = np.stack([history_row(u) for u in bu])
                    cand = np.array([candidates(u) for u in bu])
                    predictions = -model.predict(np.array(bu), seqs, cand)
                    ranks = predictions.argsort(dim=1).argsort(dim=1)[:, 0].tolist()
                    add_metrics(ranks, acc)
        return acc

    def run_full():
        acc = [0.0, 0.0, 0]
        B = args.full_batch
        W = model.item_emb.weight
        with torch.no_grad():
            for s in range(0, len(users), B):
                bu = users[s:s + B]
                seqs = np.stack([history_row(u) for u in bu])
                feats = model.log2feats(seqs)[:, -1, :]
                scores = feats @ W.t()  # [B, itemnum+1]
                rows, cols = [], []
                targets = []
                for b, u in enumerate(bu):
                    tgt = user_test[u][0]
                    targets.append(tgt)
                    hist = set(user_train[u])
                    hist.add(user_valid[u][0])
                    hist.discard(tgt)
                    hist.add(0)
                    rows.extend([b] * len(hist))
                    cols.extend(hist)
                scores[torch.as_tensor(rows), torch.as_tensor(cols)] = -float('inf')
                t = scores[torch.arange(len(bu)), torch.as_tensor(targets)]
                ranks = (scores > t.unsqueeze(1)).sum(dim=1).tolist()
                add_metrics(ranks, acc)
        return acc

    for name, fn in (('sampled', run_sampled), ('full', run_full)):
        if name not in cases:
            continue
        secs = []
        for r in range(args.repeats):
            np.random.seed(args.seed + r)
            t0 = time.perf_counter()
            acc = fn()
            dt = time.perf_counter() - t0
            secs.append(dt)
            if acc[2] != len(users):
                sys.exit('%s: evaluated %d users, expected %d' % (name, acc[2], len(users)))
            print('%s run %d: %.3f s for %d users (%.1f us/user), NDCG@10 %.4f' % (name, r + 1, dt, acc[2], 1e6 * dt / acc[2], acc[0] / acc[2]), flush=True)
        s = sorted(secs)
        res[name] = dict(s=[round(x, 3) for x in secs], min_s=round(s[0], 3), median_s=round(s[max(0, -(-len(s) // 2) - 1)], 3),
                         batch=args.batch if name == 'sampled' else args.full_batch,
                         ndcg10=round(acc[0] / acc[2], 4), hr10=round(acc[1] / acc[2], 4))

    if 'recommend' in cases:
        order = sorted(users, key=lambda u: (len(user_train[u]), u))
        picks = dict(long=order[-1], median=order[len(order) // 2])
        all_items = np.arange(1, itemnum + 1)[None, :]
        rec = {}
        for label, u in picks.items():
            history = list(user_train[u]) + [user_valid[u][0]]
            seq = history_row(u)[None, :]
            hist_idx = torch.as_tensor(sorted(set(history))) - 1  # column of item i is i-1

            def recommend():
                with torch.no_grad():
                    scores = model.predict(np.array([u]), seq, all_items)[0]
                    scores[hist_idx] = -float('inf')
                    v, i = torch.topk(scores, 10)
                    return (i + 1).tolist()

            for _ in range(args.warmup):
                recommend()
            ms, cpu_ms = [], []
            for _ in range(args.reps):
                c0 = time.process_time()
                t0 = time.perf_counter()
                top = recommend()
                ms.append(1000 * (time.perf_counter() - t0))
                cpu_ms.append(1000 * (time.process_time() - c0))

            def quant(xs):
                s = sorted(xs)
                return lambda p: s[min(len(s) - 1, max(0, int(np.ceil(p * len(s))) - 1))]
            q, qc = quant(ms), quant(cpu_ms)
            rec[label] = dict(user=u, history_len=len(history), used_len=min(len(history), maxlen), reps=args.reps,
                              p50_ms=round(q(0.5), 3), p99_ms=round(q(0.99), 3), min_ms=round(q(0), 3),
                              cpu_p50_ms=round(qc(0.5), 3), cpu_p99_ms=round(qc(0.99), 3), top10=top)
            print('recommend (%s history, %d items): p50 %.3f ms, p99 %.3f ms over %d (CPU time p50 %.3f, p99 %.3f ms)'
                  % (label, min(len(history), maxlen), q(0.5), q(0.99), args.reps, qc(0.5), qc(0.99)), flush=True)
        res['recommend'] = rec

    import resource
    res['peak_rss_mb_self'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print('RESULT_JSON ' + json.dumps(res), flush=True)


if __name__ == '__main__':
    main()
