/**
 * Model selection as the reference does it: every --eval_every epochs (and after the last one) the
 * model is evaluated on valid (sampled protocol, the same negatives each time); the best valid
 * NDCG@10 is kept in the run's store, and the model the run reports is that best one. Early stopping:
 * after --patience evaluations in a row whose valid NDCG@10 does not exceed the best so far by more
 * than --min_delta, training stops. After each epoch it logs a line and saves the resume state.
 */
import { UserError } from '../core/errors.js';
import type { Split } from '../data/types.js';
import { releaseScratchPools } from '../engine/tape.js';
import type { EvalConfig } from '../eval/options.js';
import { evaluateFullRanking, evaluateFullRankingShared, evaluateSampled } from '../eval/protocols.js';
import { runRngs } from '../eval/run.js';
import type { LoadedCheckpoint } from '../models/common/checkpoint-format.js';
import type { AnyModelSpec, Model } from '../models/contract.js';
import { loopStateOf, type EpochInfo } from './loop.js';
import type { TrainingConfig } from './options.js';
import type { RunStore } from './store.js';

/** Early stopping, model selection and the resume state of a run, as stored in train_state.caller. */
export interface SelectionState {
  /** best valid NDCG@k so far (null: none evaluated) */
  bestNdcg: number | null;
  bestEpoch: number;
  bestMetrics: Record<string, number> | null;
  saved: boolean;
  /** evaluations since the last gain > min_delta */
  wait: number;
  /** true once early stopping ended the run */
  stopped: boolean;
  /** training seconds so far, over all resumed pieces */
  trainSeconds: number;
  epochs: number;
  /** the data it trains on (checked on resume) */
  dataset?: { users: number; items: number; interactions: number };
  /** every flag that changes the results, by its snake_case name (checked on resume; train/run.ts) */
  flags?: Record<string, unknown>;
}

export function freshSelectionState(): SelectionState {
  return { bestNdcg: null, bestEpoch: 0, bestMetrics: null, saved: false, wait: 0, stopped: false, trainSeconds: 0, epochs: 0 };
}

/** The selection state stored in a resume checkpoint, validated. */
export function selectionStateOf(ckpt: LoadedCheckpoint, path: string): SelectionState {
  const c = loopStateOf(ckpt, path).caller as Partial<SelectionState> | undefined;
  const ok =
    c !== undefined &&
    c !== null &&
    typeof c === 'object' &&
    (c.bestNdcg === null || typeof c.bestNdcg === 'number') &&
    Number.isInteger(c.bestEpoch) &&
    typeof c.saved === 'boolean' &&
    Number.isInteger(c.wait) &&
    typeof c.stopped === 'boolean' &&
    typeof c.trainSeconds === 'number' &&
    Number.isInteger(c.epochs);
  if (!ok) throw new UserError(`${path}: cannot resume from it: train_state.caller is malformed`);
  return { ...(c as SelectionState), bestMetrics: c.bestMetrics ?? null };
}

/** The cut-off model selection ranks by: 10 when evaluated, else the first. */
export function selectionK(evaluation: Pick<EvalConfig, 'ks'>): number {
  return evaluation.ks.includes(10) ? 10 : evaluation.ks[0];
}

/** The valid metric model selection maximises: --select_metric, else NDCG@selectionK. */
export function selectionMetric(training: { readonly selectMetric?: string }, evaluation: Pick<EvalConfig, 'ks'>): string {
  return training.selectMetric ?? `NDCG@${selectionK(evaluation)}`;
}

export class ModelSelection {
  state: SelectionState = freshSelectionState();

  constructor(
    private readonly spec: AnyModelSpec,
    private readonly store: RunStore,
    private readonly split: Split,
    private readonly evaluation: EvalConfig,
    private readonly seed: number,
    private readonly training: Pick<TrainingConfig, 'evalEvery' | 'numEpochs' | 'patience' | 'minDelta' | 'selectProtocol' | 'selectMetric'>,
  ) {}

  get k(): number {
    return selectionK(this.evaluation);
  }

