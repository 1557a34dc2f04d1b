/**
 * The one place that knows about hosts. Everything else in src/gpu takes a
 * GPUDevice and nothing more from its host: in a browser the device comes from
 * `navigator.gpu`, in Node from the `webgpu` package (Dawn). Facts about the
 * adapter are read once here (adapter-info.ts).
 *
 * Node and the Vulkan driver. Dawn for Node on Linux loads Vulkan drivers
 * (ICDs) through the Vulkan loader, which reads VK_ICD_FILENAMES (or
 * VK_DRIVER_FILES, or adds VK_ADD_DRIVER_FILES) when it starts, else the
 * system's ICD directories. On a machine without a GPU the system may offer
 * only drivers Dawn rejects (Mesa's lavapipe lacks a feature Dawn needs), and
 * then there is no adapter. Chromium ships SwiftShader, a CPU Vulkan that Dawn
 * accepts. So: the system's drivers are tried first; only when they give no
 * adapter, none of those three variables is set, and the SwiftShader ICD file
 * exists, VK_ICD_FILENAMES is set to it (for this process, left set) and Dawn
 * is asked again. A machine with a real GPU is never moved onto SwiftShader,
 * and a driver the user chose is never overridden.
 */
import { GpuUnavailableError } from '../errors.js';
import { readAdapterFacts, type AdapterFacts, type GpuHost } from './adapter-info.js';
import { installDawnPollingPacer, isCpuAdapter, type DawnPolling } from './dawn-polling.js';

/** Chromium's SwiftShader Vulkan driver, as Debian installs it. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Features enabled when the adapter has them; kernels check AdapterFacts before using one. */
export const DEFAULT_OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['timestamp-query', 'subgroups', 'shader-f16'];

/**
 * Limits raised from WebGPU's defaults to what the adapter allows: buffer and
 * workgroup sizes bound the layers and tiles the kernels can take, and the
 * defaults (e.g. 128 MiB per storage binding) are below most adapters.
 */
const RAISED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** The Vulkan loader's variables that name drivers. */
const VULKAN_DRIVER_VARIABLES = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES'] as const;

export interface RequestGpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Features the caller cannot do without: GpuUnavailableError when the adapter lacks one. */
  requiredFeatures?: readonly GPUFeatureName[];
  /** Features enabled when the adapter has them (default DEFAULT_OPTIONAL_FEATURES). */
  optionalFeatures?: readonly GPUFeatureName[];
  /** Node only: options for the `webgpu` package's create(), e.g. `backend=vulkan`, `enable-dawn-features=...`. */
  dawnFlags?: readonly string[];
  /**
   * Node only: how Dawn's polling for finished GPU work is paced while a
   * promise of it is pending (dawn-polling.ts). `auto` (default) paces it on
   * CPU adapters (SwiftShader), whose shader threads the busy poll slows;
   * `paced` always; `busy` never. The pacer is process-wide: while one paced
   * device is open, every dawn.node wait in the process is paced.
   */
  polling?: DawnPolling;
  /** Node only: the Vulkan ICD to fall back on (see the top of this file); null never falls back. Default SWIFTSHADER_ICD. */
  fallbackVulkanIcd?: string | null;
}

export interface Gpu {
  readonly device: GPUDevice;
  readonly facts: AdapterFacts;
  /**
   * Destroys the device. In Node this also drops the package's GPU object,
   * which keeps Dawn (and the process) alive while referenced.
   */
  destroy(): void;
}

/** A WebGPU device from the host at hand; GpuUnavailableError, listing every attempt, when there is none. */
export async function requestGpu(options: RequestGpuOptions = {}): Promise<Gpu> {
  const browserGpu = typeof navigator !== 'undefined' ? (navigator as Navigator & { gpu?: GPU }).gpu : undefined;
  if (browserGpu !== undefined) {
    const detail = `navigator.gpu in ${navigator.userAgent}`;
    const adapter = await browserGpu.requestAdapter(adapterOptions(options));
    if (adapter === null) {
      throw new GpuUnavailableError('no WebGPU adapter', [`${detail}: requestAdapter(${JSON.stringify(adapterOptions(options))}) gave null`]);
    }
    return openDevice(browserGpu, adapter, 'browser', detail, options);
  }
  if (globalThis.process?.versions?.node !== undefined) return requestNodeGpu(options);
  const agent = typeof navigator !== 'undefined' ? navigator.userAgent : 'an unknown host';
  throw new GpuUnavailableError('no WebGPU in this host', [
    `navigator.gpu in ${agent}: undefined (a browser without WebGPU, or Chromium on Linux without --enable-unsafe-webgpu, or a page not served from https or localhost)`,
  ]);
}

function adapterOptions(options: RequestGpuOptions): GPURequestAdapterOptions {
  return options.powerPreference !== undefined ? { powerPreference: options.powerPreference } : {};
}

/**
 * The part of the `webgpu` package used here, declared locally: `webgpu` is an
 * optional dependency, and type-checking must not need it (WebGPU's own types
 * come from the @webgpu/types devDependency, through tsconfig's `types`).
 */
interface WebGpuPackage {
  create(flags: string[]): GPU;
}

