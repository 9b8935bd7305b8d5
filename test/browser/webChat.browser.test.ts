import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { startTestBotApp, type TestBotApp } from '../support/testBotApp';

/**
 * The local Web Chat page end to end, in a real browser: Debian's chromium (installed by .ci/run) driven by
 * playwright-core, against the whole bot with its Direct Line endpoint, on the embedded database.
 */

const CHROMIUM = '/usr/bin/chromium';
// The launch flags these machines need: no sandbox as root, and no background connections, which the closed
// network here would refuse by the dozen.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const ADMIN_ID = 'web-admin-1';
const FIXTURE =
  'Email ID,First Name,Last Name,User Status\njane@acme.com,Jane,Doe,New\nsam@acme.com,Sam,Lee,New\nbad-email,Bob,Ray,New\n';
const SCREENSHOT = path.join(__dirname, '..', '..', 'test-output', 'webchat.png');

// A browser and a whole bot: slow to start on two cores. Nothing below asserts a duration.
jest.setTimeout(120_000);

let bot: TestBotApp | undefined;
let context: BrowserContext | undefined;
let page: Page;
let scratch: string;
/** Content-Security-Policy violations and uncaught errors the page reported. */
const pageProblems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Debian's chromium is missing at ${CHROMIUM}; .ci/run installs it (apt-get install chromium). ` +
        'This test does not skip: the page is only proven in a real browser.',
    );
  }
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'webchat-browser-'));
  // As `npm start` runs it: no app id, the local channel on by default, nobody in ADMINS.
  bot = await startTestBotApp({ LOCAL_CHANNEL: 'auto', DEFAULT_ACCOUNT: 'acme' });
  context = await chromium.launchPersistentContext(path.join(scratch, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 900 },
    acceptDownloads: true,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) pageProblems.push(message.text());
  });
  page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
});

afterAll(async () => {
  await context?.close();
  await bot?.close();
  if (scratch) await fs.rm(scratch, { recursive: true, force: true });
});

/** The few browser globals the drop below uses: the project compiles without the DOM library. */
interface DropWindow {
  DataTransfer: new () => { items: { add(file: unknown): void } };
  File: new (parts: string[], name: string, options: { type: string }) => unknown;
  DragEvent: new (type: string, init: Record<string, unknown>) => unknown;
  document: { querySelector(selector: string): { dispatchEvent(event: unknown): boolean } | null };
}

/** The Adaptive Card rendered last whose text matches: later cards replace earlier ones in the story. */
const lastCard = (text: string | RegExp): Locator =>
  page.locator('.ac-adaptiveCard', { hasText: text }).last();

/** A card's FactSet as title → value. */
async function factsOf(card: Locator): Promise<Record<string, string>> {
  const rows = await card
    .locator('.ac-factset tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())),
    );
  return Object.fromEntries(rows.filter((r) => r.length >= 2).map((r) => [r[0], r.at(-1)]));
}

describe('the local Web Chat page in Chromium', () => {
  it('imports a file from upload to result card', async () => {
    const app = bot as TestBotApp;
    await page.goto(`${app.url}/?user=${ADMIN_ID}`);

    // The product around the chat.
    expect(await page.title()).toBe('Enrollment Assistant · Import users');
    await expect(page.locator('h1').textContent()).resolves.toBe('Enrollment Assistant');
    await expect(page.locator('#hint').innerText()).resolves.toContain(
      'Drop a CSV, TXT or Excel user file here, or use the paperclip.',
    );
    const sampleLink = page.getByRole('link', { name: 'Download a sample file' });
    expect(await sampleLink.getAttribute('href')).toBe('/sample/users.csv');

    // Web Chat's paperclip drives a hidden file input; choosing a file sends it at once (sendAttachmentOn).
    const fixture = path.join(scratch, 'users.csv');
    await fs.writeFile(fixture, FIXTURE);
    await page.locator('#webchat input[type="file"]').setInputFiles(fixture);

    // The plan card, rendered by Web Chat's Adaptive Cards renderer.
    const plan = lastCard('users.csv');
    await plan.waitFor();
    expect(await factsOf(plan)).toMatchObject({ Create: '2', 'Ignored rows': '1' });
    await plan.locator('button.ac-pushButton[title="Import"]').click();

    // The confirmation is a card submit the bot answers with the queued import; tests run the importer.
    await page.locator('.webchat__bubble__content', { hasText: /\(import imp_[a-z0-9]+\)/ }).waitFor();
    expect(await app.app.runner.runOnce()).toBe(true);

    const result = lastCard('Import finished: users.csv');
    await result.waitFor();
    expect(await factsOf(result)).toMatchObject({
      Created: '2',
      Updated: '0',
      Unchanged: '0',
      Ignored: '1',
    });
    const resultText = await result.innerText();
    expect(resultText).toContain(`by ${ADMIN_ID} · 3 rows`);
    expect(resultText).toContain('Row 4 (bad-email)');
    expect(await app.services.database.db.collection('users').countDocuments({ accountId: 'acme' })).toBe(2);

    await result.scrollIntoViewIfNeeded();
    await fs.mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
  });

  it('answers a question typed in the send box, and asks with suggested actions when unsure', async () => {
    const sendBox = page.locator('[data-id="webchat-sendbox-input"]');
    await sendBox.fill('what went wrong with import #1');
    await sendBox.press('Enter');
    const problems = lastCard('Rows not imported: #1 users.csv');
    await problems.waitFor();
    expect(await problems.innerText()).toContain('bad-email');

    await sendBox.fill('order me a pizza');
    await sendBox.press('Enter');
    const suggestion = page.locator('.webchat__suggested-action', { hasText: 'List all imports' });
    await suggestion.waitFor();
    await suggestion.click();
    const list = lastCard('File and admin');
    await list.waitFor();
    expect(await list.innerText()).toContain('users.csv');
  });

  it('takes the sample file dropped onto the page', async () => {
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download a sample file' }).click();
    const sample = await (await download).path();
    const text = await fs.readFile(sample, 'utf8');

    // A drop as the browser delivers one; the page hands the file to Web Chat's input.
    await page.evaluate((content) => {
      const w = globalThis as unknown as DropWindow;
      const transfer = new w.DataTransfer();
      transfer.items.add(new w.File([content], 'sample-users.csv', { type: 'text/csv' }));
      const target = w.document.querySelector('#hint');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        target?.dispatchEvent(
          new w.DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }),
        );
      }
    }, text);

    const plan = lastCard('sample-users.csv');
    await plan.waitFor();
    expect(await factsOf(plan)).toMatchObject({ Create: '5', Activate: '0', 'Ignored rows': '0' });
    await plan.locator('button.ac-pushButton[title="Cancel"]').click();
    await page.locator('.webchat__bubble__content', { hasText: /^Cancelled\./ }).waitFor();
  });

  it('ran without Content-Security-Policy violations or script errors', () => {
    expect(pageProblems).toEqual([]);
  });
});
