/**
 * The demo page's training panel: an interaction file dropped or chosen is trained on in a Web Worker
 * (trainInWorker), with a progress bar, a live loss curve and valid NDCG@10; the trained model is
 * handed to the page and offered for download.
 */
import { type TrainProgress, trainInWorker } from '../index.js';

function byId<T extends HTMLElement | SVGElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the demo page has no #${id}`);
  return el as unknown as T;
}

/** The curve's points, (step, loss), scaled into the SVG's 100×100 view box. */
function drawCurve(line: SVGPolylineElement, points: ReadonlyArray<readonly [number, number]>, totalSteps: number): void {
  if (points.length === 0) return void line.setAttribute('points', '');
  const losses = points.map((p) => p[1]);
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const span = hi - lo || 1;
  line.setAttribute(
    'points',
    points.map(([step, loss]) => `${((100 * step) / totalSteps).toFixed(2)},${(95 - (90 * (loss - lo)) / span).toFixed(2)}`).join(' '),
  );
}

/** Wires the panel; `useModel` receives each trained model's bytes. */
export function trainPanel(useModel: (bytes: Uint8Array, source: string) => Promise<void>): void {
  const fileInput = byId<HTMLInputElement>('train-file');
  const drop = byId<HTMLDivElement>('train-drop');
  const epochsInput = byId<HTMLInputElement>('train-epochs');
  const progressBar = byId<HTMLProgressElement>('train-progress');
  const status = byId<HTMLParagraphElement>('train-status');
  const ndcg = byId<HTMLParagraphElement>('train-ndcg');
  const download = byId<HTMLButtonElement>('train-download');
  const curve = byId<SVGSVGElement>('loss-curve').querySelector('polyline') as SVGPolylineElement;
  let running = false;
  let trained: { url: string; name: string } | undefined;

  async function train(file: File): Promise<void> {
    if (running) {
      status.textContent = 'A model is training already; wait for it to finish.';
      return;
    }
    running = true;
    fileInput.disabled = true;
    download.hidden = true;
    const points: Array<[number, number]> = [];
    progressBar.value = 0;
    ndcg.textContent = '';
    drawCurve(curve, points, 1);
    const numEpochs = Number(epochsInput.value) || 20;
    status.textContent = `Reading ${file.name}…`;
    const onProgress = (p: TrainProgress) => {
      const done = (p.epoch - 1) * p.stepsPerEpoch + p.step;
      const total = p.numEpochs * p.stepsPerEpoch;
      progressBar.value = done / total;
      status.textContent = `Epoch ${p.epoch}/${p.numEpochs}, step ${p.step}/${p.stepsPerEpoch}: loss ${p.loss.toFixed(4)}`;
      if (!p.epochDone) points.push([done, p.loss]);
      drawCurve(curve, points, total);
      if (p.validNdcg !== undefined) ndcg.textContent = `Valid NDCG@10 after epoch ${p.epoch}: ${p.validNdcg.toFixed(4)}`;
    };
    try {
      const result = await trainInWorker(await file.text(), file.name, { model: 'sasrec', num_epochs: numEpochs, eval_every: 1 }, onProgress);
      if (trained) URL.revokeObjectURL(trained.url);
      trained = {
        url: URL.createObjectURL(new Blob([result.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' })),
        name: `${file.name.replace(/\.[^.]*$/, '') || 'model'}-sasrec.safetensors`,
      };
      download.hidden = false;
      progressBar.value = 1;
      const best = result.epochs.reduce((a, e) => ((e.valid?.['NDCG@10'] ?? -1) > (a.valid?.['NDCG@10'] ?? -1) ? e : a), result.epochs[0]);
      status.textContent = `Trained ${result.epochs.length} epochs on ${file.name}; the model of epoch ${best.epoch} (best valid NDCG@10) recommends above.`;
      await useModel(result.bytes, `SASRec trained here on ${file.name}`);
    } catch (e) {
      status.textContent = `Could not train on ${file.name}: ${(e as Error).message}`;
    } finally {
      running = false;
      fileInput.disabled = false;
    }
  }

  download.addEventListener('click', () => {
    if (!trained) return;
    const link = document.createElement('a');
    link.href = trained.url;
    link.download = trained.name;
    link.click();
  });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (file) void train(file);
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void train(file);
  });
}
