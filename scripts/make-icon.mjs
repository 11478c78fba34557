// Draws XenLab's icon and writes build/icon.png (512×512 RGBA), the source electron-builder
// turns into each platform's icon. Run `node scripts/make-icon.mjs` after changing the drawing;
// the PNG is committed. The picture: two domains (boxes) joined by an event channel, with an
// event on its way along it.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
const SUBSAMPLES = 4; // per axis: 16 samples a pixel for smooth edges

/** Signed distance to a rounded rectangle centred at (cx, cy) with half-sizes (hw, hh) and radius r. */
function roundedRect(x, y, cx, cy, hw, hh, r) {
  const qx = Math.abs(x - cx) - hw + r;
  const qy = Math.abs(y - cy) - hh + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}
const circle = (x, y, cx, cy, r) => Math.hypot(x - cx, y - cy) - r;
/** Distance to the segment (ax, ay)–(bx, by), minus half its width. */
function segment(x, y, ax, ay, bx, by, halfWidth) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - ax - t * dx, y - ay - t * dy) - halfWidth;
}
const mix = (a, b, t) => a.map((v, i) => v + (b[i] - v) * t);

const TOP = [36, 62, 107];
const BOTTOM = [20, 33, 61];
const BOX = [232, 237, 245];
const BOX_EDGE = [148, 168, 201];
const CHANNEL = [245, 158, 11];
const EVENT = [253, 224, 71];

/** The colour (RGBA 0..255) at a point of the 512×512 canvas. */
function sample(x, y) {
  let colour = [0, 0, 0, 0];
  const paint = (rgb, alpha = 1) => {
    colour = [...mix(colour.slice(0, 3), rgb, alpha), colour[3] + (255 - colour[3]) * alpha];
  };
  if (roundedRect(x, y, 256, 256, 232, 232, 96) <= 0) paint(mix(TOP, BOTTOM, y / SIZE));
  else return colour;
  // The channel first, so the boxes sit on its ends.
  if (segment(x, y, 204, 290, 308, 222, 12) <= 0) paint(CHANNEL);
  for (const [cx, cy] of [
    [138, 306],
    [374, 206],
  ]) {
    const d = roundedRect(x, y, cx, cy, 66, 84, 22);
    if (d <= 0) paint(d > -10 ? BOX_EDGE : BOX);
  }
  // Each domain's port, where the channel is bound.
  for (const [cx, cy] of [
    [204, 290],
    [308, 222],
  ]) {
    if (circle(x, y, cx, cy, 16) <= 0) paint(CHANNEL);
  }
  // The event in flight, with a glow.
  const glow = circle(x, y, 256, 256, 26);
  if (glow <= 18) paint(EVENT, glow <= 0 ? 1 : 0.45 * (1 - glow / 18));
  return colour;
}

const rows = [];
for (let py = 0; py < SIZE; py++) {
  const row = Buffer.alloc(1 + SIZE * 4); // filter byte 0, then RGBA
  for (let px = 0; px < SIZE; px++) {
    const sum = [0, 0, 0, 0];
    for (let sy = 0; sy < SUBSAMPLES; sy++) {
      for (let sx = 0; sx < SUBSAMPLES; sx++) {
        const [r, g, b, a] = sample(px + (sx + 0.5) / SUBSAMPLES, py + (sy + 0.5) / SUBSAMPLES);
        // Premultiplied, so edges against transparency do not darken.
        sum[0] += (r * a) / 255;
        sum[1] += (g * a) / 255;
        sum[2] += (b * a) / 255;
        sum[3] += a;
      }
    }
    const n = SUBSAMPLES * SUBSAMPLES;
    const alpha = sum[3] / n;
    const unpremultiply = (v) => (alpha === 0 ? 0 : Math.round(Math.min(255, (v / n) * (255 / alpha))));
    row.set([unpremultiply(sum[0]), unpremultiply(sum[1]), unpremultiply(sum[2]), Math.round(alpha)], 1 + px * 4);
  }
  rows.push(row);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits per channel, RGBA, deflate, no filter, no interlace
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
const out = new URL('../build/icon.png', import.meta.url);
writeFileSync(out, png);
console.log(`wrote ${out.pathname} (${png.length} bytes)`);
