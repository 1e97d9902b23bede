// Retries, timeouts and error mapping against a local server that fails on purpose.
import assert from 'node:assert/strict';
import {after, test} from 'node:test';

import {
  RenderowlClient,
  RenderowlConflictError,
  RenderowlConnectionError,
  RenderowlError,
  RenderowlRateLimitError,
  RenderowlServerError,
  RenderowlTimeoutError,
  RenderowlValidationError,
} from '@renderowl/sdk';

import {json, localServer, problem} from './helpers.mjs';

const PROJECT = {
  id: 'prj_KyO9WjtWlzzvJ9AwFb40DX5U', name: 'Summer', slug: 'summer', description: '', metadata: {},
  createdAt: '2026-11-27T10:33:27.913070Z', updatedAt: '2026-11-27T10:33:27.913085Z', deletedAt: null,
  webhookSecret: 'ab'.repeat(32),
};

let answer = () => {};
// Each client's requests carry the number of the script in force when it was made. A request that an earlier
// test aborted can still reach the server after the next script began (a poll cut by wait's timeout): it is
// answered apart and is not counted, so it cannot take the next test's first reply.
let script = 0;
const server = await localServer((request, response) => {
  if (request.headers['x-test-script'] !== String(script)) {
    server.requests.splice(server.requests.indexOf(request), 1);
    return json(response, 410, problem(410, 'late_request'));
  }
  return answer(request, response, server.requests.indexOf(request) + 1);
});
after(() => server.close());

function client(options = {}) {
  const tag = String(script);
  const tagged = (url, init = {}) => fetch(url, {...init, headers: {...Object.fromEntries(new Headers(init.headers)), 'x-test-script': tag}});
  return new RenderowlClient({apiKey: 'rwl_test_x', baseUrl: server.url, initialRetryDelay: 10, fetch: tagged, ...options});
}

function scripted(...replies) {
  script += 1;
  server.requests.length = 0;
  answer = (request, response, count) => replies[Math.min(count, replies.length) - 1](request, response);
}

test('5xx then success: retried with the same Idempotency-Key, so a create happens once', async () => {
  scripted(
    (_, res) => json(res, 503, problem(503, 'unavailable')),
    (_, res) => json(res, 500, problem(500, 'internal_error')),
    (_, res) => json(res, 201, PROJECT),
  );

  const project = await client().projects.create({name: 'Summer'});

  assert.equal(project.id, PROJECT.id);
  const keys = server.requests.map((r) => r.headers['idempotency-key']);
  assert.equal(keys.length, 3);
  assert.equal(new Set(keys).size, 1);
  assert.match(keys[0], /^[0-9a-f-]{36}$/);
  assert.deepEqual(server.requests.map((r) => JSON.parse(r.body)), [{name: 'Summer'}, {name: 'Summer'}, {name: 'Summer'}]);
  assert.equal(server.requests[0].headers.authorization, 'Bearer rwl_test_x');
});

test('a given Idempotency-Key is the one sent', async () => {
  scripted((_, res) => json(res, 201, PROJECT));
  await client().projects.create({name: 'Summer'}, {idempotencyKey: 'order-42'});
  assert.equal(server.requests[0].headers['idempotency-key'], 'order-42');
});

test('at most maxRetries retries, then the typed error with the request id', async () => {
  scripted((_, res) => json(res, 502, problem(502, 'bad_gateway')));

  await assert.rejects(client({maxRetries: 1}).projects.get('prj_1'), (error) => {
    assert.ok(error instanceof RenderowlServerError);
    assert.deepEqual([error.status, error.code, error.requestId], [502, 'bad_gateway', 'req_bad_gateway']);
    return true;
  });
  assert.equal(server.requests.length, 2);
});

test('429 waits as Retry-After says', async () => {
  scripted(
    (_, res) => json(res, 429, problem(429, 'rate_limited'), {'Retry-After': '1'}),
    (_, res) => json(res, 200, PROJECT),
  );
  const started = Date.now();

  await client().projects.get('prj_1');

  assert.ok(Date.now() - started >= 950, `retried after ${Date.now() - started} ms`);
  assert.equal(server.requests.length, 2);
});

