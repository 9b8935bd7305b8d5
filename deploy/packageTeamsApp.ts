import { createWriteStream, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PNG } from 'pngjs';
import { ZipFile } from 'yazl';
import { z } from 'zod';
import { AppError, isAppError } from '../services/errors';
import { projectRoot, TEAMS_APP_DIR } from './paths';

/**
 * Builds the Teams app package that Teams admin center accepts: a zip holding exactly manifest.json (the
 * template in teamsApp/ with its placeholders filled from the environment), color.png and outline.png.
 *
 *   MicrosoftAppId=<bot app id> PUBLIC_URL=https://<app>.azurewebsites.net npm run package:teams
 */

export const DEFAULT_PACKAGE_FILE = path.join(projectRoot(), 'dist', 'teams', 'enrollment-assistant.zip');

/** The icons the package carries, with the size Teams requires of each. */
export const TEAMS_ICONS = { 'color.png': 192, 'outline.png': 32 } as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const optional = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const isHttpsUrl = (v: string) => URL.canParse(v) && new URL(v).protocol === 'https:';

const httpsUrl = (example: string) =>
  optional.refine((v) => v === undefined || isHttpsUrl(v), `must be an https URL such as ${example}`);

/** A setting the package cannot do without: absent or blank says what it is for. */
const required = (what: string) =>
  z
    .string({ error: `is required (${what})` })
    .trim()
    .min(1, { error: `is required (${what})`, abort: true });

const schema = z.object({
  MicrosoftAppId: required("the bot's Microsoft app id, a GUID").regex(
    GUID,
    'must be a GUID such as 00000000-0000-0000-0000-000000000000',
  ),
  PUBLIC_URL: required(
    'the https address the bot is reached at, such as https://enroll-bot.azurewebsites.net',
  )
    .refine(isHttpsUrl, 'must be an https URL such as https://enroll-bot.azurewebsites.net')
    .refine((v) => !/[?#]/.test(v), 'must not have a query or fragment'),
  TEAMS_APP_VERSION: optional.refine(
    (v) => v === undefined || /^\d+\.\d+\.\d+$/.test(v),
    'must be a version such as 1.0.3',
  ),
  TEAMS_DEVELOPER_NAME: optional.refine(
    (v) => v === undefined || v.length <= 32,
    'must be 32 characters or fewer',
  ),
  TEAMS_WEBSITE_URL: httpsUrl('https://acme.com/support'),
  TEAMS_PRIVACY_URL: httpsUrl('https://acme.com/privacy'),
  TEAMS_TERMS_URL: httpsUrl('https://acme.com/terms'),
});

/** The values of the manifest template's `{{NAME}}` placeholders. */
export type ManifestValues = Record<
  | 'MicrosoftAppId'
  | 'PUBLIC_HOST'
  | 'APP_VERSION'
  | 'DEVELOPER_NAME'
  | 'WEBSITE_URL'
  | 'PRIVACY_URL'
  | 'TERMS_URL',
  string
>;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * The placeholder values from the environment: MicrosoftAppId and PUBLIC_URL are required; TEAMS_APP_VERSION
 * (default: package.json's version), TEAMS_DEVELOPER_NAME and TEAMS_WEBSITE_URL, TEAMS_PRIVACY_URL and
 * TEAMS_TERMS_URL (default: PUBLIC_URL) are optional. Throws `config-invalid` naming every missing or bad one.
 */
export function manifestValues(env: NodeJS.ProcessEnv = process.env): ManifestValues {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const settings = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))];
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new AppError('config-invalid', `Cannot build the Teams app package:\n  ${lines.join('\n  ')}`, {
      settings,
    });
  }
  const s = parsed.data;
  const publicUrl = s.PUBLIC_URL.replace(/\/+$/, '');
  return {
    MicrosoftAppId: s.MicrosoftAppId.toLowerCase(),
    PUBLIC_HOST: new URL(publicUrl).host,
    APP_VERSION: s.TEAMS_APP_VERSION ?? packageVersion(),
    DEVELOPER_NAME: s.TEAMS_DEVELOPER_NAME ?? 'Enrollment Assistant',
    WEBSITE_URL: s.TEAMS_WEBSITE_URL ?? publicUrl,
    PRIVACY_URL: s.TEAMS_PRIVACY_URL ?? publicUrl,
    TERMS_URL: s.TEAMS_TERMS_URL ?? publicUrl,
  };
}

/** Fills the template's `{{NAME}}` placeholders (inside JSON strings) and parses the result. */
export function renderManifest(template: string, values: ManifestValues): Record<string, unknown> {
  const text = template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const value = Object.prototype.hasOwnProperty.call(values, name)
      ? values[name as keyof ManifestValues]
      : undefined;
    if (value === undefined)
      throw new Error(`The Teams manifest template names an unknown placeholder ${whole}`);
    return JSON.stringify(value).slice(1, -1);
  });
  return JSON.parse(text) as Record<string, unknown>;
}

/** Checks an icon is a PNG of the size Teams requires; the outline must be white on transparent. */
export function checkIcon(name: keyof typeof TEAMS_ICONS, bytes: Buffer): void {
  const size = TEAMS_ICONS[name];
  const png = PNG.sync.read(bytes);
  if (png.width !== size || png.height !== size) {
    throw new Error(`teamsApp/${name} is ${png.width}x${png.height}; Teams needs ${size}x${size}`);
  }
  if (name === 'outline.png') {
    for (let i = 0; i < png.data.length; i += 4) {
      const white = png.data[i] === 255 && png.data[i + 1] === 255 && png.data[i + 2] === 255;
      if (png.data[i + 3] !== 0 && !white) {
        throw new Error('teamsApp/outline.png must be white on a transparent background');
      }
    }
  }
}

export interface TeamsPackage {
  file: string;
  manifest: Record<string, unknown>;
}

/** Writes the package (default `dist/teams/enrollment-assistant.zip`) and returns where, with its manifest. */
export async function buildTeamsPackage(
  options: { env?: NodeJS.ProcessEnv; outFile?: string; appDir?: string } = {},
): Promise<TeamsPackage> {
  const values = manifestValues(options.env ?? process.env);
  const appDir = options.appDir ?? TEAMS_APP_DIR;
  const outFile = options.outFile ?? DEFAULT_PACKAGE_FILE;
  const manifest = renderManifest(
    await fs.readFile(path.join(appDir, 'manifest.template.json'), 'utf8'),
    values,
  );

  // A fixed timestamp keeps the zip the same for the same inputs.
  const mtime = new Date('2024-01-01T00:00:00Z');
  const zip = new ZipFile();
  zip.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'), 'manifest.json', { mtime });
  for (const name of Object.keys(TEAMS_ICONS) as (keyof typeof TEAMS_ICONS)[]) {
    const bytes = await fs.readFile(path.join(appDir, name));
    checkIcon(name, bytes);
    zip.addBuffer(bytes, name, { mtime });
  }
  zip.end();
  await fs.mkdir(path.dirname(outFile), { recursive: true });
  await pipeline(zip.outputStream, createWriteStream(outFile));
  return { file: outFile, manifest };
}

if (require.main === module) {
  buildTeamsPackage().then(
    ({ file, manifest }) => {
      const bots = manifest.bots as { botId: string }[];
      process.stdout.write(
        `Wrote ${path.relative(process.cwd(), file)} for bot ${bots[0]?.botId ?? '?'} ` +
          `(app version ${String(manifest.version)}); upload it in Teams admin center > Teams apps > Manage apps.\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(
        `${isAppError(error) || error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
