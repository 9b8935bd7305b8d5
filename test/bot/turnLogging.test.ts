import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestAdapter } from 'botbuilder';
import { handleTurnError } from '../../bot/turnErrors';
import { TurnLogging } from '../../bot/turnLogging';
import { createLogger } from '../../services/logger';

describe('turn correlation ids', () => {
  it('logs each turn under an id, without what the user said, and quotes that id when the turn fails', async () => {
    const lines: string[] = [];
    const log = createLogger('debug', (line) => lines.push(line));
    const adapter = new TestAdapter(async (context) => {
      if (context.activity.text === 'fail') throw new Error('boom for jane@acme.com');
      await context.sendActivity('ok');
    });
    adapter.use(new TurnLogging(log));
    adapter.onTurnError = (context, error) => handleTurnError(context, error, log);

    let reference = '';
    await adapter
      .send('hello jane@acme.com')
      .assertReply('ok')
      .send('fail')
      .assertReply((reply) => {
        reference = /reference ([0-9a-f]{8})/.exec(reply.text ?? '')?.[1] ?? '';
      })
      .startTest();

    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const started = entries.filter((e) => e.message === 'Turn started');
    expect(started).toHaveLength(2);
    expect(new Set(started.map((e) => e.turnId)).size).toBe(2);
    expect(reference).toMatch(/^[0-9a-f]{8}$/);
    expect(started[1]?.turnId).toBe(reference);
    expect(entries.find((e) => e.message === 'Turn failed')).toMatchObject({
      correlationId: reference,
      error: { message: 'boom for [email]' },
    });
    expect(lines.join('\n')).not.toContain('jane@acme.com');
    expect(entries.filter((e) => e.message === 'Turn finished')).toHaveLength(1);
  });
});

describe('npm start in production', () => {
  it('refuses to start without a build instead of building', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'prestart-'));
    try {
      await fs.mkdir(path.join(dir, 'bot'));
      await fs.copyFile(path.resolve('bot/prestart.cjs'), path.join(dir, 'bot', 'prestart.cjs'));
      const run = promisify(execFile)(process.execPath, [path.join(dir, 'bot', 'prestart.cjs')], {
        env: { ...process.env, NODE_ENV: 'production' },
      });
      await expect(run).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('run "npm run build" before starting in production'),
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
