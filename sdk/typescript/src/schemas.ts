/**
 * The zod 4 schemas generated from openapi.json, for validating what the API sends or takes with the same
 * rules it uses: `import {WebhookEventSchema, zRenderCreateRequest} from '@renderowl/sdk/schemas'`.
 *
 * Every schema of the document is exported as `z<Name>`; the resources and the webhook event are also
 * exported under the names the platform's design uses (`WebhookEventSchema`, `RenderJobSchema`, …).
 */
export * from './generated/zod.gen.js';
export {
  zAsset as AssetSchema,
  zAutomation as AutomationSchema,
  zAutomationRun as AutomationRunSchema,
  zDelivery as DeliverySchema,
  zProblem as ProblemSchema,
  zProject as ProjectSchema,
  zRenderCreateRequest as RenderCreateRequestSchema,
  zRenderJob as RenderJobSchema,
  zWebhookEndpoint as WebhookEndpointSchema,
  zWebhookEvent as WebhookEventSchema,
} from './generated/zod.gen.js';
