// Every resource method against the live platform that the test run started (see helpers.platform()).
import assert from 'node:assert/strict';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, test} from 'node:test';

import {
  Page,
  RenderowlAuthenticationError,
  RenderowlClient,
  RenderowlConflictError,
  RenderowlNotFoundError,
  RenderowlValidationError,
  RenderowlWebhookVerificationError,
  verifyWebhook,
} from '@renderowl/sdk';

import {eventually, liveClient, localServer, platform, smallTemplate, unique} from './helpers.mjs';

let client;
const OUTPUT = {format: 'mp4', width: 320, height: 180, fps: 15};
let project;
let template;
let receiver;
let endpoint;

before(async () => {
  client = liveClient(); // fails every test, with how to run them, when no platform is given
  project = await client.projects.create({name: unique('SDK live'), metadata: {suite: 'typescript'}});
  const dir = mkdtempSync(join(tmpdir(), 'renderowl-sdk-'));
  const path = join(dir, 'promo-card.json');
  writeFileSync(path, smallTemplate());
  template = await client.assets.upload(project.id, {file: path, tags: ['sdk'], wait: true});
  receiver = await localServer((request, response) => {
    response.writeHead(200);
    response.end('ok');
  });
  // Registered first, so the renders below are delivered to it too.
  endpoint = await client.webhooks.create({url: `${receiver.url}/hook`, projectIds: [project.id], description: 'sdk tests'});
});

after(() => receiver?.close());

test('projects: create, get, update, rotate the webhook secret, delete', async () => {
  const created = await client.projects.create({name: unique('Projects'), description: 'from the SDK'});
  assert.match(created.id, /^prj_/);
  assert.match(created.webhookSecret, /^[0-9a-f]{64}$/);

  assert.equal((await client.projects.get(created.id)).description, 'from the SDK');
  const updated = await client.projects.update(created.id, {metadata: {team: 'growth'}});
  assert.deepEqual(updated.metadata, {team: 'growth'});
  const rotated = await client.projects.rotateWebhookSecret(created.id);
  assert.match(rotated.webhookSecret, /^[0-9a-f]{64}$/);
  assert.notEqual(rotated.webhookSecret, created.webhookSecret);

  await client.projects.delete(created.id);
  await assert.rejects(client.projects.get(created.id), (error) => {
    assert.ok(error instanceof RenderowlNotFoundError);
    assert.equal(error.code, 'not_found');
    assert.match(error.requestId, /^req_/);
    return true;
  });
});

test('projects: a single page has hasMore and nextCursor; for await walks every page', async () => {
  const prefix = unique('Paged');
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await client.projects.create({name: `${prefix} ${i}`})).id);

  const first = await client.projects.list({limit: 2});
  assert.ok(first instanceof Page);
  assert.equal(first.data.length, 2);
  assert.equal(first.hasMore, true);
  assert.equal(typeof first.nextCursor, 'string');
  assert.deepEqual(first.data.map((p) => p.id), ids.slice(-2).reverse()); // newest first
  const second = await first.nextPage();
  assert.deepEqual(second.data.map((p) => p.id), ids.slice(1, 3).reverse());

  const seen = [];
  for await (const listed of client.projects.list({limit: 2, sort: 'createdAt'})) seen.push(listed.id);
  assert.ok(seen.length > 5);
  assert.deepEqual(seen.filter((id) => ids.includes(id)), ids);
  assert.equal(new Set(seen).size, seen.length);
});

test('a create whose response was lost is retried with its key and creates once', async () => {
  let lost = false;
  const losingFetch = async (url, init) => {
    const response = await fetch(url, init);
    if (init.method === 'POST' && !lost) {
      lost = true;
      throw new TypeError('fetch failed: the connection was reset'); // the project exists; the answer is gone
    }
    return response;
  };
  const name = unique('Exactly once');
  const flaky = new RenderowlClient({...platform(), fetch: losingFetch, initialRetryDelay: 10});

  const created = await flaky.projects.create({name});

  assert.ok(lost);
  const named = [];
  for await (const listed of client.projects.list({limit: 100})) if (listed.name === name) named.push(listed.id);
  assert.deepEqual(named, [created.id]);
});

