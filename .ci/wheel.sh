#!/usr/bin/env bash
# The package as a user installs it: a wheel built from this checkout, installed into a fresh
# virtualenv outside it, runs the demo end to end (schemas, migrations, templates and the
# query help must all be inside the wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(mktemp -d /tmp/dangan-wheel.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
.venv/bin/python -m pip wheel -q --no-deps -w "$OUT/dist" .
command -v python3.11 >/dev/null && PYBIN=python3.11 || PYBIN=python3
$PYBIN -m venv "$OUT/venv"
"$OUT/venv/bin/pip" install -q --upgrade pip
"$OUT/venv/bin/pip" install -q "$OUT"/dist/dangan-*.whl
cd "$OUT"
# the demo's log is read in English below, whatever this machine's locale
OMP_THREAD_LIMIT=1 LC_ALL=C.UTF-8 "$OUT/venv/bin/dangan" demo --home "$OUT/demo" > "$OUT/demo.log" 2>&1 || { tail -40 "$OUT/demo.log"; exit 1; }
grep -q "written: $OUT/demo/audit-report.html" "$OUT/demo.log" || { tail -40 "$OUT/demo.log"; exit 1; }
"$OUT/venv/bin/dangan" --home "$OUT/demo/archive" index check
# the compiled Chinese catalogue is inside the wheel
"$OUT/venv/bin/dangan" --lang zh_CN --help | grep -q "数据目录" || { echo "wheel: no zh_CN catalogue"; exit 1; }
echo "wheel: $(ls "$OUT"/dist) installs outside the checkout and runs the demo"
