import { createWasmKernelsSync } from '/work/wt-linear/src/kernels/wasm/index.js';
import { createSymmetricPanels, invertSymmetricPanels, panelAddLower } from '/work/wt-linear/src/kernels/linalg.js';
const n = Number(process.argv[2] ?? 3000), b = Number(process.argv[3] ?? 256);
const k = createWasmKernelsSync();
const s = createSymmetricPanels(n, b);
for (let i = 0; i < n; i++) { panelAddLower(s, i, i, n); for (let j = Math.max(0, i - 5); j < i; j++) panelAddLower(s, i, j, 1); }
const t = performance.now();
invertSymmetricPanels(k, s);
const sec = (performance.now() - t) / 1000;
console.log(`n ${n} b ${b}: ${sec.toFixed(2)} s, ${(n ** 3 / sec / 1e9).toFixed(1)} GFlop/s (n³)`);
