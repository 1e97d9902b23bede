// The package bundled for browsers runs where only Web APIs exist: no process, Buffer, require or node: modules.
import assert from 'node:assert/strict';
import {after, test} from 'node:test';
import vm from 'node:vm';
import {fileURLToPath} from 'node:url';

import {build} from 'esbuild';

import {json, localServer} from './helpers.mjs';

const server = await localServer((request, response) =>
  json(response, 200, {data: [], hasMore: false, nextCursor: null}, {'Access-Control-Allow-Origin': '*'}),
);
after(() => server.close());

const {outputFiles} = await build({
  entryPoints: [fileURLToPath(new URL('../dist/esm/index.js', import.meta.url))],
  bundle: true, platform: 'browser', format: 'iife', globalName: 'Renderowl', write: false, logLevel: 'silent',
});
const bundle = outputFiles[0].text;

/** A realm with the Web platform's globals and nothing of Node's. */
function browserRealm() {
  const web = {
    fetch, Headers, Request, Response, URL, URLSearchParams, AbortController, AbortSignal, TextEncoder, TextDecoder,
    ReadableStream, Blob, crypto: globalThis.crypto, atob, btoa, setTimeout, clearTimeout, console, DOMException, Event,
    EventTarget,
  };
  const realm = vm.createContext({...web});
  realm.globalThis = realm;
  realm.window = realm;
  vm.runInContext(bundle, realm);
  return realm;
}

test('the browser bundle builds with no Node built-in pulled in', () => {
  assert.doesNotMatch(bundle, /\brequire\(\s*["']node:/);
  assert.doesNotMatch(bundle, /\bBuffer\./);
});

test('in a Web-only realm the client lists, validates and verifies webhooks', async () => {
  const realm = browserRealm();
  assert.equal(vm.runInContext('typeof process + typeof Buffer + typeof require', realm), 'undefinedundefinedundefined');
  realm.baseUrl = server.url;
  const result = await vm.runInContext(`(async () => {
    const {RenderowlClient, verifyWebhook, RenderowlValidationError} = Renderowl;
    const client = new RenderowlClient({apiKey: 'rwl_test_x', baseUrl});
    const page = await client.projects.list({limit: 5});
    let refused = null;
    try { await client.projects.create({name: 'x', colour: 'red'}); } catch (error) { refused = error instanceof RenderowlValidationError && error.errors[0].field; }
    const secret = 'ab'.repeat(32);
    const key = await crypto.subtle.importKey('raw', new Uint8Array(32).fill(0xab), {name: 'HMAC', hash: 'SHA-256'}, false, ['sign']);
    const body = JSON.stringify({id: 'evt_1', type: 'webhook.test', createdAt: '2026-12-06T09:00:00Z', organizationId: 'o', projectId: 'prj_1', data: {object: {}}});
    const timestamp = String(Math.floor(Date.now() / 1000));
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode('evt_1.' + timestamp + '.' + body)));
    const signature = 'v1,' + btoa(String.fromCharCode(...mac));
    const event = await verifyWebhook({payload: body, headers: new Headers({'webhook-id': 'evt_1', 'webhook-timestamp': timestamp, 'webhook-signature': signature}), secret});
    let pathRefused = null;
    try { await client.assets.upload('prj_1', {file: 'clip.mp4'}); } catch (error) { pathRefused = error.detail; }
    return {hasMore: page.hasMore, refused, type: event.type, pathRefused};
  })()`, realm);

  assert.deepEqual({...result}, {
    hasMore: false, refused: 'colour', type: 'webhook.test',
    pathRefused: 'file: A file path works only in Node; in a browser pass a File or Blob.',
  });
  assert.equal(server.requests.at(-1).url, '/v1/projects?limit=5');
});
