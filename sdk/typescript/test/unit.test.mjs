// Pure logic: request validation, webhook verification, the SSE parser. No platform and no network.
import assert from 'node:assert/strict';
import {createHmac} from 'node:crypto';
import {test} from 'node:test';

import {
  RenderowlClient,
  RenderowlValidationError,
  RenderowlWebhookVerificationError,
  verifyWebhook,
} from '@renderowl/sdk';
import {WebhookEventSchema, zProjectCreateRequest, zWebhookEvent} from '@renderowl/sdk/schemas';

const neverFetch = () => assert.fail('an invalid request must not be sent');
const offline = new RenderowlClient({apiKey: 'rwl_test_x', baseUrl: 'http://127.0.0.1:9', fetch: neverFetch});

test('an invalid body is refused before sending, naming the field', async () => {
  await assert.rejects(offline.projects.create({name: 'x', slug: 'Not A Slug'}), (error) => {
    assert.ok(error instanceof RenderowlValidationError);
    assert.equal(error.status, null);
    assert.deepEqual(error.errors.map((e) => e.field), ['slug']);
    return true;
  });
});

test('an unknown field is refused before sending, at any depth', async () => {
  await assert.rejects(offline.projects.create({name: 'x', colour: 'red'}), (error) => {
    assert.ok(error instanceof RenderowlValidationError);
    assert.deepEqual(error.errors, [{field: 'colour', message: 'Unknown field.'}]);
    return true;
  });
  await assert.rejects(offline.webhooks.create({url: 'https://example.com', events: ['render.exploded']}), (error) => {
    assert.deepEqual(error.errors.map((e) => e.field), ['events[0]']);
    return true;
  });
});

test('a render output the API would refuse is refused before sending, naming the setting', async () => {
  const cases = [[{format: 'avi'}, 'output.format'], [{width: 0}, 'output.width'], [{fps: 0}, 'output.fps'],
    [{quality: 'best'}, 'output.quality'], [{colour: 'red'}, 'output.colour']];
  for (const [output, field] of cases) {
    await assert.rejects(offline.renders.submit('prj_x', {templateId: 'ast_x', output}), (error) => {
      assert.ok(error instanceof RenderowlValidationError);
      assert.equal(error.errors[0].field, field, JSON.stringify(output));
      return true;
    });
  }
});

test('an asset size is a number of bytes: a string, a bigint or 0 is refused before sending, as a number', async () => {
  const asset = {type: 'video', name: 'clip.mp4', contentType: 'video/mp4'};
  for (const size of ['10', 10n, 0, 1.5]) {
    await assert.rejects(offline.assets.create('prj_1', {...asset, size}), (error) => {
      assert.ok(error instanceof RenderowlValidationError, String(error));
      assert.deepEqual(error.errors.map((e) => e.field), ['size']);
      assert.doesNotMatch(error.detail, /expected bigint/i);
      return true;
    });
  }
});

test('free-form props that JSON cannot carry (NaN, Infinity, a BigInt, a cycle) are refused, not sent altered', async () => {
  const cyclic = {};
  cyclic.self = cyclic;
  for (const [value, field] of [[NaN, 'inputProps.x'], [Infinity, 'inputProps.x'], [10n, 'inputProps.x'], [cyclic, 'inputProps.x.self']]) {
    await assert.rejects(offline.renders.submit('prj_1', {templateId: 'ast_1', inputProps: {x: value}}), (error) => {
      assert.ok(error instanceof RenderowlValidationError, String(error));
      assert.equal(error.errors[0].field, field);
      return true;
    });
  }
});

test('a list query is validated too, and an id cannot change the path', async () => {
  await assert.rejects(async () => offline.projects.list({limit: 500}), (error) => error.errors[0].field === 'limit');
  await assert.rejects(offline.projects.get('../webhooks'), (error) => {
    assert.ok(error instanceof RenderowlValidationError);
    assert.equal(error.errors[0].field, 'projectId');
    return true;
  });
});

test('the client needs a key and an http(s) base URL', () => {
  assert.throws(() => new RenderowlClient({baseUrl: 'http://x'}), /apiKey/);
  assert.throws(() => new RenderowlClient({apiKey: 'k', baseUrl: 'ftp://x'}), /baseUrl/);
});

test('the schemas are exported for consumers', () => {
  assert.equal(zProjectCreateRequest.safeParse({name: 'Summer'}).success, true);
  assert.equal(zProjectCreateRequest.safeParse({name: ''}).success, false);
  assert.equal(WebhookEventSchema, zWebhookEvent);
});

