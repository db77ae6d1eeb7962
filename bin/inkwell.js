#!/usr/bin/env node
// The package bin. Needs a Node that runs TypeScript (22.18+ / 24); `npm run inkwell`
// always uses the project's pinned Node 24.
await import('../src/cli.ts');
