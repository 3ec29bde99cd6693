/**
 * The deployment files (deploy/Dockerfile, deploy/k8s/) checked against the code they run,
 * without a Docker engine or a cluster: every manifest parses; the ConfigMap's airlock.yaml
 * passes the real config loader and its policy the real Cedar engine; the Deployment's
 * ports and probes are the ones that config listens on; the store URL and master key come
 * from the Secret; the grace period outlasts the SIGTERM drain; the Dockerfile's stages,
 * user, install command, health check and entry point are what docs/DEPLOY.md says.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { loadPolicy } from '../../src/app.js';
import type { AirlockConfig } from '../../src/config/config.js';
import { parseConfig } from '../../src/config/load.js';

const K8S = 'deploy/k8s';

// biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below
type Manifest = any;

function manifests(): Map<string, Manifest> {
  const byKind = new Map<string, Manifest>();
  for (const file of readdirSync(K8S).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))) {
      assert.deepEqual(doc.errors, [], `${file}: ${doc.errors.join('; ')}`);
      const m = doc.toJS() as Manifest;
      if (m === null) continue;
      assert.equal(typeof m.kind, 'string', `${file}: no kind`);
      if (m.kind !== 'Kustomization') assert.equal(typeof m.metadata?.name, 'string', `${file}: no name`);
      byKind.set(m.kind, { ...m, file });
    }
  }
  return byKind;
}

const all = manifests();
const get = (kind: string): Manifest => {
  const m = all.get(kind);
  assert.ok(m !== undefined, `no ${kind} in ${K8S}`);
  return m;
};
const deployment = get('Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const configMap = get('ConfigMap');

/** The ConfigMap's files written out as the pod sees them, and airlock.yaml loaded from there. */
function withConfig<T>(fn: (cfg: AirlockConfig) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-deploy-'));
  for (const [name, text] of Object.entries(configMap.data as Record<string, string>))
    writeFileSync(join(dir, name), text);
  const path = join(dir, 'airlock.yaml');
  return fn(parseConfig(readFileSync(path, 'utf8'), path)).finally(() =>
    rmSync(dir, { recursive: true, force: true }),
  );
}

const namedPort = (name: string): number =>
  (container.ports as { name: string; containerPort: number }[]).find((p) => p.name === name)
    ?.containerPort ?? Number.NaN;
const envFrom = (name: string) =>
  (container.env as { name: string; value?: string; valueFrom?: Manifest }[]).find((e) => e.name === name);

/** The drain `airlock serve` allows on SIGTERM (src/cli/serve.ts, read as text like the manifests). */
const shutdownGraceMs = Number(
  /const SHUTDOWN_GRACE_MS = ([\d_]+);/
    .exec(readFileSync('src/cli/serve.ts', 'utf8'))?.[1]
    ?.replaceAll('_', ''),
);

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('kustomization.yaml lists every manifest but the Secret example, and each exists', () => {
    const k = get('Kustomization');
    const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    for (const r of k.resources as string[]) assert.ok(existsSync(join(K8S, r)), r);
    assert.deepEqual(
      [...k.resources].sort(),
      files.filter((f) => f !== 'secret.example.yaml').sort(),
      'every manifest but the example Secret is applied',
    );
  });

  it('the ConfigMap holds a valid airlock.yaml on the PostgreSQL store, and its policies load', async () => {
    await withConfig(async (cfg) => {
      assert.equal(cfg.store?.kind, 'postgres');
      assert.equal(cfg.dataDir, '/var/lib/airlock');
      const engine = await loadPolicy(cfg);
      assert.ok(engine.policyIds.length > 0);
    });
  });

  it('three replicas, ports and probes on the ports the config listens on', async () => {
    assert.equal(deployment.spec.replicas, 3);
    await withConfig(async (cfg) => {
      assert.equal(namedPort('aws'), cfg.listen.aws.port);
      assert.equal(namedPort('api'), cfg.listen.api.port);
      for (const l of [cfg.listen.aws, cfg.listen.api])
        assert.equal(l.host, '0.0.0.0', 'listens beyond the pod loopback');
    });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'api' });
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'api' });
  });

  it('the master key and the store URL come from the Secret; the config is the mounted ConfigMap', async () => {
    assert.deepEqual(envFrom('AIRLOCK_MASTER_KEY')?.valueFrom, {
      secretKeyRef: { name: 'airlock', key: 'master-key' },
    });
    await withConfig(async (cfg) => {
      const urlEnv = cfg.store?.kind === 'postgres' ? cfg.store.postgres.urlEnv : undefined;
      assert.ok(urlEnv !== undefined, 'store.postgres.url_env');
      assert.deepEqual(envFrom(urlEnv)?.valueFrom, { secretKeyRef: { name: 'airlock', key: 'store-url' } });
    });
    const secret = parseAllDocuments(readFileSync(join(K8S, 'secret.example.yaml'), 'utf8'))[0]?.toJS();
    assert.deepEqual(Object.keys(secret.stringData).sort(), ['master-key', 'store-url']);
    const configVolume = (pod.volumes as Manifest[]).find(
      (v) => v.configMap?.name === configMap.metadata.name,
    );
    const mount = (container.volumeMounts as Manifest[]).find((m) => m.name === configVolume?.name);
    assert.equal(`${mount?.mountPath}/airlock.yaml`, envFrom('AIRLOCK_CONFIG')?.value);
  });

  it('terminationGracePeriodSeconds outlasts preStop plus the SIGTERM drain', () => {
    assert.ok(shutdownGraceMs > 0, 'SHUTDOWN_GRACE_MS found in src/cli/serve.ts');
    const preStop = container.lifecycle.preStop.exec.command as string[];
    assert.equal(preStop[0], 'sleep');
    const needed = Number(preStop[1]) + shutdownGraceMs / 1000;
    assert.ok(
      pod.terminationGracePeriodSeconds > needed,
      `${pod.terminationGracePeriodSeconds} s > ${needed} s`,
    );
  });

  it('runs as the image user, not root, read-only root, data_dir and /tmp writable', async () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, dockerUid());
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    const mounts = (container.volumeMounts as Manifest[]).map((m) => m.mountPath);
    await withConfig(async (cfg) => assert.ok(mounts.includes(cfg.dataDir), 'data_dir is a volume'));
    assert.ok(mounts.includes('/tmp'), "tsx's cache");
  });

  it('the Service and the PodDisruptionBudget select the Deployment’s pods', () => {
    const labels = deployment.spec.template.metadata.labels;
    const matches = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
    assert.ok(matches(deployment.spec.selector.matchLabels));
    assert.ok(matches(get('Service').spec.selector));
    const pdb = get('PodDisruptionBudget');
    assert.ok(matches(pdb.spec.selector.matchLabels));
    assert.ok(pdb.spec.maxUnavailable === 1 || pdb.spec.minAvailable >= 2);
    const names = (container.ports as { name: string }[]).map((p) => p.name);
    for (const p of get('Service').spec.ports as { targetPort: string }[])
      assert.ok(names.includes(p.targetPort));
    assert.equal(pod.serviceAccountName, get('ServiceAccount').metadata.name);
  });
});

