/**
 * S3 request → operation and scopes: the data table, addressing styles, copy
 * sources and DeleteObjects bodies, including hostile input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDeleteObjects } from '../../src/fronts/aws/s3/delete-objects.js';
import { copySource, s3Address } from '../../src/fronts/aws/s3/s3-address.js';
import { s3ActionClass, s3IamActions, s3Operation } from '../../src/fronts/aws/s3/s3-operations.js';

describe('S3 operation table', () => {
  const cases: [
    string,
    'service' | 'bucket' | 'object',
    string[],
    boolean,
    string | undefined,
    string | undefined,
  ][] = [
    ['GET', 'service', [], false, 'ListBuckets', 's3:ListAllMyBuckets'],
    ['GET', 'bucket', ['list-type', 'prefix'], false, 'ListObjects', 's3:ListBucket'],
    ['GET', 'bucket', ['uploads'], false, 'ListMultipartUploads', 's3:ListBucketMultipartUploads'],
    ['POST', 'bucket', ['delete'], false, 'DeleteObjects', 's3:DeleteObject'],
    ['PUT', 'bucket', ['policy'], false, 'PutBucketPolicy', 's3:PutBucketPolicy'],
    ['DELETE', 'bucket', ['cors'], false, 'DeleteBucketCors', 's3:PutBucketCORS'],
    ['PUT', 'object', [], false, 'PutObject', 's3:PutObject'],
    ['PUT', 'object', ['x-id'], true, 'CopyObject', 's3:PutObject'],
    ['PUT', 'object', ['partNumber', 'uploadId'], false, 'UploadPart', 's3:PutObject'],
    ['PUT', 'object', ['partNumber', 'uploadId'], true, 'UploadPartCopy', 's3:PutObject'],
    ['POST', 'object', ['uploads'], false, 'CreateMultipartUpload', 's3:PutObject'],
    ['POST', 'object', ['uploadId'], false, 'CompleteMultipartUpload', 's3:PutObject'],
    ['DELETE', 'object', ['uploadId'], false, 'AbortMultipartUpload', 's3:AbortMultipartUpload'],
    ['GET', 'object', ['versionId'], false, 'GetObject', 's3:GetObject'],
    ['GET', 'object', ['X-Amz-Checksum-Mode', 'response-content-type'], false, 'GetObject', 's3:GetObject'],
    ['DELETE', 'object', ['tagging'], false, 'DeleteObjectTagging', 's3:DeleteObjectTagging'],
    // Unknown subresources, two subresources, or a method the table lacks: not nameable.
    ['GET', 'object', ['torrent'], false, undefined, undefined],
    ['GET', 'bucket', ['tagging', 'policy'], false, undefined, undefined],
    ['PATCH', 'object', [], false, undefined, undefined],
  ];
  for (const [method, target, keys, copy, name, action] of cases) {
    it(`${method} ${target} ?${keys.join('&')}${copy ? ' (copy)' : ''} → ${name ?? 'unknown'}`, () => {
      const op = s3Operation(method, target, keys, copy);
      assert.equal(op?.name, name);
      assert.equal(op?.action, action);
    });
  }

  it('classes actions for the s3:read / s3:write / s3:admin groups', () => {
    assert.equal(s3ActionClass('s3:GetObject'), 'read');
    assert.equal(s3ActionClass('s3:GetObjectVersion'), 'read');
    assert.equal(s3ActionClass('s3:PutObject'), 'write');
    assert.equal(s3ActionClass('s3:DeleteObject'), 'write');
    assert.equal(s3ActionClass('s3:PutBucketPolicy'), 'admin');
    assert.equal(s3ActionClass('s3:*'), 'unknown');
    assert.ok(s3IamActions().includes('s3:DeleteObjectVersion'));
    assert.ok(!s3IamActions().includes('s3:*'));
  });
});

describe('S3 addressing', () => {
  it('reads path-style and virtual-hosted requests', () => {
    assert.deepEqual(s3Address('127.0.0.1:4566', '/reports/2024/q3%20final.csv'), {
      bucket: 'reports',
      key: '2024/q3 final.csv',
      virtualHosted: false,
    });
    assert.deepEqual(s3Address('reports.s3.eu-west-1.amazonaws.com', '/a/b'), {
      bucket: 'reports',
      key: 'a/b',
      virtualHosted: true,
    });
    assert.deepEqual(s3Address('reports.localhost:4566', '/'), {
      bucket: 'reports',
      key: '',
      virtualHosted: true,
    });
    assert.deepEqual(s3Address('s3.amazonaws.com', '/'), {
      bucket: undefined,
      key: '',
      virtualHosted: false,
    });
    assert.throws(() => s3Address('x', '/Bad_Bucket/k'), /bucket is not valid/);
    assert.throws(() => s3Address('x', '/bucket/%E0%A4%A'), /percent-encoding/);
  });

  it('reads copy sources, with and without a version, and refuses access points', () => {
    assert.deepEqual(copySource('/src-bucket/dir/a%2Bb.txt'), {
      bucket: 'src-bucket',
      key: 'dir/a+b.txt',
      versionId: undefined,
    });
    assert.deepEqual(copySource('src-bucket/k?versionId=v1'), {
      bucket: 'src-bucket',
      key: 'k',
      versionId: 'v1',
    });
    assert.throws(
      () => copySource('arn:aws:s3:us-east-1:123456789012:accesspoint/ap/object/k'),
      /access-point/,
    );
    assert.throws(() => copySource('src-bucket/k?versionId=v1&x=y'), /versionId/);
    assert.throws(() => copySource('only-bucket'), /bucket\/key/);
  });
});

describe('DeleteObjects body', () => {
  it('names every key, decoding entities and keeping whitespace', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a &amp; b.txt</Key></Object><Object><Key> spaced </Key><VersionId>v2</VersionId></Object><Quiet>true</Quiet></Delete>`;
    assert.deepEqual(parseDeleteObjects(xml), [
      { key: 'a & b.txt', versionId: undefined },
      { key: ' spaced ', versionId: 'v2' },
    ]);
  });

  it('refuses DTDs, CDATA, smuggled keys and unknown elements', () => {
    const wrap = (inner: string) => `<Delete>${inner}</Delete>`;
    assert.throws(
      () => parseDeleteObjects(`<!DOCTYPE x [<!ENTITY e "k">]>${wrap('<Object><Key>&e;</Key></Object>')}`),
      /DTD/,
    );
    assert.throws(() => parseDeleteObjects(wrap('<Object><Key><![CDATA[k]]></Key></Object>')), /CDATA/);
    assert.throws(
      () => parseDeleteObjects(wrap('<Key>outside</Key><Object><Key>k</Key></Object>')),
      /outside/,
    );
    assert.throws(() => parseDeleteObjects(wrap('<Object><Key>a</Key><Key>b</Key></Object>')), /exactly one/);
    assert.throws(
      () => parseDeleteObjects(wrap('<Object><s3:Key>k</s3:Key></Object>')),
      /unexpected element/,
    );
    assert.throws(() => parseDeleteObjects(wrap('')), /no <Object>/);
    assert.throws(() => parseDeleteObjects(wrap('<Object><Key>&bogus;</Key></Object>')), /unknown entity/);
  });

  it('refuses a raw carriage return in a key: XML parsers turn "a\\r\\nb" into "a\\nb", another key', () => {
    const wrap = (inner: string) => `<Delete>${inner}</Delete>`;
    assert.throws(() => parseDeleteObjects(wrap('<Object><Key>a\r\nb</Key></Object>')), /carriage return/);
    // As a character reference it survives XML parsing unchanged, so it is the key as written.
    assert.deepEqual(parseDeleteObjects(wrap('<Object><Key>a&#13;b</Key></Object>')), [
      { key: 'a\rb', versionId: undefined },
    ]);
  });
});
