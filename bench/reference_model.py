"""Shared by the Python sides of the benchmarks and of studies/dropout-loss.py and
studies/replay-train.py: the reference model.py (from ../shared/bench/pytorch-ref) with bench.py's
initialisation, its training loss, and a safetensors reader that needs only numpy."""
import json
import os
import struct
import sys

import numpy as np
import torch

REF_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'bench', 'pytorch-ref')


def import_reference(ref_dir=REF_DIR):
    """The reference's model and utils modules (model.SASRec, utils.data_partition, ...)."""
    sys.path.insert(0, os.path.abspath(ref_dir))
    import model
    import utils
    return model, utils


def reference_init(model):
    """bench.py / main.py: xavier-normal on every parameter with >= 2 dimensions, padding rows zeroed."""
    for _, param in model.named_parameters():
        try:
            torch.nn.init.xavier_normal_(param.data)
        except Exception:
            pass  # 1-D parameters keep their default init
    model.pos_emb.weight.data[0, :] = 0
    model.item_emb.weight.data[0, :] = 0


def training_loss(model, seq, pos, neg):
    """bench.py's loss for int arrays [B, L]: BCE over positions with pos != 0, positives + negatives."""
    bce = torch.nn.BCEWithLogitsLoss()
    pl, nl = model(None, seq, pos, neg)
    idx = np.where(pos != 0)
    return bce(pl[idx], torch.ones(pl.shape)[idx]) + bce(nl[idx], torch.zeros(nl.shape)[idx])


def read_safetensors(path):
    """F32 tensors of a safetensors file as torch tensors (other dtypes are skipped)."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == '__metadata__' or info['dtype'] != 'F32':
            continue
        a, b = info['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(body[a:b], dtype=np.float32).copy().reshape(info['shape']))
    return out
