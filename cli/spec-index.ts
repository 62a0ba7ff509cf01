import { readFileSync } from 'node:fs';
import { collectCitations, ROOT, withCheckedBy } from './citations.ts';
import { writeAtomic } from './write-atomic.ts';

// `npm run spec:index`: rewrites the "Checked by:" lines of spec/autograd.md from the citations.
const path = `${ROOT}spec/autograd.md`;
writeAtomic(path, withCheckedBy(readFileSync(path, 'utf8'), collectCitations()));
process.stdout.write('spec/autograd.md: "Checked by" lines updated\n');
