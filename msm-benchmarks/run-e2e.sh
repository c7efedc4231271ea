#!/usr/bin/env bash
# End-to-end: the same bench app with sessions in memory, in msm (non-sticky, sticky) and in Redis, in one run.
#
#   run-e2e.sh [--smoke] [--scale N] [--busy-ok] [--duration S] [--warmup S] [--rounds N] [--variants LIST]
#              [--jar JAR] [--out DIR] [--profile VARIANT]
#
# Starts 2 memcached nodes and one redis-server on free loopback ports, then one bench app per variant
# (msm-benchmarks/target/msm-benchmarks-*-app.jar; build it with `mvn -B -ntp package -pl msm-benchmarks -am
# -DskipTests`), makes SESSIONS sessions in each (SESSION_SHAPE list: an unmodifiable List<String> of 32 texts of 64
# characters, ~2 KB, and a counter; text: 3 texts of ATTRIBUTE_BYTES characters and a counter), and drives the
# variants in turn, ROUNDS times (inmemory, msm, sticky, redis, inmemory, msm, ...), each with wrk (THREADS threads x
# CONNECTIONS connections, msm-sample-app/bench/read-mostly.lua: each connection one session at a time, every session
# in turn, 90 % GET /api/session, 10 % POST /api/counter): WARMUP s unmeasured, then DURATION s measured. Around each
# measured run it reads memcached `stats` (both nodes) or redis `INFO commandstats`, and the CPU time (/proc
# utime+stime) of the app's JVM, of the store (memcached or redis-server), of wrk and of everything else on the
# machine. The report gives per variant the median and the spread (min-max over the rounds) of the JVM CPU per
# request, the measure to compare stores by, and of requests/s.
# Busy machine: before it starts anything the script reads the 1-minute load average; above MAX_LOAD x cores
# (default 0.5 x cores) it refuses to run (exit 3), since the numbers would say more about the other load than about
# the stores. --busy-ok runs anyway and marks the report BUSY in its title; --smoke always runs (it
# checks the harness, not the speed). The load average at the start of every measured window goes into the .tsv.
# --scale N: N sessions per variant (e.g. 100000), made before the first round through POST /api/sessions/bulk
# (saved straight through the repository, 1000 a call) after CONNECTIONS made the usual way; wrk cycles through all
# of them. Compare its JVM CPU per request with a run of SESSIONS=1000.
# Variants: inmemory (MapSessionRepository), msm (non-sticky, 2 nodes), sticky (msm with --msm.sticky=true and a route;
# skipped with a note when the store has no such property), redis (Boot's default non-indexed repository).
# Writes results/e2e-<date>.md (table; copied to e2e-latest.md), .tsv (every run) and .png (chart, when gnuplot is
# installed) to the output directory (default msm-benchmarks/results; --smoke: msm-benchmarks/target/e2e-smoke).
# --smoke: 1 round of 2 s, no warm-up, 16 connections, C1 only: checks the harness (about 30 s on an idle machine).
# --profile VARIANT: runs async-profiler (ASYNC_PROFILER=path of libasyncProfiler.so) in that variant's JVM from
# start to exit (itimer, 1 ms); collapsed stacks go to target/e2e/<date>/profile-VARIANT.collapsed. Start-up
# frames are easy to leave out (they run under SpringApplication.run).
# Defaults: 4 x 15 s JIT warm-up + 3 rounds x 4 variants x (5 s + 30 s) + start-up: about 8-9 minutes on an
# idle machine (a machine busy with other builds starts the apps much more slowly).
# Environment: JIT_WARMUP (15 s of load per app before round 1), SESSIONS (128), CONNECTIONS (64), THREADS (2),
# WRITE_PERCENT (10), SESSION_SHAPE (list), ATTRIBUTE_BYTES (1000, shape text), MAX_LOAD (0.5), MEMCACHED_MB (256, or
# 16 KB per session when more),
# JAVA_OPTS (-Xms512m -Xmx512m; --scale: -Xms1g -Xmx1g), MSM_ARGS (extra arguments of the msm variants),
# APP_TIMEOUT (180 s to start).
# Stops everything it started (by pid) on exit, also when interrupted.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LUA="$HERE/../msm-sample-app/bench/read-mostly.lua"
SESSIONS="${SESSIONS:-128}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
WRITE_PERCENT="${WRITE_PERCENT:-10}"
ATTRIBUTE_BYTES="${ATTRIBUTE_BYTES:-1000}"
SESSION_SHAPE="${SESSION_SHAPE:-list}"
LIST_ITEMS=32
ITEM_BYTES=64
MAX_LOAD="${MAX_LOAD:-0.5}"
MEMCACHED_MB="${MEMCACHED_MB:-}" # memory of each memcached node; must hold every session twice (primary and backup)
LOADAVG="${LOADAVG:-/proc/loadavg}" # where the load average is read (tests give a file)
JAVA_OPTS="${JAVA_OPTS:-}"
MSM_ARGS="${MSM_ARGS:-}" # extra arguments of the msm variants, e.g. --msm.operation-timeout=5s on a very busy machine
APP_TIMEOUT="${APP_TIMEOUT:-180}"
DURATION=30
WARMUP=5
JIT_WARMUP="${JIT_WARMUP:-15}"
ROUNDS=3
VARIANTS="inmemory,msm,sticky,redis"
SMOKE=false
BUSY_OK=false
SCALE=0
BULK_CHUNK=1000
JAR=""
OUT=""
PROFILE=""

