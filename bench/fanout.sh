#!/usr/bin/env bash
# Fan-out benchmark, Baton vs nginx-rtmp with the same load tool (issue #7).
#
#   bash bench/fanout.sh [--quick] [--only p500,slow] [--servers nginx,baton-1core] [--out DIR] ...
#
# Installs nginx with the RTMP module if missing, raises the open-file limit,
# builds baton and baton-bench (release), then runs bench/fanout.py with the
# same arguments (see `python3 bench/fanout.py --help`). Results:
# bench/results/fanout-YYYYMMDD-HHMM.{json,md}.
# FANOUT_NO_BUILD=1 skips the cargo build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"

for a in "$@"; do
    case "$a" in
        -h|--help) exec python3 "$here/fanout.py" --help ;;
    esac
done

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

rtmp_module_present() {
    [ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] ||
        [ -f /usr/share/nginx/modules-available/mod-rtmp.conf ]
}
if ! { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || ! rtmp_module_present; then
    echo "[fanout.sh] installing nginx-light and libnginx-mod-rtmp" >&2
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y nginx-light libnginx-mod-rtmp
    # Debian may start the packaged nginx service; the benchmark uses its own.
fi

# Open files: players + idle connections, for the tool and for the server.
need=20000
hard="$(ulimit -Hn)"
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
    ulimit -Hn "$need" 2>/dev/null || true
    hard="$(ulimit -Hn)"
fi
ulimit -n "$hard" 2>/dev/null || ulimit -n "$need" 2>/dev/null || true
soft="$(ulimit -n)"
if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
    echo "[fanout.sh] WARNING: open-file limit is $soft (< $need): large runs will fail to connect" >&2
fi

if [ "${FANOUT_NO_BUILD:-0}" != 1 ]; then
    cargo build --release -p baton -p baton-bench
fi

exec python3 "$here/fanout.py" "$@"
