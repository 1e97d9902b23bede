// Generates src/generated from the repository's committed openapi.json: types and zod 4 schemas only
// (the client is hand-written in src/). `npm run generate` writes it; `npm run check:generated` fails on drift.
import {defineConfig} from '@hey-api/openapi-ts';

export default defineConfig({
  input: '../../openapi.json',
  parser: {
    patch: {
      // The generator makes every int64 a z.coerce.bigint(), which lets a string through request validation
      // (sent as is, refused by the API) and turns a BigInt into a TypeError in JSON.stringify. The API's
      // int64 values (byte counts) are safe JavaScript integers: validate them as numbers, as their types say.
      schemas: (name, schema) => {
        for (const property of Object.values(schema.properties ?? {})) {
          if (property.type === 'integer' && property.format === 'int64') delete property.format;
        }
      },
    },
  },
  output: {path: 'src/generated', postProcess: [], module: {extension: '.js'}},
  plugins: [
    '@hey-api/typescript',
    {name: 'zod', compatibilityVersion: 4, metadata: false, dates: {offset: true}},
  ],
});
