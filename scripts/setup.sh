#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine, and nothing that is there already; run by
# scripts/test.sh first, and safe to run again. As root it installs Debian's packages itself;
# otherwise it names them.
#
#   Debian: postgresql (the server binaries: the test kit and `trustsafe dev` run private clusters),
#           chromium and npm (the dashboard's browser test), docker-compose (CI validates the compose
#           file), Java 17 and Maven (Apache Kafka, assembled from Maven Central);
#   npm:    tests/browser (playwright-core), tests/tools (@asyncapi/parser);
#   PyPI:   tests/tools/requirements.txt, in a virtual environment under the cache directory;
#   Maven:  Apache Kafka's jars (scripts/kafka.sh assemble).
#
# Environment: TRUSTSAFE_CACHE_DIR (default ~/.cache/trustsafe) for the virtual environment and Kafka.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${TRUSTSAFE_CACHE_DIR:-$HOME/.cache/trustsafe}"

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing+=(postgresql)
command -v chromium >/dev/null || missing+=(chromium)
command -v npm >/dev/null || missing+=(npm)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v runuser >/dev/null || missing+=(util-linux)
if ((${#missing[@]})); then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing Debian packages; as root: apt-get install ${missing[*]}" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

for dir in tests/browser tests/tools; do
    stamp="$dir/node_modules/.package-lock.json"
    if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done

venv="$cache/venv"
requirements="tests/tools/requirements.txt"
if ! cmp -s "$requirements" "$venv/requirements.txt" 2>/dev/null; then
    echo "setup: Python tools into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
fi

bash scripts/kafka.sh assemble
