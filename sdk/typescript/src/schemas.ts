/**
 * The zod 4 schemas generated from openapi.json, for validating what the API sends or takes with the same
 * rules it uses: `import {zWebhookEvent, zRenderCreateRequest} from '@renderowl/sdk/schemas'`.
 */
export * from './generated/zod.gen.js';
