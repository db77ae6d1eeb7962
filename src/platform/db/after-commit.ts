import type { DatabaseConnection, Driver, Kysely, TransactionSettings } from 'kysely';

// Work waiting for a transaction's COMMIT, by the connection the transaction
// runs on (Kysely gives each transaction a connection of its own).
const waiting = new WeakMap<DatabaseConnection, Set<() => void>>();

/**
 * Runs fn once the transaction `db` belongs to has committed (at once when
 * `db` is not a transaction: its statement has already committed); never if
 * it rolls back. This is how work recorded in a transaction (a job, an
 * event, an email) gets started after the commit without the caller
 * remembering to kick anything. The same fn added twice in one transaction
 * runs once.
 */
export async function afterCommit(db: Kysely<any>, fn: () => void): Promise<void> {
  if (!db.isTransaction) {
    fn();
    return;
  }
  // A transaction's executor provides exactly its own connection.
  await db.getExecutor().provideConnection(async (connection) => {
    let set = waiting.get(connection);
    if (!set) waiting.set(connection, (set = new Set()));
    set.add(fn);
  });
}

/** Wraps a Kysely driver so that afterCommit() work runs when a transaction commits (and is dropped on rollback). */
export function withCommitHooks(driver: Driver): Driver {
  const run = (connection: DatabaseConnection) => {
    const set = waiting.get(connection);
    if (!set) return;
    waiting.delete(connection);
    for (const fn of set) {
      try {
        fn();
      } catch {
        // A kick that throws must not turn a committed transaction into an error.
      }
    }
  };
  return {
    init: () => driver.init(),
    acquireConnection: () => driver.acquireConnection(),
    beginTransaction: (connection: DatabaseConnection, settings: TransactionSettings) => {
      waiting.delete(connection);
      return driver.beginTransaction(connection, settings);
    },
    async commitTransaction(connection) {
      await driver.commitTransaction(connection);
      run(connection);
    },
    async rollbackTransaction(connection) {
      waiting.delete(connection);
      await driver.rollbackTransaction(connection);
    },
    savepoint: driver.savepoint?.bind(driver),
    rollbackToSavepoint: driver.rollbackToSavepoint?.bind(driver),
    releaseSavepoint: driver.releaseSavepoint?.bind(driver),
    releaseConnection: (connection) => driver.releaseConnection(connection),
    destroy: () => driver.destroy(),
  };
}
