#!/usr/bin/env python3
"""The reference side of studies/replay-train.ts: trains the reference model.py (bench.py's loss and
Adam) from seqrec's initial weights on seqrec's batches and prints the per-epoch mean loss beside
seqrec's.

  /usr/bin/python3 studies/replay-train.py --dir DIR [--epochs N]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bench'))  # reference_model.py lives in bench/
from reference_model import import_reference, read_safetensors, reference_init, training_loss


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--dir', required=True)
    p.add_argument('--epochs', type=int, default=0, help='default: all the batches')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--step_log', type=int, default=0, help='write the first N step losses to DIR/reference-steps.txt')
    p.add_argument('--torch_init', action='store_true', help="bench.py's initialisation instead of seqrec's init.safetensors")
    args = p.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    cfg = json.load(open(os.path.join(args.dir, 'config.json')))
    margs = argparse.Namespace(device='cpu', norm_first=False, hidden_units=cfg['hidden_units'], maxlen=cfg['maxlen'],
                               dropout_rate=cfg['dropout_rate'], num_blocks=cfg['num_blocks'],
                               num_heads=cfg['num_heads'], batch_size=128)
    model = import_reference()[0].SASRec(0, cfg['item_num'], margs)
    if args.torch_init:
        reference_init(model)
    else:
        init = read_safetensors(os.path.join(args.dir, 'init.safetensors'))
        model.load_state_dict({k: init[k] for k in model.state_dict()})
    model.train()
    raw = np.fromfile(os.path.join(args.dir, 'batches.i32'), dtype=np.int32)
    n, B, L = raw[:3]
    body = raw[3:].reshape(n, 3, B, L)
    steps = cfg['steps']
    epochs = args.epochs or n // steps
    logs = {}
    for name in ('seqrec-packed.log', 'seqrec-dense.log'):
        path = os.path.join(args.dir, name)
        if os.path.exists(path):
            logs[name] = [l.split()[-1] for l in open(path)]
    adam = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.98))
    step_log = []
    for epoch in range(epochs):
        total = 0.0
        for s in range(steps):
            seq, pos, neg = (body[epoch * steps + s, j].astype(np.int64) for j in range(3))
            loss = training_loss(model, seq, pos, neg)
            adam.zero_grad()
            loss.backward()
            adam.step()
            total += loss.item()
            if len(step_log) < args.step_log:
                step_log.append(loss.item())
                if len(step_log) == args.step_log:
                    with open(os.path.join(args.dir, 'reference-steps.txt'), 'w') as f:
                        f.write(''.join('%.6f\n' % x for x in step_log))
        theirs = '  '.join('%s %s' % (k[7:-4], v[epoch]) for k, v in logs.items() if epoch < len(v))
        print('epoch %d: reference %.4f  %s' % (epoch + 1, total / steps, theirs), flush=True)


if __name__ == '__main__':
    main()
