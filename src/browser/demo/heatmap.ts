/** One attention map as an SVG heatmap in a captioned figure (white → dark blue, scaled to the map's maximum). */
const SVG = 'http://www.w3.org/2000/svg';
const SIDE = 240;

function svgElement(name: string, attributes: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  return el;
}

/** `weights` is [n × n] row-major: row = the attending position, column = the attended item. */
export function heatmap(weights: Float32Array, n: number, labels: readonly string[], caption: string): HTMLElement {
  const cell = Math.max(4, Math.min(24, Math.floor(SIDE / n)));
  const svg = svgElement('svg', { width: n * cell, height: n * cell, role: 'img', 'aria-label': `${caption}: attention weights` });
  let max = 1e-12;
  for (const w of weights) max = Math.max(max, w);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const w = weights[i * n + j];
      const t = w / max;
      const shade = (from: number, to: number) => Math.round(from + (to - from) * t);
      const rect = svgElement('rect', {
        x: j * cell,
        y: i * cell,
        width: cell,
        height: cell,
        fill: `rgb(${shade(255, 8)},${shade(255, 48)},${shade(255, 107)})`,
      });
      const title = svgElement('title', {});
      title.textContent = `${labels[i]} → ${labels[j]}: ${w.toFixed(4)}`;
      rect.append(title);
      svg.append(rect);
    }
  }
  const figure = document.createElement('figure');
  const figcaption = document.createElement('figcaption');
  figcaption.textContent = caption;
  figure.append(figcaption, svg);
  return figure;
}
