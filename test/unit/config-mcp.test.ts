import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { BASE_CONFIG, configProblem } from '../support/config-problem.js';

describe('config: mcp', () => {
  it('reads stdio and Streamable HTTP servers with defaults', () => {
    const c = parseConfig(
      `${BASE_CONFIG}mcp:
  servers:
    - name: github
      command: [npx, -y, some-mcp-server]
      env: { LOG_LEVEL: debug }
    - name: search
      url: https://search.example/mcp
      headers_env: { Authorization: SEARCH_AUTH }
`,
      '/etc/airlock.yaml',
    );
    assert.deepEqual(c.mcp, {
      listen: { host: '127.0.0.1', port: 4568 },
      maxMessageBytes: 1048576,
      progressSeconds: 10,
      servers: [
        {
          name: 'github',
          kind: 'stdio',
          command: ['npx', '-y', 'some-mcp-server'],
          env: { LOG_LEVEL: 'debug' },
        },
        {
          name: 'search',
          kind: 'http',
          url: 'https://search.example/mcp',
          headersEnv: { Authorization: 'SEARCH_AUTH' },
        },
      ],
    });
    assert.equal(parseConfig(BASE_CONFIG, '/x.yaml').mcp, undefined);
  });

  it('reports problems with file:line:col', () => {
    const msg = configProblem(`${BASE_CONFIG}mcp:
  listen: nowhere
  colour: blue
  servers:
    - name: Bad Name
      command: [x]
    - name: both
      command: [x]
      url: http://h/mcp
    - name: web
      url: ftp://h
    - name: web2
      url: http://h/mcp
      headers_env: { Authorization: "not an env" }
    - name: cmd
      command: []
    - name: web2
      command: [y]
      headers_env: { A: B }
`);
    assert.match(msg, /airlock\.yaml:6:11: listen must be host:port/);
    assert.match(msg, /airlock\.yaml:7:3: unknown key mcp\.colour/);
    assert.match(msg, /airlock\.yaml:9:13: mcp\.servers\[\]\.name must be a lower-case name/);
    assert.match(msg, /airlock\.yaml:11:7: mcp server both needs exactly one of command/);
    assert.match(msg, /airlock\.yaml:15:12: url must be the http\(s\) URL/);
    assert.match(msg, /airlock\.yaml:18:20: headers_env\.Authorization must name an environment variable/);
    assert.match(msg, /airlock\.yaml:20:16: command must be a non-empty list/);
    assert.match(msg, /airlock\.yaml:21:13: mcp server web2 is configured twice/);
    assert.match(msg, /airlock\.yaml:23:20: headers_env applies only to url servers/);
    assert.match(
      configProblem(`${BASE_CONFIG}mcp: {servers: []}\n`),
      /mcp\.servers must be a non-empty list/,
    );
  });
});
