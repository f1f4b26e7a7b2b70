#!/usr/bin/env bash
# The gateway benchmark (`make bench`): upstream direct vs nginx vs termgate, one run; then the
# per-request cost of three access-token designs (bench/tokens.py).
# Installs nginx and wrk with apt-get when they are missing; arguments go to bench/run.py.
# `bash bench/run.sh --login-storm [ARGS]`: instead, the gateway with and without a concurrent
# storm of wrong passwords on the portal (bench/login_storm.py, which takes ARGS).
# `bash bench/run.sh --compare [ARGS]`: instead, this bench before the published contract (f1c422f)
# and now, in turns on this machine (bench/compare.py, which takes ARGS).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing ${missing[*]} with apt-get"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
export PATH="$PATH:/usr/sbin"

if [ "${1:-}" = "--login-storm" ]; then
    shift
    exec uv run python bench/login_storm.py "$@"
fi
if [ "${1:-}" = "--compare" ]; then
    shift
    exec uv run python bench/compare.py "$@"
fi

uv run python bench/run.py "$@"
# The token choice, in process: JWT verified every time, JWT with the claims cache, opaque token.
uv run python bench/tokens.py
