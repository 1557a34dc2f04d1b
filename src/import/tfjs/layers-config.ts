import { ModelFormatError, UnsupportedOperatorError } from '../../errors.js';
import type { AutoPad } from '../../ir/layers.js';
import { asArray, asNumber, asNumbers, asPair, asString, isObject } from './json.js';
import type { KerasLayer } from './layers-topology.js';

/** Typed reads of a Keras layer's config; every error names the layer. */
export class LayerConfig {
  constructor(readonly layer: KerasLayer) {}

  get where(): string {
    return `layer '${this.layer.name}' (${this.layer.className})`;
  }

  unsupported(detail: string): UnsupportedOperatorError {
    return new UnsupportedOperatorError(this.layer.name, this.layer.className, detail);
  }

  private raw(key: string): unknown {
    return this.layer.config[key];
  }

  has(key: string): boolean {
    const v = this.raw(key);
    return v !== undefined && v !== null;
  }

  number(key: string, fallback?: number): number {
    const v = this.raw(key);
    if (v === undefined || v === null) {
      if (fallback === undefined) throw new ModelFormatError(`${this.where}: config has no '${key}'`);
      return fallback;
    }
    return asNumber(v, `${this.where}: config.${key}`);
  }

  /** A number or a list of numbers (per-channel values), as a list. */
  numbers(key: string, fallback: number): number[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [fallback];
    return Array.isArray(v) ? asNumbers(v, `${this.where}: config.${key}`) : [asNumber(v, `${this.where}: config.${key}`)];
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw new ModelFormatError(`${this.where}: config.${key} should be true or false`);
    return v;
  }

  string(key: string, fallback: string): string {
    const v = this.raw(key);
    return v === undefined || v === null ? fallback : asString(v, `${this.where}: config.${key}`);
  }

  pair(key: string, fallback?: [number, number]): [number, number] {
    const v = this.raw(key);
    if (v === undefined || v === null) {
      if (!fallback) throw new ModelFormatError(`${this.where}: config has no '${key}'`);
      return fallback;
    }
    return asPair(v, `${this.where}: config.${key}`);
  }

  /** A value that is a number, a pair or a pair of pairs ((top, bottom), (left, right)). */
  pairOfPairs(key: string): [[number, number], [number, number]] {
    const v = this.raw(key);
    if (typeof v === 'number') return [[v, v], [v, v]];
    const a = asArray(v, `${this.where}: config.${key}`);
    if (a.length !== 2) throw new ModelFormatError(`${this.where}: config.${key} should hold 2 entries`);
    return [asPair(a[0], `${this.where}: config.${key}[0]`), asPair(a[1], `${this.where}: config.${key}[1]`)];
  }

  /** Keras `padding`: 'same' pads as ONNX SAME_UPPER does (any odd pixel at the end). */
  padding(): AutoPad {
    const p = this.string('padding', 'valid').toLowerCase();
    if (p === 'same') return 'SAME_UPPER';
    if (p === 'valid') return 'VALID';
    throw this.unsupported(`with padding '${p}' is not supported`);
  }

  /** Only channels_last is read: that is what TF.js computes in. */
  channelsLast(): void {
    const f = this.string('data_format', 'channels_last');
    if (f !== 'channels_last') throw this.unsupported(`with data_format '${f}' is not supported (channels_last only)`);
  }

  /** The Keras activation name of `key` ('linear' when absent). */
  activationName(key = 'activation'): string {
    const v = this.raw(key);
    if (v === undefined || v === null) return 'linear';
    // Keras 3 may serialise an activation as an object naming the function.
    if (isObject(v)) return asString(v.config ?? v.class_name, `${this.where}: config.${key}`);
    return asString(v, `${this.where}: config.${key}`);
  }
}
