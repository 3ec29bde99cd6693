/** Binds a stand-in's HTTP server to 127.0.0.1 on a free port; `close` ends it and its connections. */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function listenLocal(server: http.Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
