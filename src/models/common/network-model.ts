/**
 * A trained network with its catalogue, saved as a seqrec checkpoint: the reference's state_dict
 * tensor names, the hyper-parameters in `config`, the id maps, and the users' histories (and times)
 * so that `recommend --user` and `eval` work from the file alone.
 */
import type { Scorer } from '../../eval/types.js';
import type { IdMap } from '../../data/types.js';
import type { Module } from '../../nn/module.js';
import type { Catalog, Model } from '../contract.js';
import { encodeCheckpointBytes } from './checkpoint-format.js';

export class NetworkModel<N extends Module & Scorer> implements Model {
  readonly items: IdMap;
  readonly users?: IdMap;
  readonly histories?: readonly Int32Array[];
  readonly historyTimes?: readonly Float64Array[];

  /**
   * @param metadata the checkpoint's `config` (the reference's option names)
   * @param extraMetadata more metadata entries the model needs back on load (e.g. a fitted time scaling)
   */
  constructor(
    readonly name: string,
    readonly scorer: N,
    private readonly metadata: Readonly<Record<string, unknown>>,
    catalog: Catalog,
    private readonly extraMetadata: () => Record<string, string> = () => ({}),
  ) {
    this.items = catalog.items;
    if (catalog.users) this.users = catalog.users;
    if (catalog.histories) this.histories = catalog.histories;
    if (catalog.historyTimes) this.historyTimes = catalog.historyTimes;
  }

  describe(): Record<string, unknown> {
    return { ...this.metadata };
  }

  dispose(): void {
    this.scorer.dispose();
  }

  serialize(): Uint8Array {
    const extra: Record<string, string> = {};
    if (this.histories) extra.user_histories = JSON.stringify(this.histories.map((h) => Array.from(h)));
    if (this.historyTimes) extra.user_times = JSON.stringify(this.historyTimes.map((t) => Array.from(t)));
    Object.assign(extra, this.extraMetadata());
    return encodeCheckpointBytes({
      tensors: this.scorer.stateDict(),
      config: this.metadata,
      idMaps: this.users ? { users: this.users.toRaw, items: this.items.toRaw } : undefined,
      extra,
    });
  }
}