test('a 429 that outlasts the retries is a RenderowlRateLimitError with retryAfter', async () => {
  scripted((_, res) => json(res, 429, problem(429, 'rate_limited'), {'Retry-After': '0'}));
  await assert.rejects(client().projects.get('prj_1'), (error) => {
    assert.ok(error instanceof RenderowlRateLimitError);
    assert.equal(error.retryAfter, 0);
    return true;
  });
  assert.equal(server.requests.length, 3);
});

test('408 and a concurrent idempotent duplicate (409 in progress) are retried; other 409s are not', async () => {
  scripted(
    (_, res) => json(res, 408, problem(408, 'request_timeout')),
    (_, res) => json(res, 409, problem(409, 'idempotency_request_in_progress')),
    (_, res) => json(res, 201, PROJECT),
  );
  await client().projects.create({name: 'Summer'});
  assert.equal(server.requests.length, 3);

  scripted((_, res) => json(res, 409, problem(409, 'slug_taken', {errors: [{field: 'slug', message: 'taken'}]})));
  await assert.rejects(client().projects.create({name: 'Summer', slug: 'summer'}), (error) => {
    assert.ok(error instanceof RenderowlConflictError);
    assert.deepEqual(error.errors, [{field: 'slug', message: 'taken'}]);
    return true;
  });
  assert.equal(server.requests.length, 1);
});

test('400 and 422 are validation errors and are not retried', async () => {
  scripted((_, res) => json(res, 422, problem(422, 'idempotency_key_reused')));
  await assert.rejects(client().projects.create({name: 'Summer'}), RenderowlValidationError);
  assert.equal(server.requests.length, 1);
});

test('a dropped connection is retried, then a RenderowlConnectionError', async () => {
  scripted((request, res) => res.socket.destroy(), (_, res) => json(res, 200, PROJECT));
  assert.equal((await client().projects.get('prj_1')).id, PROJECT.id);

  scripted((request, res) => res.socket.destroy());
  await assert.rejects(client().projects.get('prj_1'), RenderowlConnectionError);
  assert.equal(server.requests.length, 3);
});

test('an attempt over the timeout is aborted and retried, then a RenderowlTimeoutError', async () => {
  scripted((_, res) => setTimeout(() => !res.destroyed && json(res, 200, PROJECT), 1000));
  await assert.rejects(client({timeout: 100, maxRetries: 1}).projects.get('prj_1'), RenderowlTimeoutError);
  assert.equal(server.requests.length, 2);
});

test("the caller's AbortSignal stops a request and its retries", async () => {
  scripted((_, res) => json(res, 503, problem(503, 'unavailable'), {'Retry-After': '5'}));
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('stop')), 200);
  await assert.rejects(client().projects.get('prj_1', {signal: controller.signal}), /stop/);
  assert.equal(server.requests.length, 1);
});

test('responses: a field from a newer server is kept in lenient mode and refused in strict mode', async () => {
  const newer = {...PROJECT, webhookSecret: undefined, region: 'eu'};
  scripted((_, res) => json(res, 200, newer));
  const mismatches = [];

  const project = await client({onResponseMismatch: (e) => mismatches.push(e)}).projects.get('prj_1');

  assert.equal(project.region, 'eu');
  assert.deepEqual(mismatches, []);
  await assert.rejects(client({responseValidation: 'strict'}).projects.get('prj_1'), (error) => {
    assert.ok(error instanceof RenderowlValidationError);
    assert.deepEqual(error.errors, [{field: 'region', message: 'Not declared in openapi.json.'}]);
    return true;
  });
});

test('responses: a wrong type is reported in lenient mode and the data still returned', async () => {
  scripted((_, res) => json(res, 200, {...PROJECT, status: undefined, createdAt: 12}));
  const mismatches = [];
  const project = await client({onResponseMismatch: (e) => mismatches.push(e)}).projects.get('prj_1');
  assert.equal(project.createdAt, 12);
  assert.deepEqual(mismatches.map((e) => e.errors[0].field), ['createdAt']);
});

test('pages follow nextCursor with the same filters', async () => {
  const pages = {
    undefined: {data: [PROJECT, {...PROJECT, id: 'prj_2'}], hasMore: true, nextCursor: 'c1'},
    c1: {data: [{...PROJECT, id: 'prj_3'}], hasMore: false, nextCursor: null},
  };
  answer = (request, res) => {
    const cursor = new URL(request.url, server.url).searchParams.get('cursor') ?? 'undefined';
    json(res, 200, pages[cursor]);
  };
  server.requests.length = 0;
  const ids = [];
  for await (const project of client().projects.list({limit: 2, sort: 'name'})) ids.push(project.id);
  assert.deepEqual(ids, [PROJECT.id, 'prj_2', 'prj_3']);
  assert.deepEqual(server.requests.map((r) => r.url), ['/v1/projects?limit=2&sort=name', '/v1/projects?limit=2&sort=name&cursor=c1']);
});

