import type {RequestOptions} from '../core.js';
import type {
  Automation,
  AutomationCreateRequestWritable,
  AutomationDryRun,
  AutomationRun,
  AutomationsRunsListData,
  PatchedAutomationUpdateRequestWritable,
  ProjectsAutomationsListData,
} from '../generated/types.gen.js';
import {
  zAutomationDryRun,
  zAutomationRun,
  zAutomationRunsRetrieveResponse,
  zAutomationsHookTokenRotateCreateResponse,
  zAutomationsPartialUpdateBody,
  zAutomationsPartialUpdateResponse,
  zAutomationsRetrieveResponse,
  zAutomationsRunsListQuery,
  zAutomationsRunsListResponse,
  zAutomationsTriggerCreateBody,
  zProjectsAutomationsCreateBody,
  zProjectsAutomationsCreateResponse,
  zProjectsAutomationsListQuery,
  zProjectsAutomationsListResponse,
} from '../generated/zod.gen.js';
import type {PagePromise} from '../pagination.js';
import {Resource} from './base.js';

export type AutomationListParams = NonNullable<ProjectsAutomationsListData['query']>;
export type AutomationRunListParams = NonNullable<AutomationsRunsListData['query']>;

/** An automation's runs: one per firing (hook call, schedule tick, upload, or `trigger`). */
export class AutomationRuns extends Resource {
  list(automationId: string, params?: AutomationRunListParams, options?: RequestOptions): PagePromise<AutomationRun> {
    return this.paginate(
      () => `/v1/automations/${this.id('automationId', automationId)}/runs`, params, zAutomationsRunsListQuery,
      zAutomationsRunsListResponse, 'automation run list', options,
    );
  }

  async get(runId: string, options?: RequestOptions): Promise<AutomationRun> {
    return this.http.request({
      method: 'GET', path: `/v1/automation-runs/${this.id('runId', runId)}`,
      responseSchema: zAutomationRunsRetrieveResponse, what: 'automation run', options,
    });
  }
}

/** Automations: a trigger (webhook, schedule, asset upload) plus a data mapping that renders without code. */
export class Automations extends Resource {
  readonly runs: AutomationRuns;

  constructor(...args: ConstructorParameters<typeof Resource>) {
    super(...args);
    this.runs = new AutomationRuns(...args);
  }

  async create(projectId: string, body: AutomationCreateRequestWritable, options?: RequestOptions): Promise<Automation> {
    return this.http.request({
      method: 'POST', path: `/v1/projects/${this.id('projectId', projectId)}/automations`, body,
      bodySchema: zProjectsAutomationsCreateBody, responseSchema: zProjectsAutomationsCreateResponse,
      what: 'automation', options,
    });
  }

  async get(automationId: string, options?: RequestOptions): Promise<Automation> {
    return this.http.request({
      method: 'GET', path: `/v1/automations/${this.id('automationId', automationId)}`,
      responseSchema: zAutomationsRetrieveResponse, what: 'automation', options,
    });
  }

  list(projectId: string, params?: AutomationListParams, options?: RequestOptions): PagePromise<Automation> {
    return this.paginate(
      () => `/v1/projects/${this.id('projectId', projectId)}/automations`, params, zProjectsAutomationsListQuery,
      zProjectsAutomationsListResponse, 'automation list', options,
    );
  }

  async update(automationId: string, body: PatchedAutomationUpdateRequestWritable, options?: RequestOptions): Promise<Automation> {
    return this.http.request({
      method: 'PATCH', path: `/v1/automations/${this.id('automationId', automationId)}`, body,
      bodySchema: zAutomationsPartialUpdateBody, responseSchema: zAutomationsPartialUpdateResponse,
      what: 'automation', options,
    });
  }

  async delete(automationId: string, options?: RequestOptions): Promise<void> {
    await this.http.request({
      method: 'DELETE', path: `/v1/automations/${this.id('automationId', automationId)}`, what: 'automation', options,
    });
  }

  /** Fires the automation by hand with a payload; returns the run (`pending`). */
  async trigger(automationId: string, body: {payload?: unknown}, options?: RequestOptions): Promise<AutomationRun> {
    return this.http.request({
      method: 'POST', path: `/v1/automations/${this.id('automationId', automationId)}/trigger`, body,
      bodySchema: zAutomationsTriggerCreateBody, responseSchema: zAutomationRun, what: 'automation run', options,
    });
  }

  /** What a trigger with this payload would render (`input`, `output`), without a run or a render. */
  async dryRun(automationId: string, body: {payload?: unknown}, options?: RequestOptions): Promise<AutomationDryRun> {
    return this.http.request({
      method: 'POST', path: `/v1/automations/${this.id('automationId', automationId)}/trigger`,
      body: {...body, dryRun: true}, bodySchema: zAutomationsTriggerCreateBody, responseSchema: zAutomationDryRun,
      what: 'automation dry run', options,
    });
  }

  /** A new `hookUrl` for a webhook trigger; the old one stops working at once. */
  async rotateHookToken(automationId: string, options?: RequestOptions): Promise<Automation> {
    return this.http.request({
      method: 'POST', path: `/v1/automations/${this.id('automationId', automationId)}/hook-token/rotate`,
      responseSchema: zAutomationsHookTokenRotateCreateResponse, what: 'automation', options,
    });
  }
}