say() { printf '%s\n' "$*"; }
die() {
	printf 'run-e2e.sh: %s\n' "$*" >&2
	exit 1
}
usage() {
	sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
	exit 2
}

while [[ $# -gt 0 ]]; do
	case "$1" in
		--smoke) SMOKE=true ;;
		--busy-ok) BUSY_OK=true ;;
		--scale) SCALE="${2:?}"; shift ;;
		--duration) DURATION="${2:?}"; shift ;;
		--warmup) WARMUP="${2:?}"; shift ;;
		--rounds) ROUNDS="${2:?}"; shift ;;
		--variants) VARIANTS="${2:?}"; shift ;;
		--jar) JAR="${2:?}"; shift ;;
		--out) OUT="${2:?}"; shift ;;
		--profile) PROFILE="${2:?}"; shift ;;
		-h | --help) sed -n '2,40p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) usage ;;
	esac
	shift
done
[[ "$SCALE" =~ ^[0-9]+$ ]] || die "not a whole number: $SCALE"
if ((SCALE > 0)); then
	SESSIONS="$SCALE"
	JAVA_OPTS="${JAVA_OPTS:--Xms1g -Xmx1g}" # the in-memory variant holds every session on its heap
fi
# 16 KB per session and node: a ~2-3 KB session, its backup from the other node and memcached's slab overhead,
# so that no session is evicted (an evicted session comes back as a new one and the run stops)
MEMCACHED_MB="${MEMCACHED_MB:-$((SESSIONS * 16 / 1024 > 256 ? SESSIONS * 16 / 1024 : 256))}"
JAVA_OPTS="${JAVA_OPTS:--Xms512m -Xmx512m}"
if $SMOKE; then
	DURATION=2 WARMUP=0 JIT_WARMUP=0 ROUNDS=1 CONNECTIONS=16
	((SCALE > 0)) || SESSIONS=16
	APP_TIMEOUT=$((APP_TIMEOUT > 300 ? APP_TIMEOUT : 300)) # a busy machine: the smoke checks the harness, not the speed
	JAVA_OPTS="$JAVA_OPTS -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
	OUT="${OUT:-$HERE/target/e2e-smoke}"
fi
OUT="${OUT:-$HERE/results}"
for number in "$DURATION" "$WARMUP" "$ROUNDS" "$SESSIONS" "$CONNECTIONS" "$THREADS" "$WRITE_PERCENT" "$ATTRIBUTE_BYTES"; do
	[[ "$number" =~ ^[0-9]+$ ]] || die "not a whole number: $number"
