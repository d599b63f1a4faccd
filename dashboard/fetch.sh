#!/usr/bin/env bash
# The dashboard's charting library, uPlot, from the npm registry at build
# time: `npm ci` of dashboard/package.json into build/dashboard/, so the
# version and the tarball's checksum are the ones dashboard/package-lock.json
# pins.  Run by make (dashboard/dashboard.mk); the browser never reaches the
# internet: the files are installed with the extension and served by it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build/dashboard
command -v npm >/dev/null || PERPS_EXTRA_PACKAGES=npm bash "$ROOT/scripts/deps.sh"
mkdir -p "$OUT"
cp "$ROOT/dashboard/package.json" "$ROOT/dashboard/package-lock.json" "$OUT/"
echo "dashboard: npm ci (uPlot $(sed -n 's/.*"uplot": "\(.*\)".*/\1/p' "$ROOT/dashboard/package.json"))"
npm ci --prefix "$OUT" --no-audit --no-fund --loglevel=error >/dev/null
for f in dist/uPlot.iife.min.js dist/uPlot.min.css LICENSE; do
    [ -s "$OUT/node_modules/uplot/$f" ] || { echo "dashboard: uplot/$f is missing after npm ci" >&2; exit 1; }
done
touch "$OUT/node_modules/uplot/.installed"
