export {RenderowlClient} from './client.js';
export {HttpClient, VERSION, type ClientOptions, type RequestOptions} from './core.js';
export {
  RenderowlAuthenticationError,
  RenderowlConflictError,
  RenderowlConnectionError,
  RenderowlError,
  RenderowlNotFoundError,
  RenderowlRateLimitError,
  RenderowlServerError,
  RenderowlTimeoutError,
  RenderowlValidationError,
  RenderowlWebhookVerificationError,
  type FieldError,
} from './errors.js';
export {Page, PagePromise, type PageData} from './pagination.js';
export type {AssetListParams, AssetUploadParams, WaitOptions} from './resources/assets.js';
export type {AutomationListParams, AutomationRunListParams} from './resources/automations.js';
export type {ProjectListParams} from './resources/projects.js';
export {FINAL_RENDER_STATUSES, type RenderListParams, type RenderWaitOptions, type StreamOptions} from './resources/renders.js';
export type {DeliveryListParams, WebhookListParams} from './resources/webhooks.js';
export type {UploadSource} from './upload.js';
export type {ResponseValidation} from './validation.js';
export {verifyWebhook, type VerifyWebhookOptions, type WebhookHeaders} from './webhooks.js';
export type * from './generated/types.gen.js';