done
((DURATION > 0 && ROUNDS > 0 && THREADS > 0 && CONNECTIONS >= THREADS)) || die "duration, rounds and THREADS must be > 0"
((SESSIONS >= CONNECTIONS)) || die "SESSIONS ($SESSIONS) must be >= CONNECTIONS ($CONNECTIONS): one session a connection"
[[ "$SESSION_SHAPE" =~ ^(list|text)$ ]] || die "SESSION_SHAPE must be list or text, not '$SESSION_SHAPE'"
[[ "$MAX_LOAD" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "MAX_LOAD must be a number, not '$MAX_LOAD'"
IFS=',' read -r -a WANTED <<<"$VARIANTS"
for variant in "${WANTED[@]}"; do
	[[ "$variant" =~ ^(inmemory|msm|sticky|redis)$ ]] || die "unknown variant '$variant' (inmemory, msm, sticky, redis)"
done
if [[ -z "$JAR" ]]; then
	JAR="$(ls "$HERE"/target/msm-benchmarks-*-app.jar 2>/dev/null | head -n 1 || true)"
	[[ -n "$JAR" ]] || die "no bench app jar: build it with 'mvn -B -ntp package -pl msm-benchmarks -am -DskipTests'"
fi
JAR="$(realpath -e "$JAR")" || die "no such jar: $JAR"
if [[ -n "$PROFILE" ]]; then
	[[ -r "${ASYNC_PROFILER:-}" ]] || die "--profile needs ASYNC_PROFILER=<path of libasyncProfiler.so>"
fi

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
need redis-server redis-server
need redis-cli redis-tools
$SMOKE || need gnuplot gnuplot-nox
[[ -r "$LUA" ]] || die "missing $LUA"

# ---------------------------------------------------------------- processes (all stopped on exit)

STARTED=() # "pid:what", what is matched against /proc/pid/cmdline so a reused pid is left alone

ours() { [[ -r "/proc/$1/cmdline" ]] && [[ "$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" == *"$2"* ]]; }

stop_pid() { # pid, what
	local pid="$1" what="$2"
	ours "$pid" "$what" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? i entry
	set +e
	trap - INT TERM HUP
	for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
		entry="${STARTED[i]}"
		stop_pid "${entry%%:*}" "${entry#*:}"
	done
	return "$rc"
}
trap cleanup EXIT
trap 'say "interrupted" >&2; exit 130' INT
trap 'exit 143' TERM HUP

TAKEN=" "
free_port() { # a port nothing listens on, below the ephemeral range, never one handed out before
	local listening port
	listening=" $(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://' | tr '\n' ' ') "
	for _ in $(seq 1 200); do
		port=$((20000 + RANDOM % 12000))
		[[ "$listening" == *" $port "* || "$TAKEN" == *" $port "* ]] && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
		TAKEN+="$port "
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

# ---------------------------------------------------------------- stores

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
redis_answers() { [[ "$(redis-cli -p "$1" ping 2>/dev/null)" == PONG ]]; }

MC_PORTS=()
MC_PIDS=()
start_memcached() { # log
	local port pid user=()
	[[ $EUID -eq 0 ]] && user=(-u root)
	for _ in 1 2 3 4 5; do
		port="$(free_port)"
		memcached -p "$port" -l 127.0.0.1 -m "$MEMCACHED_MB" -U 0 "${user[@]}" >>"$1" 2>&1 &
		pid=$!
		STARTED+=("$pid:memcached")
		if wait_for 10 memcached_answers "$port" && kill -0 "$pid" 2>/dev/null; then
			MC_PORTS+=("$port")
			MC_PIDS+=("$pid")
			return
		fi
		stop_pid "$pid" memcached
	done
	die "memcached did not start, see $1"
}

start_redis() { # log
	local port pid
	for _ in 1 2 3 4 5; do
		port="$(free_port)"
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --protected-mode yes >>"$1" 2>&1 &
		pid=$!
		STARTED+=("$pid:redis-server")
		if wait_for 10 redis_answers "$port" && kill -0 "$pid" 2>/dev/null; then
			REDIS_PORT="$port"
			REDIS_PID="$pid"
			return
		fi
		stop_pid "$pid" redis-server
	done
	die "redis-server did not start, see $1"
}

# Commands the store served so far: memcached (both nodes) or redis (without our own INFO calls).
store_ops() { # variant: "total get set other"
	case "$1" in
		msm | sticky)
			for port in "${MC_PORTS[@]}"; do memcached_stats "$port"; done | awk '
				{ s[$1] += $2 }
				END { g = s["cmd_get"]; w = s["cmd_set"]; o = s["cmd_touch"] + s["delete_hits"] + s["delete_misses"] \
					+ s["incr_hits"] + s["incr_misses"] + s["decr_hits"] + s["decr_misses"]
					printf "%d %d %d %d\n", g + w + o, g, w, o }' ;;
		redis)
			redis-cli -p "$REDIS_PORT" INFO commandstats | tr -d '\r' | awk -F'[:,=]' '
				/^cmdstat_/ { name = substr($1, 9); calls = $3
					if (name == "info" || name == "ping") next
					total += calls
					if (name ~ /^(get|hget|hgetall|hmget|exists)$/) g += calls
					else if (name ~ /^(set|hset|hmset|expire|pexpire|expireat|pexpireat|del|unlink|rename|renamenx)$/) w += calls
					else o += calls }
				END { printf "%d %d %d %d\n", total, g, w, o }' ;;
		*) echo "0 0 0 0" ;;
	esac
}

