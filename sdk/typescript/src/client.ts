import {HttpClient, type ClientOptions} from './core.js';
import {Assets} from './resources/assets.js';
import {Automations} from './resources/automations.js';
import {Projects} from './resources/projects.js';
import {Renders} from './resources/renders.js';
import {Webhooks} from './resources/webhooks.js';

/**
 * The Renderowl API client: `new RenderowlClient({apiKey, baseUrl})`, then `client.projects`, `client.assets`,
 * `client.renders`, `client.automations` and `client.webhooks`. Works wherever fetch and Web Crypto do.
 */
export class RenderowlClient {
  readonly projects: Projects;
  readonly assets: Assets;
  readonly renders: Renders;
  readonly automations: Automations;
  readonly webhooks: Webhooks;
  /** The shared HTTP layer, for requests the resources do not cover. */
  readonly http: HttpClient;

  constructor(options: ClientOptions) {
    this.http = new HttpClient(options);
    this.projects = new Projects(this.http);
    this.assets = new Assets(this.http);
    this.renders = new Renders(this.http);
    this.automations = new Automations(this.http);
    this.webhooks = new Webhooks(this.http);
  }
}
