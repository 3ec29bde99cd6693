import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScramClient, ScramError, ScramServer } from '../../src/fronts/postgres/scram-sha-256.js';

describe('SCRAM-SHA-256', () => {
  it('client and server agree on the right password, and the client verifies the server', () => {
    const server = new ScramServer('s3cret');
    const client = new ScramClient('s3cret');
    const serverFirst = server.first(client.first());
    const serverFinal = server.final(client.final(serverFirst));
    client.verify(serverFinal);
  });

  it('a wrong password fails at the server; a forged server signature fails at the client', () => {
    const server = new ScramServer('s3cret');
    const client = new ScramClient('guess');
    assert.throws(() => server.final(client.final(server.first(client.first()))), ScramError);
    const c2 = new ScramClient('s3cret');
    const s2 = new ScramServer('other');
    c2.final(s2.first(c2.first()));
    assert.throws(() => c2.verify('v=AAAA'), ScramError);
  });

  it('refuses channel binding, nonce tampering and malformed messages', () => {
    assert.throws(() => new ScramServer('x').first('p=tls-server-end-point,,n=*,r=abc'), /channel binding/);
    assert.throws(() => new ScramServer('x').first('garbage'), ScramError);
    const server = new ScramServer('pw');
    const client = new ScramClient('pw');
    const sf = server.first(client.first());
    const cf = client.final(sf).replace(/r=([^,]+)/, 'r=$1x');
    assert.throws(() => server.final(cf), /nonce/);
    assert.throws(() => client.final('r=other,s=AAAA,i=4096'), /nonce/);
  });

  it('a gs2 header changed after the proof was computed fails (psql over TLS sends y,, and is covered by the integration test)', () => {
    const server = new ScramServer('pw');
    const client = new ScramClient('pw');
    const first = client.first().replace(/^n,,/, 'y,,');
    const sf = server.first(first);
    const cf = client.final(sf).replace('c=biws', `c=${Buffer.from('y,,').toString('base64')}`);
    // The proof covers c=..., so the altered header must fail the proof rather than pass.
    assert.throws(() => server.final(cf), ScramError);
  });
});