# ---------------------------------------------------------------- CPU time (clock ticks)

TICKS="$(getconf CLK_TCK)"
proc_cpu() { # pid: utime + stime of the process
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return; }
	stat="${stat##*) }"
	awk '{ print $12 + $13 }' <<<"$stat"
}
children_cpu() { # reaped children of this shell (wrk among them)
	local stat
	stat="$(cat "/proc/$$/stat")"
	stat="${stat##*) }"
	awk '{ print $14 + $15 }' <<<"$stat"
}
machine_cpu() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# ---------------------------------------------------------------- apps

declare -A APP_PORT APP_PID COOKIE_NAME
app_answers() { # pid, port
	kill -0 "$1" 2>/dev/null || return 0 # died: stop waiting
	[[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$2/api/store")" == 200 ]]
}

variant_args() { # variant
	local nodes="n1:127.0.0.1:${MC_PORTS[0]},n2:127.0.0.1:${MC_PORTS[1]}"
	case "$1" in
		inmemory) echo "--msm.enabled=false --spring.profiles.active=inmemory" ;;
		msm) echo "--msm.nodes=$nodes $MSM_ARGS" ;;
		sticky) echo "--msm.nodes=$nodes --msm.sticky=true --msm.jvm-route=bench1 $MSM_ARGS" ;;
		redis) echo "--msm.enabled=false --spring.data.redis.host=127.0.0.1 --spring.data.redis.port=$REDIS_PORT" ;;
	esac
}

launch_app() { # variant: starts it on a free port, does not wait
	local variant="$1" port pid
	port="$(free_port)"
	local agent=""
	[[ "$PROFILE" == "$variant" ]] &&
		agent="-agentpath:$ASYNC_PROFILER=start,event=itimer,interval=1ms,collapsed,file=$OUT_RUN/profile-$variant.collapsed"
	# shellcheck disable=SC2086,SC2046 # lists of options
	java $JAVA_OPTS $agent -jar "$JAR" --server.port="$port" $(variant_args "$variant") >>"$OUT_RUN/app-$variant.log" 2>&1 &
	pid=$!
	STARTED+=("$pid:$JAR")
	APP_PORT[$variant]="$port"
	APP_PID[$variant]="$pid"
}

await_app() { # variant: waits until it answers, relaunching it when it lost its port
	local variant="$1" log="$OUT_RUN/app-$1.log"
	for _ in 1 2 3; do
		wait_for "$APP_TIMEOUT" app_answers "${APP_PID[$variant]}" "${APP_PORT[$variant]}" || true
		kill -0 "${APP_PID[$variant]}" 2>/dev/null && app_answers "${APP_PID[$variant]}" "${APP_PORT[$variant]}" && return
		if ! kill -0 "${APP_PID[$variant]}" 2>/dev/null && grep -qi 'already in use' "$log"; then
			launch_app "$variant"
			continue
		fi
		tail -n 30 "$log" >&2 || true
		die "the $variant app did not start within $APP_TIMEOUT s, see $log"
	done
	die "the $variant app did not start, see $log"
}

store_of() { curl -sS --max-time 5 "http://127.0.0.1:${APP_PORT[$1]}/api/store"; }

shape_query() {
	case "$SESSION_SHAPE" in
		list) echo "items=$LIST_ITEMS&bytes=$ITEM_BYTES" ;;
		text) echo "attributes=3&bytes=$ATTRIBUTE_BYTES" ;;
	esac
}
shape_text() {
	case "$SESSION_SHAPE" in
		list) echo "an unmodifiable List<String> of $LIST_ITEMS × $ITEM_BYTES characters" ;;
		text) echo "3 texts of $ATTRIBUTE_BYTES characters" ;;
	esac
}
shape_characters() { case "$SESSION_SHAPE" in list) echo $((LIST_ITEMS * ITEM_BYTES)) ;; text) echo $((3 * ATTRIBUTE_BYTES)) ;; esac; }

