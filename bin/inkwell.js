#!/usr/bin/env node
// The package bin. Needs Node 24 (package.json engines), which runs TypeScript;
// `npm run inkwell` always uses the project's pinned Node 24.
//
// Plain JavaScript on purpose: it turns on Node's compile cache before any .ts file
// loads, so later starts reuse the type-stripped, compiled modules from disk instead
// of stripping types again (the stripper alone is a WebAssembly module of ~17 MB).
// Set NODE_DISABLE_COMPILE_CACHE=1 to turn it off; NODE_COMPILE_CACHE picks the folder.
import module from 'node:module';

module.enableCompileCache?.();
await import('../src/cli.ts');
