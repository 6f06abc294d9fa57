/**
 * Manifold-constrained hyper-connections (mHC; Xie et al., DeepSeek-AI 2025, arXiv 2512.24880).
 *
 * The residual stream is widened to n streams, X [rows, n, d], kept from the embedding to the last
 * block. Around every sub-layer F (attention, feed-forward), from the RMS-normalised flattened streams
 * x̃ = RMSNorm(vec X) (n·d values per row, no gain: a gain would fold into φ):
 *
 *   H_pre  = sigmoid(α_pre · x̃φ_preᵀ + b_pre)                      [n]    mixes the streams into F's input
 *   H_post = 2 · sigmoid(α_post · x̃φ_postᵀ + b_post)               [n]    spreads F's output back
 *   H_res  = SinkhornKnopp(exp(α_res · mat(x̃φ_resᵀ) + b_res))      [n, n] doubly stochastic stream mix
 *   X' = H_res X + H_postᵀ F(H_pre X)
 *
 * φ are [n, n·d], [n, n·d], [n², n·d] (PyTorch Linear layout, no bias), α are learnable scalar gates
 * initialised to `initGate`, b are learnable static biases initialised so that, at gate 0 with equal
 * streams, the connection is the plain residual x + F(x):
 *   b_pre  = −ln(n − 1) (sigmoid = 1/n, so H_pre·X = x when the streams are equal; n = 1: +20),
 *   b_post = 0 (2·sigmoid(0) = 1: every stream receives F's output),
 *   b_res  = 0 on the diagonal, RES_OFF_DIAGONAL (−8) off it: H_res = identity up to ~(n−1)·e⁻⁸.
 * The mixing is row-local (each position mixes its own streams), so it works unchanged on the dense
 * and the packed (padding-skipping) layouts.
 */
import * as mhc from '../engine/mhc-ops.js';
import * as ops from '../engine/ops.js';
import type { Parameter, Tensor } from '../engine/tensor.js';
import { Module } from './module.js';

export interface MHCConfig {
  /** number of residual streams n (≥ 1) */
  expansionRate: number;
  /** Sinkhorn-Knopp iterations (≥ 1) */
  sinkhornIter: number;
  /** initial value of the three gates α */
  initGate: number;
}

export const MHC_DEFAULTS: Readonly<MHCConfig> = { expansionRate: 4, sinkhornIter: 20, initGate: 0.01 };
/** eps of the RMS normalisation of the flattened streams */
export const MHC_RMS_EPS = 1e-6;
/** initial off-diagonal of b_res (the diagonal is 0): H_res ≈ identity at gate 0 */
export const RES_OFF_DIAGONAL = -8;

export function validateMHCConfig(c: MHCConfig): void {
  if (!(Number.isInteger(c.expansionRate) && c.expansionRate >= 1))
    throw new Error(`mHC: expansion rate must be a positive integer, got ${c.expansionRate}`);
  if (!(Number.isInteger(c.sinkhornIter) && c.sinkhornIter >= 1))
    throw new Error(`mHC: Sinkhorn iterations must be a positive integer, got ${c.sinkhornIter}`);
  if (!Number.isFinite(c.initGate)) throw new Error(`mHC: initial gate must be a finite number, got ${c.initGate}`);
}

/** One hyper-connection around one sub-layer. Parameter names: phi_pre, phi_post, phi_res, alpha_*, b_*. */
export class HyperConnection extends Module {
  readonly phiPre: Parameter;
  readonly phiPost: Parameter;
  readonly phiRes: Parameter;
  readonly alphaPre: Parameter;
  readonly alphaPost: Parameter;
  readonly alphaRes: Parameter;
  readonly bPre: Parameter;
  readonly bPost: Parameter;
  readonly bRes: Parameter;

  constructor(
    readonly n: number,
    readonly d: number,
    readonly config: Readonly<MHCConfig>,
  ) {
    super();
    const nd = n * d;
    this.phiPre = this.addParameter('phi_pre', [n, nd]);
    this.phiPost = this.addParameter('phi_post', [n, nd]);
    this.phiRes = this.addParameter('phi_res', [n * n, nd]);
    this.alphaPre = this.addParameter('alpha_pre', [1]);
    this.alphaPost = this.addParameter('alpha_post', [1]);
    this.alphaRes = this.addParameter('alpha_res', [1]);
    this.bPre = this.addParameter('b_pre', [n]);
    this.bPost = this.addParameter('b_post', [n]);
    this.bRes = this.addParameter('b_res', [n, n]);
    this.resetStatic();
  }

  /** Gates to initGate, biases to the plain-residual values (see the file comment); φ untouched. */
  resetStatic(): void {
    const n = this.n;
    this.alphaPre.data[0] = this.alphaPost.data[0] = this.alphaRes.data[0] = this.config.initGate;
    this.bPre.data.fill(n === 1 ? 20 : -Math.log(n - 1));
    this.bPost.data.fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) this.bRes.data[i * n + j] = i === j ? 0 : RES_OFF_DIAGONAL;
  }

  /** The three mappings for streams x [rows, n, d]: hPre [rows, n], hPost [rows, n], hRes [rows, n, n]. */
  mappings(x: Tensor): { hPre: Tensor; hPost: Tensor; hRes: Tensor } {
    const rows = x.shape[0];
    const n = this.n;
    const xt = mhc.rmsNorm(x, MHC_RMS_EPS, n * this.d);
    const [pPre, pPost, pRes] = mhc.linearStacked(xt, [this.phiPre, this.phiPost, this.phiRes]);
    const hPre = mhc.scaledSigmoid(mhc.gateBias(pPre, this.alphaPre, this.bPre), 1);
    const hPost = mhc.scaledSigmoid(mhc.gateBias(pPost, this.alphaPost, this.bPost), 2);
    const resLogits = mhc.gateBias(pRes, this.alphaRes, ops.reshape(this.bRes, [n * n]));
    const hRes = mhc.sinkhorn(ops.reshape(resLogits, [rows, n, n]), this.config.sinkhornIter);
    return { hPre, hPost, hRes };
  }

  /** X' = H_res X + H_postᵀ F(H_pre X) for streams x [rows, n, d]; f maps [rows, d] → [rows, d]. */
  forward(x: Tensor, f: (u: Tensor) => Tensor): Tensor {
    const { hPre, hPost, hRes } = this.mappings(x);
    const y = f(mhc.streamWeightedSum(x, hPre));
    return mhc.streamMix(x, hRes, hPost, y);
  }
}

/** The two hyper-connections of one Transformer block (names `attn.*`, `ffn.*`). */
export class MHCBlock extends Module {
  readonly attn: HyperConnection;
  readonly ffn: HyperConnection;
  constructor(n: number, d: number, config: Readonly<MHCConfig>) {
    super();
    this.attn = this.addModule('attn', new HyperConnection(n, d, config));
    this.ffn = this.addModule('ffn', new HyperConnection(n, d, config));
  }

  resetStatic(): void {
    this.attn.resetStatic();
    this.ffn.resetStatic();
  }
}

/** The embedding output [rows, d] copied into n streams [rows, n, d]. */
export function expandStreams(x: Tensor, n: number): Tensor {
  return mhc.expandStreams(x, n);
}

/** The streams [rows, n, d] collapsed once, by their mean, to [rows, d] (before the last LayerNorm). */
export function collapseStreams(x: Tensor): Tensor {
  return mhc.meanStreams(x);
}