# variant, file: "cookie session-id" lines; one curl, one connection, no cookie jar; with --scale the first
# CONNECTIONS so, the rest through the bulk endpoint (cookie values encoded as the app's own cookies are)
make_sessions() {
	local base="http://127.0.0.1:${APP_PORT[$1]}" file="$2" name cookie sid urls=() plain=$SESSIONS
	((SCALE > 0)) && plain=$CONNECTIONS
	for _ in $(seq 1 "$plain"); do urls+=("$base/api/sessions?$(shape_query)"); done
	curl -sS --max-time 120 -i -w '\n' -X POST "${urls[@]}" | tr -d '\r' | awk '
		tolower($0) ~ /^set-cookie: / { split(substr($0, 13), c, ";"); cookie = c[1] }
		/"sessionId"/ { match($0, /"sessionId" *: *"[^"]*"/); s = substr($0, RSTART, RLENGTH)
			sub(/^"sessionId" *: *"/, "", s); sub(/"$/, "", s); print cookie, s; cookie = "" }' >"$file.raw"
	name="$(head -n 1 "$file.raw" | sed 's/=.*//')"
	sed 's/^[^=]*=//' "$file.raw" | awk 'NF == 2' >"$file"
	rm -f "$file.raw"
	[[ -n "$name" && "$(wc -l <"$file")" -eq "$plain" ]] ||
		die "$1: made $(wc -l <"$file") of $plain sessions with POST $base/api/sessions"
	COOKIE_NAME[$1]="$name"
	read -r cookie sid <"$file"
	local base64=true count made
	[[ "$cookie" == "$sid" ]] && base64=false
	for ((made = plain; made < SESSIONS; made += count)); do
		count=$((SESSIONS - made < BULK_CHUNK ? SESSIONS - made : BULK_CHUNK))
		curl -sS --fail --max-time 600 -X POST \
			"$base/api/sessions/bulk?count=$count&$(shape_query)&base64=$base64" >>"$file" ||
			die "$1: POST /api/sessions/bulk failed after $made sessions"
	done
	[[ "$(wc -l <"$file")" -eq "$SESSIONS" ]] || die "$1: made $(wc -l <"$file") of $SESSIONS sessions"
	for line in 1 "$SESSIONS"; do # the first made the usual way, the last through the bulk endpoint
		read -r cookie sid < <(sed -n "${line}p" "$file")
		curl -sS --max-time 10 -o "$file.body" -H "Cookie: $name=$cookie" "$base/api/session"
		grep -q "\"sessionId\":\"$sid\"" "$file.body" && grep -q "\"characters\":$(shape_characters)" "$file.body" ||
			die "$1: GET /api/session did not return session $sid with its attributes: $(head -c 300 "$file.body")"
	done
	rm -f "$file.body"
}

run_wrk() { # variant, seconds, output
	local variant="$1"
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2s" --timeout 5s --latency -s "$LUA" "http://127.0.0.1:${APP_PORT[$variant]}" \
		-- "$OUT_RUN/sessions-$variant.txt" "$THREADS" "$WRITE_PERCENT" "${COOKIE_NAME[$variant]}" >"$3" 2>&1 &
	local pid=$!
	STARTED+=("$pid:wrk")
	wait "$pid" || die "wrk failed, see $3"
	unset 'STARTED[${#STARTED[@]}-1]'
	grep -q '^BENCH ' "$3" || die "wrk printed no BENCH line, see $3"
}
bench_field() { sed -n 's/^BENCH //p' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

store_pids() { case "$1" in msm | sticky) echo "${MC_PIDS[*]}" ;; redis) echo "$REDIS_PID" ;; esac; }

