#!/usr/bin/env bash
# Read-mostly throughput of the sample app: two jars compared in the same run on the same machine.
#
#   read-mostly.sh JAR_A JAR_B [seconds] [rounds]     (defaults: 20 s, 3 rounds)
#
# Each round runs A, then B (A,B,A,B,... so that drift of the machine hits both alike). Each run
# starts afresh: 2 memcached nodes and ONE app instance of the jar, on free loopback ports; makes
# SESSIONS sessions of ~3 KB through the JSON API; drives WARMUP s of load, then `seconds` measured
# with wrk (THREADS threads x CONNECTIONS connections; 90 % GET /api/session, 10 % POST /api/counter;
# each connection with a session of its own, see read-mostly.lua); then stops everything again.
# Prints per run and, at the end, per variant: median req/s, p50 and p99 over the rounds, the ratio
# B/A, and memcached operations per request (from `stats` over both nodes, measured window only).
# Raw results go to msm-sample-app/target/bench/<time>/ (runs.tsv, wrk output, app and memcached logs).
#
# Environment: ARGS_A, ARGS_B (extra app arguments of each variant, e.g. ARGS_B="--msm.sticky=true
# --msm.jvm-route=bench"; with one jar for both, A and B differ by these only), SESSIONS (64), CONNECTIONS (64), THREADS (2), WARMUP (5), WRITE_PERCENT (10),
# ATTRIBUTE_BYTES (1000; 3 attributes a session), JAVA_OPTS (-Xms256m -Xmx256m -XX:TieredStopAtLevel=1
# -XX:+UseSerialGC, as demo.sh but with a fixed heap), APP_TIMEOUT (120 s to start), OUT (results dir).
# Needs java, curl, memcached and wrk (installed with apt-get when run as root and missing).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LUA="$HERE/read-mostly.lua"
SESSIONS="${SESSIONS:-64}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
WARMUP="${WARMUP:-5}"
WRITE_PERCENT="${WRITE_PERCENT:-10}"
ATTRIBUTE_BYTES="${ATTRIBUTE_BYTES:-1000}"
JAVA_OPTS="${JAVA_OPTS:--Xms256m -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"
APP_TIMEOUT="${APP_TIMEOUT:-120}"
COOKIE_NAME=SESSION

say() { printf '%s\n' "$*"; }
die() {
	printf 'read-mostly.sh: %s\n' "$*" >&2
	exit 1
}
usage() {
	sed -n '4p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
	exit 2
}

