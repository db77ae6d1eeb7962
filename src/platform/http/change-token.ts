import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../db/index.ts';

type Token = string | null | Promise<string | null>;

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The database's change token (Db.changeToken), read once per request, the
     * first time it is asked for: the site settings' refresh and the response
     * cache both need it before the handler runs, and one read serves both. A
     * token read early in a request is only ever older than the handler's
     * queries, which is the side both users need it on.
     */
    changeToken(): Token;
    changeTokenRead: Token | undefined;
  }
}

export const changeTokenPlugin = fp(
  async (app: FastifyInstance, opts: { db: Pick<Db, 'changeToken'> }) => {
    app.decorateRequest('changeTokenRead', undefined);
    app.decorateRequest('changeToken', function (this: FastifyRequest): Token {
      if (this.changeTokenRead === undefined) this.changeTokenRead = opts.db.changeToken();
      return this.changeTokenRead;
    });
  },
  { name: 'inkwell-change-token' },
);
