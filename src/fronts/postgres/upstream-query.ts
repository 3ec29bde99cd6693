/**
 * One simple query on Airlock's own upstream session before it is handed to the agent
 * (the function catalog, the role check): Query, then RowDescription / DataRow* /
 * CommandComplete up to ReadyForQuery, text format. Every column comes back as a
 * string (NULL as null). https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-SIMPLE-QUERY
 */
import type { Socket } from 'node:net';
import { Backend, BackendFramer, decodeErrorFields } from './backend-codec.js';
import { encodeQuery } from './frontend-codec.js';

const DATA_ROW = 0x44; // 'D'

export function upstreamQuery(socket: Socket, sql: string, timeoutMs = 10_000): Promise<(string | null)[][]> {
  return new Promise((resolve, reject) => {
    const framer = new BackendFramer();
    const rows: (string | null)[][] = [];
    let error: string | undefined;
    const timer = setTimeout(
      () => done(new Error(`upstream query timed out: ${sql.slice(0, 60)}`)),
      timeoutMs,
    );
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err === undefined) resolve(rows);
      else reject(err);
    };
    const onClose = () => done(new Error('the upstream closed the connection during a catalog query'));
    const onData = (chunk: Buffer) => {
      try {
        framer.push(chunk, (buf, f) => {
          const body = buf.subarray(f.start + 5, f.end);
          if (f.type === DATA_ROW) rows.push(dataRow(body));
          else if (f.type === Backend.errorResponse) {
            const e = decodeErrorFields(body);
            error = `${e.get('C') ?? ''} ${e.get('M') ?? ''}`;
          } else if (f.type === Backend.readyForQuery)
            done(error === undefined ? undefined : new Error(`upstream query failed: ${error}`));
        });
      } catch (e) {
        done(e as Error);
      }
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(encodeQuery(sql));
  });
}

function dataRow(body: Buffer): (string | null)[] {
  const n = body.readInt16BE(0);
  const out: (string | null)[] = [];
  let pos = 2;
  for (let i = 0; i < n; i++) {
    const len = body.readInt32BE(pos);
    pos += 4;
    if (len === -1) out.push(null);
    else {
      out.push(body.toString('utf8', pos, pos + len));
      pos += len;
    }
  }
  return out;
}
