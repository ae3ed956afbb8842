#!/usr/bin/env bash
# Installs every Debian package and npm module the harness needs (Debian 12's archive). Idempotent: when every
# package is already installed it only checks. Run as root (CI machines are root).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build
  gcc make pkg-config libevent-dev check libssl-dev libjansson-dev libhttp-parser-dev zlib1g-dev
  # TLS origins: certutil (each browser profile's own NSS database trusts the run's CA), the openssl command
  # (check_tls_origins runs openssl s_client)
  libnss3-tools openssl
  # fuzzing and sanitizers (clang's libFuzzer and runtime)
  clang libclang-rt-14-dev
  # records for mutation testing (make mutate, make records)
  xz-utils
  # pytest and reports
  python3-pytest python3-pytest-xdist python3-pytest-timeout python3-jinja2 python3-selenium
  # clients under test and driver transports
  python3-websockets python3-aiohttp python3-requests python3-httpx curl nodejs npm
  # browsers
  chromium chromium-driver firefox-esr webkit2gtk-driver xvfb xauth
  # benchmarks' references and load clients
  nginx-light wrk valgrind
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm are preinstalled on these machines (not from Debian): do not fight them.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi

apt_retry() {
  for i in $(seq 1 15); do
    if "$@"; then return 0; fi
    echo "apt busy or failing (attempt $i); retrying in 20 s" >&2
    sleep 20
  done
  return 1
}

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_retry apt-get update -q
  apt_retry apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm modules under test (a lockfile pins them; node_modules stays out of git).
if [[ -f fixtures/node/package-lock.json ]]; then
  (cd fixtures/node && { [[ -d node_modules && node_modules/.package-lock.json -nt package-lock.json ]] || npm ci --no-audit --no-fund --loglevel=error; })
fi
echo "dependencies ok"
