import { Ajv, type ErrorObject } from 'ajv';
import schema from '../../schema/quant-config.schema.json' with { type: 'json' };
import { QuantConfigError } from '../errors.js';
import { LAYER_DEFAULTS, PRESETS, type LayerQuant, type QuantConfig } from './config.js';

const ajv = new Ajv({ allErrors: true, useDefaults: false });
const validate = ajv.compile<QuantConfig>(schema);

export { schema as QUANT_CONFIG_SCHEMA };

/** `/layers/conv1/weightBits` -> `layers['conv1'].weightBits`, the name a user sees in the JSON. */
function fieldName(e: ErrorObject): string {
  const parts = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'additionalProperties') parts.push((e.params as { additionalProperty: string }).additionalProperty);
  if (e.keyword === 'required') parts.push((e.params as { missingProperty: string }).missingProperty);
  let out = '';
  parts.forEach((p, i) => {
    if (i > 0 && parts[i - 1] === 'layers') out += `['${p}']`;
    else out += (out ? '.' : '') + p;
  });
  return out || '(config)';
}

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case 'additionalProperties':
      return 'is not a known field';
    case 'required':
      return 'is required';
    case 'enum':
      return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return e.message ?? 'is invalid';
  }
}

/**
 * Validate a parsed QuantConfig against the published schema. The first error
 * names its field; for a `oneOf` ("float" or an object) the object branch's
 * error is the one that explains the mistake.
 */
export function parseQuantConfig(value: unknown, source = 'config'): QuantConfig {
  if (validate(value)) {
    const c = value;
    if (c.default !== 'float') c.default = { ...LAYER_DEFAULTS, ...c.default } as LayerQuant;
    return c;
  }
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'oneOf' && !(e.keyword === 'const' && e.params && 'allowedValue' in e.params));
  const e = errors.sort((a, b) => b.instancePath.length - a.instancePath.length)[0] ?? validate.errors![0]!;
  throw new QuantConfigError(`${source}: ${fieldName(e)} ${describe(e)}`);
}

/** The text of a config file; text that is not JSON is a QuantConfigError naming the source. */
export function parseQuantConfigText(text: string, source = 'config'): QuantConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new QuantConfigError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  return parseQuantConfig(parsed, source);
}

/** A preset name or the JSON text of a config. */
export function resolveQuantConfig(presetOrJson: string, source = 'config'): QuantConfig {
  const preset = PRESETS[presetOrJson];
  if (preset) return structuredClone(preset);
  let parsed: unknown;
  try {
    parsed = JSON.parse(presetOrJson);
  } catch (err) {
    throw new QuantConfigError(`${source}: neither a preset (${Object.keys(PRESETS).join(', ')}) nor valid JSON (${(err as Error).message})`);
  }
  return parseQuantConfig(parsed, source);
}

export function quantConfigToJson(c: QuantConfig): string {
  return JSON.stringify({ $schema: 'https://quantgpu.dev/schema/quant-config.schema.json', ...c }, null, 2);
}
