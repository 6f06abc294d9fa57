"""Helpers shared by the accuracy summary scripts: mean ± sample std, and a seqrec run's test metrics."""
import json, os, statistics


def mean_std(xs):
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def test_metrics(run_dir):
    """(NDCG@10, HR@10) on test, sampled protocol, of a `seqrec train --train_dir` (its best-valid checkpoint)."""
    res = json.load(open(os.path.join(run_dir, 'results.json')))
    row = next(x for x in res['results'] if x['split'] == 'test' and x['protocol'] == 'sampled')
    return row['metrics']['NDCG@10'], row['metrics']['HR@10']
