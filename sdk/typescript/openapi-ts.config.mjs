// Generates src/generated from the repository's committed openapi.json: types and zod 4 schemas only
// (the client is hand-written in src/). `npm run generate` writes it; `npm run check:generated` fails on drift.
import {defineConfig} from '@hey-api/openapi-ts';

export default defineConfig({
  input: '../../openapi.json',
  output: {path: 'src/generated', postProcess: [], module: {extension: '.js'}},
  plugins: [
    '@hey-api/typescript',
    {name: 'zod', compatibilityVersion: 4, metadata: false, dates: {offset: true}},
  ],
});
