import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { TEAMS_APP_DIR } from './paths';

/**
 * Draws the Teams app icons: a person with a plus sign, white on the accent colour (color.png, 192x192) and
 * white on transparent (outline.png, 32x32), as the Teams app package requires. The PNGs in teamsApp/ were
 * written by this module: `npm run -s build && node dist/deploy/teamsIcons.js` writes them again.
 */

/** The manifest's accentColor, which is also the colour icon's background. */
export const ACCENT_COLOR = '#2F5597';

export const COLOR_ICON_SIZE = 192;
export const OUTLINE_ICON_SIZE = 32;

/** Samples per pixel side: the glyph's edges are anti-aliased through the share of samples it covers. */
const SUPERSAMPLING = 4;

/** True where the glyph is, in a unit square with y growing downwards; the glyph is centred in it. */
function personPlus(u: number, v: number): boolean {
  const x = u + 0.035;
  const y = v + 0.025;
  const head = (x - 0.4) ** 2 + (y - 0.34) ** 2 <= 0.15 ** 2;
  const shoulders = ((x - 0.4) / 0.3) ** 2 + ((y - 0.86) / 0.3) ** 2 <= 1 && y <= 0.86;
  const plusX = Math.abs(x - 0.82) <= 0.045 && Math.abs(y - 0.42) <= 0.15;
  const plusY = Math.abs(y - 0.42) <= 0.045 && Math.abs(x - 0.82) <= 0.15;
  return head || shoulders || plusX || plusY;
}

/** The share (0 to 1) of each pixel the glyph covers, the glyph drawn inside the square less `padding`. */
function coverage(size: number, padding: number): Float64Array {
  const result = new Float64Array(size * size);
  const inner = 1 - 2 * padding;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < SUPERSAMPLING; sy++) {
        for (let sx = 0; sx < SUPERSAMPLING; sx++) {
          const u = (px + (sx + 0.5) / SUPERSAMPLING) / size;
          const v = (py + (sy + 0.5) / SUPERSAMPLING) / size;
          if (personPlus((u - padding) / inner, (v - padding) / inner)) hits++;
        }
      }
      result[py * size + px] = hits / SUPERSAMPLING ** 2;
    }
  }
  return result;
}

function hexToRgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** The colour icon: the glyph in white on a full-bleed accent-coloured square. */
export function drawColorIcon(): PNG {
  const size = COLOR_ICON_SIZE;
  const png = new PNG({ width: size, height: size });
  const cover = coverage(size, 0.2);
  const background = hexToRgb(ACCENT_COLOR);
  for (let i = 0; i < size * size; i++) {
    const c = cover[i] ?? 0;
    for (let channel = 0; channel < 3; channel++) {
      png.data[i * 4 + channel] = Math.round((background[channel] ?? 0) * (1 - c) + 255 * c);
    }
    png.data[i * 4 + 3] = 255;
  }
  return png;
}

/** The outline icon: the glyph in white on transparent, edges softened through alpha only. */
export function drawOutlineIcon(): PNG {
  const size = OUTLINE_ICON_SIZE;
  const png = new PNG({ width: size, height: size });
  const cover = coverage(size, 0.06);
  for (let i = 0; i < size * size; i++) {
    const alpha = Math.round((cover[i] ?? 0) * 255);
    const white = alpha === 0 ? 0 : 255;
    png.data[i * 4] = white;
    png.data[i * 4 + 1] = white;
    png.data[i * 4 + 2] = white;
    png.data[i * 4 + 3] = alpha;
  }
  return png;
}

/** Writes color.png and outline.png into `dir`. */
export async function writeTeamsIcons(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'color.png'), PNG.sync.write(drawColorIcon()));
  await fs.writeFile(path.join(dir, 'outline.png'), PNG.sync.write(drawOutlineIcon()));
}

if (require.main === module) {
  const dir = TEAMS_APP_DIR;
  writeTeamsIcons(dir).then(
    () => process.stdout.write(`Wrote ${path.join(dir, 'color.png')} and outline.png\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
