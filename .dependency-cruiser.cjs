/**
 * The layering rule of docs/architecture.md, checked by `npm test` (npm run check): each folder of
 * src/ may import only the folders below it, nothing imports in a circle, model folders do not import
 * each other, and the code that must also run in a browser imports no Node built-in.
 */

/** folder → the folders it may import (besides itself), bottom to top. */
const LAYERS = {
  core: [],
  io: ['core'],
  kernels: ['core'],
  engine: ['core', 'kernels'],
  nn: ['core', 'kernels', 'engine'],
  optim: ['core', 'kernels', 'engine'],
  losses: ['core', 'kernels', 'engine', 'nn'],
  data: ['core', 'io', 'kernels', 'engine'],
  eval: ['core', 'kernels', 'engine', 'data'],
  models: ['core', 'kernels', 'engine', 'nn', 'losses', 'data', 'eval'],
  learn: ['core', 'kernels', 'engine', 'nn', 'optim', 'losses', 'data', 'eval', 'models'],
  train: ['core', 'io', 'kernels', 'engine', 'nn', 'optim', 'losses', 'data', 'eval', 'models', 'learn'],
  experiments: ['core', 'io', 'kernels', 'engine', 'nn', 'optim', 'losses', 'data', 'eval', 'models', 'learn', 'train'],
  api: ['core', 'io', 'kernels', 'engine', 'nn', 'optim', 'losses', 'data', 'eval', 'models', 'learn', 'train'],
  serve: ['core', 'io', 'kernels', 'engine', 'nn', 'optim', 'losses', 'data', 'eval', 'models', 'learn', 'train'],
  browser: ['core', 'kernels', 'engine', 'nn', 'optim', 'losses', 'data', 'eval', 'models', 'learn'],
  cli: ['core', 'io', 'kernels', 'engine', 'nn', 'optim', 'losses', 'data', 'eval', 'models', 'learn', 'train', 'experiments', 'serve'],
};

const folders = Object.keys(LAYERS);

const layerRules = folders.map((from) => ({
  name: `layer-${from}`,
  comment: `src/${from}/ may import only ${LAYERS[from].length ? LAYERS[from].map((f) => `src/${f}/`).join(', ') : 'itself'} (docs/architecture.md)`,
  severity: 'error',
  from: { path: `^src/${from}/` },
  to: {
    path: '^src/',
    pathNot: [`^src/${from}/`, ...LAYERS[from].map((f) => `^src/${f}/`)],
  },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'no module reaches itself through its imports',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'model-folders-apart',
      comment: 'a model folder imports the contract and models/common/, never another model (one folder + one registry line per model)',
      severity: 'error',
      from: { path: '^src/models/([^/]+)/', pathNot: '^src/models/common/' },
      to: { path: '^src/models/[^/]+/', pathNot: ['^src/models/$1/', '^src/models/common/'] },
    },
    {
      name: 'models-common-below-models',
      comment: 'models/common/ and the contract serve every model and know none of them (nor the registry)',
      severity: 'error',
      from: { path: '^src/models/(common/|contract\\.ts)' },
      to: { path: '^src/models/([^/]+/|registry\\.ts)', pathNot: '^src/models/common/' },
    },
    {
      name: 'browser-safe',
      comment: 'this code also runs in a browser: no Node built-ins (Node-only I/O and threads live in io/, data readers, train/, cli/)',
      severity: 'error',
      from: {
        path: '^src/(core|engine|nn|optim|losses|eval|models|kernels|learn)/',
        pathNot: ['^src/kernels/wasm/(install|pool-node|pool-start)\\.ts$'],
      },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'src-only-down',
      comment: 'src/ never imports tests, benchmarks or scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|studies|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/kernels/(asm|wasm/generated)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
