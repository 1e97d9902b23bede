import type {RequestOptions} from '../core.js';
import type {
  PatchedProjectUpdateRequest,
  Project,
  ProjectCreateRequest,
  ProjectsListData,
  ProjectWithSecret,
  WebhookSecret,
} from '../generated/types.gen.js';
import {
  zProjectsCreateBody,
  zProjectsCreateResponse,
  zProjectsListQuery,
  zProjectsListResponse,
  zProjectsPartialUpdateBody,
  zProjectsPartialUpdateResponse,
  zProjectsRetrieveResponse,
  zProjectsWebhookSecretRotateCreateResponse,
} from '../generated/zod.gen.js';
import type {PagePromise} from '../pagination.js';
import {Resource} from './base.js';

export type ProjectListParams = NonNullable<ProjectsListData['query']>;

/** Projects: they group a customer's work and hold the secret its webhooks are signed with. */
export class Projects extends Resource {
  /** Creates a project; the response is the only one (with rotate) that carries `webhookSecret`. */
  async create(body: ProjectCreateRequest, options?: RequestOptions): Promise<ProjectWithSecret> {
    return this.http.request({
      method: 'POST', path: '/v1/projects', body, bodySchema: zProjectsCreateBody,
      responseSchema: zProjectsCreateResponse, what: 'project', options,
    });
  }

  async get(projectId: string, options?: RequestOptions): Promise<Project> {
    return this.http.request({
      method: 'GET', path: `/v1/projects/${this.id('projectId', projectId)}`,
      responseSchema: zProjectsRetrieveResponse, what: 'project', options,
    });
  }

  /** Await for one page, or `for await` over every project. */
  list(params?: ProjectListParams, options?: RequestOptions): PagePromise<Project> {
    return this.paginate(() => '/v1/projects', params, zProjectsListQuery, zProjectsListResponse, 'project list', options);
  }

  async update(projectId: string, body: PatchedProjectUpdateRequest, options?: RequestOptions): Promise<Project> {
    return this.http.request({
      method: 'PATCH', path: `/v1/projects/${this.id('projectId', projectId)}`, body,
      bodySchema: zProjectsPartialUpdateBody, responseSchema: zProjectsPartialUpdateResponse, what: 'project', options,
    });
  }

  /** Soft-deletes the project: it and its assets become 404; its queued renders are cancelled. */
  async delete(projectId: string, options?: RequestOptions): Promise<void> {
    await this.http.request({method: 'DELETE', path: `/v1/projects/${this.id('projectId', projectId)}`, what: 'project', options});
  }

  /** Issues a new webhook secret; deliveries carry both signatures for 24 hours. */
  async rotateWebhookSecret(projectId: string, options?: RequestOptions): Promise<WebhookSecret> {
    return this.http.request({
      method: 'POST', path: `/v1/projects/${this.id('projectId', projectId)}/webhook-secret/rotate`,
      responseSchema: zProjectsWebhookSecretRotateCreateResponse, what: 'webhook secret', options,
    });
  }
}