// The signed request of docs/API_CONTRACT.md ("Receiving webhooks"), made during a secret rotation.
const DOC_SECRET = '3a1a6814e5271fd8ad272929fe74c76fb27cf78af27b0a07b0338b40c1c7d3d7';
const DOC_BODY =
  '{"id":"evt_Pkm4HU8Qi3LWPH766Oogq9vi","type":"webhook.test","createdAt":"2026-11-27T10:47:55.032379Z","organizationId":"2fee5f6d-160c-48ba-9c9d-d7d2ae40f119","projectId":"prj_YQUxBMdprjP7LvpT62fZbkqu","data":{"object":{"id":"whe_snY1gxfi1o0C6KNb5PST1DIS","url":"http://127.0.0.1:8773/hook","description":"Render notifications","events":["asset.ready","render.*","render.completed"],"projectIds":["prj_YQUxBMdprjP7LvpT62fZbkqu"],"enabled":true,"status":"active","consecutiveFailures":0,"disabledReason":"","createdAt":"2026-11-27T10:47:46.846581Z","updatedAt":"2026-11-27T10:47:46.846588Z"}}}';
const DOC_HEADERS = {
  'webhook-id': 'evt_Pkm4HU8Qi3LWPH766Oogq9vi',
  'webhook-timestamp': '1795776475',
  'webhook-signature': 'v1,1jOQr4Mgpw0Lu3BFFRwBTfptRa9B8osbcwOt5ZKkQsM= v1,8gwEfybeCdQY7dmST1aVMT3+etMJjbcdiP3gxkeksN8=',
};
const DOC_NOW = 1795776475 * 1000;

test('WebhookEventSchema accepts the documented delivery body and refuses one without its object', () => {
  const body = JSON.parse(DOC_BODY);
  assert.equal(WebhookEventSchema.safeParse(body).success, true);
  assert.equal(WebhookEventSchema.safeParse({...body, data: {}}).success, false);
  assert.equal(WebhookEventSchema.safeParse({...body, type: 'render.exploded'}).success, false);
});

test('the documented delivery verifies with the hex secret and with its whsec_ form', async () => {
  const event = await verifyWebhook({payload: DOC_BODY, headers: DOC_HEADERS, secret: DOC_SECRET, now: DOC_NOW});
  assert.equal(event.type, 'webhook.test');
  assert.equal(event.data.object.id, 'whe_snY1gxfi1o0C6KNb5PST1DIS');
  const whsec = `whsec_${Buffer.from(DOC_SECRET, 'hex').toString('base64')}`;
  const headers = new Headers(DOC_HEADERS);
  assert.equal((await verifyWebhook({payload: Buffer.from(DOC_BODY), headers, secret: whsec, now: DOC_NOW})).id, event.id);
});

test('the X-Renderowl-* names work as well as the Standard Webhooks ones, in any case', async () => {
  const headers = {
    'X-Renderowl-Id': DOC_HEADERS['webhook-id'],
    'X-Renderowl-Timestamp': DOC_HEADERS['webhook-timestamp'],
    'X-Renderowl-Signature': DOC_HEADERS['webhook-signature'],
  };
  assert.equal((await verifyWebhook({payload: DOC_BODY, headers, secret: DOC_SECRET, now: DOC_NOW})).type, 'webhook.test');
});

async function refusal(options, code) {
  await assert.rejects(verifyWebhook({payload: DOC_BODY, headers: DOC_HEADERS, secret: DOC_SECRET, now: DOC_NOW, ...options}), (error) => {
    assert.ok(error instanceof RenderowlWebhookVerificationError, String(error));
    assert.equal(error.code, code);
    return true;
  });
}

test('a tampered body, another secret, missing headers or a timestamp over 5 minutes off are refused', async () => {
  await refusal({payload: DOC_BODY.replace('webhook.test', 'render.failed')}, 'invalid_signature');
  await refusal({secret: 'ab'.repeat(32)}, 'invalid_signature');
  await refusal({headers: {'webhook-id': 'evt_x'}}, 'missing_headers');
  await refusal({now: DOC_NOW + 301_000}, 'timestamp_out_of_tolerance');
  await refusal({now: DOC_NOW - 301_000}, 'timestamp_out_of_tolerance');
  await refusal({secret: 'not a secret'}, 'invalid_secret');
  // The README's receiver looks the secret up by X-Renderowl-Project: an unknown project gives no secret.
  await refusal({secret: undefined}, 'invalid_secret');
  await refusal({secret: ''}, 'invalid_secret');
  // Within the window on either side is accepted.
  assert.ok(await verifyWebhook({payload: DOC_BODY, headers: DOC_HEADERS, secret: DOC_SECRET, now: DOC_NOW + 299_000}));
});

test('a signature over a non-JSON body is verified, then refused as not an event', async () => {
  const body = 'not json';
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', Buffer.from(DOC_SECRET, 'hex')).update(`evt_1.${timestamp}.${body}`).digest('base64');
  const headers = {'webhook-id': 'evt_1', 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}`};
  await assert.rejects(verifyWebhook({payload: body, headers, secret: DOC_SECRET}), (error) => error.code === 'invalid_payload');
});
