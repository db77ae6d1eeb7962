import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Received {
  /** Envelope recipients (RCPT TO), lowercased. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  /** Parsed headers, lower-case names. */
  headers: Map<string, unknown>;
  raw: string;
}

export interface SmtpCatcher {
  url: string;
  port: number;
  messages: Received[];
  /** Resolves with the first message (received or arriving) that matches. */
  waitFor(predicate: (m: Received) => boolean, timeoutMs?: number): Promise<Received>;
  /** Stops listening (the port is freed): "the SMTP server is down". */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /**
   * Holds each message that arrives from now on before answering its DATA: the
   * sender waits for the 250 and the message is not delivered yet.
   */
  hold(): void;
  /** How many messages are held now whose sender is still connected. */
  held(): number;
  /**
   * Answers the held messages and delivers them, except those whose sender hung
   * up while waiting: like a real server, a message never acknowledged is not
   * delivered.
   */
  release(): void;
}

/** A real SMTP server on a free loopback port that keeps what it receives. */
export async function startSmtpCatcher(): Promise<SmtpCatcher> {
  const messages: Received[] = [];
  const waiters = new Set<() => void>();
  let port = 0;
  let server: SMTPServer;
  let holding = false;
  const heldMessages: { sessionId: string; deliver: () => void }[] = [];
  const closed = new Set<string>();

  const make = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', async () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const parsed = await simpleParser(raw);
          const deliver = () => {
            messages.push({
              to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              headers: parsed.headers as Map<string, unknown>,
              raw,
            });
            for (const w of waiters) w();
            callback();
          };
          if (holding) heldMessages.push({ sessionId: session.id, deliver });
          else deliver();
        });
      },
      onClose(session) {
        closed.add(session.id);
      },
    });

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = make();
      server.on('error', () => {});
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server.server.address() as { port: number }).port;
        resolve();
      });
    });
  await listen();

  return {
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    messages,
    waitFor(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching email within ${timeoutMs} ms; received: ${messages.map((m) => `${m.to} "${m.subject}"`).join(', ') || 'none'}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    start: listen,
    hold() {
      holding = true;
    },
    held: () => heldMessages.filter((m) => !closed.has(m.sessionId)).length,
    release() {
      holding = false;
      for (const m of heldMessages.splice(0)) if (!closed.has(m.sessionId)) m.deliver();
    },
  };
}

/** The first absolute URL in a message's text whose path starts with the prefix. */
export function linkIn(m: Received, pathPrefix: string): string {
  for (const match of m.text.matchAll(/https?:\/\/\S+/g)) {
    if (new URL(match[0]).pathname.startsWith(pathPrefix)) return match[0];
  }
  throw new Error(`no link to ${pathPrefix}… in "${m.subject}":\n${m.text}`);
}

/** A header exactly as sent (folded lines joined), or undefined. */
export function rawHeader(m: Received, name: string): string | undefined {
  const head = m.raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}
