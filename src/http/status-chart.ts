/**
 * The status page's growth chart: an inline SVG drawn on the server from at most a few dozen
 * signed heads (LogApi.growth), so the page needs no script and no image from anywhere. The tree
 * size is a step function of time (it changes only when a head is signed), drawn as horizontal and
 * vertical segments from each sampled head to the next and on to `now`. No style attributes (the
 * page's CSP has no 'unsafe-inline'): colours come from classes in status.css.
 */
import type { GrowthPoint } from '../log/api.ts';
import { markup, type Html } from './html.ts';

const W = 640;
const H = 200;
const LEFT = 64;
const RIGHT = 16;
const TOP = 16;
const BOTTOM = 32;

/** "2026-12-02 07:04 UTC": ms since the epoch, to the minute. */
export function minuteUtc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** "2026-12-02T07:04:05Z": ms since the epoch, to the second (machine-readable, for <time>). */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const r1 = (x: number): string => (Math.round(x * 10) / 10).toString();

export function growthChart(points: readonly GrowthPoint[], now: number): Html {
  const first = points[0];
  const last = points.at(-1);
  if (first === undefined || last === undefined) {
    return markup`<p class="empty">No signed head yet: nothing to chart.</p>`;
  }
  const t0 = first.createdAt;
  const t1 = Math.max(now, last.createdAt, t0 + 1);
  const maxSize = Math.max(1, ...points.map((p) => p.size));
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const x = (t: number) => LEFT + ((t - t0) / (t1 - t0)) * plotW;
  const y = (s: number) => TOP + plotH - (s / maxSize) * plotH;

  let line = `M${r1(x(first.createdAt))} ${r1(y(first.size))}`;
  for (const p of points.slice(1)) line += ` H${r1(x(p.createdAt))} V${r1(y(p.size))}`;
  line += ` H${r1(x(t1))}`;
  const base = r1(y(0));
  const area = `${line} V${base} H${r1(x(t0))} Z`;
  const desc =
    `From ${first.size} records at ${minuteUtc(first.createdAt)} to ${last.size} records at ` +
    `${minuteUtc(last.createdAt)} (${points.length} samples of the signed heads).`;

  return markup`<figure class="chart">
<svg id="growth-chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">Tree size over time</title>
<desc id="chart-desc">${desc}</desc>
<line class="axis" x1="${LEFT}" y1="${base}" x2="${W - RIGHT}" y2="${base}"/>
<line class="axis" x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${base}"/>
<path class="chart-area" d="${area}"/>
<path class="chart-line" d="${line}"/>
<text class="label" x="${LEFT - 6}" y="${TOP + 4}" text-anchor="end">${maxSize}</text>
<text class="label" x="${LEFT - 6}" y="${base}" text-anchor="end">0</text>
<text class="label" x="${LEFT}" y="${H - 10}" text-anchor="start">${minuteUtc(t0)}</text>
<text class="label" x="${W - RIGHT}" y="${H - 10}" text-anchor="end">${minuteUtc(t1)}</text>
</svg>
<figcaption>${desc}</figcaption>
</figure>
<details class="chart-data"><summary>Samples as a table</summary>
<table><thead><tr><th scope="col">Signed at</th><th scope="col">Tree size</th></tr></thead><tbody>
${points.map((p) => markup`<tr><td><time datetime="${isoUtc(p.createdAt)}">${minuteUtc(p.createdAt)}</time></td><td class="num">${p.size}</td></tr>\n`)}</tbody></table></details>`;
}
