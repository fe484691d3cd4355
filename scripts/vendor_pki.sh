#!/usr/bin/env bash
# Rebuild trading/kernel/web/static/vendor/pkijs/pki.bundle.js from the npm registry.
#
# PKI.js's ES module imports asn1js, pvtsutils, pvutils, bytestreamjs and @noble/hashes by bare
# name, which a browser cannot resolve without an import map (and the pages' CSP forbids inline
# scripts). So the pinned packages (scripts/vendor_pki/package.json + package-lock.json, installed
# with `npm ci`) are bundled, unminified, into one ES module with esbuild. Re-running the script
# gives the same bytes; the digest goes in trading/kernel/web/static/vendor/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../trading/kernel/web/static/vendor/pkijs"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/vendor_pki/package.json" "$here/vendor_pki/package-lock.json" "$here/vendor_pki/entry.js" "$work/"
cd "$work"
npm ci --ignore-scripts --no-audit --no-fund >/dev/null
mkdir -p "$out"
node_modules/.bin/esbuild entry.js --bundle --format=esm --platform=browser --target=es2020 \
  --legal-comments=inline --charset=utf8 --log-level=warning --outfile="$out/pki.bundle.js"
for pkg in pkijs asn1js pvtsutils pvutils bytestreamjs @noble/hashes tslib; do
  licence="$(ls node_modules/$pkg/LICENSE* | head -n 1)"
  cp "$licence" "$out/LICENSE.$(basename "$pkg")"
done
cd "$out" && sha256sum pki.bundle.js
