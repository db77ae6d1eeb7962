import { closeSync, fdatasync, fstatSync, openSync, readSync, statSync } from 'node:fs';

// Helpers of the SQLite driver (node-sqlite.ts): its connection lock, the shared
// fdatasync of the write-ahead log, and a cheap read of the WAL index header.

export interface Mutex {
  lock(): Promise<void>;
  unlock(): void;
  readonly locked: boolean;
  /** How many callers wait for the lock. */
  readonly waiting: number;
}

/** A first-come, first-served lock. */
export function createMutex(): Mutex {
  let locked = false;
  const waiting: (() => void)[] = [];
  return {
    lock() {
      if (!locked) {
        locked = true;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    unlock() {
      const next = waiting.shift();
      if (next) next();
      else locked = false;
    },
    get locked() {
      return locked;
    },
    get waiting() {
      return waiting.length;
    },
  };
}

/**
 * fdatasync of the WAL, shared: a caller is answered by the first fdatasync
 * that started after its commit. At most one runs at a time; whoever commits
 * meanwhile waits for the next, which then covers them all.
 */
export function createWalSync(file: string) {
  let fd: number | null = null;
  let asked = 0;
  let running = false;
  const waiting: { n: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  // SQLite keeps the WAL file while a connection is open, but check it is still the same file.
  const walFd = (): number => {
    if (fd !== null) {
      try {
        if (statSync(file).ino === fstatSync(fd).ino) return fd;
      } catch {
        /* gone: reopen */
      }
      closeQuietly();
    }
    fd = openSync(file, 'r+');
    return fd;
  };

  const closeQuietly = () => {
    if (fd === null) return;
    try {
      closeSync(fd);
    } catch (e) {
      process.emitWarning(`closing the WAL file: ${(e as Error).message}`);
    }
    fd = null;
  };

  const start = () => {
    if (running || waiting.length === 0) return;
    running = true;
    const covers = asked;
    let handle: number;
    try {
      handle = walFd();
    } catch (e) {
      running = false;
      for (const w of waiting.splice(0)) w.reject(e as Error);
      return;
    }
    fdatasync(handle, (err) => {
      running = false;
      const done = waiting.filter((w) => w.n <= covers);
      waiting.splice(0, waiting.length, ...waiting.filter((w) => w.n > covers));
      for (const w of done) {
        if (err) w.reject(err);
        else w.resolve();
      }
      start();
    });
  };

  return {
    close: closeQuietly,
    sync(): Promise<void> {
      asked += 1;
      const n = asked;
      return new Promise<void>((resolve, reject) => {
        waiting.push({ n, resolve, reject });
        start();
      });
    },
  };
}

/**
 * Reads the WAL index header (the first 96 bytes of the -shm file: two copies
 * of a 48-byte header). SQLite rewrites it on every commit by any connection
 * (frame count, change counter, salts), and compares it the same way to learn
 * whether its cache is stale; PRAGMA data_version answers the same question
 * but takes a read transaction (file locks), measured at 11-20 µs a call
 * against ~1 µs for this read. A header caught mid-update reads as changed.
 * See https://sqlite.org/walformat.html.
 */
export function createWalIndexReader(file: string) {
  let fd: number | null = null;
  let torn = 0;
  const buf = Buffer.alloc(96);
  return {
    header(): string | null {
      if (fd === null) {
        try {
          fd = openSync(file, 'r');
        } catch {
          return null;
        }
      }
      if (readSync(fd, buf, 0, 96, 0) < 96) return null;
      if (buf.compare(buf, 0, 48, 48, 96) !== 0) return `torn${torn++}`;
      return buf.toString('base64', 0, 48);
    },
    /** Call only after the database connection is closed. */
    close(): void {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
