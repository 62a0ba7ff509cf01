#!/usr/bin/env node
// gradspec ships TypeScript sources; tsx loads them, so there is no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
