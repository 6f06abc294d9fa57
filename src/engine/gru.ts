/**
 * The gated recurrent unit of GRU4Rec (Hidasi et al., ICLR 2016; Cho et al., 2014), one step as one op
 * with a hand-written backward. With the input's pre-activations x = [W_r·x_t | W_z·x_t | W·x_t] (for a
 * one-hot item input, the item's row of the input weight) and the previous state h = h_{t−1}:
 *
 *   r = σ(x_r + b_r + h·U_r)         reset gate
 *   z = σ(x_z + b_z + h·U_z)         update gate
 *   ĥ = tanh(x_c + b_c + (r ∘ h)·U)  candidate
 *   h_t = (1 − z) ∘ h + z ∘ ĥ
 *
 * (the paper's equations, with U applied to r ∘ h as there and in the authors' code, not PyTorch's
 * r ∘ (U·h)). The matrix products go to the backend's GEMM, the element-wise parts to the gru* kernels.
 */
import { getKernels } from '../kernels/index.js';
import { getTape } from './tape.js';
import { type Tensor, shapeStr } from './tensor.js';

/**
 * One GRU step: x [B, 3d] (the input's pre-activations, blocks reset | update | candidate), bias [3d],
 * h [B, d] (the previous state), uRz [d, 2d] = [U_r | U_z], u [d, d] → the new state [B, d]. Gradients
 * flow to every input that requires one (h too, for back-propagation through several steps).
 */
export function gruCell(x: Tensor, bias: Tensor, h: Tensor, uRz: Tensor, u: Tensor): Tensor {
  const d = h.lastDim;
  const B = h.rows;
  const d2 = 2 * d;
  const d3 = 3 * d;
  if (x.size !== B * d3) throw new Error(`gruCell: x ${shapeStr(x.shape)} is not [${B}, ${d3}]`);
  if (bias.size !== d3) throw new Error(`gruCell: bias ${shapeStr(bias.shape)} is not [${d3}]`);
  if (uRz.size !== d * d2) throw new Error(`gruCell: U_rz ${shapeStr(uRz.shape)} is not [${d}, ${d2}]`);
  if (u.size !== d * d) throw new Error(`gruCell: U ${shapeStr(u.shape)} is not [${d}, ${d}]`);
  const K = getKernels();
  const tape = getTape();
  const out = tape.output([B, d], x, bias, h, uRz, u);
  const gates = tape.alloc(B * d3);
  const a = tape.alloc(B * d2);
  const hr = tape.alloc(B * d);
  const c = tape.alloc(B * d);
  K.gemm(false, false, B, d2, d, 1, h.data, 0, d, uRz.data, 0, d2, 0, a, 0, d2);
  K.gruGatesForward(B, d, x.data, 0, bias.data, 0, a, 0, h.data, 0, gates, 0, hr, 0);
  K.gemm(false, false, B, d, d, 1, hr, 0, d, u.data, 0, d, 0, c, 0, d);
  K.gruStateForward(B, d, x.data, 0, bias.data, 0, c, 0, h.data, 0, gates, 0, out.data, 0);
  if (out.requiresGrad) {
    tape.record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      const dh = h.requiresGrad ? tape.gradOf(h) : null;
      const dPre = tape.alloc(B * d3);
      const dhr = tape.alloc(B * d);
      K.gruStateBackward(B, d, h.data, 0, gates, 0, dOut, 0, dPre, 0, dh, 0);
      // the candidate's pre-activation reaches (r ∘ h) through U, and U itself
      K.gemm(false, true, B, d, d, 1, dPre, 2 * d, d3, u.data, 0, d, 0, dhr, 0, d);
      if (u.requiresGrad) K.gemm(true, false, d, d, B, 1, hr, 0, d, dPre, 2 * d, d3, 1, tape.gradOf(u), 0, d);
      K.gruGatesBackward(B, d, h.data, 0, gates, 0, dhr, 0, dPre, 0, dh, 0);
      if (x.requiresGrad) K.axpy(B * d3, 1, dPre, 0, tape.gradOf(x), 0);
      if (bias.requiresGrad) K.colSumAcc(B, d3, dPre, 0, tape.gradOf(bias), 0);
      // the gates' pre-activations reach h and U_rz through h·U_rz
      if (uRz.requiresGrad) K.gemm(true, false, d, d2, B, 1, h.data, 0, d, dPre, 0, d3, 1, tape.gradOf(uRz), 0, d2);
      if (dh) K.gemm(false, true, B, d, d2, 1, dPre, 0, d3, uRz.data, 0, d2, 1, dh, 0, d);
    });
  }
  return out;
}
