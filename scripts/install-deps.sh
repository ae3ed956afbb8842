#!/usr/bin/env bash
# Installs every Debian package and npm module the harness needs (Debian 12's archive). Idempotent: when every
# package is already installed it only checks. Run as root (CI machines are root).
#
#   scripts/install-deps.sh              everything: build, tests, fuzzing, browsers, benchmarks
#   scripts/install-deps.sh --libraries  only what gating a library client needs (README, "Gate your library"):
#                                        the build, pytest and the reports, Node/Python/curl clients; no browsers,
#                                        no fuzzing or benchmark tools
set -euo pipefail
cd "$(dirname "$0")/.."

LIBRARY_PACKAGES=(
  # build
  gcc make pkg-config libevent-dev check libssl-dev libjansson-dev libhttp-parser-dev zlib1g-dev
  # TLS origins: the openssl command (check_tls_origins runs openssl s_client)
  openssl
  # pytest and reports; pyflakes for make lint (part of make test)
  python3-pytest python3-pytest-xdist python3-pytest-timeout python3-jinja2 python3-pyflakes
  # clients under test (python3-websocket: the blocking WebSocket adapter of fixtures/ADAPTERS.md §5.1)
  python3-websockets python3-aiohttp python3-requests python3-httpx python3-websocket curl nodejs npm
)
OTHER_PACKAGES=(
  # fuzzing and sanitizers (clang's libFuzzer and runtime)
  clang libclang-rt-14-dev
  # records for mutation testing (make mutate, make records)
  xz-utils
  # browser driver transport
  python3-selenium
  # browsers; certutil (libnss3-tools): each browser profile's own NSS database trusts the run's CA
  chromium chromium-driver firefox-esr webkit2gtk-driver xvfb xauth libnss3-tools
  # benchmarks' references and load clients
  nginx-light wrk valgrind
)
case "${1:-}" in
  "") PACKAGES=("${LIBRARY_PACKAGES[@]}" "${OTHER_PACKAGES[@]}") ;;
  --libraries) PACKAGES=("${LIBRARY_PACKAGES[@]}") ;;
  *) echo "usage: $0 [--libraries]" >&2; exit 2 ;;
esac

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
