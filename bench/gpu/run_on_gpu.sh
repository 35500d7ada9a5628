#!/usr/bin/env bash
# Times our WebGPU backend, tfjs-webgpu and PyTorch's cuDNN nn.LSTM / nn.RNN on the benchmark configs on an NVIDIA
# GPU, and prints one table (bench/gpu/README.md). Run from anywhere; needs what bench/gpu/prepare.sh made (or a
# deno on PATH), python3 with PyTorch + CUDA, and NVIDIA's Vulkan driver (Deno's WebGPU runs on Vulkan on Linux).
#
#   bench/gpu/run_on_gpu.sh [all|webgpu|torch|combine]     (default all; phases fit 10-minute command limits)
#
# Environment: LSTM_LAB_GPU_CARRY (default .tmp/gpu-carry), OUT (results folder; default bench/gpu/out),
# CONFIGS (default tiny,small,medium,wide,long), BUDGET (seconds per model per case, default 20),
# RECURRENCE (default auto,steps,persistent), QUICK=1 (short timings), ALLOW_SOFTWARE=1 (run even if WebGPU only
# finds a software adapter: numbers then say nothing about the GPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
PHASE="${1:-all}"
CARRY="${LSTM_LAB_GPU_CARRY:-.tmp/gpu-carry}"
OUT="${OUT:-bench/gpu/out}"
CONFIGS="${CONFIGS:-tiny,small,medium,wide,long}"
BUDGET="${BUDGET:-20}"
RECURRENCE="${RECURRENCE:-auto,steps,persistent}"
mkdir -p "$OUT"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

step() { printf '\n=== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

find_deno() {
  if command -v deno >/dev/null 2>&1; then DENO="$(command -v deno)"; return; fi
  if [ -f "$CARRY/deno.gz" ]; then
    mkdir -p /tmp/lstm-lab-deno
    [ -x /tmp/lstm-lab-deno/deno ] || { gunzip -c "$CARRY/deno.gz" > /tmp/lstm-lab-deno/deno; chmod +x /tmp/lstm-lab-deno/deno; }
    DENO=/tmp/lstm-lab-deno/deno
    return
  fi
  echo "no deno on PATH and no $CARRY/deno.gz (run bench/gpu/prepare.sh where Deno is installed)" >&2
  exit 2
}

phase_webgpu() {
  find_deno
  step "machine"
  "$DENO" --version | head -1
  nvidia-smi -L 2>/dev/null || echo "nvidia-smi: not found"
  ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | grep -i nvidia \
    || echo "warning: no NVIDIA Vulkan ICD found (nvidia_icd.json); containers need NVIDIA_DRIVER_CAPABILITIES to include graphics"
  step "WebGPU adapter"
  local probe
  probe="$("$DENO" eval 'const a = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
    console.log(a === null ? "none" : `${a.info.isFallbackAdapter ? "software" : "hardware"} ${a.info.vendor} ${a.info.description}`);' 2>&1 | tail -1)"
  echo "$probe" | tee "$OUT/adapter.txt"
  case "$probe" in
    hardware*) ;;
    *) if [ "${ALLOW_SOFTWARE:-0}" != 1 ]; then
         echo "WebGPU found no hardware adapter ($probe): install or expose NVIDIA's Vulkan driver; ALLOW_SOFTWARE=1 to run anyway" >&2
         exit 3
       fi ;;
  esac
  step "our WebGPU backend and tfjs-webgpu"
  local extra=()
  [ "${QUICK:-0}" = 1 ] && extra+=(--quick)
  if [ -f "$CARRY/tfjs/tf.min.js" ]; then export LSTM_LAB_TFJS_UMD_DIR="$CARRY/tfjs"; fi
  "$DENO" run -A bench/train_step_bench.ts --backend webgpu --configs "$CONFIGS" --recurrence "$RECURRENCE" \
    --peer-budget "$BUDGET" --json "$OUT/webgpu.json" "${extra[@]}" 2>&1 | tee "$OUT/webgpu.log"
}

phase_torch() {
  step "PyTorch cuDNN"
  python3 bench/gpu/torch_cudnn_bench.py --configs "$CONFIGS" --json "$OUT/torch.json" 2>&1 | tee "$OUT/torch.log"
}

phase_combine() {
  find_deno
  step "one table"
  "$DENO" run -A bench/gpu/combine.ts "$OUT/webgpu.json" "$OUT/torch.json" 2>&1 | tee "$OUT/table.txt"
}

case "$PHASE" in
  webgpu) phase_webgpu ;;
  torch) phase_torch ;;
  combine) phase_combine ;;
  all) phase_webgpu; phase_torch || echo "PyTorch phase failed: the cuDNN columns stay empty"; phase_combine ;;
  *) echo "usage: $0 [all|webgpu|torch|combine]" >&2; exit 2 ;;
esac
