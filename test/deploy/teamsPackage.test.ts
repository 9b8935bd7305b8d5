import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { PNG } from 'pngjs';
import yauzl from 'yauzl';
import { buildTeamsPackage, manifestValues, renderManifest } from '../../deploy/packageTeamsApp';
import { TEAMS_APP_DIR } from '../../deploy/paths';
import { drawColorIcon, drawOutlineIcon } from '../../deploy/teamsIcons';
import { isAppError } from '../../services/errors';

const APP_ID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const ENV = { MicrosoftAppId: APP_ID, PUBLIC_URL: 'https://enroll-bot.azurewebsites.net/' };
const VERSION = (
  JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
).version;

/** Every entry of a zip, by name. */
async function readZip(file: string): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  const entries = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', resolve);
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', reject);
        stream.on('end', () => {
          entries.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return entries;
}

/** The Teams manifest JSON schema of a manifest version, as shipped in @microsoft/app-manifest. */
function teamsSchema(manifestVersion: string): Record<string, unknown> {
  const packageDir = path.dirname(path.dirname(require.resolve('@microsoft/app-manifest')));
  const file = path.join(
    packageDir,
    'build',
    'json-schemas',
    'teams',
    `v${manifestVersion}`,
    'MicrosoftTeams.schema.json',
  );
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

function validate(manifest: Record<string, unknown>): string[] {
  const ajv = new Ajv04({ allErrors: true, strict: false });
  addFormats(ajv, ['uri', 'email', 'regex']);
  const check = ajv.compile(teamsSchema(String(manifest.manifestVersion)));
  return check(manifest) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

describe('the Teams app package', () => {
  let dir: string;
  let zipFile: string;
  let entries: Map<string, Buffer>;
  let manifest: Record<string, unknown>;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'teams-package-'));
    zipFile = path.join(dir, 'out', 'enrollment-assistant.zip');
    const built = await buildTeamsPackage({ env: ENV, outFile: zipFile });
    expect(built.file).toBe(zipFile);
    entries = await readZip(zipFile);
    manifest = JSON.parse((entries.get('manifest.json') ?? Buffer.from('{}')).toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toEqual(built.manifest);
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('holds exactly manifest.json, color.png and outline.png at its root', () => {
    expect([...entries.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
  });

  it('has a manifest valid against the Teams schema of its version', () => {
    expect(Number(manifest.manifestVersion)).toBeGreaterThanOrEqual(1.17);
    expect(manifest.$schema).toBe(
      `https://developer.microsoft.com/en-us/json-schemas/teams/v${String(manifest.manifestVersion)}/MicrosoftTeams.schema.json`,
    );
    expect(validate(manifest)).toEqual([]);
  });

  it('fills the placeholders from the settings', () => {
    const text = entries.get('manifest.json')?.toString('utf8') ?? '';
    expect(text).not.toMatch(/\{\{|\}\}/);
    expect(manifest).toMatchObject({
      id: APP_ID,
      version: VERSION,
      validDomains: ['enroll-bot.azurewebsites.net'],
      developer: {
        websiteUrl: 'https://enroll-bot.azurewebsites.net',
        privacyUrl: 'https://enroll-bot.azurewebsites.net',
        termsOfUseUrl: 'https://enroll-bot.azurewebsites.net',
      },
    });
  });

  it('declares a personal bot that receives files, with its commands', () => {
    const bots = manifest.bots as Record<string, unknown>[];
    expect(bots).toHaveLength(1);
    expect(bots[0]).toMatchObject({ botId: APP_ID, scopes: ['personal'], supportsFiles: true });
    const lists = bots[0]?.commandLists as {
      scopes: string[];
      commands: { title: string; description: string }[];
    }[];
    expect(lists).toHaveLength(1);
    expect(lists[0]?.scopes).toEqual(['personal']);
    expect(lists[0]?.commands.map((c) => c.title)).toEqual([
      'show last import results',
      'import history',
      'help',
    ]);
    for (const command of lists[0]?.commands ?? []) expect(command.description.length).toBeGreaterThan(10);
  });

  it('carries a 192x192 colour icon and a 32x32 white-on-transparent outline icon', () => {
    const color = PNG.sync.read(entries.get('color.png') ?? Buffer.alloc(0));
    expect([color.width, color.height]).toEqual([192, 192]);
    const outline = PNG.sync.read(entries.get('outline.png') ?? Buffer.alloc(0));
    expect([outline.width, outline.height]).toEqual([32, 32]);
    let drawn = 0;
    for (let i = 0; i < outline.data.length; i += 4) {
      const [r, g, b, a] = [outline.data[i], outline.data[i + 1], outline.data[i + 2], outline.data[i + 3]];
      if (a === 0) continue;
      drawn++;
      expect([r, g, b]).toEqual([255, 255, 255]);
    }
    expect(drawn).toBeGreaterThan(50);
    expect(drawn).toBeLessThan(32 * 32);
  });

  it('ships the icons the generator draws', async () => {
    const committed = (name: string) =>
      fs.readFile(path.join(TEAMS_APP_DIR, name)).then((b) => PNG.sync.read(b));
    expect((await committed('color.png')).data.equals(drawColorIcon().data)).toBe(true);
    expect((await committed('outline.png')).data.equals(drawOutlineIcon().data)).toBe(true);
  });

  it('takes the version, developer name and links from optional settings', () => {
    const values = manifestValues({
      ...ENV,
      TEAMS_APP_VERSION: '2.3.4',
      TEAMS_DEVELOPER_NAME: 'Acme IT',
      TEAMS_PRIVACY_URL: 'https://acme.com/privacy',
    });
    expect(values).toMatchObject({
      APP_VERSION: '2.3.4',
      DEVELOPER_NAME: 'Acme IT',
      PRIVACY_URL: 'https://acme.com/privacy',
      TERMS_URL: 'https://enroll-bot.azurewebsites.net',
      PUBLIC_HOST: 'enroll-bot.azurewebsites.net',
    });
    const rendered = renderManifest(
      readFileSync(path.join(TEAMS_APP_DIR, 'manifest.template.json'), 'utf8'),
      values,
    );
    expect(validate(rendered)).toEqual([]);
  });

  it('refuses to build without the settings, naming each missing or bad one', async () => {
    const failure = await buildTeamsPackage({ env: {}, outFile: path.join(dir, 'none.zip') }).catch(
      (e: unknown) => e,
    );
    expect(isAppError(failure, 'config-invalid')).toBe(true);
    const message = (failure as Error).message;
    expect(message).toContain('MicrosoftAppId: is required');
    expect(message).toContain('PUBLIC_URL: is required');
    await expect(fs.access(path.join(dir, 'none.zip'))).rejects.toThrow();

    expect(() => manifestValues({ MicrosoftAppId: 'bot', PUBLIC_URL: 'http://localhost:3978' })).toThrow(
      /MicrosoftAppId: must be a GUID[\s\S]*PUBLIC_URL: must be an https URL/,
    );
  });

  it('rejects a template naming an unknown placeholder', () => {
    const values = manifestValues(ENV);
    expect(() => renderManifest('{"id": "{{NOPE}}"}', values)).toThrow(/unknown placeholder \{\{NOPE\}\}/);
    expect(
      renderManifest('{"name": "{{DEVELOPER_NAME}}"}', { ...values, DEVELOPER_NAME: 'A "quoted" name' }),
    ).toEqual({ name: 'A "quoted" name' });
  });
});
