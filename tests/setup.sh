#!/usr/bin/env bash
# Installs what the test suite needs: the npm packages, and Debian's Chromium for the browser
# tests when it is missing. `deno task test` runs it first; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
npx -y deno@2 install --quiet >/dev/null

# Debian's Chromium for the browser tests (playwright-core drives it; it downloads no browser).
# Installed where it can be (as root, with apt-get). Elsewhere the browser tests are ignored,
# except under CI (CI=true), which runs every test: there a missing Chromium stops the setup.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif [ "${CI:-}" = "true" ]; then
    echo "setup: chromium is missing and cannot be installed (not root, or no apt-get);" \
      "CI runs the browser tests: install Debian's chromium first" >&2
    exit 1
  else
    echo "setup: chromium is missing and cannot be installed here; the browser tests will be ignored"
  fi
fi