test('errors: a bad key, a taken slug, a reused idempotency key, a body the SDK refuses', async () => {
  const stranger = new RenderowlClient({apiKey: 'rwl_test_' + 'x'.repeat(40), baseUrl: platform().baseUrl});
  await assert.rejects(async () => stranger.projects.list(), (error) => {
    assert.ok(error instanceof RenderowlAuthenticationError);
    assert.deepEqual([error.status, error.code], [401, 'invalid_api_key']);
    return true;
  });

  const slug = unique('slug');
  await client.projects.create({name: 'Slugged', slug});
  await assert.rejects(client.projects.create({name: 'Other', slug}), (error) => {
    assert.ok(error instanceof RenderowlConflictError);
    assert.equal(error.code, 'slug_taken');
    assert.deepEqual(error.errors.map((e) => e.field), ['slug']);
    return true;
  });

  const key = unique('key');
  await client.projects.create({name: 'First'}, {idempotencyKey: key});
  await assert.rejects(client.projects.create({name: 'Second'}, {idempotencyKey: key}), (error) => {
    assert.ok(error instanceof RenderowlValidationError);
    assert.deepEqual([error.status, error.code], [422, 'idempotency_key_reused']);
    return true;
  });

  await assert.rejects(client.projects.update(project.id, {webhookSecret: 'x'}), (error) => {
    assert.ok(error instanceof RenderowlValidationError);
    assert.equal(error.status, null); // refused before sending
    assert.deepEqual(error.errors, [{field: 'webhookSecret', message: 'Unknown field.'}]);
    return true;
  });
});

test('assets: upload from a file path waits until ready; get with a download URL returns the bytes', async () => {
  assert.equal(template.status, 'ready', JSON.stringify(template.error));
  assert.equal(template.type, 'template');
  assert.equal(template.contentType, 'application/json');

  const withUrl = await client.assets.get(template.id, {downloadUrl: true});
  const downloaded = await (await fetch(withUrl.downloadUrl)).text();
  assert.equal(downloaded, smallTemplate());
  assert.equal((await client.assets.get(template.id)).downloadUrl, null);
});

test('assets: upload from a Blob, an ArrayBuffer and a stream', async () => {
  const bytes = new TextEncoder().encode(smallTemplate());
  const fromBlob = await client.assets.upload(project.id, {
    file: new Blob([bytes], {type: 'application/json'}), name: 'blob.json', wait: {pollInterval: 200},
  });
  assert.equal(fromBlob.status, 'ready');

  const fromBuffer = await client.assets.upload(project.id, {
    file: bytes.buffer, name: 'buffer.json', contentType: 'application/json', type: 'template',
  });
  assert.equal(fromBuffer.status, 'processing');
  assert.equal(fromBuffer.size, bytes.length);

  const stream = new ReadableStream({
    start(controller) {
      controller.enqueue(bytes.slice(0, 100));
      controller.enqueue(bytes.slice(100));
      controller.close();
    },
  });
  const fromStream = await client.assets.upload(project.id, {file: stream, size: bytes.length, name: 'stream.json', wait: true});
  assert.equal(fromStream.status, 'ready');
  assert.equal(fromStream.checksum, fromBlob.checksum);
});

