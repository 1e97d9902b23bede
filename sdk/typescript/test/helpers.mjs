// What the tests share: the live platform's address and key, a small template, and local HTTP servers.
import {once} from 'node:events';
import {readFileSync} from 'node:fs';
import {createServer} from 'node:http';

import {RenderowlClient} from '@renderowl/sdk';

/** The live platform the test run started (scripts/devstack.py stack). Missing is a failure, never a skip. */
export function platform() {
  const baseUrl = process.env.RENDEROWL_BASE_URL;
  const apiKey = process.env.RENDEROWL_API_KEY;
  if (!baseUrl || !apiKey) {
    throw new Error(
      'RENDEROWL_BASE_URL and RENDEROWL_API_KEY must point at a running platform: run the tests through ' +
        "`scripts/devstack.py stack sh -c 'cd sdk/typescript && npm test'` from the repository root.",
    );
  }
  return {baseUrl, apiKey};
}

/** A client that checks every response strictly against openapi.json, so drift fails the tests. */
export function liveClient(options = {}) {
  return new RenderowlClient({...platform(), responseValidation: 'strict', ...options});
}

/** examples/templates/promo-card.json shrunk to 320x180 and two seconds, so renders take a moment. */
export function smallTemplate() {
  const template = JSON.parse(readFileSync(new URL('../../../examples/templates/promo-card.json', import.meta.url), 'utf8'));
  const quarter = (value) => (typeof value === 'number' ? Math.round(value / 4) : value);
  const layers = template.scene.layers.map((layer) => ({
    ...layer, y: quarter(layer.y), width: quarter(layer.width), height: quarter(layer.height), size: quarter(layer.size),
    ...(layer.box ? {box: {...layer.box, padding: quarter(layer.box.padding)}} : {}),
  }));
  // Two seconds at 15 fps: the template's fades need that long.
  return JSON.stringify({...template, width: 320, height: 180, fps: 15, durationInFrames: 30, scene: {...template.scene, layers}});
}

export function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A local HTTP server whose handler decides each answer; records every request with its raw body. */
export async function localServer(handler) {
  const requests = [];
  const waiters = [];
  const server = createServer(async (request, response) => {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const record = {method: request.method, url: request.url, headers: request.headers, body: Buffer.concat(chunks)};
    requests.push(record);
    for (const waiter of waiters.splice(0)) waiter();
    await handler(record, response, requests.length);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    /** Resolves once `predicate(requests)` holds, or rejects after `timeout` ms. */
    async until(predicate, timeout = 20_000) {
      const deadline = Date.now() + timeout;
      while (!predicate(requests)) {
        if (Date.now() > deadline) throw new Error(`The server did not get the expected requests within ${timeout} ms.`);
        await new Promise((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
      return requests;
    },
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

export function json(response, status, body, headers = {}) {
  response.writeHead(status, {'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers});
  response.end(JSON.stringify(body));
}

export function problem(status, code, extra = {}) {
  return {
    type: `urn:renderowl:problem:${code}`, title: 'x', status, detail: `${code} happened`, code, errors: [],
    requestId: `req_${code}`, ...extra,
  };
}

/** Polls `read` until `done(value)` holds. */
export async function eventually(read, done, {timeout = 30_000, interval = 300} = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Still not there after ${timeout} ms: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
