// The packed tarball installs and works from ES modules, CommonJS and TypeScript, with nothing Node-only up front.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, test} from 'node:test';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const consumer = mkdtempSync(join(tmpdir(), 'renderowl-sdk-consumer-'));
let packed;

function run(command, args, cwd = consumer) {
  return execFileSync(command, args, {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
}

before(() => {
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', consumer], root));
  packed = info;
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({name: 'consumer', private: true}));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(consumer, info.filename)]);
});

after(() => rmSync(consumer, {recursive: true, force: true}));

test('the tarball holds the builds, their types and the README, and no sources or tests', () => {
  const files = packed.files.map((f) => f.path);
  for (const expected of ['dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts',
    'dist/cjs/package.json', 'dist/esm/schemas.js', 'README.md', 'package.json']) {
    assert.ok(files.includes(expected), `${expected} is missing from the tarball`);
  }
  assert.deepEqual(files.filter((f) => f.startsWith('src/') || f.startsWith('test/')), []);
});

const USE = `
  const client = new RenderowlClient({apiKey: 'rwl_test_x', baseUrl: 'https://api.example.com'});
  const parsed = zProjectCreateRequest.safeParse({name: 'x'});
  console.log(typeof client.projects.list, typeof verifyWebhook, parsed.success);
`;

test('it imports as an ES module', () => {
  writeFileSync(join(consumer, 'esm.mjs'), `import {RenderowlClient, verifyWebhook} from '@renderowl/sdk';
import {zProjectCreateRequest} from '@renderowl/sdk/schemas';${USE}`);
  assert.equal(run(process.execPath, ['esm.mjs']).trim(), 'function function true');
});

test('it requires as CommonJS', () => {
  writeFileSync(join(consumer, 'cjs.cjs'), `const {RenderowlClient, verifyWebhook} = require('@renderowl/sdk');
const {zProjectCreateRequest} = require('@renderowl/sdk/schemas');${USE}`);
  assert.equal(run(process.execPath, ['cjs.cjs']).trim(), 'function function true');
});

test('its types check from ESM and CommonJS TypeScript, without Node types (the build itself has none)', () => {
  const body = `
async function main(client: RenderowlClient): Promise<string> {
  const project = await client.projects.create({name: 'x'});
  for await (const asset of client.assets.list(project.id)) asset.status satisfies 'pending' | 'processing' | 'ready' | 'failed';
  const job = await client.renders.submit(project.id, {templateId: 'ast_x', inputProps: {title: 'Hi'}});
  const event = await verifyWebhook({payload: '', headers: new Headers(), secret: project.webhookSecret ?? ''});
  if (event.type === 'render.completed') return event.data.object.status;
  const checked: RenderCreateRequest = zRenderCreateRequest.parse({templateId: job.templateId});
  return checked.templateId;
}
export {main};
`;
  writeFileSync(join(consumer, 'check.mts'), `import {RenderowlClient, verifyWebhook, type RenderCreateRequest} from '@renderowl/sdk';
import {zRenderCreateRequest} from '@renderowl/sdk/schemas';${body}`);
  writeFileSync(join(consumer, 'check.cts'), `import {RenderowlClient, verifyWebhook, type RenderCreateRequest} from '@renderowl/sdk';
import {zRenderCreateRequest} from '@renderowl/sdk/schemas';${body}`);
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      strict: true, noEmit: true, types: [], skipLibCheck: true},
    files: ['check.mts', 'check.cts'],
  }));
  try {
    run(process.execPath, [tsc, '-p', 'tsconfig.json']);
  } catch (error) {
    assert.fail(`tsc found errors:\n${error.stdout}`);
  }
});

test('nothing Node-only is imported up front (browsers load the same files)', () => {
  const dist = join(consumer, 'node_modules/@renderowl/sdk/dist/esm');
  const offenders = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, {withFileTypes: true})) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith('.js') && /^\s*import[^(]*['"]node:/m.test(readFileSync(path, 'utf8'))) offenders.push(path);
    }
  };
  walk(dist);
  assert.deepEqual(offenders, []);
  assert.match(readFileSync(join(dist, 'upload.js'), 'utf8'), /await import\(.*'node:fs'\)/);
});
