/**
 * The per-layer table: one row per layer that has a setting of its own
 * (weights, or an output it quantizes), showing the setting the config gives
 * it (default, then glob rules, then exact names: `layerSetting`), and
 * writing an edit back as an override under the layer's exact name, so that
 * the saved QuantConfig JSON says exactly what the table shows.
 */
import { LAYER_DEFAULTS, layerSetting, type Bits, type LayerQuant, type QuantConfig } from '../../src/quant/config.js';

export interface TableLayer {
  name: string;
  /** The quantized layer's kind (conv, dense, add, lut...). */
  kind: string;
  /** Whether it has integer weights (a weight bitwidth and granularity). */
  weights: boolean;
}

const BITS: readonly Bits[] = [8, 7, 6, 5, 4, 3, 2];
const SCHEMES = ['affine', 'symmetric', 'pow2'] as const;
const GRANULARITIES = ['per-channel', 'per-tensor'] as const;

type Field = 'weightBits' | 'activationBits' | 'scheme' | 'weightGranularity';

function select(field: Field, values: readonly (string | number)[], current: string | number, disabled: boolean): string {
  const opts = values.map((v) => `<option value="${v}"${v === current ? ' selected' : ''}>${v}</option>`).join('');
  return `<select data-field="${field}"${disabled ? ' disabled' : ''}>${opts}</select>`;
}

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderLayerTable(table: HTMLTableElement, layers: readonly TableLayer[], config: QuantConfig): void {
  const head = '<tr><th>layer</th><th>kind</th><th>weight bits</th><th>activation bits</th><th>scheme</th><th>weight granularity</th><th>float</th></tr>';
  const rows = layers.map((l) => {
    const s = layerSetting(config, l.name);
    const q: LayerQuant = s === 'float' ? { ...LAYER_DEFAULTS, weightBits: 8, activationBits: 8 } : s;
    const f = s === 'float';
    return (
      `<tr data-layer="${escape(l.name)}" class="${f ? 'float' : ''}"><td title="${escape(l.name)}">${escape(l.name)}</td><td>${l.kind}</td>` +
      `<td>${l.weights ? select('weightBits', BITS, q.weightBits, f) : '—'}</td><td>${select('activationBits', BITS, q.activationBits, f)}</td>` +
      `<td>${select('scheme', SCHEMES, q.scheme, f)}</td><td>${l.weights ? select('weightGranularity', GRANULARITIES, q.weightGranularity, f) : '—'}</td>` +
      `<td><input type="checkbox" data-field="float"${f ? ' checked' : ''}></td></tr>`
    );
  });
  table.innerHTML = head + rows.join('');
}

/**
 * The config after one edit in the table: the layer's exact-name override
 * gains the field (or becomes "float", or is dropped when "float" is
 * unticked on a layer that a rule made float: then it gets a whole setting).
 */
export function applyEdit(config: QuantConfig, layer: string, field: Field | 'float', value: string | boolean): QuantConfig {
  const layers = { ...(config.layers ?? {}) };
  const current = layerSetting(config, layer);
  if (field === 'float') {
    if (value === true) layers[layer] = 'float';
    else {
      delete layers[layer];
      // Still float through the default or a rule: give the layer a whole 8-bit setting of its own.
      if (layerSetting({ ...config, layers }, layer) === 'float') layers[layer] = { ...LAYER_DEFAULTS, weightBits: 8, activationBits: 8 };
    }
  } else {
    const v = field === 'weightBits' || field === 'activationBits' ? (Number(value) as Bits) : value;
    const own = layers[layer];
    // A layer float by default needs both bitwidths in its override (layerSetting requires them).
    const base: Partial<LayerQuant> = current === 'float' ? { ...LAYER_DEFAULTS, weightBits: 8, activationBits: 8 } : own === 'float' || own === undefined ? {} : own;
    layers[layer] = { ...base, [field]: v };
  }
  return { ...config, layers };
}

/** Adds a glob rule (`/features/*`, `*Conv`): later rules and exact names win over earlier ones. */
export function addRule(config: QuantConfig, pattern: string, setting: Partial<LayerQuant> | 'float'): QuantConfig {
  const layers = { ...(config.layers ?? {}) };
  delete layers[pattern];
  layers[pattern] = setting;
  return { ...config, layers };
}
