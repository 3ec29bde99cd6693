/**
 * Issue 20's S3 holes as regression tests: an agent with a narrow grant (read
 * public-data, write public-data/tmp/*, nothing in vault) tries each request that
 * once reached the upstream with a scope policy never saw. Asserted at the upstream
 * (s3rver behind the verifying stand-in): keep.txt still exists, vault/secret.txt was
 * not copied, nothing was deleted in vault. The same shapes, used legitimately, pass.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { REGION } from '../support/harness.js';
import { type S3Harness, startS3Harness } from '../support/s3-harness.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function exists(h: S3Harness, bucket: string, key: string): Promise<boolean> {
  try {
    const r = await h.direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await r.Body?.transformToByteArray();
    return true;
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return false;
    throw err;
  }
}

/**
 * A request signed with the agent's key as the S3 SDK signs (path as sent, not normalized),
 * for the shapes the SDK does not produce. `path` is percent-encoded already.
 */
async function rawS3(
  h: S3Harness,
  method: string,
  path: string,
  opts: { query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<Response> {
  const url = new URL(h.airlock.awsUrl);
  const body = opts.body ?? Buffer.alloc(0);
  const signer = new SignatureV4({
    credentials: { accessKeyId: h.agent.accessKeyId, secretAccessKey: h.agent.secretAccessKey },
    region: REGION,
    service: 's3',
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path,
      query: opts.query ?? {},
      headers: { host: url.host, 'x-amz-content-sha256': sha(body), ...opts.headers },
      body,
    }),
  );
  const qs = new URLSearchParams(opts.query ?? {}).toString().replace(/\+/g, '%20');
  return fetch(`${h.airlock.awsUrl}${path}${qs === '' ? '' : `?${qs}`}`, {
    method,
    headers: signed.headers,
    ...(body.length === 0 ? {} : { body }),
  });
}

function deleteBody(inner: string): Buffer {
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><Delete>${inner}</Delete>`);
}

async function rawDeleteObjects(h: S3Harness, inner: string): Promise<Response> {
  const body = deleteBody(inner);
  return rawS3(h, 'POST', '/public-data', {
    query: { delete: '' },
    headers: {
      'content-type': 'application/xml',
      'content-md5': createHash('md5').update(body).digest('base64'),
    },
    body,
  });
}

describe('S3 scoping holes of issue 20, asserted at the upstream', () => {
  let h: S3Harness;
  const seed = async (bucket: string, key: string, body = key) =>
    h.direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  before(async () => {
    h = await startS3Harness({
      buckets: ['public-data', 'vault'],
      policy: 'test/fixtures/policies/s3-scoping.cedar',
    });
    await seed('public-data', 'keep.txt');
    await seed('public-data', 'readme.txt');
    await seed('vault', 'secret.txt', 'the secret');
    await seed('vault', 'victim-1.txt');
  });
  after(async () => {
    await h.close();
  });

  describe('1. DeleteObjects keys hidden by tag spelling', () => {
    it('whitespace inside tags: keep.txt is scoped (and denied), nothing is deleted', async () => {
      await seed('public-data', 'tmp/del-b.txt');
      const before = h.upstream.received.length;
      const res = await rawDeleteObjects(
        h,
        '<Object ><Key >keep.txt</Key ></Object><Object><Key>tmp/del-b.txt</Key></Object>',
      );
      const text = await res.text();
      assert.match(text, /s3:DeleteObject on arn:aws:s3:::public-data\/keep\.txt/);
      assert.equal(res.status, 403);
      assert.equal(h.upstream.received.length, before);
      assert.ok(await exists(h, 'public-data', 'keep.txt'));
      assert.ok(await exists(h, 'public-data', 'tmp/del-b.txt'));
    });

    it('attributes on the tags: refused as MalformedXML', async () => {
      const before = h.upstream.received.length;
      const res = await rawDeleteObjects(
        h,
        '<Object a="1"><Key a="1">keep.txt</Key></Object><Object><Key>tmp/del-b.txt</Key></Object>',
      );
      const text = await res.text();
      assert.equal(res.status, 400, text);
      assert.match(text, /MalformedXML/);
      assert.equal(h.upstream.received.length, before);
      assert.ok(await exists(h, 'public-data', 'keep.txt'));
    });

    it('SDK DeleteObjects of permitted keys still deletes them', async () => {
      await seed('public-data', 'tmp/d1.txt');
      await seed('public-data', 'tmp/d2.txt');
      const r = await h.client().send(
        new DeleteObjectsCommand({
          Bucket: 'public-data',
          Delete: { Objects: [{ Key: 'tmp/d1.txt' }, { Key: 'tmp/d2.txt' }] },
        }),
      );
      assert.deepEqual(r.Deleted?.map((d) => d.Key).sort(), ['tmp/d1.txt', 'tmp/d2.txt']);
      assert.ok(!(await exists(h, 'public-data', 'tmp/d1.txt')));
      assert.ok(await exists(h, 'public-data', 'keep.txt'));
    });
  });

  describe('2. x-amz-* query parameters are scoped as the headers they stand for', () => {
    it("the SDK presigner's CopyObject (?x-amz-copy-source=vault/secret.txt) is scoped as a vault read: denied", async () => {
      const url = await getSignedUrl(
        h.client(),
        new CopyObjectCommand({ Bucket: 'public-data', Key: 'tmp/c11.txt', CopySource: 'vault/secret.txt' }),
        { expiresIn: 300 },
      );
      assert.match(url, /x-amz-copy-source=/);
      const before = h.upstream.received.length;
      const res = await fetch(url, { method: 'PUT' });
      const text = await res.text();
      assert.equal(res.status, 403, text);
      assert.match(text, /s3:GetObject on arn:aws:s3:::vault\/secret\.txt/);
      assert.equal(h.upstream.received.length, before);
      assert.ok(!(await exists(h, 'public-data', 'tmp/c11.txt')));
    });

    it('a header-signed PUT with ?x-amz-copy-source= is read the same way', async () => {
      const res = await rawS3(h, 'PUT', '/public-data/tmp/c11.txt', {
        query: { 'x-amz-copy-source': 'vault/secret.txt' },
      });
      assert.match(await res.text(), /s3:GetObject on arn:aws:s3:::vault\/secret\.txt/);
      assert.equal(res.status, 403);
      assert.ok(!(await exists(h, 'public-data', 'tmp/c11.txt')));
    });

    it('the same header given as a header and as a query parameter is refused', async () => {
      const res = await rawS3(h, 'PUT', '/public-data/tmp/c13.txt', {
        query: { 'x-amz-copy-source': 'vault/secret.txt' },
        headers: { 'x-amz-copy-source': 'public-data/readme.txt' },
      });
      const text = await res.text();
      assert.equal(res.status, 400, text);
      assert.match(text, /more than once/);
      assert.ok(!(await exists(h, 'public-data', 'tmp/c13.txt')));
    });

    it('a repeated x-amz-* header is refused (one upstream reads a list, another one value)', async () => {
      const url = new URL(h.airlock.awsUrl);
      const signer = new SignatureV4({
        credentials: { accessKeyId: h.agent.accessKeyId, secretAccessKey: h.agent.secretAccessKey },
        region: REGION,
        service: 's3',
        sha256: Hash.bind(null, 'sha256'),
        uriEscapePath: false,
      });
      // Signed as SigV4 canonicalizes repeats (values joined by ","), sent as two headers.
      const signed = await signer.sign(
        new HttpRequest({
          method: 'PUT',
          protocol: 'http:',
          hostname: url.hostname,
          port: Number(url.port),
          path: '/public-data/tmp/dup.txt',
          headers: {
            host: url.host,
            'x-amz-content-sha256': sha(Buffer.alloc(0)),
            'x-amz-tagging': 'a=b,c=d',
          },
        }),
      );
      const raw: string[] = [];
      for (const [k, v] of Object.entries(signed.headers))
        if (k === 'x-amz-tagging') raw.push(k, 'a=b', k, 'c=d');
        else raw.push(k, v);
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const r = http.request(
          {
            host: url.hostname,
            port: url.port,
            method: 'PUT',
            path: '/public-data/tmp/dup.txt',
            headers: raw,
          },
          (res) => {
            let t = '';
            res.on('data', (c) => (t += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
          },
        );
        r.on('error', reject);
        r.end();
      });
      assert.equal(status, 400, text);
      assert.match(text, /x-amz-tagging appears more than once/);
      assert.ok(!(await exists(h, 'public-data', 'tmp/dup.txt')));
    });

    it('x-amz-acl as a query parameter adds s3:PutObjectAcl: denied', async () => {
      const res = await rawS3(h, 'PUT', '/public-data/tmp/acl-q.txt', {
        query: { 'x-amz-acl': 'public-read-write' },
        body: Buffer.from('x'),
      });
      const text = await res.text();
      assert.equal(res.status, 403, text);
      assert.match(text, /s3:PutObjectAcl/);
      assert.ok(!(await exists(h, 'public-data', 'tmp/acl-q.txt')));
    });

    it('a presigned CopyObject from a readable source still copies', async () => {
      const url = await getSignedUrl(
        h.client(),
        new CopyObjectCommand({
          Bucket: 'public-data',
          Key: 'tmp/c12.txt',
          CopySource: 'public-data/readme.txt',
        }),
        { expiresIn: 300 },
      );
      const res = await fetch(url, { method: 'PUT' });
      assert.equal(res.status, 200, await res.text());
      assert.deepEqual(h.upstream.received.at(-1)?.scopes, [
        { action: 's3:PutObject', resource: 'arn:aws:s3:::public-data/tmp/c12.txt' },
        { action: 's3:GetObject', resource: 'arn:aws:s3:::public-data/readme.txt' },
      ]);
      const copied = await h.direct.send(new GetObjectCommand({ Bucket: 'public-data', Key: 'tmp/c12.txt' }));
      assert.equal(await copied.Body?.transformToString(), 'readme.txt');
    });
  });

  describe('3. ACL, grant, tagging, object-lock and SSE-KMS headers are scopes of their own', () => {
    const denied = async (cmd: PutObjectCommand | CopyObjectCommand, action: RegExp, key: string) => {
      const before = h.upstream.received.length;
      await assert.rejects(h.client().send(cmd as PutObjectCommand), (e: Error) => action.test(e.message));
      assert.equal(h.upstream.received.length, before);
      assert.ok(!(await exists(h, 'public-data', key)));
    };
    it('x-amz-acl: public-read-write on PutObject needs s3:PutObjectAcl', () =>
      denied(
        new PutObjectCommand({
          Bucket: 'public-data',
          Key: 'tmp/acl.txt',
          Body: 'x',
          ACL: 'public-read-write',
        }),
        /s3:PutObjectAcl on arn:aws:s3:::public-data\/tmp\/acl\.txt/,
        'tmp/acl.txt',
      ));
    it('x-amz-grant-full-control on PutObject needs s3:PutObjectAcl', () =>
      denied(
        new PutObjectCommand({
          Bucket: 'public-data',
          Key: 'tmp/g.txt',
          Body: 'x',
          GrantFullControl: 'id=abc',
        }),
        /s3:PutObjectAcl/,
        'tmp/g.txt',
      ));
    it('x-amz-tagging on PutObject needs s3:PutObjectTagging', () =>
      denied(
        new PutObjectCommand({ Bucket: 'public-data', Key: 'tmp/t.txt', Body: 'x', Tagging: 'a=b' }),
        /s3:PutObjectTagging on arn:aws:s3:::public-data\/tmp\/t\.txt/,
        'tmp/t.txt',
      ));
    it('object lock and legal hold on PutObject need s3:PutObjectRetention / s3:PutObjectLegalHold', async () => {
      await denied(
        new PutObjectCommand({
          Bucket: 'public-data',
          Key: 'tmp/lock.txt',
          Body: 'x',
          ObjectLockMode: 'GOVERNANCE',
          ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000),
        }),
        /s3:PutObjectRetention/,
        'tmp/lock.txt',
      );
      await denied(
        new PutObjectCommand({
          Bucket: 'public-data',
          Key: 'tmp/lh.txt',
          Body: 'x',
          ObjectLockLegalHoldStatus: 'ON',
        }),
        /s3:PutObjectLegalHold/,
        'tmp/lh.txt',
      );
    });
    it('SSE-KMS on PutObject needs kms:GenerateDataKey on the key', () =>
      denied(
        new PutObjectCommand({
          Bucket: 'public-data',
          Key: 'tmp/kms.txt',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'alias/vault-key',
        }),
        /kms:GenerateDataKey on arn:aws:kms:us-east-1:123456789012:alias\/vault-key/,
        'tmp/kms.txt',
      ));
    it('CreateMultipartUpload with tags, DeleteObject bypassing governance: their own scopes', async () => {
      const s3 = h.client();
      await assert.rejects(
        s3.send(
          new CreateMultipartUploadCommand({ Bucket: 'public-data', Key: 'tmp/mp.txt', Tagging: 'a=b' }),
        ),
        /s3:PutObjectTagging on arn:aws:s3:::public-data\/tmp\/mp\.txt/,
      );
      await seed('public-data', 'tmp/locked.txt');
      await assert.rejects(
        s3.send(
          new DeleteObjectCommand({
            Bucket: 'public-data',
            Key: 'tmp/locked.txt',
            BypassGovernanceRetention: true,
          }),
        ),
        /s3:BypassGovernanceRetention on arn:aws:s3:::public-data\/tmp\/locked\.txt/,
      );
      assert.ok(await exists(h, 'public-data', 'tmp/locked.txt'));
    });

    it('SSE-KMS with a key policy allows passes, and still goes to the S3 route', async () => {
      await h.client().send(
        new PutObjectCommand({
          Bucket: 'public-data',
          Key: 'tmp/kms-ok.txt',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'alias/tmp-key',
        }),
      );
      // (The stand-in reads the key in its own account, 000000000000.)
      assert.deepEqual(h.upstream.received.at(-1)?.scopes, [
        { action: 's3:PutObject', resource: 'arn:aws:s3:::public-data/tmp/kms-ok.txt' },
        { action: 'kms:GenerateDataKey', resource: 'arn:aws:kms:us-east-1:000000000000:alias/tmp-key' },
      ]);
      assert.ok(await exists(h, 'public-data', 'tmp/kms-ok.txt'));
    });

    it('CopyObject with ACL or replaced tags needs the same scopes', async () => {
      await denied(
        new CopyObjectCommand({
          Bucket: 'public-data',
          Key: 'tmp/cacl.txt',
          CopySource: 'public-data/readme.txt',
          ACL: 'public-read',
        }),
        /s3:PutObjectAcl/,
        'tmp/cacl.txt',
      );
      await denied(
        new CopyObjectCommand({
          Bucket: 'public-data',
          Key: 'tmp/ctag.txt',
          CopySource: 'public-data/readme.txt',
          Tagging: 'a=b',
          TaggingDirective: 'REPLACE',
        }),
        /s3:PutObjectTagging/,
        'tmp/ctag.txt',
      );
    });

    it('PutObject and CopyObject with tagging pass where policy allows s3:PutObjectTagging', async () => {
      const s3 = h.client();
      await s3.send(
        new PutObjectCommand({
          Bucket: 'public-data',
          Key: 'tmp/tagged/a.txt',
          Body: 'x',
          Tagging: 'team=blue',
        }),
      );
      assert.deepEqual(h.upstream.received.at(-1)?.scopes, [
        { action: 's3:PutObject', resource: 'arn:aws:s3:::public-data/tmp/tagged/a.txt' },
        { action: 's3:PutObjectTagging', resource: 'arn:aws:s3:::public-data/tmp/tagged/a.txt' },
      ]);
      // (s3rver does not store tags sent in x-amz-tagging; the scopes are what is checked here.)
      assert.ok(await exists(h, 'public-data', 'tmp/tagged/a.txt'));
      await s3.send(
        new CopyObjectCommand({
          Bucket: 'public-data',
          Key: 'tmp/tagged/b.txt',
          CopySource: 'public-data/readme.txt',
          Tagging: 'team=red',
          TaggingDirective: 'REPLACE',
        }),
      );
      assert.ok(await exists(h, 'public-data', 'tmp/tagged/b.txt'));
      // A plain CopyObject adds nothing.
      await s3.send(
        new CopyObjectCommand({
          Bucket: 'public-data',
          Key: 'tmp/plain.txt',
          CopySource: 'public-data/readme.txt',
        }),
      );
      assert.equal(h.upstream.received.at(-1)?.scopes.length, 2);
    });

    it('a PutObjectTagging that policy holds is held, and runs once approved', async () => {
      const put = h
        .client()
        .send(
          new PutObjectCommand({ Bucket: 'public-data', Key: 'tmp/held/a.txt', Body: 'x', Tagging: 'k=v' }),
        );
      const pending = await h.pending('PutObject');
      assert.match(JSON.stringify(pending), /s3:PutObjectTagging/);
      assert.ok(!(await exists(h, 'public-data', 'tmp/held/a.txt')));
      const ok = await h.approve(String(pending.id), 'tags are fine');
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      await put;
      assert.ok(await exists(h, 'public-data', 'tmp/held/a.txt'));
    });
  });

  describe('4. dot segments in copy sources and DeleteObjects keys', () => {
    for (const src of ['public-data/../vault/secret.txt', 'public-data/%2E%2E/vault/secret.txt']) {
      it(`SDK CopyObject from ${src} is refused; nothing is copied`, async () => {
        const before = h.upstream.received.length;
        await assert.rejects(
          h
            .client()
            .send(new CopyObjectCommand({ Bucket: 'public-data', Key: 'tmp/c4.txt', CopySource: src })),
          /"\.\." segments/,
        );
        assert.equal(h.upstream.received.length, before);
        assert.ok(!(await exists(h, 'public-data', 'tmp/c4.txt')));
      });
    }

    it('SDK DeleteObjects of tmp/../../vault/victim-1.txt is refused; vault keeps it', async () => {
      await assert.rejects(
        h.client().send(
          new DeleteObjectsCommand({
            Bucket: 'public-data',
            Delete: { Objects: [{ Key: 'tmp/../../vault/victim-1.txt' }] },
          }),
        ),
        /"\.\." segments/,
      );
      assert.ok(await exists(h, 'vault', 'victim-1.txt'));
    });

    it('a DeleteObjects key spelled tmp/&#46;&#46;/&#46;&#46;/vault/victim-1.txt is refused too', async () => {
      const res = await rawDeleteObjects(
        h,
        '<Object><Key>tmp/&#46;&#46;/&#46;&#46;/vault/victim-1.txt</Key></Object>',
      );
      const text = await res.text();
      assert.equal(res.status, 400, text);
      assert.match(text, /segments in a DeleteObjects key/);
      assert.ok(await exists(h, 'vault', 'victim-1.txt'));
    });
  });

  describe('6. S3 signatures cover the path as sent', () => {
    it('a presigned GET for /public-data/readme.txt does not open /public-data//readme.txt', async () => {
      const url = await getSignedUrl(
        h.client(),
        new GetObjectCommand({ Bucket: 'public-data', Key: 'readme.txt' }),
        {
          expiresIn: 300,
        },
      );
      const good = await fetch(url);
      assert.equal(await good.text(), 'readme.txt');
      const before = h.upstream.received.length;
      const moved = await fetch(url.replace('/public-data/readme.txt', '/public-data//readme.txt'));
      const text = await moved.text();
      assert.equal(moved.status, 403, text);
      assert.match(text, /SignatureDoesNotMatch/);
      assert.equal(h.upstream.received.length, before);
    });

    it('SDK PutObject and GetObject of key tmp/a//b.txt succeed (re-signed un-normalized too)', async () => {
      const s3 = h.client();
      await s3.send(new PutObjectCommand({ Bucket: 'public-data', Key: 'tmp/a//b.txt', Body: 'double' }));
      assert.equal(h.upstream.received.at(-1)?.path, '/public-data/tmp/a//b.txt');
      const got = await s3.send(new GetObjectCommand({ Bucket: 'public-data', Key: 'tmp/a//b.txt' }));
      assert.equal(await got.Body?.transformToString(), 'double');
      const url = await getSignedUrl(
        s3,
        new GetObjectCommand({ Bucket: 'public-data', Key: 'tmp/a//b.txt' }),
        {
          expiresIn: 300,
        },
      );
      assert.equal(await (await fetch(url)).text(), 'double');
    });
  });
});
