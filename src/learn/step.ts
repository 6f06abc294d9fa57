import { getTape } from '../engine/tape.js';
import type { Tensor } from '../engine/tensor.js';
import type { Optimizer } from '../optim/optimizer.js';

/**
 * One optimizer step: zero the gradients, compute the network's loss on the batch, backward, step,
 * and recycle the tape. Returns the loss. Tensors made before the call are invalid afterwards (their
 * buffers are recycled).
 */
export function trainStep<B>(network: { train(): unknown; loss(batch: B): Tensor }, optimizer: Optimizer, batch: B): number {
  network.train();
  optimizer.zeroGrad();
  const tape = getTape();
  tape.reset();
  const loss = network.loss(batch);
  const value = loss.item();
  tape.backward(loss);
  optimizer.step();
  tape.reset();
  return value;
}