[[ $# -ge 2 && $# -le 4 ]] || usage
JAR_A="$(realpath -e "$1" 2>/dev/null)" || die "no such jar: $1"
JAR_B="$(realpath -e "$2" 2>/dev/null)" || die "no such jar: $2"
DURATION="${3:-20}"
ROUNDS="${4:-3}"
for number in "$DURATION" "$ROUNDS" "$SESSIONS" "$CONNECTIONS" "$THREADS" "$WARMUP" "$WRITE_PERCENT" "$ATTRIBUTE_BYTES"; do
	[[ "$number" =~ ^[0-9]+$ ]] || die "not a whole number: $number"
done
((DURATION > 0 && ROUNDS > 0 && THREADS > 0 && CONNECTIONS >= THREADS)) || die "seconds, rounds and THREADS must be > 0"
((SESSIONS >= CONNECTIONS)) || die "SESSIONS ($SESSIONS) must be >= CONNECTIONS ($CONNECTIONS): one session a connection"
((ATTRIBUTE_BYTES <= 4000)) || die "ATTRIBUTE_BYTES is limited to 4000 (the app takes 4096 characters)"

# ---------------------------------------------------------------- prerequisites

need() { # command, apt package
	command -v "$1" >/dev/null && return
	if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
		say "Installing $2 with apt-get ..."
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
		command -v "$1" >/dev/null || die "installing $2 did not bring $1"
	else
		die "$1 is missing: install it, e.g. 'sudo apt-get install -y $2'"
	fi
}
command -v java >/dev/null || die "java is missing: install a JDK 17 or newer"
need curl curl
need memcached memcached
need wrk wrk
[[ -r "$LUA" ]] || die "missing $LUA"

# ---------------------------------------------------------------- processes (all stopped on exit)

STARTED=() # "pid:what", what is matched against /proc/pid/cmdline so a reused pid is left alone

ours() { # pid, what
	[[ -r "/proc/$1/cmdline" ]] && [[ "$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" == *"$2"* ]]
}

stop_pid() { # pid, what
	local pid="$1" what="$2" i
	ours "$pid" "$what" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

stop_all() {
	local entry i
	for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do # newest first: wrk, app, then memcached
		entry="${STARTED[i]}"
		stop_pid "${entry%%:*}" "${entry#*:}"
	done
	STARTED=()
}

cleanup() {
	local rc=$?
	set +e
	trap - INT TERM HUP
	if ((${#STARTED[@]} > 0)); then
		say "Stopping ${#STARTED[@]} process(es) started by this script ..." >&2
		stop_all
	fi
	return "$rc"
}
trap cleanup EXIT
trap 'say "interrupted" >&2; exit 130' INT
trap 'exit 143' TERM HUP

# ---------------------------------------------------------------- ports and waiting

TAKEN=" "
free_port() { # prints a port nothing listens on, below the ephemeral range; never one handed out before
	local listening port
	listening=" $(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://' | tr '\n' ' ') "
	for _ in $(seq 1 200); do
		port=$((20000 + RANDOM % 12000))
		[[ "$listening" == *" $port "* || "$TAKEN" == *" $port "* ]] && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
		echo "$port"
		return
	done
	die "no free port found"
}

wait_for() { # seconds, command...
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

memcached_stats() { # port: "name value" lines
	timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "stats\r\n" >&3
		while IFS= read -r -t 3 line <&3; do
			line="${line%$'\''\r'\''}"
			[[ "$line" == END ]] && break
			[[ "$line" == STAT\ * ]] && echo "${line#STAT }"
		done' _ "$1"
}

memcached_answers() { [[ "$(memcached_stats "$1" 2>/dev/null)" == *"uptime "* ]]; }

# ---------------------------------------------------------------- one run

MEMCACHED_USER=()
[[ $EUID -eq 0 ]] && MEMCACHED_USER=(-u root)

start_memcached() { # name, log; sets MC_PORT
	local name="$1" log="$2" pid
	for _ in 1 2 3 4 5; do
		MC_PORT="$(free_port)"
		TAKEN+="$MC_PORT "
		memcached -p "$MC_PORT" -l 127.0.0.1 -m 64 -U 0 "${MEMCACHED_USER[@]}" >>"$log" 2>&1 &
		pid=$!
		STARTED+=("$pid:memcached")
		if wait_for 10 memcached_answers "$MC_PORT" && kill -0 "$pid" 2>/dev/null; then
			return
		fi
		stop_pid "$pid" memcached # most likely the port was taken meanwhile: another one
	done
	die "memcached $name did not start, see $log"
}

app_healthy() { # pid, port
	kill -0 "$1" 2>/dev/null || return 0 # died: stop waiting
	[[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$2/actuator/health")" == 200 ]]
}

start_app() { # jar, name, nodes, log, extra arguments; sets APP_PORT
	local jar="$1" name="$2" nodes="$3" log="$4" extra="${5:-}" pid
	for _ in 1 2 3; do
		APP_PORT="$(free_port)"
		TAKEN+="$APP_PORT "
		# shellcheck disable=SC2086 # JAVA_OPTS and extra are lists of options
		APP_INSTANCE="$name" java $JAVA_OPTS -jar "$jar" --server.port="$APP_PORT" --msm.nodes="$nodes" $extra \
			>>"$log" 2>&1 &
		pid=$!
		STARTED+=("$pid:$jar")
		wait_for "$APP_TIMEOUT" app_healthy "$pid" "$APP_PORT" || true
		kill -0 "$pid" 2>/dev/null && app_healthy "$pid" "$APP_PORT" && return
		if ! kill -0 "$pid" 2>/dev/null && grep -qi 'already in use' "$log"; then
			continue # lost the port to somebody else: another one
		fi
		tail -n 30 "$log" >&2 || true
		kill -0 "$pid" 2>/dev/null || die "the app ($jar) exited while starting, see $log"
		die "the app ($jar) did not become healthy within $APP_TIMEOUT s, see $log"
	done
	die "the app did not start, see $log"
}

make_sessions() { # base URL, file: "cookie session-id" lines
	local base="$1" file="$2" value i a headers cookie sid body code
	value="$(head -c "$((ATTRIBUTE_BYTES * 3 / 4 + 3))" /dev/urandom | base64 -w0 | tr '+/' '-_' | head -c "$ATTRIBUTE_BYTES")"
	body="$(mktemp)"
	: >"$file"
	for i in $(seq 1 "$SESSIONS"); do
		headers="$(curl -sS --max-time 10 -D - -o "$body" -X POST "$base/api/counter" | tr -d '\r')"
		cookie="$(sed -n "s/^[Ss]et-[Cc]ookie: $COOKIE_NAME=\([^;]*\).*/\1/p" <<<"$headers" | head -n 1)"
		sid="$(sed -n 's/.*"sessionId" *: *"\([^"]*\)".*/\1/p' "$body")"
		[[ -n "$cookie" && -n "$sid" ]] || die "session $i: no $COOKIE_NAME cookie or sessionId from POST $base/api/counter"
		for a in 1 2 3; do
			code="$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X PUT -H "Cookie: $COOKIE_NAME=$cookie" \
				-H 'Content-Type: text/plain' --data-binary "$i-$a-${value:0:$((ATTRIBUTE_BYTES - ${#i} - 3))}" \
				"$base/api/attributes/bench$a")"
			[[ "$code" == 200 ]] || die "session $i: PUT /api/attributes/bench$a answered $code"
		done
		echo "$cookie $sid" >>"$file"
	done
	# The sessions must come back as made, with their attributes.
	read -r cookie sid <"$file"
	curl -sS --max-time 10 -o "$body" -H "Cookie: $COOKIE_NAME=$cookie" "$base/api/session"
	grep -q "\"sessionId\":\"$sid\"" "$body" && grep -q '"bench3"' "$body" ||
		die "GET /api/session did not return session $sid with its attributes: $(head -c 300 "$body")"
	SESSION_JSON_BYTES="$(wc -c <"$body")"
	rm -f "$body"
}

snapshot() { # file, ports...: summed counters of the nodes
	local file="$1" port
	shift
	for port in "$@"; do memcached_stats "$port"; done |
		awk '{sum[$1] += $2} END {
			printf "get %d\nset %d\ntouch %d\ndelete %d\ncas %d\nbytes %d\nitems %d\n", sum["cmd_get"], sum["cmd_set"],
				sum["cmd_touch"], sum["delete_hits"] + sum["delete_misses"],
				sum["cas_hits"] + sum["cas_misses"] + sum["cas_badval"], sum["bytes"], sum["curr_items"] }' >"$file"
}

stat_of() { awk -v k="$2" '$1 == k {print $2}' "$1"; }

run_wrk() { # seconds, url, sessions file, output
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1s" --timeout 5s --latency -s "$LUA" "$2" \
		-- "$3" "$THREADS" "$WRITE_PERCENT" "$COOKIE_NAME" >"$4" 2>&1 &
	local pid=$!
	STARTED+=("$pid:wrk")
	wait "$pid" || die "wrk failed, see $4"
	STARTED=("${STARTED[@]:0:${#STARTED[@]}-1}")
	grep -q '^BENCH ' "$4" || die "wrk printed no BENCH line, see $4"
}

bench_field() { sed -n 's/^BENCH //p' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

run_one() { # round, variant, jar
	local round="$1" variant="$2" jar="$3" dir="$OUT/run-$1-$2" base p1 p2 load op
	mkdir -p "$dir"
	load="$(cut -d' ' -f1 /proc/loadavg)"
	start_memcached n1 "$dir/memcached-n1.log"
	p1="$MC_PORT"
	start_memcached n2 "$dir/memcached-n2.log"
	p2="$MC_PORT"
	local extra="ARGS_$variant"
	start_app "$jar" "bench-$variant" "n1:127.0.0.1:$p1,n2:127.0.0.1:$p2" "$dir/app.log" "${!extra:-}"
	base="http://127.0.0.1:$APP_PORT"
	make_sessions "$base" "$dir/sessions.txt"
	snapshot "$dir/stats-sessions.txt" "$p1" "$p2"
	if ((WARMUP > 0)); then
		run_wrk "$WARMUP" "$base" "$dir/sessions.txt" "$dir/wrk-warmup.txt"
	fi
	sleep 1 # let asynchronous memcached writes of the warm-up land before the first snapshot
	snapshot "$dir/stats-before.txt" "$p1" "$p2"
	run_wrk "$DURATION" "$base" "$dir/sessions.txt" "$dir/wrk.txt"
	sleep 1
	snapshot "$dir/stats-after.txt" "$p1" "$p2"
	stop_all

	local fields=(requests seconds rps p50_ms p90_ms p99_ms max_ms non2xx socket_errors timeouts gets posts lost unpaired fallback)
	local row=("$round" "$variant" "$load" "$(stat_of "$dir/stats-sessions.txt" bytes)" "$SESSION_JSON_BYTES") f
	for f in "${fields[@]}"; do row+=("$(bench_field "$dir/wrk.txt" "$f")"); done
	for op in get set touch delete cas; do
		row+=($(($(stat_of "$dir/stats-after.txt" "$op") - $(stat_of "$dir/stats-before.txt" "$op"))))
	done
	row+=("$jar")
	(IFS=$'\t'; echo "${row[*]}") >>"$OUT/runs.tsv"
	awk -F'\t' 'END { r = $6; if (r == 0) r = 1
		printf "  %s round %s: %9.1f req/s  p50 %7.2f ms  p99 %7.2f ms  non-2xx %d  errors %d  lost %d  memcached ops/req %.2f (get %.2f set %.2f touch %.2f delete %.2f cas %.2f)\n",
			$2, $1, $8, $9, $11, $13, $14 + $15, $18, ($21 + $22 + $23 + $24 + $25) / r, $21 / r, $22 / r, $23 / r, $24 / r, $25 / r }' \
		"$OUT/runs.tsv"
}

# ---------------------------------------------------------------- main

OUT="${OUT:-$(dirname "$HERE")/target/bench/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
ln -sfn "$OUT" "$(dirname "$OUT")/latest" 2>/dev/null || true
{
	say "date: $(date -Is)"
	say "A: $JAR_A ($(sha256sum "$JAR_A" | cut -c1-12))"
	say "B: $JAR_B ($(sha256sum "$JAR_B" | cut -c1-12))"
	say "ARGS_A=${ARGS_A:-}"
	say "ARGS_B=${ARGS_B:-}"
	say "seconds=$DURATION rounds=$ROUNDS warmup=$WARMUP sessions=$SESSIONS threads=$THREADS connections=$CONNECTIONS write_percent=$WRITE_PERCENT attribute_bytes=$ATTRIBUTE_BYTES"
	say "JAVA_OPTS=$JAVA_OPTS"
	say "cpus=$(nproc) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
	say "$(java -version 2>&1 | head -n 1); $(memcached -V); $(wrk -v 2>&1 | head -n 1)"
} >"$OUT/meta.txt"
printf 'round\tvariant\tload1\tmc_bytes_after_sessions\tsession_json_bytes\trequests\tseconds\trps\tp50_ms\tp90_ms\tp99_ms\tmax_ms\tnon2xx\tsocket_errors\ttimeouts\tgets\tposts\tlost\tunpaired\tfallback\tmc_get\tmc_set\tmc_touch\tmc_delete\tmc_cas\tjar\n' \
	>"$OUT/runs.tsv"
cat "$OUT/meta.txt"
say "Raw results: $OUT"

for round in $(seq 1 "$ROUNDS"); do
	run_one "$round" A "$JAR_A"
	run_one "$round" B "$JAR_B"
done

summarize() {
	awk -F'\t' -v a="$(basename "$JAR_A")" -v b="$(basename "$JAR_B")" '
	function median(list,    n, v, i, j, t) {
		n = split(list, v, " ")
		for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	NR > 1 {
		v = $2; runs[v]++; rps[v] = rps[v] " " $8; p50[v] = p50[v] " " $9; p99[v] = p99[v] " " $11
		req[v] += $6; bad[v] += $13; err[v] += $14 + $15; lost[v] += $18; unp[v] += $19 + $20
		for (k = 21; k <= 25; k++) ops[v, k] += $k
	}
	END {
		printf "\n%-8s %-28s %4s %10s %8s %8s %7s %6s %5s %8s %8s %8s %8s %8s %8s\n", "variant", "jar", "runs", "req/s", "p50 ms",
			"p99 ms", "non2xx", "errors", "lost", "get/req", "set/req", "touch/r", "del/req", "cas/req", "ops/req"
		split("A B", vs, " ")
		for (i = 1; i <= 2; i++) {
			v = vs[i]; m[v] = median(rps[v]); q[v] = median(p99[v]); r = req[v] ? req[v] : 1
			total = 0; for (k = 21; k <= 25; k++) total += ops[v, k]
			printf "%-8s %-28s %4d %10.1f %8.2f %8.2f %7d %6d %5d %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f\n", v, (v == "A" ? a : b),
				runs[v], m[v], median(p50[v]), q[v], bad[v], err[v], lost[v],
				ops[v, 21] / r, ops[v, 22] / r, ops[v, 23] / r, ops[v, 24] / r, ops[v, 25] / r, total / r
		}
		printf "%-8s %-28s %4s %10.3f %8s %8.3f\n", "B/A", "", "", m["A"] ? m["B"] / m["A"] : 0, "", q["A"] ? q["B"] / q["A"] : 0
		print "(req/s, p50, p99: medians over the rounds; ops/req: memcached commands over both nodes in the measured"
		print " window / wrk requests; memcached counts a cas also in cmd_set)"
		if (bad["A"] + bad["B"] + err["A"] + err["B"] + lost["A"] + lost["B"] + unp["A"] + unp["B"] > 0)
			print "WARNING: non-2xx answers, socket errors, lost sessions or unpaired responses: see runs.tsv and the wrk output"
	}' "$OUT/runs.tsv"
}
summarize | tee "$OUT/summary.txt"
