#!/bin/sh
# Installs the benchmark's peers into a git-ignored cache (bench/.peers-cache/, or $SLUICE_PEERS_CACHE):
#   - Spark: a Python venv with pyspark (needs python3 >= 3.10 and Java 17+ on the PATH);
#   - Spark's Kafka connector (spark-sql-kafka and the jars it needs that pyspark lacks), fetched from
#     Maven Central with `mvn dependency:copy-dependencies` on spark/pom.xml into $CACHE/spark-kafka-jars
#     (needs Maven), for the Kafka peer (spark/kafka_stream.py, `npm run bench -- --kafka`);
#   - Benthos: `go build` of bench/peers/benthos (needs Go; modules come from the Go module proxy).
# Each is skipped, with the reason, when its toolchain is missing. Idempotent: what is already there
# is kept (delete the cache to start over). Writes $CACHE/status.json for `npm run bench -- --peers`.
#
# Usage: sh bench/peers/install.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${SLUICE_PEERS_CACHE:-$ROOT/bench/.peers-cache}
# 4.2.0, not the newest (4.3.0): the Kafka connector must be of the same Spark version, and
# spark-sql-kafka-0-10_2.13 4.3.0 is not served by the Maven Central this machine reaches; 4.2.0 is.
PYSPARK_VERSION=4.2.0
mkdir -p "$CACHE/bin"

now() { date +%s; }
json_str() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr '\n' ' '; }

# ---------------------------------------------------------------------------- Spark (pyspark)
spark_status=""
PY=$(command -v python3 || true)
JAVA=$(command -v java || true)
if [ -z "$PY" ]; then
  spark_status='{"ok":false,"reason":"python3 not found on the PATH"}'
elif ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
  spark_status="{\"ok\":false,\"reason\":\"pyspark $PYSPARK_VERSION needs Python >= 3.10, found $(json_str "$("$PY" --version 2>&1)")\"}"
elif [ -z "$JAVA" ]; then
  spark_status='{"ok":false,"reason":"java not found on the PATH (Spark needs Java 17+)"}'
elif ! java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then
  spark_status="{\"ok\":false,\"reason\":\"Spark needs Java 17+, found $(json_str "$(java -version 2>&1 | head -1)")\"}"
elif [ -f "$CACHE/venv/.pyspark-$PYSPARK_VERSION" ]; then
  echo "peers: spark: pyspark $PYSPARK_VERSION already in $CACHE/venv" >&2
  spark_status="{\"ok\":true,\"python\":\"$CACHE/venv/bin/python\",\"installSeconds\":$(cat "$CACHE/venv/.pyspark-$PYSPARK_VERSION"),\"cached\":true}"
else
  echo "peers: spark: installing pyspark $PYSPARK_VERSION into $CACHE/venv (about 500 MB) ..." >&2
  t=$(now)
  if "$PY" -m venv "$CACHE/venv" >&2 && "$CACHE/venv/bin/pip" install -q --disable-pip-version-check "pyspark==$PYSPARK_VERSION" >&2; then
    s=$(( $(now) - t ))
    echo "$s" > "$CACHE/venv/.pyspark-$PYSPARK_VERSION"
    echo "peers: spark: installed in $s s" >&2
    spark_status="{\"ok\":true,\"python\":\"$CACHE/venv/bin/python\",\"installSeconds\":$s,\"cached\":false}"
  else
    spark_status='{"ok":false,"reason":"pip install pyspark failed (see the output above)"}'
  fi
fi

# ---------------------------------------------------------------------------- Spark's Kafka connector
kafka_status=""
JARS="$CACHE/spark-kafka-jars"
jar_list() { ls "$JARS"/*.jar 2>/dev/null | tr '\n' ',' | sed 's/,$//'; }
if ! printf '%s' "$spark_status" | grep -q '"ok":true'; then
  kafka_status='{"ok":false,"reason":"Spark itself is not installed (see spark)"}'
elif ! command -v mvn >/dev/null 2>&1; then
  kafka_status='{"ok":false,"reason":"mvn not found on the PATH (Maven fetches the Spark Kafka connector)"}'
elif [ -f "$JARS/.spark-$PYSPARK_VERSION" ] && [ "$JARS/.spark-$PYSPARK_VERSION" -nt "$HERE/spark/pom.xml" ]; then
  echo "peers: spark-kafka: connector for Spark $PYSPARK_VERSION already in $JARS" >&2
  kafka_status="{\"ok\":true,\"jars\":\"$(jar_list)\",\"installSeconds\":$(cat "$JARS/.spark-$PYSPARK_VERSION"),\"cached\":true}"
else
  echo "peers: spark-kafka: fetching spark-sql-kafka-0-10_2.13 $PYSPARK_VERSION and its jars (mvn, Maven Central) ..." >&2
  t=$(now)
  rm -rf "$JARS"
  if mvn -q -B -f "$HERE/spark/pom.xml" dependency:copy-dependencies -DexcludeTransitive=true \
      "-Dspark.version=$PYSPARK_VERSION" "-DoutputDirectory=$JARS" >&2 && [ -n "$(jar_list)" ]; then
    s=$(( $(now) - t ))
    echo "$s" > "$JARS/.spark-$PYSPARK_VERSION"
    echo "peers: spark-kafka: fetched in $s s: $(ls "$JARS" | tr '\n' ' ')" >&2
    kafka_status="{\"ok\":true,\"jars\":\"$(jar_list)\",\"installSeconds\":$s,\"cached\":false}"
  else
    kafka_status="{\"ok\":false,\"reason\":\"mvn could not fetch spark-sql-kafka-0-10_2.13 $PYSPARK_VERSION (see the output above)\"}"
  fi
fi

# ---------------------------------------------------------------------------- Benthos (Go)
benthos_status=""
BIN="$CACHE/bin/sluice-benthos-peer"
if ! command -v go >/dev/null 2>&1; then
  benthos_status='{"ok":false,"reason":"go not found on the PATH"}'
else
  fresh=1
  for f in "$HERE/benthos/main.go" "$HERE/benthos/go.mod" "$HERE/benthos/go.sum"; do
    [ -f "$BIN" ] && [ "$BIN" -nt "$f" ] || fresh=0
  done
  if [ "$fresh" = 1 ] && [ -f "$CACHE/bin/.build-seconds" ]; then
    echo "peers: benthos: $BIN is up to date" >&2
    benthos_status="{\"ok\":true,\"bin\":\"$BIN\",\"installSeconds\":$(cat "$CACHE/bin/.build-seconds"),\"cached\":true}"
  else
    echo "peers: benthos: go build (downloads github.com/redpanda-data/benthos/v4 the first time) ..." >&2
    t=$(now)
    if (cd "$HERE/benthos" && GOFLAGS=-mod=readonly go build -o "$BIN" .) >&2; then
      s=$(( $(now) - t ))
      echo "$s" > "$CACHE/bin/.build-seconds"
      echo "peers: benthos: built in $s s" >&2
      benthos_status="{\"ok\":true,\"bin\":\"$BIN\",\"installSeconds\":$s,\"cached\":false}"
    else
      benthos_status='{"ok":false,"reason":"go build failed (see the output above)"}'
    fi
  fi
fi

printf '{"spark":%s,"sparkKafka":%s,"benthos":%s}\n' "$spark_status" "$kafka_status" "$benthos_status" > "$CACHE/status.json"
cat "$CACHE/status.json"
