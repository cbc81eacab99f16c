import { createServer } from 'node:net';

/**
 * A loopback port nothing listens on: bound, then released. A test uses it as a closed port
 * (a dead API server) or hands it to a server that must listen there (a world naming it).
 */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
