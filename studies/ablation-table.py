#!/usr/bin/env python3
"""Markdown table of seqrec runs grouped by variant: mean ± std over seeds of the test metrics (best
valid checkpoint), median training seconds per epoch, and peak RSS.

  python3 studies/ablation-table.py "SASRec=.cache/abl/games-sasrec-s?" "SASRec-mHC n=4=.cache/abl/games-sasrec-mhc4-s?"  (LABEL=GLOB; the last = splits)

Each run directory is a `seqrec train --train_dir`; its peak RSS is read from DIR.time, the output of
`/usr/bin/time -v` around the run, when present. Epoch seconds exclude the periodic evaluations (they are
the training part of each log.jsonl line), so they compare variants only when the runs shared the
machine alike — state how they ran next to the table.
"""
import glob, json, os, re, statistics, sys

from seqrec_runs import mean_std, test_metrics


def run_figures(d):
    ndcg, hr = test_metrics(d)
    epochs = [json.loads(l) for l in open(os.path.join(d, 'log.jsonl')) if l.strip()]
    secs = statistics.median(e['seconds'] for e in epochs[1:] or epochs)
    rss = None
    tfile = d.rstrip('/') + '.time'
    if os.path.exists(tfile):
        m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', open(tfile).read())
        rss = int(m.group(1)) / 1024 if m else None
    return ndcg, hr, secs, rss, len(epochs)


print('| variant | runs | epochs | test NDCG@10 | test HR@10 | s/epoch (median) | peak RSS MB |')
print('|---|---|---|---|---|---|---|')
for arg in sys.argv[1:]:
    label, pattern = arg.rsplit('=', 1)
    dirs = sorted(d for d in glob.glob(pattern) if os.path.isdir(d) and os.path.exists(os.path.join(d, 'results.json')))
    if not dirs:
        print(f'| {label} | 0 | – | – | – | – | – |')
        continue
    runs = [run_figures(d) for d in dirs]
    (n, ns), (h, hs) = mean_std([r[0] for r in runs]), mean_std([r[1] for r in runs])
    secs = statistics.median(r[2] for r in runs)
    rss = [r[3] for r in runs if r[3] is not None]
    rss_s = f'{max(rss):.0f}' if rss else '–'
    epochs = '/'.join(sorted({str(r[4]) for r in runs}))
    print(f'| {label} | {len(runs)} | {epochs} | {n:.4f} ± {ns:.4f} | {h:.4f} ± {hs:.4f} | {secs:.2f} | {rss_s} |')