test('assets: create, put, complete by hand; a fresh upload URL; list, update, delete', async () => {
  const bytes = new TextEncoder().encode(smallTemplate());
  const created = await client.assets.create(project.id, {
    type: 'template', name: 'manual.json', contentType: 'application/json', size: bytes.length,
  });
  assert.equal(created.asset.status, 'pending');
  const fresh = await client.assets.uploadUrl(created.asset.id);
  assert.equal(fresh.asset.id, created.asset.id);
  assert.equal(fresh.upload.method, 'PUT');
  await assert.rejects(client.assets.complete(created.asset.id), (error) => error.code === 'upload_missing');

  await client.assets.put(fresh, bytes);
  const completed = await client.assets.complete(created.asset.id);
  assert.equal(completed.status, 'processing');
  const ready = await client.assets.wait(created.asset.id, {pollInterval: 200});
  assert.equal(ready.status, 'ready');

  const updated = await client.assets.update(ready.id, {tags: ['manual', 'sdk'], description: 'by hand'});
  assert.deepEqual(updated.tags, ['manual', 'sdk']);
  const tagged = [];
  for await (const asset of client.assets.list(project.id, {tag: 'manual', type: 'template'})) tagged.push(asset.id);
  assert.deepEqual(tagged, [ready.id]);

  await client.assets.delete(ready.id);
  await assert.rejects(client.assets.get(ready.id), RenderowlNotFoundError);
});

test('renders: dry run, submit, wait with progress, download; stream of a finished job; list', async () => {
  const body = {templateId: template.id, inputProps: {title: 'SDK'}, output: OUTPUT, metadata: {suite: 'ts'}};
  const dry = await client.renders.dryRun(project.id, body);
  assert.equal(dry.inputProps.subtitle, 'Made with Renderowl');
  assert.equal(dry.output.width, 320);

  const job = await client.renders.submit(project.id, body);
  assert.match(job.id, /^rnd_/);
  const seen = [];
  const done = await client.renders.wait(job.id, {onProgress: (update) => seen.push(update.status)});

  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(seen.at(-1), 'completed');
  assert.ok(seen.length >= 2, `progress seen: ${seen}`);
  const response = await client.renders.download(job.id);
  const output = new Uint8Array(await response.arrayBuffer());
  assert.equal(output.length, done.outputSize);
  assert.equal(new TextDecoder().decode(output.slice(4, 8)), 'ftyp');

  const replayed = [];
  for await (const state of client.renders.stream(job.id)) replayed.push(state.status);
  assert.deepEqual(replayed, ['completed']);

  const listed = await client.renders.list(project.id, {status: 'completed', limit: 10});
  assert.ok(listed.data.some((r) => r.id === job.id));
  assert.equal((await client.renders.get(job.id)).metadata.suite, 'ts');
});

test('renders: a queued job is cancelled', async () => {
  const body = {templateId: template.id, inputProps: {title: 'Busy'}, output: OUTPUT};
  const first = await client.renders.submit(project.id, body);
  const second = await client.renders.submit(project.id, {...body, priority: 'low'});

  const cancelled = await client.renders.cancel(second.id);

  assert.equal(cancelled.status, 'cancelled');
  await assert.rejects(client.renders.cancel(second.id), (error) => error.code === 'render_not_cancellable');
  assert.equal((await client.renders.wait(first.id)).status, 'completed');
});

test('automations: create, get, list, update, dry run, trigger, runs, rotate the hook, delete', async () => {
  const automation = await client.automations.create(project.id, {
    name: 'From the SDK', templateId: template.id, trigger: {type: 'webhook'},
    dataMapping: {title: {path: '$.name', transform: 'uppercase'}}, output: OUTPUT,
  });
  assert.match(automation.id, /^aut_/);
  assert.equal((await client.automations.get(automation.id)).name, 'From the SDK');
  const listed = await client.automations.list(project.id);
  assert.ok(listed.data.some((a) => a.id === automation.id));
  assert.equal((await client.automations.update(automation.id, {name: 'Renamed'})).name, 'Renamed');

  const dry = await client.automations.dryRun(automation.id, {payload: {name: 'ada'}});
  assert.equal(dry.input.title, 'ADA');

  const run = await client.automations.trigger(automation.id, {payload: {name: 'grace'}});
  assert.equal(run.trigger, 'manual');
  const finished = await eventually(() => client.automations.runs.get(run.id), (r) => ['completed', 'failed'].includes(r.status), {timeout: 60_000});
  assert.equal(finished.status, 'completed', JSON.stringify(finished.error));
  assert.deepEqual(finished.input.title, 'GRACE');
  const runs = [];
  for await (const listedRun of client.automations.runs.list(automation.id)) runs.push(listedRun.id);
  assert.deepEqual(runs, [run.id]);

  const rotated = await client.automations.rotateHookToken(automation.id);
  assert.notEqual(rotated.hookUrl, automation.hookUrl);
  await client.automations.delete(automation.id);
  await assert.rejects(client.automations.get(automation.id), RenderowlNotFoundError);
});

