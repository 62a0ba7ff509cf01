import { runProgram } from './adapters/reference/run-program.ts';
import { compareObservations } from './oracles/observations.ts';
import { readFileSync } from 'node:fs';
const progs = JSON.parse(readFileSync('/tmp/dtw/prog.json', 'utf8'));
const py = JSON.parse(readFileSync('/tmp/dtw/py.json', 'utf8'));
progs.forEach((p: any, k: number) => {
  const o = runProgram(p);
  const fields = ['value', 'shape', 'dtype', 'requiresGrad', 'isLeaf', 'gradFn', 'nextFunctions', 'repr', 'version'];
  console.log(p.id, JSON.stringify(compareObservations(py[k], o, fields)));
});
