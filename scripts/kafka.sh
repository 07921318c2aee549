#!/usr/bin/env bash
# Apache Kafka for the test suites, with nothing but Java 17 and Maven: the broker's jars come from
# Maven Central (scripts/kafka/pom.xml) into a cache outside the clone, and one KRaft node (broker and
# controller in one process) runs on loopback with the settings docker-compose.yml uses.
#
#   scripts/kafka.sh start [DIR]   assemble if needed, format DIR (default: a new temporary one), start,
#                                  wait until it answers; prints KAFKA_BROKERS=127.0.0.1:PORT
#   scripts/kafka.sh stop DIR      stop the node started in DIR
#
# Environment: TRUSTSAFE_KAFKA_PORT (default: the first free pair from 19092; the controller listens on
# the port after it),
# TRUSTSAFE_CACHE_DIR (default ~/.cache/trustsafe).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")"
cache="${TRUSTSAFE_CACHE_DIR:-$HOME/.cache/trustsafe}/kafka-$version"
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -n "${TRUSTSAFE_KAFKA_PORT:-}" ]; then
    port="$TRUSTSAFE_KAFKA_PORT"
else
    # The first pair of free ports from 19092 on, so another Kafka (or test run) is no obstacle.
    port=19092
    while in_use "$port" || in_use "$((port + 1))"; do port=$((port + 10)); done
fi
controller_port=$((port + 1))

assemble() {
    [ -f "$cache/.complete" ] && return
    echo "assembling Apache Kafka $version from Maven Central into $cache" >&2
    rm -rf "$cache"
    mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$cache/libs" >&2
    touch "$cache/.complete"
}

# Runs in a subshell of its caller: exec makes the Java process that subshell, so $! is its pid.
java_command() {
    exec java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" \
        -Dkafka.logs.dir="$1" -cp "$cache/libs/*" "${@:2}"
}

start() {
    local dir="${1:-$(mktemp -d -t trustsafe-kafka.XXXXXX)}"
    assemble
    mkdir -p "$dir"
    sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$controller_port|g" -e "s|@DIR@|$dir|g" \
        "$here/kafka/server.properties" >"$dir/server.properties"
    if [ ! -f "$dir/data/meta.properties" ]; then
        (java_command "$dir" kafka.tools.StorageTool format --ignore-formatted \
            --cluster-id "$(java_command "$dir" kafka.tools.StorageTool random-uuid)" \
            --config "$dir/server.properties" >"$dir/format.log")
    fi
    (java_command "$dir" kafka.Kafka "$dir/server.properties") >"$dir/server.out" 2>&1 &
    echo $! >"$dir/kafka.pid"
    for _ in $(seq 120); do
        if in_use "$port" && grep -q "Kafka Server started" "$dir/server.out"; then
            echo "KAFKA_BROKERS=127.0.0.1:$port"
            echo "KAFKA_DIR=$dir"
            return
        fi
        if ! kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
            echo "Apache Kafka did not start; its output:" >&2
            tail -40 "$dir/server.out" >&2
            exit 1
        fi
        sleep 1
    done
    echo "Apache Kafka did not answer on 127.0.0.1:$port within 120 s" >&2
    stop "$dir"
    exit 1
}

stop() {
    local dir="$1" pid
    [ -f "$dir/kafka.pid" ] || return 0
    pid="$(cat "$dir/kafka.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/kafka.pid"
}

case "${1:-}" in
    start) start "${2:-}" ;;
    stop) stop "${2:?which directory}" ;;
    assemble) assemble ;;
    *) echo "usage: $0 start [DIR] | stop DIR | assemble" >&2; exit 2 ;;
esac
