import { runEnrollCli } from './enrollCli';

/** The `enroll` command: all behaviour lives in {@link runEnrollCli}; this only binds it to the process. */
runEnrollCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // runEnrollCli reports its own errors; this is only a last resort should that reporting itself fail.
    process.stderr.write(`Error (internal): ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
