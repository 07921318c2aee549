#!/usr/bin/env bash
# The test command: every suite against the embedded broker, then the suites that touch the log
# against Apache Kafka (one KRaft node this script starts on loopback and stops). PostgreSQL is
# DATABASE_URL if set, else a private cluster per test process.
#
#   scripts/test.sh                 everything (runs scripts/setup.sh first)
#   scripts/test.sh --embedded      only the embedded-broker pass
#   scripts/test.sh --kafka         only the Apache Kafka pass
#
# Environment: CARGO_TARGET_DIR and TRUSTSAFE_CACHE_DIR are honoured; TRUSTSAFE_KAFKA_PORT (else the first free port from 19092).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "scripts/test.sh: installs what the tests need with scripts/setup.sh, then runs every suite on the embedded broker and the log's suites on Apache Kafka"
passes="${1:---all}"
bash scripts/setup.sh
export TRUSTSAFE_PYTHON="${TRUSTSAFE_CACHE_DIR:-$HOME/.cache/trustsafe}/venv/bin/python"

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%T)"; }

if [ "$passes" != --kafka ]; then
    step "every suite, embedded broker"
    env -u KAFKA_BROKERS cargo test --workspace
fi

if [ "$passes" != --embedded ]; then
    step "the suites that touch the log, Apache Kafka"
    kafka_dir="$(mktemp -d -t trustsafe-kafka.XXXXXX)"
    trap 'bash scripts/kafka.sh stop "$kafka_dir"; rm -rf "$kafka_dir"' EXIT
    brokers="$(bash scripts/kafka.sh start "$kafka_dir" | sed -n 's/^KAFKA_BROKERS=//p')"
    echo "Apache Kafka $(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' scripts/kafka/pom.xml) at $brokers"
    # --workspace keeps the features, and so the build, the same as the first pass's.
    KAFKA_BROKERS="$brokers" cargo test --workspace --test eventstore --test incident --test reporting --test aup --test filtering --test e2e
fi
