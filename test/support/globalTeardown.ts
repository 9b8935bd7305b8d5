import { promises as fs } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__embeddedServer?.stop();
  if (process.env.TEST_DATA_DIR) await fs.rm(process.env.TEST_DATA_DIR, { recursive: true, force: true });
}
