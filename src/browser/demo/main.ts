/**
 * The demo page (index.html beside this file): load a model file, build a history by searching
 * items, and watch the top-10 update. Bundled by scripts/build-browser.mjs into dist/demo/.
 */
import { type AttentionMap, attention, hasAttention, initKernels, type Model, loadModel, recommend, type Recommendation } from '../index.js';
import { heatmap } from './heatmap.js';
import { trainPanel } from './train-panel.js';

const DEMO_MODEL = './games-sasrec.safetensors';
const MAX_MATCHES = 20;
const TOP_K = 10;

/** What the page exposes for scripting (the browser test drives it). */
export interface DemoHandle {
  /** Resolves once the first model is loaded (or rejects with the load error). */
  readonly ready: Promise<void>;
  /** Replaces the history and re-ranks; resolves to the new top-10. */
  setHistory(items: readonly string[]): Recommendation[];
  /** Milliseconds the last top-10 update took (ranking and drawing the history and the list). */
  lastUpdateMs: number;
  /** Milliseconds the attention maps took after it (computing and drawing). */
  lastAttentionMs: number;
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the demo page has no #${id}`);
  return el as T;
}

const status = byId<HTMLParagraphElement>('status');
const modelInfo = byId<HTMLParagraphElement>('model-info');
const search = byId<HTMLInputElement>('search');
const results = byId<HTMLUListElement>('results');
const historyList = byId<HTMLOListElement>('history');
const topList = byId<HTMLOListElement>('top');
const timing = byId<HTMLParagraphElement>('timing');
const heatmaps = byId<HTMLDivElement>('heatmaps');

let model: Model | undefined;
let names = new Map<string, string>();
let history: string[] = [];

function say(text: string, isError = false): void {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

function label(item: string): string {
  const name = names.get(item);
  return name ? `${name} (#${item})` : `item #${item}`;
}

function itemButton(item: string, text: string, onClick: () => void): HTMLLIElement {
  const li = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = text;
  button.dataset.item = item;
  button.addEventListener('click', onClick);
  li.append(button);
  return li;
}

function addToHistory(item: string): void {
  history.push(item);
  update();
}

function drawHistory(): void {
  historyList.replaceChildren(
    ...history.map((item, i) =>
      itemButton(item, `${label(item)} — remove`, () => {
        history.splice(i, 1);
        update();
      }),
    ),
  );
}

function update(): Recommendation[] {
  if (!model) return [];
  const start = performance.now();
  const top = recommend(model, history, TOP_K);
  drawHistory();
  topList.replaceChildren(
    ...top.map((r) => {
      const li = itemButton(r.item, label(r.item), () => addToHistory(r.item));
      li.dataset.score = String(r.score);
      const score = document.createElement('span');
      score.className = 'score';
      score.textContent = ` ${r.score.toFixed(3)}`;
      li.append(score);
      return li;
    }),
  );
  handle.lastUpdateMs = performance.now() - start;
  const attentionStart = performance.now();
  drawAttention();
  handle.lastAttentionMs = performance.now() - attentionStart;
  timing.textContent = `top-10 in ${handle.lastUpdateMs.toFixed(1)} ms, attention maps in ${handle.lastAttentionMs.toFixed(1)} ms`;
  return top;
}

function drawAttention(): void {
  if (!model || !hasAttention(model)) return void heatmaps.replaceChildren('This model has no self-attention maps.');
  if (history.length === 0) return void heatmaps.replaceChildren('Add items to the history to see where the model attends.');
  const map: AttentionMap = attention(model, history);
  const shown = history.slice(history.length - map.length).map(label);
  heatmaps.replaceChildren(
    ...map.items.flatMap((heads, layer) => heads.map((weights, head) => heatmap(weights, map.length, shown, `Layer ${layer + 1}, head ${head + 1}`))),
  );
}

function drawMatches(): void {
  if (!model) return;
  const query = search.value.trim().toLowerCase();
  const matches: string[] = [];
  if (query) {
    for (const item of model.items.toRaw) {
      if (item === undefined) continue;
      if (item.toLowerCase().includes(query) || names.get(item)?.toLowerCase().includes(query)) matches.push(item);
      if (matches.length === MAX_MATCHES) break;
    }
  }
  results.replaceChildren(...matches.map((item) => itemButton(item, label(item), () => addToHistory(item))));
}

async function useModel(bytes: Uint8Array, source: string): Promise<void> {
  say(`Loading ${source}…`);
  model = await loadModel(bytes);
  history = history.filter((item) => model?.items.toIndex.has(item));
  const kernels = await initKernels();
  const threads = kernels.threads === 1 ? 'one thread' : `${kernels.threads} threads`;
  modelInfo.textContent = `${source}: ${model.items.toRaw.length - 1} items · ${kernels.name} on ${threads}`;
  say(`Ready: ${source}. Search for items and click them to build a history.`);
  drawMatches();
  update();
}

async function useFile(file: File): Promise<void> {
  try {
    await useModel(new Uint8Array(await file.arrayBuffer()), file.name);
  } catch (e) {
    say(`Could not load ${file.name}: ${(e as Error).message}`, true);
  }
}

async function loadDemoModel(): Promise<void> {
  const res = await fetch(DEMO_MODEL);
  if (!res.ok) throw new Error(`${DEMO_MODEL}: HTTP ${res.status}`);
  await useModel(new Uint8Array(await res.arrayBuffer()), 'the demo model (SASRec on Games)');
}

function parseNames(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const tab = line.indexOf('\t');
    if (tab > 0) out.set(line.slice(0, tab).trim(), line.slice(tab + 1).trim());
  }
  return out;
}

byId<HTMLInputElement>('model-file').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) void useFile(file);
});
const drop = byId<HTMLDivElement>('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (file) void useFile(file);
});
byId<HTMLButtonElement>('load-demo').addEventListener('click', () => {
  loadDemoModel().catch((e: Error) => say(`Could not load the demo model: ${e.message}`, true));
});
byId<HTMLInputElement>('names-file').addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  names = parseNames(await file.text());
  say(`${names.size} item names loaded from ${file.name}.`);
  drawMatches();
  update();
});
search.addEventListener('input', drawMatches);
byId<HTMLButtonElement>('clear').addEventListener('click', () => {
  history = [];
  update();
});

trainPanel(useModel);

const handle: DemoHandle = {
  ready: loadDemoModel().catch((e: Error) => {
    say(`Could not load the demo model: ${e.message}. Load a model file instead.`, true);
    throw e;
  }),
  setHistory(items) {
    history = [...items];
    return update();
  },
  lastUpdateMs: 0,
  lastAttentionMs: 0,
};
(window as unknown as { seqrecDemo: DemoHandle }).seqrecDemo = handle;
