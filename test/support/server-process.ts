import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Dialect } from '../../src/platform/db/index.ts';

export interface ServerProcess {
  /** http://127.0.0.1:<port> */
  base: string;
  /** Stops the server and waits for its process to exit. */
  stop(): Promise<void>;
}

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Starts the app in a child process on a fresh database of the given engine,
 * listening on a free loopback port; `env` is configuration (e.g. timeouts).
 */
export async function startServerProcess(dialect: Dialect, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['test/support/server-child.ts', dialect, JSON.stringify(env)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`the server process exited (${code}) before listening`)));
  });
  return {
    base,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
