import { spawnSync } from 'node:child_process';

/** The real PyTorch 1.13 lives under /usr/bin/python3 (the default `python3` is another interpreter without torch). */
export const PYTHON = '/usr/bin/python3';

/**
 * Whether torch is installed for PYTHON: optional on developer machines, where the tests that need
 * it are skipped; CI installs it. Found, not imported: importing torch costs most of a second of
 * CPU in each test file that asks, and an installed torch that fails to import then fails those
 * tests instead of skipping them.
 */
export const hasTorch = spawnSync(PYTHON, ['-c', 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)'], { timeout: 60_000 }).status === 0;
