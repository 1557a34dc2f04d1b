#!/usr/bin/env bash
# One command for a machine with a real GPU, through Node and Dawn (no browser):
# exactness of every kernel against the golden model, the kernel bench, the model
# bench and a per-layer roofline, written as one JSON file. Run it first whenever a
# session is lent a GPU machine, and commit the file:
#
#   bash bench/device-check.sh [OUT.json]          (default bench/results/device-check.json)
#
# Each part is bounded (QUANTGPU_PART_TIMEOUT seconds, default 150) so that the
# whole stays within 8 minutes; a part that fails or runs over is recorded as such
# and the others still run.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench/results/device-check.json}"
limit="${QUANTGPU_PART_TIMEOUT:-150}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

part() { # name, then the command; stdout must be one JSON document
  local name="$1"; shift
  local start=$SECONDS
  if timeout "$limit" "$@" >"$tmp/$name.json" 2>"$tmp/$name.err"; then status=ok; else status="failed ($?)"; fi
  echo "{\"part\":\"$name\",\"status\":\"$status\",\"seconds\":$((SECONDS - start))}" >"$tmp/$name.meta"
  echo "device-check: $name $status in $((SECONDS - start)) s" >&2
}

part exactness npx tsx bench/gpu-exactness.ts --json
part kernels npx tsx bench/gpu-kernels.bench.ts --quick --json
part models npx tsx bench/gpu-models.bench.ts --gpu node --quick --json
part roofline npx tsx src/cli/bin.ts profile models/fashion-resnet.onnx --config w8a8 --batch 8 --repeats 10 --roofline --gpu node --json

node -e '
  const fs = require("fs");
  const [dir, out, ...parts] = process.argv.slice(1);
  const doc = { format: "quantgpu-device-check", date: new Date().toISOString(), parts: {} };
  for (const p of parts) {
    const meta = JSON.parse(fs.readFileSync(`${dir}/${p}.meta`, "utf8"));
    let result = null;
    try { result = JSON.parse(fs.readFileSync(`${dir}/${p}.json`, "utf8")); } catch { result = null; }
    const err = fs.readFileSync(`${dir}/${p}.err`, "utf8").split("\n").filter((l) => l && !l.startsWith("Warning:")).slice(-5);
    doc.parts[p] = { ...meta, result, ...(meta.status === "ok" ? {} : { stderr: err }) };
  }
  fs.writeFileSync(out, JSON.stringify(doc, null, 2) + "\n");
  console.log(`device-check: ${out}`);
' "$tmp" "$out" exactness kernels models roofline