test('webhooks: a test send reaches a local receiver and verifies; deliveries; retry; update; delete', async () => {
  const secret = (await client.projects.rotateWebhookSecret(project.id)).webhookSecret;
  assert.equal((await client.webhooks.get(endpoint.id)).url, `${receiver.url}/hook`);
  const endpoints = [];
  for await (const listed of client.webhooks.list()) endpoints.push(listed.id);
  assert.ok(endpoints.includes(endpoint.id));

  const sent = await client.webhooks.test(endpoint.id, {projectId: project.id});
  assert.equal(sent.status, 'pending');
  const [request] = await receiver.until((all) => all.some((r) => r.headers['webhook-id'] === sent.eventId))
    .then((all) => all.filter((r) => r.headers['webhook-id'] === sent.eventId));

  const event = await verifyWebhook({payload: request.body, headers: request.headers, secret});
  assert.equal(event.type, 'webhook.test');
  assert.equal(event.id, sent.eventId);
  assert.equal(event.data.object.id, endpoint.id);
  assert.equal((await client.webhooks.unwrap({payload: request.body.toString(), headers: request.headers, secret})).id, event.id);
  await assert.rejects(
    verifyWebhook({payload: request.body.toString().replace('webhook.test', 'render.failed'), headers: request.headers, secret}),
    RenderowlWebhookVerificationError,
  );

  const delivered = await eventually(() => client.webhooks.deliveries.get(endpoint.id, sent.id), (d) => d.status === 'succeeded');
  assert.equal(delivered.attempts.length, 1);
  const retried = await client.webhooks.deliveries.retry(endpoint.id, sent.id);
  assert.equal(retried.status, 'pending');
  await receiver.until((all) => all.filter((r) => r.headers['webhook-id'] === sent.eventId).length === 2);
  const again = await eventually(() => client.webhooks.deliveries.get(endpoint.id, sent.id), (d) => d.attempts.length === 2);
  assert.equal(again.attempts[1].manual, true);
  const deliveries = await client.webhooks.deliveries.list(endpoint.id, {eventType: 'webhook.test'});
  assert.deepEqual(deliveries.data.map((d) => d.id), [sent.id]);

  const other = await client.webhooks.create({url: `${receiver.url}/other`, enabled: false});
  assert.equal((await client.webhooks.update(other.id, {description: 'changed'})).description, 'changed');
  await client.webhooks.delete(other.id);
  await assert.rejects(client.webhooks.get(other.id), RenderowlNotFoundError);
});

test('webhooks: a real render.completed delivery verifies with the project secret and is typed', async () => {
  const secret = (await client.projects.rotateWebhookSecret(project.id)).webhookSecret;
  const job = await client.renders.submit(project.id, {templateId: template.id, inputProps: {title: 'Hook'}, output: OUTPUT});
  await client.renders.wait(job.id);
  const requests = await receiver.until((all) =>
    all.some((r) => r.headers['x-renderowl-event'] === 'render.completed' && r.body.includes(job.id)),
  );
  const request = requests.find((r) => r.headers['x-renderowl-event'] === 'render.completed' && r.body.includes(job.id));

  assert.equal(request.headers['x-renderowl-project'], project.id);
  const event = await verifyWebhook({payload: request.body, headers: request.headers, secret});
  assert.equal(event.type, 'render.completed');
  assert.equal(event.data.object.id, job.id);
  assert.equal(event.data.object.status, 'completed');
});
