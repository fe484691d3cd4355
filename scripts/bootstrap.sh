#!/usr/bin/env bash
# Installs what ggzy needs on a fresh Debian machine (run as root), idempotently:
#   Python 3.11 + uv, the locked Python packages (.venv), and with --test the system packages the
#   test suite uses (Chromium for Playwright, CJK fonts, PostgreSQL, Redis), then starts the services;
#   --bench is --test plus the load generator the benchmarks drive (wrk, for bench/http_auth.py).
# Each step checks first and does nothing when the thing is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_test=1; want_bench=1 ;;
    *) echo "bootstrap: unknown option $arg (use --test or --bench)" >&2; exit 2 ;;
  esac
done

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated -eq 0 ]; then apt-get update -qq; apt_updated=1; fi
  echo "bootstrap: apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- Python 3.11 and uv -------------------------------------------------------------------
PY=$(command -v python3.11 || true)
if [ -z "$PY" ]; then
  apt_install python3 python3-venv python3-pip
  PY=$(command -v python3.11 || command -v python3)
fi
UV=$(command -v uv || true)
if [ -z "$UV" ]; then
  if [ ! -x /opt/ggzy-tools/bin/uv ]; then
    "$PY" -m venv /opt/ggzy-tools
    /opt/ggzy-tools/bin/pip install -q uv
  fi
  UV=/opt/ggzy-tools/bin/uv
fi
"$UV" sync --frozen --python "$PY" -q

# WeasyPrint (PDF documents) needs Pango; documents in Chinese need CJK fonts.
apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk

if [ $want_test -eq 1 ]; then
  # Chromium for Playwright; the external verifiers the certs tests run against our output
  # (openssl cms/ts/verify, pdfsig, certutil for pdfsig's trust store, zbarimg for QR codes);
  # SoftHSM2, the PKCS#11 token `ggzy agent` is tested against (tests/certs/agent).
  apt_install chromium openssl poppler-utils libnss3-tools zbar-tools softhsm2
  if [ $want_bench -eq 1 ]; then apt_install wrk; fi
  scripts/services.sh
fi
