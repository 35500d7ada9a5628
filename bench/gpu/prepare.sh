#!/usr/bin/env bash
# Prepares what bench/gpu/run_on_gpu.sh needs on a GPU machine without network (see bench/gpu/README.md):
#   <out>/deno.gz                       the Deno binary of this machine, gzip-compressed (~42 MB)
#   <out>/tfjs/tf.min.js                TensorFlow.js 4.22 browser bundle (from node_modules/@tensorflow/tfjs)
#   <out>/tfjs/tf-backend-webgpu.min.js its WebGPU backend (from node_modules, or next to $LSTM_LAB_TFJS_WEBGPU)
# Run from the repository root after `deno install`. Usage: bench/gpu/prepare.sh [out-dir, default .tmp/gpu-carry]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-.tmp/gpu-carry}"
mkdir -p "$OUT/tfjs"

DENO_BIN="$(readlink -f "$(command -v deno)")"
echo "deno: $DENO_BIN ($(deno --version | head -1))"
gzip -9 -c "$DENO_BIN" > "$OUT/deno.gz"

cp node_modules/@tensorflow/tfjs/dist/tf.min.js "$OUT/tfjs/"
WEBGPU_DIST=node_modules/@tensorflow/tfjs-backend-webgpu/dist
if [ ! -f "$WEBGPU_DIST/tf-backend-webgpu.min.js" ] && [ -n "${LSTM_LAB_TFJS_WEBGPU:-}" ]; then
  WEBGPU_DIST="$(dirname "$LSTM_LAB_TFJS_WEBGPU")"
fi
if [ -f "$WEBGPU_DIST/tf-backend-webgpu.min.js" ]; then
  cp "$WEBGPU_DIST/tf-backend-webgpu.min.js" "$OUT/tfjs/"
else
  echo "warning: @tensorflow/tfjs-backend-webgpu 4.22.0 not found (add it to package.json devDependencies and run"
  echo "         deno install, or set LSTM_LAB_TFJS_WEBGPU to its dist/tf-backend-webgpu.node.js): tfjs-webgpu will be n/a"
fi
du -ch "$OUT"/deno.gz "$OUT"/tfjs/* | sed 's/^/  /'
echo "carry $OUT to the GPU machine (e.g. the device tool's carry: [\"$OUT\"]), then: bench/gpu/run_on_gpu.sh"
