/**
 * What the adapter and device offer, read once when the device is made and
 * kept as plain data (it travels out of a browser page as JSON, and goes into
 * reports). Shader variants are chosen from these facts, never by probing the
 * device again.
 */

/**
 * Where the GPU device lives, the one word for it everywhere (facts, runners,
 * CLI, tests): `browser`, a page's navigator.gpu (the runner drives headless
 * Chromium; the demo runs in whatever browser opens it), or `node`, this Node
 * process through the `webgpu` package (Dawn).
 */
export const GPU_HOSTS = ['browser', 'node'] as const;
export type GpuHost = (typeof GPU_HOSTS)[number];

export interface AdapterFacts {
  readonly host: GpuHost;
  /** How the host found the adapter: the browser's user agent, or the Node package with its driver and flags. */
  readonly hostDetail: string;
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** A software or otherwise limited adapter, as the adapter says of itself (false where it does not say). */
  readonly isFallbackAdapter: boolean;
  /** Features the adapter has, sorted. */
  readonly adapterFeatures: readonly string[];
  /** Features enabled on the device, sorted: what kernels may use. */
  readonly features: readonly string[];
  /** WGSL language features of the host's WGSL compiler, sorted. */
  readonly wgslLanguageFeatures: readonly string[];
  /** `dot4I8Packed` compiles: WGSL language feature `packed_4x8_integer_dot_product`. */
  readonly dot4I8Packed: boolean;
  /** Per-pass GPU timings are possible: `timestamp-query` enabled on the device. */
  readonly timestampQuery: boolean;
  /** `subgroups` enabled on the device. */
  readonly subgroups: boolean;
  /** The device's limits (after the raises requested in device.ts), by name. */
  readonly limits: Readonly<Record<string, number>>;
}

export function readAdapterFacts(gpu: GPU, adapter: GPUAdapter, device: GPUDevice, host: GpuHost, hostDetail: string): AdapterFacts {
  const info = adapter.info;
  const features = sortedStrings(device.features);
  const wgsl = sortedStrings(gpu.wgslLanguageFeatures);
  return {
    host,
    hostDetail,
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    // Older implementations had the flag on the adapter, newer ones on its info; Dawn for Node has neither.
    isFallbackAdapter: info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    adapterFeatures: sortedStrings(adapter.features),
    features,
    wgslLanguageFeatures: wgsl,
    dot4I8Packed: wgsl.includes('packed_4x8_integer_dot_product'),
    timestampQuery: features.includes('timestamp-query'),
    subgroups: features.includes('subgroups'),
    limits: readLimits(device.limits),
  };
}

function sortedStrings(set: ReadonlySet<string> | undefined): string[] {
  return set === undefined ? [] : [...set].sort();
}

/**
 * The limits as a record. GPUSupportedLimits keeps its values in getters on
 * the prototype, so the object has no own keys; for-in walks the inherited
 * enumerable ones.
 */
function readLimits(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  const source = limits as unknown as Record<string, unknown>;
  for (const name in source) {
    const v = source[name];
    if (typeof v === 'number') out[name] = v;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A few lines for a person: the adapter, the facts that choose kernels, the limits that size them. */
export function formatAdapterFacts(f: AdapterFacts): string {
  const l = f.limits;
  return [
    `${f.host}: ${f.hostDetail}`,
    `adapter: ${[f.vendor, f.architecture, f.device, f.description].filter((s) => s !== '').join(' / ') || '(no info)'}${f.isFallbackAdapter ? ' (fallback)' : ''}`,
    `device features: ${f.features.join(', ') || 'none'}`,
    `adapter features: ${f.adapterFeatures.join(', ') || 'none'}`,
    `WGSL language features: ${f.wgslLanguageFeatures.join(', ') || 'none'}`,
    `dot4I8Packed: ${f.dot4I8Packed}, timestamp-query: ${f.timestampQuery}, subgroups: ${f.subgroups}`,
    `limits: maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, maxBufferSize ${l.maxBufferSize}, ` +
      `maxComputeWorkgroupStorageSize ${l.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}, ` +
      `maxComputeWorkgroupsPerDimension ${l.maxComputeWorkgroupsPerDimension}, maxStorageBuffersPerShaderStage ${l.maxStorageBuffersPerShaderStage}`,
  ].join('\n');
}
