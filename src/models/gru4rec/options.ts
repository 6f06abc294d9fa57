/**
 * The options of GRU4Rec and GRU4Rec+, one set with two sets of defaults: the settings each paper
 * reports with the authors' code (Theano, github.com/hidasib/GRU4Rec: the ICLR 2016 TOP1 run and the
 * CIKM 2018 BPR-max run on RSC15, as examples/rsc15/run_rsc15.py gives them), with d = 50 for the
 * SASRec paper's "fair comparison".
 *
 * | option        | gru4rec (ICLR 2016)          | gru4rec+ (CIKM 2018)                |
 * |---------------|------------------------------|-------------------------------------|
 * | hidden_units  | 50 (paper: 100, 1000)        | 50 (paper: 100)                     |
 * | gru_loss      | top1                         | bpr_max                             |
 * | final_act     | tanh                         | elu-0.5 (the code's default: linear)|
 * | dropout_rate  | 0.5 (paper's RSC15 TOP1)     | 0                                   |
 * | n_sample      | 0 (mini-batch negatives)     | 2048                                |
 * | sample_alpha  | —                            | 0 (the code's default: 0.75)        |
 * | bpreg         | —                            | 1.0                                 |
 * | batch_size    | 50                           | 32                                  |
 * | num_epochs    | 10                           | 10                                  |
 * | optimizer     | adagrad, lr 0.01             | adagrad, lr 0.2, momentum 0.3       |
 *
 * Adagrad is the authors' (optim/adagrad.ts: sparse updates of the item tables); the other models
 * train with Adam at lr 0.001, which leaves GRU4Rec+ far below the paper's figures (BENCHMARKS.md,
 * Table III). With α = 0 the additional samples are uniform; the mini-batch's own negatives are
 * popularity-distributed either way.
 */
import { bool, choice, defineOptions, int, num, type ConfigOf } from '../../core/options.js';
import type { ScoreActivation } from '../../losses/session-ranking.js';
import type { TrainingRecord } from '../contract.js';
import { attentionOptions } from '../common/attention-options.js';
import type { GRU4RecConfig } from './gru4rec.js';

/** The final activations the authors' code names (elu-α: ELU with that α). */
export const FINAL_ACTIVATIONS = ['linear', 'tanh', 'elu-0.5', 'elu-1'] as const;
/** The ranking losses: TOP1 and BPR (ICLR 2016), BPR-max (CIKM 2018). */
export const GRU_LOSSES = ['top1', 'bpr', 'bpr_max'] as const;

/** bpreg's default (the same for both models). */
const BPREG = 1;

const gruOptions = defineOptions({
  gru_loss: choice(GRU_LOSSES, {
    help:
      "GRU4Rec's ranking loss against the mini-batch's other targets (+ --n_sample shared samples): top1 or bpr (ICLR 2016), " +
      'bpr_max (CIKM 2018: BPR against the softmax-weighted negatives, + --bpreg score regularisation); ' +
      "both models train with the authors' --batch_size (gru4rec 50, gru4rec+ 32), --num_epochs 10 and Adagrad (--optimizer adagrad: " +
      'gru4rec --lr 0.01, gru4rec+ --lr 0.2 --momentum 0.3) unless given',
    default: 'top1',
  }),
  n_sample: int({
    help: 'GRU4Rec: additional negatives per batch, shared by every slot, drawn ∝ support^--sample_alpha (CIKM 2018: 2048); 0 = the mini-batch only',
    default: 0,
    min: 0,
    max: 100_000,
  }),
  sample_alpha: num({
    help: "GRU4Rec: α of the additional negatives, P(item) ∝ its training events^α (0 uniform, 1 popularity; CIKM 2018's RSC15 run: 0, the authors' code's default: 0.75)",
    default: 0,
    min: 0,
    max: 1,
  }),
  bpreg: num({ help: "GRU4Rec: λ of BPR-max's score regularisation λ·Σ_j s_j·r_j² (the authors' code: 1.0)", default: BPREG, min: 0 }),
  tied_embedding: bool({
    help:
      "GRU4Rec: the input reads the output table's item vectors through a d×3d weight (the authors' later constrained_embedding) " +
      'instead of a one-hot N×3d table of its own (off: the papers)',
    default: false,
  }),
  final_act: choice(FINAL_ACTIVATIONS, {
    help: 'GRU4Rec: activation of the scores before the loss, linear | tanh | elu-0.5 | elu-1 (ranking uses the raw scores: each is monotone)',
    default: 'tanh',
  }),
})
  .rule((c, name) => (c.sampleAlpha !== 0 && c.nSample === 0 ? ['sample_alpha', `only with ${name('n_sample')} above 0`] : undefined))
  .rule((c, name) => (c.bpreg !== BPREG && c.gruLoss !== 'bpr_max' ? ['bpreg', `only with ${name('gru_loss')} bpr_max`] : undefined));

const gru4recOptionsBase = attentionOptions.pick('maxlen', 'hidden_units', 'dropout_rate').with(gruOptions);

/** GRU4Rec as proposed (ICLR 2016). */
export const gru4recOptions = gru4recOptionsBase.withDefaults({ maxlen: 200, hiddenUnits: 50, dropoutRate: 0.5 });

/** GRU4Rec+ (CIKM 2018): BPR-max with 2048 additional samples, ELU(0.5) scores. */
export const gru4recPlusOptions = gru4recOptionsBase.withDefaults({
  maxlen: 200,
  hiddenUnits: 50,
  dropoutRate: 0,
  gruLoss: 'bpr_max',
  nSample: 2048,
  finalAct: 'elu-0.5',
});

export type GRU4RecOptions = ConfigOf<typeof gru4recOptions.options>;

/** The training loop's defaults that differ: the authors' batch sizes, 10 epochs and Adagrad. */
export const GRU4REC_TRAINING: Partial<TrainingRecord> = { batchSize: 50, numEpochs: 10, optimizer: 'adagrad', lr: 0.01 };
export const GRU4REC_PLUS_TRAINING: Partial<TrainingRecord> = { batchSize: 32, numEpochs: 10, optimizer: 'adagrad', lr: 0.2, momentum: 0.3 };

/** The network's configuration for a catalogue of `itemNum` items. */
export function networkConfig(o: GRU4RecOptions, itemNum: number): GRU4RecConfig {
  return { itemNum, hiddenUnits: o.hiddenUnits, maxlen: o.maxlen, dropoutRate: o.dropoutRate, tiedEmbedding: o.tiedEmbedding };
}

/** The final activation an option names. */
export function activationOf(name: GRU4RecOptions['finalAct']): ScoreActivation {
  if (name === 'linear' || name === 'tanh') return { kind: name };
  return { kind: 'elu', alpha: Number(name.slice('elu-'.length)) };
}
