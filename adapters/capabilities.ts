import { Ajv, type ErrorObject } from 'ajv';
import programSchema from '../spec/program.schema.json' with { type: 'json' };
import type { DType } from '../spec/program.ts';
import { closest, unknownName } from './suggest.ts';
import { AdapterError, FEATURES, FIELDS, LANGUAGES, type Adapter, type Capabilities } from './types.ts';

/**
 * Validation of an engine's declared capabilities (spec/adapters.md, "Capabilities"): the JSON
 * Schema below, built from the TypeScript lists so that a new feature or field is accepted as
 * soon as it exists, then the profile rules a schema cannot say. Defaults never claim anything
 * the engine did not declare.
 */

/** PyTorch versions whose grad_fn names and messages gradspec has recorded. */
export const PYTORCH_PROFILES = ['pytorch-1.13'] as const;

const DTYPES = programSchema.definitions.DType.enum as DType[];
const REQUIRED = ['dtypes', 'profile'] as const;
const PROFILE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const OWN_PROFILE = "an engine with its own names and messages declares its own profile, such as 'my-engine' or 'my-engine-1.0'";

const schema = {
  type: 'object',
  required: [...REQUIRED],
  additionalProperties: false,
  properties: {
    dtypes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: DTYPES } },
    features: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...FEATURES] } },
    fields: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...FIELDS] } },
    profile: { type: 'string', pattern: PROFILE.source },
    language: { type: 'string', enum: [...LANGUAGES] },
  },
};

const KEYS = Object.keys(schema.properties);
let compiled: ReturnType<Ajv['compile']> | undefined;

/** What each list holds, for messages about one of its items. */
const ITEM: Record<string, { what: string; known: readonly string[] }> = {
  dtypes: { what: 'dtype', known: DTYPES },
  features: { what: 'feature', known: FEATURES },
  fields: { what: 'field', known: FIELDS },
  language: { what: 'language', known: LANGUAGES },
};

const isPytorchProfile = (profile: string) => (PYTORCH_PROFILES as readonly string[]).includes(profile);

/**
 * The capabilities an engine declared (`source` says where, e.g. "its hello"), validated, with
 * the documented defaults filled in: `features` [], `fields` ["value"], `language` "pytorch" for
 * a PyTorch profile, else "json".
 * Throws an AdapterError (exit 2) naming every problem, with a did-you-mean and the valid values.
 */
export function validateCapabilities(raw: unknown, source: string): Capabilities {
  compiled ??= new Ajv({ allErrors: true, verbose: true }).compile(schema);
  const problems = compiled(raw) ? [] : [...new Set((compiled.errors ?? []).map(describe))];
  const declared = raw as Partial<Capabilities>;
  const profile = (raw as { profile?: unknown } | null)?.profile;
  const problem = typeof profile === 'string' && PROFILE.test(profile) ? profileProblem(profile) : null;
  if (problem) problems.push(problem);
  if (problems.length > 0) {
    const list = problems.length === 1 ? ` ${problems[0]}` : problems.map((p) => `\n  ${p}`).join('');
    throw new AdapterError(`invalid capabilities in ${source} (spec/adapters.md, "Capabilities"):${list}`);
  }
  return {
    dtypes: [...declared.dtypes!],
    features: [...(declared.features ?? [])],
    fields: [...(declared.fields ?? ['value'])],
    profile: declared.profile!,
    language: declared.language ?? (isPytorchProfile(declared.profile!) ? 'pytorch' : 'json'),
  };
}

/**
 * A profile that looks like PyTorch's must be one gradspec has recorded: its error messages are
 * compared with PyTorch's text. A near miss of one (`pytroch-1.13`) is taken as a typo.
 */
function profileProblem(profile: string): string | null {
  if (isPytorchProfile(profile)) return null;
  const claimsPytorch = profile.toLowerCase().startsWith('pytorch');
  if (!claimsPytorch && closest(profile, PYTORCH_PROFILES) === undefined) return null;
  return `${unknownName('profile', profile, PYTORCH_PROFILES)}; ${OWN_PROFILE}, not starting with 'pytorch'`;
}

function describe(e: ErrorObject): string {
  const [key, index] = e.instancePath.split('/').slice(1);
  const params = e.params as Record<string, unknown>;
  const got = JSON.stringify(e.data) ?? 'nothing';
  switch (e.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      return missing === 'profile'
        ? `missing required key 'profile': whose grad_fn names and error messages the engine follows, ${PYTORCH_PROFILES.map((p) => `'${p}'`).join(', ')} or its own (${OWN_PROFILE})`
        : `missing required key '${missing}': the dtypes the engine runs, some of ${DTYPES.join(', ')}`;
    }
    case 'additionalProperties':
      return unknownName('capability key', String(params.additionalProperty), KEYS);
    case 'enum': {
      const item = ITEM[key!]!;
      return typeof e.data === 'string' ? unknownName(item.what, e.data, item.known) : `${item.what} ${got} is not one of ${item.known.join(', ')}`;
    }
    case 'type':
      if (key === undefined) return `capabilities must be an object with the keys ${KEYS.join(', ')} (got ${got})`;
      return `'${key}'${index === undefined ? '' : ` item ${index}`} must be ${params.type === 'array' ? 'a list' : `a ${String(params.type)}`} (got ${got})`;
    case 'minItems':
      return `'${key}' must name at least one dtype (${DTYPES.join(', ')})`;
    case 'uniqueItems':
      return `'${key}' names ${JSON.stringify((e.data as unknown[])[params.i as number])} twice`;
    case 'pattern':
      return `profile ${got} must be a name of letters, digits, '.', '-' and '_', such as 'my-engine-1.0'`;
    default:
      return `'${key ?? 'capabilities'}' ${e.message ?? 'is invalid'}`;
  }
}

/** An in-process adapter with its capabilities validated and defaulted (a class instance keeps its methods). */
export function withValidCapabilities(adapter: Adapter): Adapter {
  const capabilities = validateCapabilities(adapter.capabilities, 'its adapter');
  return Object.assign(Object.create(adapter) as Adapter, { capabilities });
}