test('a page whose next cursor is its own is an invalid_response error, not an endless walk', async () => {
  answer = (request, res) => json(res, 200, {data: [PROJECT], hasMore: true, nextCursor: 'again'});
  const ids = [];
  await assert.rejects(
    (async () => { for await (const project of client().projects.list({cursor: 'again'})) ids.push(project.id); })(),
    (error) => error instanceof RenderowlError && error.code === 'invalid_response',
  );
  assert.deepEqual(ids, [PROJECT.id]);
});

function sse(response, events) {
  response.writeHead(200, {'Content-Type': 'text/event-stream'});
  response.end(`retry: 2000\n\n${events.map(([id, job]) => `id: ${id}\ndata: ${JSON.stringify(job)}\n\n`).join(': keepalive\n\n')}`);
}

const JOB = {id: 'rnd_1', status: 'queued', stage: 'queued', progress: 0};

test('a render stream closed before the end is resumed with Last-Event-ID', async () => {
  scripted(
    (_, res) => sse(res, [['1-0', JOB], ['2-0', {...JOB, status: 'rendering', progress: 0.5}]]),
    (_, res) => sse(res, [['3-0', {...JOB, status: 'completed', progress: 1}]]),
  );
  const states = [];
  for await (const job of client().renders.stream('rnd_1')) states.push([job.status, job.progress]);

  assert.deepEqual(states, [['queued', 0], ['rendering', 0.5], ['completed', 1]]);
  assert.deepEqual(server.requests.map((r) => [r.url, r.headers['last-event-id'], r.headers.accept]), [
    ['/v1/renders/rnd_1/events', undefined, 'text/event-stream'],
    ['/v1/renders/rnd_1/events', '2-0', 'text/event-stream'],
  ]);
});

test('a stream answered 204 (the final state was already sent) ends at once', async () => {
  scripted((_, res) => {
    res.writeHead(204);
    res.end();
  });
  const states = [];
  for await (const job of client().renders.stream('rnd_1', {lastEventId: '9-0'})) states.push(job);
  assert.deepEqual(states, []);
  assert.equal(server.requests[0].headers['last-event-id'], '9-0');
});

test('wait polls the render when the event stream is unavailable (503)', async () => {
  answer = (request, res) => {
    if (request.url.endsWith('/events')) return json(res, 503, problem(503, 'events_unavailable'), {'Retry-After': '0'});
    const polls = server.requests.filter((r) => !r.url.endsWith('/events')).length;
    return json(res, 200, {...JOB, status: polls < 2 ? 'rendering' : 'completed'});
  };
  server.requests.length = 0;
  const seen = [];

  const done = await client({maxRetries: 0}).renders.wait('rnd_1', {pollInterval: 10, onProgress: (job) => seen.push(job.status)});

  assert.equal(done.status, 'completed');
  assert.deepEqual(seen, ['rendering', 'completed']);
});

test('wait gives up after its timeout with a RenderowlTimeoutError', async () => {
  answer = (request, res) => json(res, 200, {...JOB, status: 'rendering'}); // not a stream: polled
  await assert.rejects(
    client({maxRetries: 0}).renders.wait('rnd_1', {pollInterval: 20, timeout: 200}),
    (error) => error instanceof RenderowlTimeoutError && error.code === 'wait_timeout',
  );
});

test('Retry-After in fractional seconds is waited out, and one past 60 s is not retried but raised', async () => {
  scripted(
    (_, res) => json(res, 503, problem(503, 'unavailable'), {'Retry-After': '0.4'}),
    (_, res) => json(res, 200, PROJECT),
  );
  const started = Date.now();
  await client().projects.get('prj_1');
  assert.ok(Date.now() - started >= 380, `retried after ${Date.now() - started} ms`);

  scripted((_, res) => json(res, 429, problem(429, 'rate_limited'), {'Retry-After': '3600'}));
  await assert.rejects(client().projects.get('prj_1'), (error) => error instanceof RenderowlRateLimitError && error.retryAfter === 3600);
  assert.equal(server.requests.length, 1);
});

