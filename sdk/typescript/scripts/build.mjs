// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with its declarations, from src/ with tsc alone.
import {execFileSync} from 'node:child_process';
import {mkdirSync, rmSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', {recursive: true, force: true});
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], {stdio: 'inherit'});
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.cjs.json'], {stdio: 'inherit'});
mkdirSync('dist/cjs', {recursive: true});
// The package is "type": "module"; this marks the CommonJS build as such for Node and for TypeScript.
writeFileSync('dist/cjs/package.json', '{"type": "commonjs"}\n');
