#!/usr/bin/env python3
"""Summarise accuracy runs: seqrec results.json files and PyTorch-reference bench.py logs.

  python3 studies/accuracy-summary.py --seqrec DIR [DIR …] --reference LOG [LOG …]

For both, the reported test metrics are those of the evaluation with the best valid NDCG@10 (seqrec
keeps that checkpoint; for the reference the same rule is applied to its periodic evaluations), and
the reference's last evaluation is printed too. Mean ± sample std over the given runs.
"""
import argparse, json
from seqrec_runs import mean_std, test_metrics as seqrec_run

def reference_run(log):
    line = next(l for l in open(log) if l.startswith('RESULT_JSON '))
    res = json.loads(line[len('RESULT_JSON '):])
    best = max(res['evals'], key=lambda e: e['valid_ndcg10'])
    last = res['evals'][-1]
    return (best['test_ndcg10'], best['test_hr10'], best['epoch']), (last['test_ndcg10'], last['test_hr10'])

p = argparse.ArgumentParser()
p.add_argument('--seqrec', nargs='*', default=[])
p.add_argument('--reference', nargs='*', default=[])
a = p.parse_args()
if a.seqrec:
    runs = [seqrec_run(d) for d in a.seqrec]
    (n, ns), (h, hs) = mean_std([r[0] for r in runs]), mean_std([r[1] for r in runs])
    print(f'seqrec    ({len(runs)} runs, best valid): test NDCG@10 {n:.4f} ± {ns:.4f}, HR@10 {h:.4f} ± {hs:.4f}  per run: {runs}')
if a.reference:
    runs = [reference_run(l) for l in a.reference]
    (n, ns), (h, hs) = mean_std([r[0][0] for r in runs]), mean_std([r[0][1] for r in runs])
    print(f'reference ({len(runs)} runs, best valid): test NDCG@10 {n:.4f} ± {ns:.4f}, HR@10 {h:.4f} ± {hs:.4f}  per run: {[r[0] for r in runs]}')
    (n, ns), (h, hs) = mean_std([r[1][0] for r in runs]), mean_std([r[1][1] for r in runs])
    print(f'reference ({len(runs)} runs, last eval):  test NDCG@10 {n:.4f} ± {ns:.4f}, HR@10 {h:.4f} ± {hs:.4f}')
