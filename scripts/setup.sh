#!/usr/bin/env bash
# Install what quantgpu needs on a fresh Debian machine: system packages (test data,
# datasets) through apt-get when missing, then the npm dependencies from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  libonnx-testdata      # ONNX's own operator test cases (tests)
  dataset-fashion-mnist # the default dataset
  python3-sklearn       # ships the 8x8 digits dataset
  python3-skimage       # real photos (data folder) for the image readers and TF.js tests
  chromium              # headless WebGPU (SwiftShader) for the GPU tests, and its Vulkan driver for Node
  libvulkan1            # the Vulkan loader that the npm package webgpu (Dawn) needs in Node
  python3-onnx          # tools/train: quantized files in ONNX Runtime's layout (tests), the peers bench's MobileNetV2
  python3-torch         # tools/train: torch.ao quantized exports (tests), the peers bench's MobileNetV2
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # onnxruntime-node (a test reference) ships its CPU binaries; its install script would
  # only try to download extra ones from outside the npm registry.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