async function requestNodeGpu(options: RequestGpuOptions): Promise<Gpu> {
  const flags = [...(options.dawnFlags ?? [])];
  const tried: string[] = [];
  let pkg: WebGpuPackage;
  try {
    // A computed specifier: bundlers (Vite) leave it alone, so browser bundles never include Dawn.
    const specifier = 'webgpu';
    pkg = (await import(/* @vite-ignore */ specifier)) as WebGpuPackage;
  } catch (e) {
    throw new GpuUnavailableError('the webgpu package (Dawn for Node) could not be loaded', [
      `Node ${process.version} on ${process.platform}-${process.arch}: import('webgpu') failed: ${(e as Error).message}`,
    ]);
  }

  const attempt = async (driver: string): Promise<{ gpu: GPU; adapter: GPUAdapter } | undefined> => {
    const where = `Node webgpu package, ${driver}, create(${JSON.stringify(flags)})`;
    try {
      const gpu = pkg.create(flags);
      const adapter = await gpu.requestAdapter(adapterOptions(options));
      tried.push(`${where}: ${adapter === null ? 'no adapter' : 'adapter found'}`);
      return adapter === null ? undefined : { gpu, adapter };
    } catch (e) {
      // Dawn throws rather than returning null for some flags (an unknown adapter name, say).
      tried.push(`${where}: threw ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}`);
      return undefined;
    }
  };

  const env = process.env;
  const configured = VULKAN_DRIVER_VARIABLES.filter((v) => env[v] !== undefined && env[v] !== '');
  const systemDriver = configured.length > 0 ? `Vulkan drivers from ${configured.map((v) => `${v}=${env[v]}`).join(' ')}` : "the system's Vulkan drivers";
  let found = await attempt(systemDriver);
  if (found === undefined && process.platform === 'linux') {
    const icd = options.fallbackVulkanIcd === undefined ? SWIFTSHADER_ICD : options.fallbackVulkanIcd;
    const fallback = vulkanFallback(env, icd, icd !== null && (await fileExists(icd)));
    if ('skip' in fallback) tried.push(fallback.skip);
    else {
      env.VK_ICD_FILENAMES = fallback.use;
      found = await attempt(`VK_ICD_FILENAMES=${fallback.use}`);
    }
  }
  if (found === undefined) throw new GpuUnavailableError('no WebGPU adapter', tried);

  const { gpu, adapter } = found;
  const icdNow = process.env.VK_ICD_FILENAMES;
  const detail = `webgpu package (Dawn) in Node ${process.version}, ${icdNow !== undefined && icdNow !== '' ? `VK_ICD_FILENAMES=${icdNow}` : 'system Vulkan drivers'}, flags ${JSON.stringify(flags)}`;
  const opened = await openDevice(gpu, adapter, 'node', detail, options);
  const polling = options.polling ?? 'auto';
  if (polling === 'busy' || (polling === 'auto' && !isCpuAdapter(opened.facts))) return opened;
  let release: () => void;
  try {
    release = installDawnPollingPacer();
  } catch {
    // A global setImmediate that cannot be assigned (frozen globals): Dawn's own polling, slower but correct.
    return opened;
  }
  // A lost device is never destroyed by some owners: the pacer must not outlive it.
  void opened.device.lost.then(release);
  return {
    ...opened,
    destroy() {
      try {
        opened.destroy();
      } finally {
        release();
      }
    },
  };
}

/**
 * Whether to point the Vulkan loader at `icd` after the system's drivers gave
 * no adapter (see the top of this file): only when no variable already
 * chooses the drivers and the file exists. Exported for its tests.
 */
export function vulkanFallback(
  env: Readonly<Record<string, string | undefined>>,
  icd: string | null,
  icdExists: boolean,
): { use: string } | { skip: string } {
  if (icd === null) return { skip: 'no fallback Vulkan driver (fallbackVulkanIcd: null)' };
  const configured = VULKAN_DRIVER_VARIABLES.filter((v) => env[v] !== undefined && env[v] !== '');
  if (configured.length > 0) return { skip: `fallback ${icd} not used: ${configured.join(', ')} already chooses the drivers` };
  if (!icdExists) return { skip: `fallback ${icd}: no such file (install chromium, or set VK_ICD_FILENAMES)` };
  return { use: icd };
}

async function fileExists(path: string): Promise<boolean> {
  const specifier = 'node:fs';
  const fs = (await import(/* @vite-ignore */ specifier)) as typeof import('node:fs');
  return fs.existsSync(path);
}

async function openDevice(
  gpu: GPU,
  adapter: GPUAdapter,
  host: GpuHost,
  detail: string,
  options: RequestGpuOptions,
): Promise<Gpu> {
  const describe = `${detail}, adapter ${adapter.info.description || adapter.info.vendor || '(no info)'}`;
  const required = options.requiredFeatures ?? [];
  const missing = required.filter((f) => !adapter.features.has(f));
  if (missing.length > 0) {
    throw new GpuUnavailableError(`the adapter lacks required feature(s) ${missing.join(', ')}`, [
      `${describe}: features ${[...adapter.features].sort().join(', ') || 'none'}`,
    ]);
  }
  const optional = (options.optionalFeatures ?? DEFAULT_OPTIONAL_FEATURES).filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: `quantgpu ${host}`,
      requiredFeatures: [...new Set([...required, ...optional])],
      requiredLimits,
    });
  } catch (e) {
    throw new GpuUnavailableError(`requestDevice failed: ${(e as Error).message}`, [describe]);
  }
  const facts = readAdapterFacts(gpu, adapter, device, host, detail);
  // Dawn for Node shuts down when the GPU object from create() is collected,
  // and keeps the process alive while it is referenced: hold it until destroy().
  let hostGpu: GPU | undefined = gpu;
  return {
    device,
    facts,
    destroy() {
      device.destroy();
      if (hostGpu !== undefined) hostGpu = undefined;
    },
  };
}
