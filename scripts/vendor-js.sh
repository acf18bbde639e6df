#!/usr/bin/env bash
# Refresh the JavaScript libraries served from our own origin (badgehub/static/vendor/), from the npm
# registry, with their licence and a provenance note. The page's CSP is script-src 'self': no CDN.
#
#   bash scripts/vendor-js.sh            # fetch the pinned versions and rewrite the vendored files
#   JSQR_VERSION=1.4.0 bash scripts/vendor-js.sh
#
# npm checks the tarball against the registry's integrity (sha512); the sha256 of every file we serve
# is written to PROVENANCE.md, so a review can compare it with the tarball. Commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."

JSQR_VERSION="${JSQR_VERSION:-1.4.0}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

vendor_jsqr() {
  local target=badgehub/static/vendor/jsqr
  (cd "$work" && npm pack "jsqr@${JSQR_VERSION}" --json --silent >pack.json && tar xzf "jsqr-${JSQR_VERSION}.tgz")
  local integrity
  integrity="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1]))[0].integrity)' "$work/pack.json")"
  mkdir -p "$target"
  cp "$work/package/dist/jsQR.js" "$target/jsQR.js"
  cp "$work/package/LICENSE" "$target/LICENSE"
  cat >"$target/PROVENANCE.md" <<NOTE
# jsQR, vendored

- package: \`jsqr@${JSQR_VERSION}\` from the npm registry (source: https://github.com/cozmo/jsQR), licence
  Apache-2.0 (\`LICENSE\`, copied from the package)
- npm tarball integrity: \`${integrity}\`
- \`jsQR.js\` is the package's \`dist/jsQR.js\`, unchanged:
  sha256 \`$(sha256sum "$target/jsQR.js" | cut -d' ' -f1)\`
- \`LICENSE\` sha256 \`$(sha256sum "$target/LICENSE" | cut -d' ' -f1)\`
- refreshed by \`scripts/vendor-js.sh\`; used by \`badgehub/static/js/verify-scan.js\` (the QR scanner of
  /verify), which prefers the browser's own BarcodeDetector when there is one.
NOTE
  echo "vendored jsqr@${JSQR_VERSION} into $target"
}

vendor_jsqr