const dockerfile = readFileSync('deploy/Dockerfile', 'utf8');
/** Instructions with their continuation lines joined; comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const stages = instructions.filter((l) => l.startsWith('FROM '));
const lastStage = instructions.slice(instructions.lastIndexOf(stages.at(-1) ?? ''));

function dockerUid(): number {
  const user = lastStage.filter((l) => l.startsWith('USER ')).at(-1);
  return Number(user?.slice(5).split(':')[0]);
}

describe('container image (deploy/Dockerfile)', () => {
  it('is multi-stage: dependencies installed with npm ci --omit=dev, copied into a runtime stage', () => {
    assert.ok(stages.length >= 2, stages.join(' | '));
    const deps = /^FROM \S+ AS (\S+)$/i.exec(stages[0] ?? '')?.[1];
    assert.ok(deps !== undefined);
    assert.ok(instructions.some((l) => l.startsWith('RUN ') && /\bnpm ci --omit=dev\b/.test(l)));
    assert.ok(lastStage.some((l) => l.startsWith(`COPY --from=${deps} `) && l.includes('node_modules')));
    assert.ok(!lastStage.some((l) => /\bnpm (ci|install)\b/.test(l)), 'no install in the runtime stage');
  });

  it('runs as a numeric non-root user (so runAsNonRoot can check it)', () => {
    const uid = dockerUid();
    assert.ok(Number.isInteger(uid) && uid > 0, `USER ${uid}`);
  });

  it('copies only files that exist, and the dockerignore lets them through', () => {
    const ignore = readFileSync('deploy/Dockerfile.dockerignore', 'utf8');
    for (const l of instructions.filter((x) => x.startsWith('COPY ') && !x.includes('--from='))) {
      const srcs = l.split(/\s+/).slice(1, -1);
      for (const src of srcs) {
        assert.ok(existsSync(src), `${l}: ${src}`);
        assert.ok(ignore.includes(`!${src}`), `${src} not excluded from the build context`);
      }
    }
  });

  it('runs `node bin/airlock.js serve` and checks /readyz on the API port', async () => {
    const json = (prefix: string) =>
      JSON.parse(lastStage.find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? 'null') as string[];
    assert.deepEqual([...json('ENTRYPOINT '), ...json('CMD ')], ['node', 'bin/airlock.js', 'serve']);
    const health = lastStage.find((l) => l.startsWith('HEALTHCHECK ')) ?? '';
    await withConfig(async (cfg) =>
      assert.ok(health.includes(`127.0.0.1:${cfg.listen.api.port}/readyz`), health),
    );
    const configPath = envFrom('AIRLOCK_CONFIG')?.value;
    assert.ok(lastStage.some((l) => l.startsWith('ENV ') && l.includes(`AIRLOCK_CONFIG=${configPath}`)));
  });
});
