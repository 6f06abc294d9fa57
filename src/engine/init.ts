/** Parameter initialisers with torch.nn.init semantics, drawing from a seeded Rng. */
import type { Rng } from './rng.js';
import type { Tensor } from './tensor.js';

/** PyTorch's _calculate_fan_in_and_fan_out: [out, in, ...kernel] → (in·k, out·k). Needs ≥ 2 dims. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fans: need at least 2 dimensions, got [${shape.join(', ')}]`);
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** N(0, std²) with std = sqrt(2 / (fan_in + fan_out)), as torch.nn.init.xavier_normal_. */
export function xavierNormal(t: Tensor, rng: Rng, gain = 1): void {
  const { fanIn, fanOut } = fans(t.shape);
  normal(t, rng, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

/** U(−a, a) with a = sqrt(6 / (fan_in + fan_out)), as torch.nn.init.xavier_uniform_. */
export function xavierUniform(t: Tensor, rng: Rng, gain = 1): void {
  const { fanIn, fanOut } = fans(t.shape);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  uniform(t, rng, -a, a);
}

export function normal(t: Tensor, rng: Rng, mean = 0, std = 1): void {
  for (let i = 0; i < t.size; i++) t.data[i] = mean + std * rng.normal();
}

export function uniform(t: Tensor, rng: Rng, lo: number, hi: number): void {
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * rng.nextFloat();
}

export function constant(t: Tensor, value: number): void {
  t.data.fill(value, 0, t.size);
}

/**
 * N(mean, std²) truncated to two standard deviations (values beyond are redrawn), as TensorFlow's
 * truncated_normal_initializer, which BERT initialises its weights with.
 */
export function truncatedNormal(t: Tensor, rng: Rng, std: number, mean = 0): void {
  for (let i = 0; i < t.size; i++) {
    let z = rng.normal();
    while (Math.abs(z) > 2) z = rng.normal();
    t.data[i] = mean + std * z;
  }
}
