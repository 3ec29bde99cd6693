/**
 * S3 request → operation and scopes: the data table, addressing styles, copy
 * sources and DeleteObjects bodies, including hostile input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../src/fronts/aws/aws-error.js';
import { replicationRole } from '../../src/fronts/aws/s3/bucket-replication.js';
import { parseDeleteObjects } from '../../src/fronts/aws/s3/delete-objects.js';
import { checkRestoreRequest } from '../../src/fronts/aws/s3/restore-object.js';
import { copySource, s3Address } from '../../src/fronts/aws/s3/s3-address.js';
import { headerIamActions, headerScopes } from '../../src/fronts/aws/s3/s3-header-scopes.js';
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
    ['GET', 'object', ['response-content-type'], false, 'GetObject', 's3:GetObject'],
    // x-amz-* parameters are read as headers by the codec first; one left in the query is not understood.
    ['PUT', 'object', ['x-amz-copy-source'], false, undefined, undefined],
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

  it('refuses dot segments in copy sources and keys (issue 20: public-data/../vault/secret.txt)', () => {
    for (const src of [
      'public-data/../vault/secret.txt',
      'public-data/%2E%2E/vault/secret.txt',
      'bkt/a/./k',
      'bkt/..',
    ])
      assert.throws(() => copySource(src), /"\.\."/, src);
    assert.throws(() => s3Address('x', '/public-data/tmp/%2e%2e/k'), /"\.\."/);
    assert.equal(copySource('bkt/a..b/.k').key, 'a..b/.k');
  });
});

describe('S3 headers that add IAM actions', () => {
  const ctx = (operation: string, targets = ['arn:aws:s3:::b/k']) => ({
    operation,
    targets,
    region: 'eu-west-1',
    accountId: '123456789012',
  });
  const h = (o: Record<string, string>) => new Map(Object.entries(o));

  it('ACL, grants, tagging, object lock and legal hold become their own scopes (issue 20)', () => {
    assert.deepEqual(
      headerScopes(
        h({
          'x-amz-acl': 'public-read-write',
          'x-amz-grant-full-control': 'id=x',
          'x-amz-tagging': 'a=b',
          'x-amz-object-lock-mode': 'GOVERNANCE',
          'x-amz-object-lock-legal-hold': 'ON',
        }),
        ctx('PutObject'),
      ),
      [
        { action: 's3:PutObjectAcl', resource: 'arn:aws:s3:::b/k' },
        { action: 's3:PutObjectTagging', resource: 'arn:aws:s3:::b/k' },
        { action: 's3:PutObjectRetention', resource: 'arn:aws:s3:::b/k' },
        { action: 's3:PutObjectLegalHold', resource: 'arn:aws:s3:::b/k' },
      ],
    );
    assert.deepEqual(headerScopes(h({ 'x-amz-acl': 'private' }), ctx('PutObjectAcl')), []);
    assert.deepEqual(headerScopes(h({ 'x-amz-acl': 'private' }), ctx('CreateBucket', ['arn:aws:s3:::b'])), [
      { action: 's3:PutBucketAcl', resource: 'arn:aws:s3:::b' },
    ]);
  });

  it('SSE-KMS names the key: kms:GenerateDataKey (and kms:Decrypt for multipart)', () => {
    const kms = { 'x-amz-server-side-encryption': 'aws:kms' };
    assert.deepEqual(headerScopes(h(kms), ctx('PutObject')), [
      { action: 'kms:GenerateDataKey', resource: 'arn:aws:kms:eu-west-1:123456789012:alias/aws/s3' },
    ]);
    const keyId = '1234abcd-12ab-34cd-56ef-1234567890ab';
    assert.deepEqual(
      headerScopes(
        h({ ...kms, 'x-amz-server-side-encryption-aws-kms-key-id': keyId }),
        ctx('CreateMultipartUpload'),
      ),
      [
        { action: 'kms:GenerateDataKey', resource: `arn:aws:kms:eu-west-1:123456789012:key/${keyId}` },
        { action: 'kms:Decrypt', resource: `arn:aws:kms:eu-west-1:123456789012:key/${keyId}` },
      ],
    );
    assert.deepEqual(headerScopes(h({ 'x-amz-server-side-encryption': 'AES256' }), ctx('PutObject')), []);
    assert.throws(
      () => headerScopes(h({ 'x-amz-server-side-encryption-aws-kms-key-id': keyId }), ctx('PutObject')),
      /aws:kms/,
    );
    assert.throws(
      () =>
        headerScopes(h({ ...kms, 'x-amz-server-side-encryption-aws-kms-key-id': 'x y' }), ctx('PutObject')),
      AwsError,
    );
  });

  it('refuses a scope-adding header on an operation it does not belong to', () => {
    assert.throws(
      () => headerScopes(h({ 'x-amz-tagging': 'a=b' }), ctx('UploadPart')),
      /x-amz-tagging on UploadPart/,
    );
    assert.throws(() => headerScopes(h({ 'x-amz-acl': 'public-read' }), ctx('GetObject')), /x-amz-acl/);
    assert.throws(
      () => headerScopes(h({ 'x-amz-server-side-encryption': 'aws:kms' }), ctx('UploadPart')),
      AwsError,
    );
  });

  it('every action a header adds is one policy can name', () => {
    for (const a of headerIamActions()) assert.ok(s3IamActions().includes(a), a);
    assert.equal(s3ActionClass('s3:BypassGovernanceRetention'), 'admin');
  });
});

describe('DeleteObjects body', () => {
  const wrap = (inner: string) => `<Delete>${inner}</Delete>`;
  const keys = (xml: string) => parseDeleteObjects(xml).map((t) => t.key);

  it('names every key, decoding the five entities and character references', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a &amp; b.txt</Key></Object><Object><Key>in&#x20;ner</Key><VersionId>v2</VersionId></Object><Quiet>true</Quiet></Delete>`;
    assert.deepEqual(parseDeleteObjects(xml), [
      { key: 'a & b.txt', versionId: undefined },
      { key: 'in ner', versionId: 'v2' },
    ]);
  });

  it('reads keys whatever the tag spelling (issue 20: whitespace in tags hid keep.txt)', () => {
    assert.deepEqual(
      keys(wrap('<Object ><Key >keep.txt</Key ></Object>\n  <Object><Key>tmp/del-b.txt</Key></Object>')),
      ['keep.txt', 'tmp/del-b.txt'],
    );
    assert.deepEqual(keys(`<Delete\n><Object\t><Key\n>k</Key\n></Object></Delete >`), ['k']);
  });

  it('refuses attributes (issue 20: <Object a="1"><Key a="1"> hid a key) and foreign namespaces', () => {
    assert.throws(() => keys(wrap('<Object a="1"><Key a="1">keep.txt</Key></Object>')), /attribute a/);
    assert.throws(
      () => keys('<Delete xmlns="urn:other"><Object><Key>k</Key></Object></Delete>'),
      /attribute xmlns/,
    );
    assert.throws(() => keys(wrap('<Object><s3:Key xmlns:s3="x">k</s3:Key></Object>')), MalformedXml);
  });

  it('refuses dot segments in keys, however they are spelled (issue 20)', () => {
    assert.throws(() => keys(wrap('<Object><Key>tmp/../../vault/victim-1.txt</Key></Object>')), /"\.\."/);
    assert.throws(() => keys(wrap('<Object><Key>tmp/&#46;&#46;/x</Key></Object>')), /"\.\."/);
    assert.throws(() => keys(wrap('<Object><Key>tmp/&#x2E;/x</Key></Object>')), /"\.\."/);
    assert.throws(() => keys(wrap('<Object><Key>..</Key></Object>')), /"\.\."/);
    assert.deepEqual(keys(wrap('<Object><Key>tmp/..a/b.</Key></Object>')), ['tmp/..a/b.']);
  });

  it('refuses DTDs, CDATA, comments, PIs, other encodings and unknown entities', () => {
    assert.throws(
      () => parseDeleteObjects(`<!DOCTYPE x [<!ENTITY e "k">]>${wrap('<Object><Key>&e;</Key></Object>')}`),
      /DTD/,
    );
    assert.throws(() => keys(wrap('<Object><Key><![CDATA[k]]></Key></Object>')), /CDATA/);
    assert.throws(() => keys(wrap('<!-- c --><Object><Key>k</Key></Object>')), /comments/);
    assert.throws(() => keys(wrap('<?pi x?><Object><Key>k</Key></Object>')), /processing/);
    assert.throws(
      () => keys(`<?xml version="1.0" encoding="ISO-8859-1"?>${wrap('<Object><Key>k</Key></Object>')}`),
      /UTF-8/,
    );
    assert.throws(() => keys(wrap('<Object><Key>&bogus;</Key></Object>')), /entity &bogus;/);
    assert.throws(() => keys(wrap('<Object><Key>&period;</Key></Object>')), /entity/);
    assert.throws(() => keys(wrap('<Object><Key>a&b</Key></Object>')), MalformedXml);
    assert.throws(() => keys(wrap('<Object><Key>&#0;</Key></Object>')), /not an XML character/);
  });

  it('refuses smuggled keys, unknown elements, mixed content and deep nesting', () => {
    assert.throws(
      () => keys(wrap('<Key>outside</Key><Object><Key>k</Key></Object>')),
      /unexpected element <Key>/,
    );
    assert.throws(() => keys(wrap('<Object><Key>a</Key><Key>b</Key></Object>')), /twice/);
    assert.throws(() => keys(wrap('<Object><Key>a<Key>b</Key></Key></Object>')), MalformedXml);
    assert.throws(() => keys(wrap('x<Object><Key>k</Key></Object>')), /text beside/);
    assert.throws(() => keys(wrap('<Object><Key>k</Key><Extra>1</Extra></Object>')), /unexpected element/);
    assert.throws(() => keys(`${wrap('<Object><Key>k</Key></Object>')}<Delete/>`), MalformedXml);
    assert.throws(() => keys('<Delete><Object><Key>k</Key></Object>'), /well-formed/);
    assert.throws(() => keys(`${'<a>'.repeat(50)}${'</a>'.repeat(50)}`), MalformedXml);
    assert.throws(() => keys(wrap('')), /no <Object>/);
    assert.throws(() => keys(wrap('<Object><Key> spaced</Key></Object>')), /whitespace/);
    // Bounded before parsing (a 2 MiB body of tags or references cost over a second).
    assert.throws(() => keys(wrap('<Object><Key>k</Key></Object>'.repeat(5000))), /more than 16384 tags/);
    assert.throws(
      () => keys(wrap(`<Object><Key>${'&amp;'.repeat(70_000)}</Key></Object>`)),
      /entity references/,
    );
  });

  it('refuses a raw carriage return in a key: XML parsers turn "a\\r\\nb" into "a\\nb", another key', () => {
    assert.throws(() => keys(wrap('<Object><Key>a\r\nb</Key></Object>')), /carriage return/);
    // As a character reference it survives XML parsing unchanged, so it is the key as written.
    assert.deepEqual(keys(wrap('<Object><Key>a&#13;b</Key></Object>')), ['a\rb']);
  });
});

describe('PutBucketReplication body', () => {
  it('names the role it passes (iam:PassRole), refuses anything else', () => {
    assert.equal(s3Operation('PUT', 'bucket', ['replication'], false)?.special, 'putReplication');
    const role = 'arn:aws:iam::123456789012:role/replicator';
    const xml = (inner: string) =>
      Buffer.from(
        `<ReplicationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</ReplicationConfiguration>`,
      );
    assert.equal(
      replicationRole(
        xml(
          `<Role>${role}</Role><Rule><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::dst</Bucket></Destination></Rule>`,
        ),
      ),
      role,
    );
    assert.throws(() => replicationRole(xml('<Rule/>')), /Role/);
    assert.throws(() => replicationRole(xml(`<Role>${role}</Role><Role>${role}</Role>`)), /Role/);
    assert.throws(() => replicationRole(xml('<Role>*</Role>')), /Role/);
  });
});

describe('RestoreObject body', () => {
  it('passes a plain restore, refuses a SELECT restore that writes to another bucket', () => {
    checkRestoreRequest(
      Buffer.from(
        '<RestoreRequest><Days>2</Days><GlacierJobParameters><Tier>Bulk</Tier></GlacierJobParameters></RestoreRequest>',
      ),
    );
    assert.throws(
      () =>
        checkRestoreRequest(
          Buffer.from(
            '<RestoreRequest><Type>SELECT</Type><OutputLocation><S3><BucketName>vault</BucketName></S3></OutputLocation></RestoreRequest>',
          ),
        ),
      /SELECT restore/,
    );
    assert.throws(() => checkRestoreRequest(Buffer.from('<Restore a="1"/>')), MalformedXml);
  });
});

const MalformedXml = (err: unknown) => err instanceof AwsError && err.code === 'MalformedXML';
