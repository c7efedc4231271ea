#!/usr/bin/env bash
# JMH benchmarks of the store's parts, with the ratios the project targets.
#
#   run-jmh.sh [JMH options...]      (e.g. -f 1 -wi 3 -i 5; default: each benchmark's own settings)
#
# Needs the module built: mvn -B -ntp package -pl msm-benchmarks -am -DskipTests (for target/classes and
# target/jmh-classpath.txt), java and memcached (RepositoryBenchmark starts its own on a free port).
# Writes results/jmh-<date>.md (copied to jmh-latest.md): serialized sizes (Kryo vs JDK), JMH's table, the ratios
# again from AlternatingComparison (A/B slices in turn: steadier on a shared machine), and the ratios
#   Kryo vs JDK serialize+deserialize (target >= 5x faster), bytes (target <= 0.5x),
#   repository findById+save vs spymemcached get+set of the same bytes (target <= 1.5x the time).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CP_FILE="$HERE/target/jmh-classpath.txt"
[[ -r "$CP_FILE" && -d "$HERE/target/classes/META-INF" ]] ||
	{ echo "run-jmh.sh: build first: mvn -B -ntp package -pl msm-benchmarks -am -DskipTests" >&2; exit 1; }
CP="$HERE/target/classes:$(cat "$CP_FILE")"
OUT="${OUT:-$HERE/results}"
STAMP="$(date -u +%Y%m%d-%H%M)"
RAW="$HERE/target/jmh-$STAMP.csv"
MD="$OUT/jmh-$STAMP.md"
mkdir -p "$OUT"
OPTIONS="${*:-the defaults of each benchmark}"

sizes="$(java -cp "$CP" io.github.msm.benchmarks.jmh.SerializedSizes)"
alternating="$(java -cp "$CP" io.github.msm.benchmarks.jmh.AlternatingComparison | grep '^RATIO ')"
echo "$alternating"
java -cp "$CP" org.openjdk.jmh.Main -rf csv -rff "$RAW" "$@" | tee "$HERE/target/jmh-$STAMP.log" | grep -E '^(Benchmark|[A-Z][A-Za-z]+Benchmark\.)'

score() { # benchmark, param ("" for none)
	awk -F',' -v b="\"io.github.msm.benchmarks.jmh.$1\"" -v p="$2" 'NR > 1 { gsub(/["\r]/, "", $NF) } NR > 1 && $1 == b && (p == "" || $NF == p) { print $5 }' "$RAW"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "–"; else printf "%.2f", a / b }'; }
kryo="$(score SerializerBenchmark.serializeAndDeserialize kryo)" jdk="$(score SerializerBenchmark.serializeAndDeserialize jdk)"
write="$(score RepositoryBenchmark.repositoryWrite "")" getset="$(score RepositoryBenchmark.rawGetSet "")"
read_="$(score RepositoryBenchmark.repositoryRead "")" get="$(score RepositoryBenchmark.rawGet "")"
jdk_name="$(java -version 2>&1 | head -n 1 | tr -d '"')"
bytes_ratio="$(sed -n 's/.*ratio=//p' <<<"$sizes")"
{
	echo "# JMH: serializers and repository overhead"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%MZ) · $jdk_name · $(nproc) cores · loadavg $(cut -d' ' -f1-3 /proc/loadavg) · JMH options: $OPTIONS"
	echo
	echo "JMH, each benchmark in its own window (absolute times drift with the machine's load):"
	echo
	echo "| comparison | measured | target |"
	echo "|---|---:|---:|"
	echo "| JDK / Kryo time, serialize + deserialize the realistic session | $(ratio "$jdk" "$kryo")× | ≥ 5× |"
	echo "| Kryo / JDK bytes | $bytes_ratio | ≤ 0.5 |"
	echo "| repository findById + change + save / spymemcached get + set | $(ratio "$write" "$getset")× | ≤ 1.5× |"
	echo "| repository findById + read + save / spymemcached get (read-only request) | $(ratio "$read_" "$get")× | – |"
	echo
	echo "## The same ratios from alternating slices (AlternatingComparison)"
	echo
	echo "Both sides in turn, 21 slices of 250 ms each, median of the per-slice ratios: what a busy machine disturbs least."
	echo "Serializers by the CPU time of the calling thread; repository vs spymemcached by the JVM's CPU time and by elapsed time."
	echo
	sed 's/^RATIO /- /' <<<"$alternating"
	echo
	echo "## Serialized sizes (bytes, each attribute on its own as the store writes them)"
	echo
	echo '```'
	grep -v '^SIZES' <<<"$sizes"
	echo '```'
	echo
	echo "## JMH (average time, µs/op)"
	echo
	echo '```'
	grep -E '^(Benchmark|[A-Z][A-Za-z]+Benchmark\.)' "$HERE/target/jmh-$STAMP.log"
	echo '```'
} >"$MD"
cp "$MD" "$OUT/jmh-latest.md"
cat "$MD"