measure() { # round, variant
	local round="$1" variant="$2" wrkout="$OUT_RUN/wrk-$2-round$1.txt" ops0 ops1 jvm0 jvm1 st0=0 st1=0 ch0 ch1 m0 m1 p
	if ((WARMUP > 0)); then run_wrk "$variant" "$WARMUP" "$OUT_RUN/wrk-$variant-round$round-warmup.txt"; fi
	sleep 1 # queued writes of the warm-up land before the first reading
	ops0="$(store_ops "$variant")"
	for p in $(store_pids "$variant"); do st0=$((st0 + $(proc_cpu "$p"))); done
	jvm0="$(proc_cpu "${APP_PID[$variant]}")" ch0="$(children_cpu)" m0="$(machine_cpu)"
	local load1
	load1="$(cut -d' ' -f1 "$LOADAVG")"
	run_wrk "$variant" "$DURATION" "$wrkout"
	jvm1="$(proc_cpu "${APP_PID[$variant]}")" ch1="$(children_cpu)" m1="$(machine_cpu)"
	for p in $(store_pids "$variant"); do st1=$((st1 + $(proc_cpu "$p"))); done
	sleep 1
	ops1="$(store_ops "$variant")"
	if [[ "$variant" == redis ]]; then # which commands, for the report's reader
		redis-cli -p "$REDIS_PORT" INFO commandstats | tr -d '\r' >"$OUT_RUN/redis-commandstats-round$round.txt"
	fi
	local requests row
	requests="$(bench_field "$wrkout" requests)"
	row="$(awk -v r="$round" -v v="$variant" -v req="$requests" -v secs="$(bench_field "$wrkout" seconds)" \
		-v rps="$(bench_field "$wrkout" rps)" -v p50="$(bench_field "$wrkout" p50_ms)" \
		-v p99="$(bench_field "$wrkout" p99_ms)" -v bad="$(bench_field "$wrkout" non2xx)" \
		-v err="$(($(bench_field "$wrkout" socket_errors) + $(bench_field "$wrkout" timeouts)))" \
		-v lost="$(bench_field "$wrkout" lost)" -v o0="$ops0" -v o1="$ops1" -v tick="$TICKS" \
		-v jvm="$((jvm1 - jvm0))" -v st="$((st1 - st0))" -v ch="$((ch1 - ch0))" -v all="$((m1 - m0))" -v load1="$load1" 'BEGIN {
			split(o0, a, " "); split(o1, b, " "); n = (req > 0) ? req : 1; ms = 1000 / tick
			other = all - jvm - st - ch; if (other < 0) other = 0
			printf "%s\t%s\t%d\t%.1f\t%.1f\t%.3f\t%.3f\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.4f\t%.4f\t%.4f\t%.4f\t%.0f\t%s\n",
				r, v, req, secs, rps, p50, p99, bad, err, lost, (b[1] - a[1]) / n, (b[2] - a[2]) / n, (b[3] - a[3]) / n,
				(b[4] - a[4]) / n, jvm * ms / n, st * ms / n, ch * ms / n, other * ms / n, 100 * jvm / (tick * secs), load1 }')"
	echo "$row" >>"$TSV"
	awk -F'\t' '{ printf "  round %s %-8s %9.1f req/s  p50 %6.2f ms  p99 %7.2f ms  ops/req %5.2f  JVM %.3f ms/req (%s %%)  errors %d  load %s\n",
		$1, $2, $5, $6, $7, $11, $15, $19, $8 + $9 + $10, $20 }' <<<"$row"
}

# ---------------------------------------------------------------- report

