// dynalite ships no types; this is the part of its API Airlock uses.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    path?: string;
  }
  function dynalite(opts?: DynaliteOptions): Server;
  export default dynalite;
}