test('an HTML error page from a proxy is a typed error with a short detail', async () => {
  const page = `<html><head><title>502 Bad Gateway</title></head><body>${'<p>padding</p>'.repeat(200_000)}</body></html>`;
  scripted((_, res) => {
    res.writeHead(502, {'Content-Type': 'text/html'});
    res.end(page);
  });
  await assert.rejects(client({maxRetries: 0}).projects.get('prj_1'), (error) => {
    assert.ok(error instanceof RenderowlServerError);
    assert.deepEqual([error.status, error.code, error.requestId], [502, 'http_502', null]);
    assert.doesNotMatch(error.detail, /<html|padding/);
    assert.match(error.detail, /HTML/);
    assert.ok(error.message.length < 300, error.message);
    return true;
  });

  scripted((_, res) => {
    res.writeHead(414, {'Content-Type': 'text/plain'});
    res.end('URI Too Long\n\nsecond line');
  });
  await assert.rejects(client().projects.get('prj_1'), (error) => error.detail === 'HTTP 414: URI Too Long');

  scripted((_, res) => {
    res.writeHead(403, {'Content-Type': 'application/xml'});
    res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code></Error>');
  });
  await assert.rejects(client().projects.get('prj_1'), (error) =>
    error.detail === 'HTTP 403: <?xml version="1.0" encoding="UTF-8"?> <Error><Code>AccessDenied</Code></Error>');
});

test('a success that is not a JSON object (a captive portal, a cut body) is an error, not a result', async () => {
  for (const [type, body] of [['text/html', '<html>Sign in to the Wi-Fi</html>'], ['application/json', '{"id": "prj_'], ['application/json', '[1]']]) {
    scripted((_, res) => {
      res.writeHead(200, {'Content-Type': type, 'X-Request-Id': 'req_portal'});
      res.end(body);
    });
    await assert.rejects(client().projects.get('prj_1'), (error) => {
      assert.ok(error instanceof RenderowlError, String(error));
      assert.deepEqual([error.status, error.code, error.requestId], [200, 'invalid_response', 'req_portal']);
      return true;
    });
  }
});

test('a new enum value from a newer server is returned in lenient mode, only reported', async () => {
  scripted((_, res) => json(res, 200, {...JOB, status: 'paused', stage: 'thawing', projectId: 'prj_1'}));
  const mismatches = [];
  const job = await client({onResponseMismatch: (e) => mismatches.push(e)}).renders.get('rnd_1');
  assert.deepEqual([job.status, job.stage], ['paused', 'thawing']);
  assert.ok(mismatches.some((e) => e.errors.some((entry) => entry.field === 'status')));
});

test('a stream reset in the middle, or sending an event that is not JSON, is resumed with Last-Event-ID', async () => {
  const rendering = {...JOB, status: 'rendering', progress: 0.5};
  scripted(
    (_, res) => {
      res.writeHead(200, {'Content-Type': 'text/event-stream'});
      res.write(`id: 1-0\ndata: ${JSON.stringify(rendering)}\n\n`);
      setTimeout(() => res.socket.destroy(), 20);
    },
    (_, res) => {
      res.writeHead(200, {'Content-Type': 'text/event-stream'});
      res.end('id: 2-0\ndata: {"id": "rnd_1", "sta\n\n');
    },
    (_, res) => sse(res, [['3-0', {...JOB, status: 'completed', progress: 1}]]),
  );
  const states = [];
  for await (const job of client().renders.stream('rnd_1')) states.push(job.status);

  assert.deepEqual(states, ['rendering', 'completed']);
  // The cut event 2-0 was never read: the stream resumes after 1-0, so the server sends it again.
  assert.deepEqual(server.requests.map((r) => r.headers['last-event-id']), [undefined, '1-0', '1-0']);
});

test('a stream that keeps closing without news ends, after maxRetries reconnects, in a RenderowlConnectionError', async () => {
  scripted((_, res) => {
    res.writeHead(200, {'Content-Type': 'text/event-stream'});
    res.end(': keepalive\n\n');
  });
  await assert.rejects(
    (async () => {
      for await (const job of client({maxRetries: 1}).renders.stream('rnd_1')) assert.fail(`no event expected, got ${job.status}`);
    })(),
    (error) => error instanceof RenderowlConnectionError && error.code === 'stream_interrupted',
  );
  assert.equal(server.requests.length, 2);
});
