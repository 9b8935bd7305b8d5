import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Db } from 'mongodb';
import { loadConfig } from '../services/config';
import { openDatabase } from '../services/db/database';
import { COLLECTION_INDEXES } from '../services/db/indexes';
import { USERS_COLLECTION } from '../services/users/userTypes';
import { fileSourceFromBuffer, fileSourceFromPath } from '../services/import/fileSource';
import { ImportService } from '../services/import/importService';
import { createLogger } from '../services/logger';

/**
 * Measures, on one server in one run: our full import (parse, validate, plan, commit, per-row results),
 * a raw insertMany of the same documents (the server's own ceiling), and a naive loop of one upsert per row.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '100000' },
      'naive-rows': { type: 'string', default: '5000' },
      json: { type: 'boolean', default: false },
    },
  });
  const rows = Number(values.rows);
  const naiveRows = Math.min(rows, Number(values['naive-rows']));
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(naiveRows) || naiveRows < 1) {
    throw new Error('--rows and --naive-rows must be positive whole numbers');
  }
  const config = loadConfig({ ...process.env, MAX_FILE_SIZE: '4GB' });
  const log = createLogger(values.json ? 'warn' : 'info');
  const dbName = `bench${Date.now()
    .toString(36)
    .replace(/[0-9]/g, (d) => 'abcdefghij'[Number(d)] ?? 'x')}`;
  const database = await openDatabase(config, log, dbName);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enroll-bench-'));
  try {
    const file = path.join(dir, 'users.csv');
    await generateFile(file, rows);
    const bytes = (await fs.stat(file)).size;

    const ours = await measureOurs(database.db, file, rows);
    const raw = await measureInsertMany(database.db, rows, 'benchRawInsert', true);
    const rawNoIndexes = await measureInsertMany(database.db, rows, 'benchRawInsertNoIndexes', false);
    const naive = await measureNaive(database.db, naiveRows);
    const undo = await measureUndo(database.db, Math.min(rows, 1000));
    const result = {
      rows,
      fileMb: round(bytes / 1024 / 1024),
      engine: database.engine,
      ours,
      rawInsertMany: raw,
      rawInsertManyWithoutIndexes: rawNoIndexes,
      naive: { ...naive, sampleRows: naiveRows },
      undo,
      ratios: {
        oursVsRawInsertMany: round(ours.rowsPerSec / raw.rowsPerSec),
        oursVsRawInsertManyWithoutIndexes: round(ours.rowsPerSec / rawNoIndexes.rowsPerSec),
        oursVsNaive: round(ours.rowsPerSec / naive.rowsPerSec),
      },
    };
    if (values.json) {
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    } else {
      process.stdout.write(
        [
          `rows: ${rows} (${result.fileMb} MB) on ${database.engine}`,
          `ours:           ${ours.rowsPerSec} rows/s, peak RSS ${ours.peakRssMb} MB`,
          `undo:           ${undo.rowsPerSec} rows/s (an import of ${undo.sampleRows} new users undone)`,
          `raw insertMany: ${raw.rowsPerSec} rows/s with the users indexes, ${rawNoIndexes.rowsPerSec} without`,
          `naive upserts:  ${naive.rowsPerSec} rows/s (sample of ${naiveRows})`,
          `ours / insertMany = ${result.ratios.oursVsRawInsertMany}, ours / naive = ${result.ratios.oursVsNaive}`,
        ].join('\n') + '\n',
      );
    }
  } finally {
    await database.db.dropDatabase().catch(() => undefined);
    await database.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function row(i: number): string {
  return `user${i}@bench.example.com,First${i},Last${i},EMP${i},+1-800-555-${String(i % 10000).padStart(4, '0')},Engineer,Department ${i % 50},New`;
}

async function generateFile(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  const write = (text: string) =>
    out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', () => resolve()));
  await write('Email ID,First Name,Last Name,Alternate ID,Work Phone,Title,Department,User Status\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    chunk += row(i) + '\n';
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

function userDoc(i: number, now: Date) {
  return {
    accountId: 'raw',
    email: `user${i}@bench.example.com`,
    firstName: `First${i}`,
    lastName: `Last${i}`,
    alternateId: `EMP${i}`,
    workPhone: `+1-800-555-${String(i % 10000).padStart(4, '0')}`,
    title: 'Engineer',
    department: `Department ${i % 50}`,
    status: 'invited',
    createdAt: now,
    updatedAt: now,
    invitation: {
      kind: 'invitation',
      state: 'pending',
      importId: 'raw',
      queuedAt: now,
      attempts: 0,
      nextAttemptAt: now,
    },
    mailDue: true,
  };
}

async function measureOurs(db: Db, file: string, rows: number) {
  const service = new ImportService(db, { maxFileBytes: Number.MAX_SAFE_INTEGER });
  global.gc?.();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = process.hrtime.bigint();
  const source = await fileSourceFromPath(file);
  await service.plan(source, 'bench');
  const planned = process.hrtime.bigint();
  const record = await service.commit(source, 'bench', {}, { by: 'bench' });
  const finished = process.hrtime.bigint();
  const seconds = Number(finished - started) / 1e9;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  if (record.outcomes.created !== rows) {
    throw new Error(`the import created ${record.outcomes.created} users, expected ${rows}`);
  }
  return {
    rowsPerSec: Math.round(rows / seconds),
    seconds: round(seconds),
    planSeconds: round(Number(planned - started) / 1e9),
    commitSeconds: round(Number(finished - planned) / 1e9),
    peakRssMb: round(peak / 1024 / 1024),
  };
}

/**
 * Undoing an import of `rows` new users in an account of its own: every user it created is deleted again
 * (soft) and their waiting invitations cancelled. Measured on a sample: FerretDB 1.24 writes each updated
 * document at a cost that grows with the collection, so a full-size undo there takes far longer than the
 * import did.
 */
