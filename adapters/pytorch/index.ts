import { AdapterError, processAdapter, type ProcessOptions } from '../process.ts';
import { packagePath } from '../package-root.ts';
import type { Adapter } from '../types.ts';

/** Debian's PyTorch lives under this interpreter; other pythons on the machine may lack torch. */
export const PYTHON = process.env.GRADSPEC_PYTHON ?? '/usr/bin/python3';
const SERVER = packagePath('adapters', 'pytorch', 'adapter.py'); // not compiled: dist/ has no copy

/** Real PyTorch, through adapter.py in one Python process. */
export async function pytorchAdapter(options: ProcessOptions = {}): Promise<Adapter> {
  try {
    return await processAdapter([PYTHON, SERVER], options);
  } catch (e) {
    const text = (e as Error).message;
    if (/not installed|ENOENT|could not start/.test(text)) {
      throw new AdapterError(`PyTorch is not available: ${text}\nInstall it with: apt-get install -y python3-torch (PyTorch 1.13, run as ${PYTHON}); GRADSPEC_PYTHON names another interpreter.`);
    }
    throw e;
  }
}
