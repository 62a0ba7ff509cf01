/**
 * Where a line stops being JSON, for messages about an engine's invalid output: Node's JSON.parse
 * names the bad token but, for most mistakes, not its position.
 */

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const LITERAL = /true|false|null/y;
const CONTEXT = 40;

/**
 * The index of the first character at which `text` stops being valid JSON (`text.length` when it
 * ends too early; the start of a string that is malformed), or -1 when it is valid. Iterative, so
 * deep nesting cannot overflow the stack.
 */
export function jsonErrorPosition(text: string): number {
  const open: ('{' | '[')[] = [];
  let i = 0;
  let expect = 'value' as 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'next';
  const take = (re: RegExp) => {
    re.lastIndex = i;
    if (!re.test(text)) return false;
    i = re.lastIndex;
    return true;
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const push = (bracket: '{' | '[') => {
    open.push(bracket);
    i++;
    expect = bracket === '{' ? 'key-or-close' : 'value-or-close';
  };
  const pop = () => {
    open.pop();
    i++;
    expect = 'next';
  };
  for (;;) {
    space();
    const c = text[i];
    if (expect === 'value' || expect === 'value-or-close') {
      if (c === ']' && expect === 'value-or-close') pop();
      else if (c === '{' || c === '[') push(c);
      else if (take(STRING) || take(NUMBER) || take(LITERAL)) expect = 'next';
      else return i;
    } else if (expect === 'key' || expect === 'key-or-close') {
      if (c === '}' && expect === 'key-or-close') pop();
      else if (!take(STRING)) return i;
      else {
        space();
        if (text[i] !== ':') return i;
        i++;
        expect = 'value';
      }
    } else {
      const top = open.at(-1);
      if (top === undefined) return i === text.length ? -1 : i;
      if (c === ',') {
        i++;
        expect = top === '{' ? 'key' : 'value';
      } else if (c === (top === '{' ? '}' : ']')) pop();
      else return i;
    }
  }
}

/**
 * `invalid JSON (Unexpected token 'N' at position 57): ...{"value": [1, NaN, 2]...`, with a hint
 * when the bad token is a non-finite number, which the protocol spells as a string.
 */
export function describeInvalidJson(text: string, error: Error): string {
  const position = jsonErrorPosition(text);
  // V8 appends a quote of the text ("Unexpected token 'N', ..."[1, NaN"... is not valid JSON") or the position.
  const reason = error.message.replace(/, (\.\.\.)?".*$/s, '').replace(/( in JSON)? at position \d+.*$/s, '');
  if (position < 0) return `invalid JSON (${reason}): ${text.slice(0, 2 * CONTEXT)}${text.length > 2 * CONTEXT ? '...' : ''}`;
  const from = Math.max(0, position - CONTEXT);
  const to = Math.min(text.length, position + CONTEXT);
  const around = `${from > 0 ? '...' : ''}${text.slice(from, to)}${to < text.length ? '...' : ''}`;
  const nonFinite = /^(-?(NaN|Infinity|inf|nan)\b)/i.exec(text.slice(position));
  const hint = nonFinite
    ? `; NaN, infinities and negative zero are spelled as the strings "nan", "inf", "-inf" and "-0" (spec/adapters.md), not ${nonFinite[1]}`
    : '';
  return `invalid JSON (${reason} at position ${position}): ${around}${hint}`;
}