async function measureUndo(db: Db, rows: number) {
  const service = new ImportService(db, { maxFileBytes: Number.MAX_SAFE_INTEGER });
  const lines = ['Email ID,First Name,Last Name,User Status'];
  for (let i = 0; i < rows; i++) lines.push(`undo${i}@bench.example,Un,Do${i},New`);
  const record = await service.commit(
    fileSourceFromBuffer('undo.csv', Buffer.from(lines.join('\n'))),
    'bench-undo',
    {},
    { by: 'bench' },
  );
  const started = process.hrtime.bigint();
  const undone = await service.undo.apply('bench-undo', record._id, 'bench');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (undone.counts.deleteCreated !== rows) {
    throw new Error(`the undo deleted ${undone.counts.deleteCreated} users, expected ${rows}`);
  }
  return { rowsPerSec: Math.round(rows / seconds), seconds: round(seconds), sampleRows: rows };
}

/**
 * insertMany of the same user documents in batches of 1000. `indexed`: into a collection with the users
 * collection's own indexes, the ceiling for storing these documents as the product must; without them, the
 * bare write speed of the server.
 */
async function measureInsertMany(db: Db, rows: number, name: string, indexed: boolean) {
  const collection = db.collection(name);
  if (indexed) {
    for (const { key, ...options } of COLLECTION_INDEXES[USERS_COLLECTION] ?? [])
      await collection.createIndex(key, options);
  }
  const now = new Date();
  const started = process.hrtime.bigint();
  for (let i = 0; i < rows; i += 1000) {
    const docs = [];
    for (let j = i; j < Math.min(rows, i + 1000); j++) docs.push(userDoc(j, now));
    await collection.insertMany(docs, { ordered: false });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { rowsPerSec: Math.round(rows / seconds), seconds: round(seconds) };
}

/**
 * One upsert per row, keyed on `_id` (account and email): the cheapest single-row upsert any of the supported
 * servers offers (FerretDB 1.24 on SQLite scans the collection for other filters), so the comparison
 * flatters the naive loop rather than ours.
 */
async function measureNaive(db: Db, rows: number) {
  const collection = db.collection<{ _id: string }>('benchNaive');
  const now = new Date();
  const started = process.hrtime.bigint();
  for (let i = 0; i < rows; i++) {
    const { accountId, email, ...rest } = userDoc(i, now);
    await collection.updateOne(
      { _id: `${accountId}:${email}` },
      { $set: { accountId, email, ...rest } },
      { upsert: true },
    );
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { rowsPerSec: Math.round(rows / seconds), seconds: round(seconds) };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

main().catch((err: unknown) => {
  process.stderr.write(`Benchmark failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
