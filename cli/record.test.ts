import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { adapterFor } from '../adapters/index.ts';
import { OP_PROPERTIES } from '../properties/ops.ts';
import { addRecorded, nextRecordedNumber, record } from './record.ts';

describe('recording more programs for one property', () => {
  test('program.schema recorded programs added for a property are numbered after those already there, and never overwrite one', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gradspec-record-'));
    const sin = OP_PROPERTIES.find((p) => p.id === 'gradient.op.sin')!;
    const options = { count: 2, seed: 3, date: '2026-01-01', properties: [sin] };
    const first = await record(adapterFor('reference'), { ...options, firstNumber: (p) => nextRecordedNumber(p, folder) });
    addRecorded(first, folder);
    const second = await record(adapterFor('reference'), { ...options, seed: 4, firstNumber: (p) => nextRecordedNumber(p, folder) });
    addRecorded(second, folder);
    const names = readdirSync(folder).sort();
    expect(names.map((n) => n.split('.').slice(0, 4).join('.'))).toEqual(
      ['000', '001', '002', '003'].map((n) => `gradient.op.sin.${n}`));
    const id = JSON.parse(readFileSync(join(folder, names[3]!), 'utf8')).program.id as string;
    expect(id).toMatch(/^recorded\.gradient\.op\.sin\.003/);
    // The same numbers again are refused before anything is written.
    expect(() => addRecorded(second, folder)).toThrow(/already exist/);
    expect(readdirSync(folder)).toHaveLength(4);
  });
});