  /** After an epoch: evaluate when due, keep the best, log, save the resume state; true stops training. */
  async onEpoch(info: EpochInfo, log: (line: string) => void): Promise<boolean> {
    const st = this.state;
    const last = info.last;
    st.epochs = info.epoch;
    st.trainSeconds += info.seconds;
    let valid: Record<string, number> | undefined;
    if (info.epoch % this.training.evalEvery === 0 || last) {
      const k = this.k;
      const t0 = performance.now();
      // training's scratch memory and evaluation's one after the other, never both at once: a large
      // TiSASRec (maxlen 200, d 200) needs each alone within wasm's 4 GiB, not their sum
      releaseScratchPools();
      const common = {
        which: 'valid' as const,
        ks: this.evaluation.ks,
        evalUsers: this.evaluation.evalUsers,
        batchSize: this.evaluation.evalBatchSize,
      };
      const rngs = runRngs(this.seed);
      const full = this.training.selectProtocol === 'full';
      const onTest = { ...common, which: 'test' as const };
      // a model whose scores read the user alone ranks valid and test from one scoring pass
      const shared =
        full && this.store.appendEvaluation
          ? await evaluateFullRankingShared(info.model.scorer, this.split, { ...common, rng: rngs.fullValid }, { ...onTest, rng: rngs.fullTest })
          : null;
      const res =
        shared?.valid ??
        (full
          ? await evaluateFullRanking(info.model.scorer, this.split, { ...common, rng: rngs.fullValid })
          : await evaluateSampled(info.model.scorer, this.split, { ...common, numNegatives: this.evaluation.numNegatives, rng: rngs.sampledValid }));
      releaseScratchPools();
      st.trainSeconds += (performance.now() - t0) / 1000;
      valid = res.metrics;
      // test beside it, for the reference's log.txt: the final test's protocol and negatives, not
      // used to pick the model, and not counted as training time
      let test = shared?.test.metrics;
      if (this.store.appendEvaluation && !shared) {
        test = (
          full
            ? await evaluateFullRanking(info.model.scorer, this.split, { ...onTest, rng: rngs.fullTest })
            : await evaluateSampled(info.model.scorer, this.split, { ...onTest, numNegatives: this.evaluation.numNegatives, rng: rngs.sampledTest })
        ).metrics;
        releaseScratchPools();
      }
      const metric = selectionMetric(this.training, this.evaluation);
      const ndcg = res.metrics[metric];
      if (ndcg === undefined) {
        throw new UserError(
          `--select_metric ${metric}: the valid evaluation reports ${Object.keys(res.metrics).join(', ')} (--ks sets the cut-offs)`,
        );
      }
      const hit = (m: Record<string, number>) => m[`HR@${k}`] ?? m[`Hit@${k}`];
      const hitName = res.metrics[`HR@${k}`] !== undefined ? `HR@${k}` : `Hit@${k}`;
      const best = st.bestNdcg ?? -Infinity;
      const improved = ndcg > best;
      if (ndcg - best > this.training.minDelta) st.wait = 0;
      else st.wait++;
      log(
        `epoch ${info.epoch}: valid ${this.training.selectProtocol === 'full' ? 'full-ranking ' : ''}${metric} ${ndcg.toFixed(4)}, ${hitName} ${hit(res.metrics).toFixed(4)}` +
          (improved ? ' (best so far, saved)' : ` (best ${best.toFixed(4)} at epoch ${st.bestEpoch})`) +
          (test ? `; test ${metric} ${test[metric].toFixed(4)}, ${hitName} ${hit(test).toFixed(4)}` : ''),
      );
      if (test) await this.store.appendEvaluation!(info.epoch, res.metrics, test, k);
      if (improved) {
        st.bestNdcg = ndcg;
        st.bestEpoch = info.epoch;
        st.bestMetrics = { ...res.metrics };
        await this.store.saveBest(info.model.serialize());
        st.saved = true;
      }
      const { patience } = this.training;
      if (patience !== undefined && st.wait >= patience && !last) {
        st.stopped = true;
        log(`early stopping after epoch ${info.epoch}: no valid ${metric} gain > ${this.training.minDelta} in ${st.wait} evaluations`);
      }
    }
    await this.store.appendLog({
      epoch: info.epoch,
      loss: info.loss,
      lr: info.lr,
      seconds: Math.round(info.seconds * 1000) / 1000,
      steps: info.steps,
      ...(valid ? { valid } : {}),
    });
    await this.store.saveLast(info.checkpoint(this.state));
    return st.stopped;
  }

  /** The model to report: the best saved one, or the final model when none was evaluated (saved now). */
  async finish(finalModel: Model | undefined, log: (line: string) => void): Promise<Model> {
    if (!this.state.saved) {
      if (!finalModel) throw new UserError('--resume: the run had finished but its model file is missing');
      await this.store.saveBest(finalModel.serialize());
      return finalModel;
    }
    log(`best valid epoch: ${this.state.bestEpoch}`);
    const bytes = await this.store.loadBest();
    try {
      return this.spec.load(bytes);
    } catch (err) {
      throw new UserError(`${this.store.bestName}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
