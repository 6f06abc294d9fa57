/** A matrix as a self-contained SVG heatmap (white → dark blue, scaled to the matrix's maximum). */
import { escapeMarkup } from './markup.js';

export function heatmapSvg(
  matrix: readonly (readonly number[])[],
  rowLabels: readonly string[],
  colLabels: readonly string[],
  title: string,
): string {
  const cell = 24;
  const left = 90;
  const top = 40;
  const rows = matrix.length;
  const cols = matrix[0]?.length ?? 0;
  const max = Math.max(1e-12, ...matrix.flat());
  const width = Math.max(left + cols * cell + 10, left + title.length * 7);
  const height = top + rows * cell + 70;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`,
    `<text x="${left}" y="16" font-size="12">${escapeMarkup(title)}</text>`,
  ];
  matrix.forEach((row, i) => {
    parts.push(`<text x="${left - 4}" y="${top + i * cell + cell / 2 + 3}" text-anchor="end">${escapeMarkup(rowLabels[i] ?? '')}</text>`);
    row.forEach((v, j) => {
      const t = v / max;
      const shade = (a: number, b: number) => Math.round(a + (b - a) * t);
      parts.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${shade(255, 8)},${shade(255, 48)},${shade(255, 107)})"><title>${v.toFixed(4)}</title></rect>`,
      );
    });
  });
  colLabels.forEach((label, j) => {
    const x = left + j * cell + cell / 2;
    const y = top + rows * cell + 8;
    parts.push(`<text x="${x}" y="${y}" transform="rotate(60 ${x} ${y})">${escapeMarkup(label)}</text>`);
  });
  parts.push(`<text x="${left}" y="${top - 6}">max ${max.toFixed(3)}</text>`, '</svg>');
  return `${parts.join('\n')}\n`;
}
