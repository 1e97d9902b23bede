import type {RequestOptions} from '../core.js';
import type {
  Delivery,
  DeliveryDetail,
  PatchedWebhookEndpointUpdateRequest,
  WebhookEndpoint,
  WebhookEndpointCreateRequest,
  WebhookEvent,
  WebhooksDeliveriesListData,
  WebhooksListData,
  WebhookTestRequest,
} from '../generated/types.gen.js';
import {
  zWebhooksCreateBody,
  zWebhooksCreateResponse,
  zWebhooksDeliveriesListQuery,
  zWebhooksDeliveriesListResponse,
  zWebhooksDeliveriesRetrieveResponse,
  zWebhooksDeliveriesRetryCreateResponse,
  zWebhooksListQuery,
  zWebhooksListResponse,
  zWebhooksPartialUpdateBody,
  zWebhooksPartialUpdateResponse,
  zWebhooksRetrieveResponse,
  zWebhooksTestCreateBody,
  zWebhooksTestCreateResponse,
} from '../generated/zod.gen.js';
import type {PagePromise} from '../pagination.js';
import {verifyWebhook, type VerifyWebhookOptions} from '../webhooks.js';
import {Resource} from './base.js';

export type WebhookListParams = NonNullable<WebhooksListData['query']>;
export type DeliveryListParams = NonNullable<WebhooksDeliveriesListData['query']>;

/** An endpoint's deliveries (one event on its way to it), with every attempt. */
export class WebhookDeliveries extends Resource {
  list(webhookId: string, params?: DeliveryListParams, options?: RequestOptions): PagePromise<Delivery> {
    return this.paginate(
      () => `/v1/webhooks/${this.id('webhookId', webhookId)}/deliveries`, params, zWebhooksDeliveriesListQuery,
      zWebhooksDeliveriesListResponse, 'delivery list', options,
    );
  }

  async get(webhookId: string, deliveryId: string, options?: RequestOptions): Promise<DeliveryDetail> {
    return this.http.request({
      method: 'GET',
      path: `/v1/webhooks/${this.id('webhookId', webhookId)}/deliveries/${this.id('deliveryId', deliveryId)}`,
      responseSchema: zWebhooksDeliveriesRetrieveResponse, what: 'delivery', options,
    });
  }

  /** Queues one more attempt of the delivery (same event id and body, fresh signature). */
  async retry(webhookId: string, deliveryId: string, options?: RequestOptions): Promise<DeliveryDetail> {
    return this.http.request({
      method: 'POST',
      path: `/v1/webhooks/${this.id('webhookId', webhookId)}/deliveries/${this.id('deliveryId', deliveryId)}/retry`,
      responseSchema: zWebhooksDeliveriesRetryCreateResponse, what: 'delivery', options,
    });
  }
}

/** Webhook endpoints: where the organization's events are POSTed, signed with each project's secret. */
export class Webhooks extends Resource {
  readonly deliveries: WebhookDeliveries;

  constructor(...args: ConstructorParameters<typeof Resource>) {
    super(...args);
    this.deliveries = new WebhookDeliveries(...args);
  }

  async create(body: WebhookEndpointCreateRequest, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.http.request({
      method: 'POST', path: '/v1/webhooks', body, bodySchema: zWebhooksCreateBody,
      responseSchema: zWebhooksCreateResponse, what: 'webhook endpoint', options,
    });
  }

  async get(webhookId: string, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.http.request({
      method: 'GET', path: `/v1/webhooks/${this.id('webhookId', webhookId)}`,
      responseSchema: zWebhooksRetrieveResponse, what: 'webhook endpoint', options,
    });
  }

  list(params?: WebhookListParams, options?: RequestOptions): PagePromise<WebhookEndpoint> {
    return this.paginate(() => '/v1/webhooks', params, zWebhooksListQuery, zWebhooksListResponse, 'webhook endpoint list', options);
  }

  async update(webhookId: string, body: PatchedWebhookEndpointUpdateRequest, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.http.request({
      method: 'PATCH', path: `/v1/webhooks/${this.id('webhookId', webhookId)}`, body,
      bodySchema: zWebhooksPartialUpdateBody, responseSchema: zWebhooksPartialUpdateResponse,
      what: 'webhook endpoint', options,
    });
  }

  async delete(webhookId: string, options?: RequestOptions): Promise<void> {
    await this.http.request({
      method: 'DELETE', path: `/v1/webhooks/${this.id('webhookId', webhookId)}`, what: 'webhook endpoint', options,
    });
  }

  /** Sends a `webhook.test` event to this endpoint only; returns the delivery (`pending`). */
  async test(webhookId: string, body: WebhookTestRequest = {}, options?: RequestOptions): Promise<DeliveryDetail> {
    return this.http.request({
      method: 'POST', path: `/v1/webhooks/${this.id('webhookId', webhookId)}/test`, body,
      bodySchema: zWebhooksTestCreateBody, responseSchema: zWebhooksTestCreateResponse, what: 'delivery', options,
    });
  }

  /** Verifies a received delivery and returns its typed event: `verifyWebhook` as a method. */
  async unwrap(options: VerifyWebhookOptions): Promise<WebhookEvent> {
    return verifyWebhook(options);
  }
}
