import { describe, expect, test } from 'vitest';
import { describeInvalidJson, jsonErrorPosition } from './json-error.ts';

const describeLine = (line: string): string => {
  try {
    JSON.parse(line);
  } catch (e) {
    return describeInvalidJson(line, e as Error);
  }
  throw new Error(`valid JSON: ${line}`);
};

describe('invalid JSON from an engine', () => {
  test('errors.class the position is where the text stops being JSON, and valid JSON has none', () => {
    expect(jsonErrorPosition('{"a": [1, NaN, 2]}')).toBe(10);
    expect(jsonErrorPosition('{"a": -Infinity}')).toBe(6);
    expect(jsonErrorPosition('{"a": 1')).toBe(7);
    expect(jsonErrorPosition('{"a": 1}}')).toBe(8);
    expect(jsonErrorPosition('{"a" 1}')).toBe(5);
    expect(jsonErrorPosition('[1, 2,]')).toBe(6);
    expect(jsonErrorPosition('{"a": 01}')).toBe(7);
    expect(jsonErrorPosition('')).toBe(0);
    for (const valid of ['{}', '[]', ' { "a" : [ 1 , -0.5e-3 , "x\\"y\\u00e9" , true , null , { } ] } ', '"s"', '-0']) {
      expect(jsonErrorPosition(valid), valid).toBe(-1);
    }
    // Deep nesting is scanned without recursion.
    expect(jsonErrorPosition(`${'['.repeat(200_000)}x`)).toBe(200_000);
  });

  test('errors.class the message says invalid JSON, the position and the text around it, with the spelling of NaN', () => {
    const line = `{"type":"observations","id":1,"results":[{"observations":[{"label":"y","value":[1, NaN, 2]}],"error":null}]}`;
    const message = describeLine(line);
    expect(message).toBe(`invalid JSON (Unexpected token 'N' at position ${line.indexOf('NaN')}): ...observations":[{"label":"y","value":[1, NaN, 2]}],"error":null}]}; `
      + 'NaN, infinities and negative zero are spelled as the strings "nan", "inf", "-inf" and "-0" (spec/adapters.md), not NaN');
    expect(describeLine('{"value": -Infinity}')).toMatch(/^invalid JSON \(No number after minus sign at position 10\): \{"value": -Infinity\}; .* not -Infinity$/);
    expect(describeLine('{"a": 1}}')).toBe('invalid JSON (Unexpected non-whitespace character after JSON at position 8): {"a": 1}}');
  });
});
