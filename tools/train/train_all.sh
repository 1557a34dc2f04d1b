#!/bin/sh
# Regenerate the whole model zoo into models/ (or the folder given as $1).
# Runs the six trainings one after another on the CPU; about half an hour on
# a 2-core machine.  Uses Debian's Python (python3-torch, python3-onnx).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-"$root/models"}
py=${PYTHON:-/usr/bin/python3}
run() {
    echo "=== $*" >&2
    nice -n 10 "$py" "$here/train.py" --out "$out" "$@"
}
run --arch vgg    --dataset fashion-mnist --epochs 6 --reference 4
run --arch resnet --dataset fashion-mnist --epochs 6
run --arch mbv2   --dataset fashion-mnist --epochs 5
run --arch mbv3   --dataset fashion-mnist --epochs 5
run --arch vgg    --dataset digits --epochs 40
run --arch resnet --dataset digits --epochs 40
# The cards' floatAccuracy is measured by quantgpu's own CPU executor, not by torch.
(cd "$root" && npx tsx tools/zoo-cards.ts $(ls "$out"/*.onnx))
