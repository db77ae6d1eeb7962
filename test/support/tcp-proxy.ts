import net from 'node:net';
import { once } from 'node:events';

/** A TCP relay on loopback that a test can cut (an outage) and restore on the same port. */
export interface TcpProxy {
  port: number;
  /** Drops every relayed connection and refuses new ones, as a stopped server would. */
  cut(): Promise<void>;
  /**
   * Drops every relayed connection, then accepts new ones and never answers, as a hung
   * server or a dropped route does (the client waits for the handshake until it gives up).
   */
  blackhole(): Promise<void>;
  /** Relays again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a relay from 127.0.0.1:<free port> to host:port. */
export async function startTcpProxy(host: string, port: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let silent = false;
  const make = () =>
    net.createServer((client) => {
      if (silent) {
        sockets.add(client);
        client.on('error', () => client.destroy()).on('close', () => sockets.delete(client));
        return;
      }
      const upstream = net.connect(port, host);
      sockets.add(client);
      sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  let server = make();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const own = (server.address() as net.AddressInfo).port;
  const stop = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (server.listening) await new Promise((r) => server.close(r));
  };
  return {
    port: own,
    cut: stop,
    async blackhole() {
      silent = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    async restore() {
      silent = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (server.listening) return;
      server = make();
      server.listen(own, '127.0.0.1');
      await once(server, 'listening');
    },
    close: stop,
  };
}
