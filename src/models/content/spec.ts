/** `--model content`: content-based recommendation from the items' side features (cosine to the user's profile). */
import { UserError } from '../../core/errors.js';
import { defineOptions, num, str } from '../../core/options.js';
import type { ModelSpec } from '../contract.js';
import { ContentModel, looksLikeContent } from './content.js';

export const contentOptions = defineOptions({
  content_fields: str({
    help: 'the item feature fields the vectors use, comma-separated (default: every field of --item_features)',
    arg: 'names',
  }),
  content_pop_weight: num({
    help: 'w, a popularity prior: score = (1 − w)·mean cosine to the history + w·ln(1 + pop)/ln(1 + max pop) (0: similarity alone, popularity only breaks ties)',
    default: 0,
    min: 0,
    max: 1,
  }),
});

const fieldsOf = (text: string | undefined) => (text === undefined || text.trim() === '' ? [] : text.split(',').map((f) => f.trim()));

export const content: ModelSpec<typeof contentOptions.options> = {
  name: 'content',
  description: "content-based: items as unit vectors of their features (--item_features), scored by cosine to the history's profile; not sequential",
  fileName: 'content.safetensors',
  options: contentOptions,
  sideFeatures: ['items'],
  coldStart: ['users', 'items'],
  learning: {
    kind: 'fit',
    check(split) {
      if (!split.features?.items) throw new UserError("--model content needs --item_features (a file of the items' features)");
    },
    fit(split, options, { log }) {
      const model = ContentModel.fit(split, { fields: fieldsOf(options.contentFields), popWeight: options.contentPopWeight });
      const v = model.scorer.vectors;
      log?.(`content: ${v.itemNum} items over ${v.featureNum} features, ${v.idx.length} non-zeros`);
      return model;
    },
  },
  sniff: looksLikeContent,
  load: (bytes) => ContentModel.parse(bytes),
};