report() { # markdown table of the medians, then the chart
	awk -F'\t' -v date="$STAMP" -v jdk="$JDK" -v cores="$(nproc)" -v cpumodel="$CPU_MODEL" -v dur="$DURATION" \
		-v warm="$WARMUP" -v rounds="$ROUNDS" -v conns="$CONNECTIONS" -v threads="$THREADS" -v wp="$WRITE_PERCENT" \
		-v sessions="$SESSIONS" -v shape="$(shape_text)" -v skipped="$SKIPPED" -v order="$ORDER" -v load="$LOAD" -v msmargs="$MSM_ARGS" \
		-v busy="$BUSY" '
	function median(list,    n, v, i, j, t) {
		n = split(list, v, " ")
		for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	function ratio(a, b) { return (b > 0) ? sprintf("%.2f×", a / b) : "–" }
	function spread(list, format,    n, v, i, lo, hi) {
		n = split(list, v, " "); lo = v[1] + 0; hi = v[1] + 0
		for (i = 2; i <= n; i++) { if (v[i] + 0 < lo) lo = v[i] + 0; if (v[i] + 0 > hi) hi = v[i] + 0 }
		return sprintf(format "–" format, lo, hi)
	}
	NR > 1 { v = $2; runs[v]++; for (k = 5; k <= 19; k++) col[v, k] = col[v, k] " " $k; bad[v] += $8 + $9 + $10 }
	END {
		print "# End-to-end: msm vs Redis vs in-memory sessions" ((busy != "") ? " (BUSY MACHINE: numbers not to be trusted)" : "") "\n"
		if (busy != "") print "**" busy "**\n"
		printf "%s · %s · %d cores (%s) · loadavg before: %s\n\n", date, jdk, cores, cpumodel, load
		printf "wrk %d threads × %d connections, %d s measured after %d s warm-up, %d round(s) alternating %s; ", threads, conns, dur, warm, rounds, order
		printf "%d sessions of %s + a counter, each connection one at a time, all in turn; %d %% POST /api/counter, the rest GET /api/session. ", sessions, shape, wp
		print "Medians over the rounds (spread: min–max); ratios of medians. Compare ratios within one run, not absolute numbers across runs.\n"
		if (msmargs != "") print "msm variants with: `" msmargs "`\n"
		if (skipped != "") print "Skipped: " skipped "\n"
		print "| variant | JVM CPU ms/req | JVM CPU ms/req spread | JVM CPU/req vs Redis | JVM CPU/req vs in-memory | req/s | req/s spread | p50 ms | p99 ms | req/s vs Redis | req/s vs in-memory | p99 vs Redis | store ops/req (read · write · other) | CPU ms/req: JVM · store · wrk · rest | JVM CPU % | errors |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		n = split(order, vs, ",")
		for (i = 1; i <= n; i++) { v = vs[i]; if (!(v in runs)) continue
			rps[v] = median(col[v, 5]); p99[v] = median(col[v, 7]); cpu[v] = median(col[v, 15]) }
		for (i = 1; i <= n; i++) { v = vs[i]; if (!(v in runs)) continue
			printf "| %s | %.3f | %s | %s | %s | %.0f | %s | %.2f | %.2f | %s | %s | %s | %.2f (%.2f · %.2f · %.2f) | %.3f · %.3f · %.3f · %.3f | %.0f | %d |\n",
				v, cpu[v], spread(col[v, 15], "%.3f"), ratio(cpu[v], cpu["redis"]), ratio(cpu[v], cpu["inmemory"]),
				rps[v], spread(col[v, 5], "%.0f"), median(col[v, 6]), p99[v], ratio(rps[v], rps["redis"]), ratio(rps[v], rps["inmemory"]),
				ratio(p99[v], p99["redis"]), median(col[v, 11]), median(col[v, 12]), median(col[v, 13]), median(col[v, 14]),
				median(col[v, 15]), median(col[v, 16]), median(col[v, 17]), median(col[v, 18]), median(col[v, 19]), bad[v] }
		print "\nStore ops: memcached commands over both nodes (`stats`: cmd_get counts each key of a multi-get, cmd_set includes cas) or redis commands (`INFO commandstats`), per wrk request in the measured window. CPU: /proc utime+stime of the app JVM, of memcached or redis-server, of wrk, and of everything else on the machine, per request; on a busy machine the JVM CPU per request is the steadier measure of what the store costs (requests/s also reflect who else got the cores). errors: non-2xx, socket errors/timeouts and lost sessions."
	}' "$TSV" >"$MD"
	{
		echo
		echo "## Every run"
		echo
		echo "| round | variant | requests | req/s | p50 ms | p99 ms | ops/req | JVM CPU ms/req | load average at start |"
		echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
		awk -F'\t' 'NR > 1 { printf "| %s | %s | %d | %.0f | %.2f | %.2f | %.2f | %.3f | %s |\n", $1, $2, $3, $5, $6, $7, $11, $15, $20 }' "$TSV"
	} >>"$MD"
	if command -v gnuplot >/dev/null; then
		awk -F'\t' 'NR > 1 { print $2, $5, $7, $15 }' "$TSV" | awk -v order="$ORDER" '
			function median(list,    n, v, i, j, t) {
				n = split(list, v, " ")
				for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
				return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
			{ r[$1] = r[$1] " " $2; p[$1] = p[$1] " " $3; c[$1] = c[$1] " " $4; seen[$1] = 1 }
			END { n = split(order, vs, ","); for (i = 1; i <= n; i++) if (vs[i] in seen)
				printf "%s %s %s %s\n", vs[i], median(r[vs[i]]), median(p[vs[i]]), median(c[vs[i]]) }' >"$OUT_RUN/chart.dat"
		gnuplot <<-EOF || say "gnuplot failed: no chart"
			set terminal pngcairo size 1200,460 font "sans,10"
			set output "$PNG"
			set multiplot layout 1,3 title "msm-benchmarks e2e · $STAMP · $JDK · $(nproc) cores"
			set style fill solid 0.8 border -1
			set boxwidth 0.6
			set yrange [0:*]
			set grid ytics
			unset key
			set title "requests/s (median)"
			plot "$OUT_RUN/chart.dat" using 0:2:xtic(1) with boxes lc rgb "#3b7dd8", '' using 0:2:(sprintf("%.0f",\$2)) with labels offset 0,0.7
			set title "p99 latency ms (median)"
			plot "$OUT_RUN/chart.dat" using 0:3:xtic(1) with boxes lc rgb "#d8753b", '' using 0:3:(sprintf("%.1f",\$3)) with labels offset 0,0.7
			set title "JVM CPU ms per request"
			plot "$OUT_RUN/chart.dat" using 0:4:xtic(1) with boxes lc rgb "#5aa55a", '' using 0:4:(sprintf("%.3f",\$4)) with labels offset 0,0.7
			unset multiplot
		EOF
		[[ -s "$PNG" ]] && printf '\n![chart](%s)\n' "$(basename "$PNG")" >>"$MD"
	fi
}

# ---------------------------------------------------------------- main

STAMP="$(date -u +%Y-%m-%dT%H%MZ)"
JDK="$(java -version 2>&1 | head -n 1 | tr -d '"')"
CPU_MODEL="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
LOAD="$(cut -d' ' -f1-3 "$LOADAVG")"
BUSY=""
LOAD_LIMIT="$(awk -v m="$MAX_LOAD" -v c="$(nproc)" 'BEGIN { printf "%.2f", m * c }')"
if awk -v l="${LOAD%% *}" -v limit="$LOAD_LIMIT" 'BEGIN { exit !(l > limit) }'; then
	BUSY="busy machine: 1-minute load average ${LOAD%% *} before the run, above $LOAD_LIMIT (MAX_LOAD $MAX_LOAD x $(nproc) cores)"
	if ! $SMOKE && ! $BUSY_OK; then
		printf 'run-e2e.sh: refusing to measure on a %s; wait for a quiet machine, or pass --busy-ok to run anyway with the report marked BUSY\n' "$BUSY" >&2
		exit 3
	fi
	say "run-e2e: WARNING: $BUSY; the report is marked BUSY"
fi
mkdir -p "$OUT"
OUT_RUN="$HERE/target/e2e/$STAMP"
rm -rf "$OUT_RUN" && mkdir -p "$OUT_RUN"
FILE_STAMP="$(date -u +%Y%m%d-%H%M)"
TSV="$OUT/e2e-$FILE_STAMP.tsv"
MD="$OUT/e2e-$FILE_STAMP.md"
PNG="$OUT/e2e-$FILE_STAMP.png"
printf 'round\tvariant\trequests\tseconds\trps\tp50_ms\tp99_ms\tnon2xx\terrors\tlost\tops_per_req\tread_ops\twrite_ops\tother_ops\tjvm_cpu_ms\tstore_cpu_ms\twrk_cpu_ms\trest_cpu_ms\tjvm_cpu_pct\tload1\n' >"$TSV"
say "run-e2e: $STAMP, $JDK, $(nproc) cores, loadavg $LOAD; raw output in $OUT_RUN"

start_memcached "$OUT_RUN/memcached.log"
start_memcached "$OUT_RUN/memcached.log"
start_redis "$OUT_RUN/redis.log"

SKIPPED=""
ACTIVE=()
for variant in "${WANTED[@]}"; do # together, but sticky only when the non-sticky app says the store has it
	[[ "$variant" == sticky && ",$VARIANTS," == *,msm,* ]] || launch_app "$variant"
done
for variant in "${WANTED[@]}"; do
	if [[ "$variant" == sticky && -z "${APP_PID[sticky]:-}" ]]; then
		await_app msm
		if [[ "$(store_of msm)" == *'"sticky":"unsupported"'* ]]; then
			say "  sticky: skipped, this store has no msm.sticky property"
			SKIPPED+="sticky (this store has no msm.sticky property) "
			continue
		fi
		launch_app sticky
	fi
	await_app "$variant"
	store="$(store_of "$variant")"
	if [[ "$variant" == sticky && "$store" != *'"sticky":true'* ]]; then
		say "  sticky: skipped, the store did not take --msm.sticky=true ($store)"
		SKIPPED+="sticky (the store did not take --msm.sticky=true: $store) "
		stop_pid "${APP_PID[$variant]}" "$JAR"
		continue
	fi
	make_sessions "$variant" "$OUT_RUN/sessions-$variant.txt"
	say "  $variant: port ${APP_PORT[$variant]}, $store, $SESSIONS sessions"
	ACTIVE+=("$variant")
done
((${#ACTIVE[@]} > 0)) || die "no variant left to run"
ORDER="$(IFS=,; echo "${ACTIVE[*]}")"
if ((JIT_WARMUP > 0)); then # once per app, so that round 1 is not also the JIT's warm-up
	for variant in "${ACTIVE[@]}"; do run_wrk "$variant" "$JIT_WARMUP" "$OUT_RUN/wrk-$variant-jit-warmup.txt"; done
fi

for round in $(seq 1 "$ROUNDS"); do
	for variant in "${ACTIVE[@]}"; do
		measure "$round" "$variant"
	done
done
report
cp "$MD" "$OUT/e2e-latest.md"
say "Results: $MD (and e2e-latest.md)"
cat "$MD"
