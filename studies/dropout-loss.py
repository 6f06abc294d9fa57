#!/usr/bin/env python3
"""The reference side of studies/dropout-loss.ts: the same checkpoint and batches through the reference
model.py, eval-mode loss and mean +- s.e. of the train-mode (dropout) loss over --draws draws, printed
beside seqrec's figures from the JSON file that dropout-loss.ts wrote; then, for the batches whose
mean gradients dropout-loss.ts saved, the same comparison per parameter.

  /usr/bin/python3 studies/dropout-loss.py --checkpoint F.safetensors --batches batches.json [--draws 40]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bench'))  # reference_model.py lives in bench/
from reference_model import import_reference, read_safetensors, training_loss


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--batches', required=True)
    p.add_argument('--draws', type=int, default=40)
    p.add_argument('--seed', type=int, default=1)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    spec = json.load(open(args.batches))
    cfg = spec['config']
    margs = argparse.Namespace(device='cpu', norm_first=bool(cfg.get('norm_first', False)), hidden_units=cfg['hidden_units'],
                               maxlen=cfg['maxlen'], dropout_rate=cfg['dropout_rate'], num_blocks=cfg['num_blocks'],
                               num_heads=cfg['num_heads'], batch_size=128)
    model = import_reference()[0].SASRec(0, cfg['item_num'], margs)
    tensors = read_safetensors(args.checkpoint)
    model.load_state_dict({k: tensors[k] for k in model.state_dict()})
    batches = [tuple(np.array(b[k], dtype=np.int64).reshape(-1, b['maxlen']) for k in ('seqs', 'pos', 'neg')) for b in spec['batches']]

    gaps = []
    with torch.no_grad():
        for i, b in enumerate(batches):
            model.eval()
            ev = training_loss(model, *b).item()
            model.train()
            xs = np.array([training_loss(model, *b).item() for _ in range(args.draws)])
            mean, se = xs.mean(), xs.std(ddof=1) / np.sqrt(len(xs))
            s = spec['seqrec'][i]
            print('batch %d: eval ref %.5f seqrec %.5f | train ref %.5f+-%.5f  dense %.5f+-%.5f  packed %.5f+-%.5f'
                  % (i, ev, s['dense_eval'], mean, se, s['dense_train_mean'], s['dense_train_se'],
                     s['packed_train_mean'], s['packed_train_se']), flush=True)
            gaps.append((mean, s['dense_train_mean'], s['packed_train_mean']))
    g = np.array(gaps)
    print('mean over batches: train ref %.5f  dense %.5f  packed %.5f' % tuple(g.mean(axis=0)))
    compare_gradients(model, batches, args)


def compare_gradients(model, batches, args):
    """Mean gradient over the draws vs seqrec's (files written by dropout-loss.ts): per parameter, the
    mean squared z-score of the difference (about 1 when both estimate the same expectation), the
    relative distance of the two mean gradients, and the ratio of the draws' spreads."""
    i = 0
    while os.path.exists('%s.grad%d.dense.safetensors' % (args.batches, i)):
        model.train()
        params = dict(model.named_parameters())
        sums = {k: torch.zeros_like(v, dtype=torch.float64) for k, v in params.items()}
        sq = {k: torch.zeros_like(v, dtype=torch.float64) for k, v in params.items()}
        for _ in range(args.draws):
            model.zero_grad()
            training_loss(model, *batches[i]).backward()
            for k, v in params.items():
                g = v.grad.double() if v.grad is not None else torch.zeros_like(sums[k])
                sums[k] += g
                sq[k] += g * g
        n = args.draws
        for path in ('dense', 'packed'):
            theirs = read_safetensors('%s.grad%d.%s.safetensors' % (args.batches, i, path))
            print("batch %d, %s path: parameter, mean z^2 over entries with spread, |mean_ref - mean_seqrec| / |mean_ref|, "
                  "ratio of the draws' spreads (s.e.)" % (i, path))
            for k in params:
                m = (sums[k] / n).numpy()
                se = np.sqrt(np.maximum(0, (sq[k] / n).numpy() - m * m) / (n - 1))
                m2 = theirs['mean.' + k].numpy().astype(np.float64)
                se2 = theirs['se.' + k].numpy().astype(np.float64)
                s = np.sqrt(se * se + se2 * se2)
                ok = s > 1e-12
                z2 = float(np.mean(((m - m2)[ok] / s[ok]) ** 2)) if ok.any() else float('nan')
                rel = float(np.linalg.norm(m - m2) / max(np.linalg.norm(m), 1e-30))
                spread = float(np.sqrt(np.sum(se2 * se2) / max(np.sum(se * se), 1e-300)))
                print('  %-40s z2 %7.3f  rel %.4f  spread seqrec/ref %.3f' % (k, z2, rel, spread))
        i += 1


if __name__ == '__main__':
    main()
