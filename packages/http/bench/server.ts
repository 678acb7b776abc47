// One benchmark server per process, chosen by argv[2]; it sends its port to the parent over IPC.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import fastify from 'fastify';

import { FastifyService, HTTPService, type FastifyApplicationOptions } from '@aiomisc/http';

const BODY = JSON.stringify({ hello: 'world' });

function handler(_req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(BODY);
}

function buildApp(options?: FastifyApplicationOptions) {
  const app = fastify(options);
  app.get('/', async () => ({ hello: 'world' }));
  return app;
}

class Api extends FastifyService {
  createApplication(options: FastifyApplicationOptions) {
    return buildApp(options);
  }
}

class Plain extends HTTPService {
  createHandler() {
    return handler;
  }
}

const options = { address: '127.0.0.1', port: 0, health: true, statisticName: 'bench' } as const;

async function start(kind: string): Promise<number> {
  switch (kind) {
    case 'raw_fastify': {
      const app = buildApp();
      await app.listen({ host: '127.0.0.1', port: 0 });
      return (app.server.address() as AddressInfo).port;
    }
    case 'FastifyService': {
      const service = new Api(options);
      await service.start();
      return service.address().port;
    }
    case 'raw_node_http': {
      const server = createServer(handler);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    }
    case 'HTTPService': {
      const service = new Plain(options);
      await service.start();
      return service.address().port;
    }
    default:
      throw new Error(`unknown server kind ${kind}`);
  }
}

const port = await start(process.argv[2]!);
process.send!({ port });
// The parent asks for this process's CPU time before and after a run: CPU per request is far
// less sensitive than req/s to the load other processes put on a shared machine.
process.on('message', () => process.send!({ cpu: process.cpuUsage() }));
process.on('disconnect', () => process.exit(0));
