/** The library's options: the CLI's, spelled camelCase (hiddenUnits for --hidden_units), checked the same way. */
import { UserError } from '../core/errors.js';
import { asKey, unreadKeys, type OptionGroup } from '../core/options.js';
import { installKernelsFromEnv } from '../kernels/wasm/install.js';

/** Refuses options none of the groups reads, naming them (a misspelt option must not be silently ignored). */
export function refuseUnknown(options: object, groups: readonly OptionGroup[], extra: readonly string[] = []): void {
  const unknown = unreadKeys(options, groups).filter((k) => !extra.includes(k));
  if (unknown.length > 0) throw new UserError(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map(asKey).join(', ')}`);
}

/** The WebAssembly kernels (unless SEQREC_KERNELS=reference), before the first model is built. */
export function ensureKernels(): void {
  installKernelsFromEnv();
}
