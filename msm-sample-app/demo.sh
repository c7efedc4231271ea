#!/usr/bin/env bash
# The msm demo on one machine: 3 memcached nodes, 2 instances of the sample app and nginx
# in front (round-robin), all on free local ports. Sessions live in memcached, so any app
# instance can serve any user, and one can be killed without anybody being logged out.
# With --sticky, the instances run in sticky mode (msm.sticky, msm.jvm-route=app1|app2) and
# nginx routes each user by the route at the end of the SESSION cookie (…-n1.app1).
#
#   demo.sh up [--sticky] [--rebuild]  build the app once (or again), start everything, print the URL
#   demo.sh down               stop everything this script started (by pid)
#   demo.sh status             what runs where
#   demo.sh kill-app NAME      SIGKILL an app instance (app1, app2); start-app NAME brings it back
#   demo.sh kill-node ID       SIGKILL a memcached node (n1, n2, n3); start-node ID restarts it, empty
#   demo.sh hang-node ID       freeze a node with SIGSTOP; resume-node ID undoes it
#
# State (pids, ports, logs) is kept in msm-sample-app/.demo/. JAVA_OPTS overrides the app JVM options,
# APP_TIMEOUT the seconds an instance may take to start (180).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
STATE="$HERE/.demo"
LOGS="$STATE/logs"
NODES=(n1 n2 n3)
APPS=(app1 app2)
JAVA_OPTS="${JAVA_OPTS:--Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"
APP_TIMEOUT="${APP_TIMEOUT:-180}" # seconds an instance may take to start (a busy machine is slow)

say() { printf '%s\n' "$*"; }
die() { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }

usage() {
	sed -n '8,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit "${1:-0}"
}

# ---------------------------------------------------------------- state

pid_of() { cat "$STATE/$1.pid" 2>/dev/null || true; }
# Sticky mode is chosen by 'up --sticky' and kept for start-app.
sticky() { [[ "$(cat "$STATE/mode" 2>/dev/null)" == sticky ]]; }
port_of() { cat "$STATE/$1.port" 2>/dev/null || true; }

# Running, and still the program we started (pids get reused).
alive() {
	local pid cmd
	pid="$(pid_of "$1")"
	[[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
	cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
	case "$1" in
		memcached-*) [[ "$cmd" == *memcached* ]] ;;
		app-*) [[ "$cmd" == *msm-sample-app* ]] ;;
		nginx) [[ "$cmd" == *nginx* ]] ;;
		*) return 1 ;;
	esac
}

stopped() { [[ "$(awk '{print $3}' "/proc/$(pid_of "$1")/stat" 2>/dev/null)" == "T" ]]; }

# ---------------------------------------------------------------- ports

used_ports() {
	if command -v ss >/dev/null; then
		ss -Htln | awk '{print $4}' | sed 's/.*://'
	fi
	cat "$STATE"/*.port 2>/dev/null || true
}

free_port() {
	local used port
	used=" $(used_ports | tr '\n' ' ') "
	for _ in $(seq 1 200); do
		port=$((20000 + RANDOM % 12000)) # below the kernel's ephemeral range
		[[ "$used" == *" $port "* ]] && continue
		# Without ss, a refused connection is the sign of a free port.
		if ! command -v ss >/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			continue
		fi
		echo "$port"
		return
	done
	die "no free port found"
}

# ---------------------------------------------------------------- prerequisites

need_package() { # command, apt package
	local binary="$1" package="$2"
	command -v "$binary" >/dev/null || [[ -x "/usr/sbin/$binary" ]] && return
	if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
		say "Installing $package with apt-get ..."
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
	else
		die "$binary is missing: install it, e.g. 'sudo apt-get install -y $package' (or 'brew install $package')"
	fi
}

nginx_binary() { command -v nginx || echo /usr/sbin/nginx; }

check_prerequisites() {
	command -v java >/dev/null || die "java is missing: install a JDK 17 or newer"
	command -v curl >/dev/null || need_package curl curl
	need_package memcached memcached
	need_package nginx nginx
}

app_jar() {
	find "$HERE/target" -maxdepth 1 -name 'msm-sample-app-*.jar' ! -name '*-sources.jar' ! -name '*-tests.jar' \
		2>/dev/null | head -n 1
}

build() {
	local rebuild="$1"
	if [[ -n "$(app_jar)" && "$rebuild" != true ]]; then
		return
	fi
	command -v mvn >/dev/null || die "mvn is missing: install Maven 3.8+ to build the app"
	say "Building the app (mvn -DskipTests install, log in $LOGS/build.log) ..."
	mkdir -p "$LOGS"
	if ! (cd "$ROOT" && mvn -B -ntp -DskipTests install) >"$LOGS/build.log" 2>&1; then
		grep -E '\[ERROR\]' "$LOGS/build.log" | head -n 20 >&2 || true
		die "the build failed, see $LOGS/build.log"
	fi
	[[ -n "$(app_jar)" ]] || die "the build made no jar in $HERE/target"
}

# ---------------------------------------------------------------- waiting

wait_for() { # description, seconds, command...
	local description="$1" seconds="$2"
	shift 2
	local deadline=$((SECONDS + seconds))
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

memcached_answers() {
	local reply
	reply="$(timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; printf "version\r\n" >&3; head -c 7 <&3' _ "$1" \
		2>/dev/null)" || return 1
	[[ "$reply" == VERSION ]]
}

# The app answers its health endpoint (503 counts: it runs, memcached may not).
app_answers() {
	local code
	code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/actuator/health")" || true
	[[ "$code" == 200 || "$code" == 503 ]]
}

port_listens() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- components

start_node() {
	local id="$1" port pid
	port="$(port_of "memcached-$id")"
	[[ -n "$port" ]] || port="$(free_port)"
	echo "$port" >"$STATE/memcached-$id.port"
	local user=()
	[[ $EUID -eq 0 ]] && user=(-u root)
	nohup memcached -p "$port" -U 0 -l 127.0.0.1 -m 64 -c 1024 "${user[@]}" >>"$LOGS/memcached-$id.log" 2>&1 &
	echo $! >"$STATE/memcached-$id.pid"
	wait_for "memcached $id" 10 memcached_answers "$port" || die "memcached $id did not start, see $LOGS/memcached-$id.log"
}

nodes_property() {
	local spec=() id
	for id in "${NODES[@]}"; do
		spec+=("$id:127.0.0.1:$(port_of "memcached-$id")")
	done
	echo "${spec[*]}"
}

launch_app() {
	local name="$1" port
	port="$(port_of "app-$name")"
	[[ -n "$port" ]] || port="$(free_port)"
	echo "$port" >"$STATE/app-$name.port"
	local mode=()
	# the instance name is its route: ids it makes end in .app1, and nginx routes by that
	sticky && mode=(--msm.sticky=true --msm.jvm-route="$name")
	# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
	APP_INSTANCE="$name" nohup java $JAVA_OPTS -jar "$(app_jar)" --server.port="$port" \
		--msm.nodes="$(nodes_property)" "${mode[@]}" >>"$LOGS/$name.log" 2>&1 &
	echo $! >"$STATE/app-$name.pid"
}

await_app() {
	local name="$1"
	wait_for "$name" "$APP_TIMEOUT" app_answers "$(port_of "app-$name")" || {
		tail -n 30 "$LOGS/$name.log" >&2 || true
		die "$name did not come up, see $LOGS/$name.log"
	}
}

# Non-sticky: round-robin over the instances, a dead one is skipped.
nginx_routing_round_robin() {
	local name
	echo "    upstream app {"
	for name in "${APPS[@]}"; do
		echo "        server 127.0.0.1:$(port_of "app-$name") max_fails=1 fail_timeout=10s;"
	done
	echo "    }"
}

# Sticky: the route at the end of the SESSION cookie (…-n1.app1) picks the upstream of that
# instance, with the other one as backup for when it is down (that one then takes the session
# over and sends a cookie with its own route). No cookie or an unknown route: round-robin.
# README's "Sticky mode" section shows this configuration; keep them alike.
nginx_routing_sticky() {
	local name other
	echo "    map \$cookie_SESSION \$route {"
	echo "        default app;"
	for name in "${APPS[@]}"; do
		echo "        ~\\.$name\$ $name;"
	done
	echo "    }"
	for name in "${APPS[@]}"; do
		echo "    upstream $name {"
		echo "        server 127.0.0.1:$(port_of "app-$name") max_fails=1 fail_timeout=10s;"
		for other in "${APPS[@]}"; do
			[[ "$other" == "$name" ]] && continue
			echo "        server 127.0.0.1:$(port_of "app-$other") backup;"
		done
		echo "    }"
	done
	nginx_routing_round_robin
}

start_nginx() {
	local port dir="$STATE/nginx" routing target=app
	port="$(free_port)"
	echo "$port" >"$STATE/nginx.port"
	mkdir -p "$dir"
	if sticky; then
		routing="$(nginx_routing_sticky)"
		target='$route'
	else
		routing="$(nginx_routing_round_robin)"
	fi
	{
		[[ $EUID -eq 0 ]] && echo "user root;"
		cat <<-EOF
			worker_processes 1;
			pid $dir/nginx.pid;
			error_log $LOGS/nginx-error.log warn;
			events { worker_connections 256; }
			http {
			    log_format upstream '\$remote_addr [\$time_local] "\$request" \$status upstream=\$upstream_addr route=\$cookie_SESSION';
			    access_log $LOGS/nginx-access.log upstream;
			    client_body_temp_path $dir/client_body;
			    proxy_temp_path $dir/proxy;
			    fastcgi_temp_path $dir/fastcgi;
			    uwsgi_temp_path $dir/uwsgi;
			    scgi_temp_path $dir/scgi;
			$routing
			    server {
			        listen 127.0.0.1:$port;
			        location / {
			            proxy_pass http://$target;
			            proxy_set_header Host \$http_host;
			            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
			            proxy_next_upstream error timeout http_502;
			            proxy_connect_timeout 1s;
			        }
			    }
			}
		EOF
	} >"$dir/nginx.conf"
	nohup "$(nginx_binary)" -p "$dir/" -e "$LOGS/nginx-error.log" -c "$dir/nginx.conf" -g 'daemon off;' \
		>>"$LOGS/nginx.log" 2>&1 &
	echo $! >"$STATE/nginx.pid"
	wait_for nginx 10 port_listens "$port" || die "nginx did not start, see $LOGS/nginx-error.log"
}

stop() { # component, signal
	local component="$1" signal="${2:-TERM}" pid
	alive "$component" || return 0
	pid="$(pid_of "$component")"
	kill -CONT "$pid" 2>/dev/null || true
	kill "-$signal" "$pid" 2>/dev/null || true
	wait_for "$component" 15 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- commands

url() { echo "http://127.0.0.1:$(port_of nginx)/"; }

cmd_up() {
	local rebuild=false mode=round-robin
	for arg in "$@"; do
		case "$arg" in
			--rebuild) rebuild=true ;;
			--sticky) mode=sticky ;;
			*) usage 2 ;;
		esac
	done
	if alive nginx; then
		say "The demo is already up:"
		cmd_status
		return
	fi
	local started=$SECONDS
	check_prerequisites
	build "$rebuild"
	rm -f "$STATE"/*.pid "$STATE"/*.port
	mkdir -p "$LOGS"
	echo "$mode" >"$STATE/mode"
	for id in "${NODES[@]}"; do start_node "$id"; done
	for name in "${APPS[@]}"; do launch_app "$name"; done
	for name in "${APPS[@]}"; do await_app "$name"; done
	start_nginx
	cat <<-EOF

		The demo is up after $((SECONDS - started)) s ($mode):  $(url)
		Log in as demo / demo (or alice / alice).

		  bash $0 status              what runs where
		  bash $0 kill-app app1       kill the instance that served you, then reload the page
		  bash $0 kill-node n1        kill a memcached node (start-node n1 restarts it, empty)
		  bash $0 down                stop everything
		  curl -c /tmp/jar -b /tmp/jar $(url)api/session
	EOF
}

cmd_down() {
	local any=false component file
	# Front to back: nginx first, memcached last; then anything else a pid file names.
	for component in nginx "${APPS[@]/#/app-}" "${NODES[@]/#/memcached-}" $(ls "$STATE" | sed -n 's/\.pid$//p'); do
		file="$STATE/$component.pid"
		[[ -e "$file" ]] || continue
		if alive "$component"; then
			stop "$component"
			say "stopped $component (pid $(pid_of "$component"))"
			any=true
		fi
		rm -f "$file"
	done
	rm -f "$STATE"/*.port "$STATE/mode"
	rm -rf "$STATE/nginx"
	$any || say "Nothing was running."
	[[ -d "$LOGS" ]] && say "Logs are kept in $LOGS."
	return 0
}

cmd_status() {
	local component state
	printf '%-16s %-8s %-7s %s\n' COMPONENT PID PORT STATE
	for component in nginx "${APPS[@]/#/app-}" "${NODES[@]/#/memcached-}"; do
		[[ -e "$STATE/$component.port" ]] || continue
		if ! alive "$component"; then
			state=stopped
		elif stopped "$component"; then
			state="hung (SIGSTOP)"
		else
			state=running
		fi
		printf '%-16s %-8s %-7s %s\n' "$component" "$(pid_of "$component")" "$(port_of "$component")" "$state"
	done
	[[ -e "$STATE/nginx.port" ]] && say "URL: $(url) ($(cat "$STATE/mode" 2>/dev/null || echo round-robin))"
	return 0
}

known() { # component prefix, name, valid names...
	local prefix="$1" name="$2"
	shift 2
	[[ -n "$name" && " $* " == *" $name "* ]] || die "unknown name '$name' (one of: $*)"
	[[ -e "$STATE/$prefix-$name.port" ]] || die "the demo is not up ('demo.sh up' starts it)"
}

cmd_kill_app() {
	known app "${1:-}" "${APPS[@]}"
	alive "app-$1" || die "$1 is not running"
	stop "app-$1" KILL
	say "killed $1; reload the page: the other instance carries on with your session"
}

cmd_start_app() {
	known app "${1:-}" "${APPS[@]}"
	alive "app-$1" && die "$1 is already running"
	launch_app "$1"
	await_app "$1"
	say "started $1 on port $(port_of "app-$1")"
}

cmd_kill_node() {
	known memcached "${1:-}" "${NODES[@]}"
	alive "memcached-$1" || die "$1 is not running"
	stop "memcached-$1" KILL
	say "killed memcached $1 (port $(port_of "memcached-$1")); 'start-node $1' restarts it, empty"
}

cmd_start_node() {
	known memcached "${1:-}" "${NODES[@]}"
	alive "memcached-$1" && die "$1 is already running"
	start_node "$1"
	say "started memcached $1 on port $(port_of "memcached-$1"), empty"
}

cmd_hang_node() {
	known memcached "${1:-}" "${NODES[@]}"
	alive "memcached-$1" || die "$1 is not running"
	kill -STOP "$(pid_of "memcached-$1")"
	say "froze memcached $1 (SIGSTOP): it accepts connections but answers nothing; 'resume-node $1' undoes it"
}

cmd_resume_node() {
	known memcached "${1:-}" "${NODES[@]}"
	alive "memcached-$1" || die "$1 is not running"
	kill -CONT "$(pid_of "memcached-$1")"
	say "resumed memcached $1"
}

main() {
	local command="${1:-}"
	[[ $# -gt 0 ]] && shift
	mkdir -p "$STATE"
	case "$command" in
		up) cmd_up "$@" ;;
		down) cmd_down ;;
		status) cmd_status ;;
		kill-app) cmd_kill_app "$@" ;;
		start-app) cmd_start_app "$@" ;;
		kill-node) cmd_kill_node "$@" ;;
		start-node) cmd_start_node "$@" ;;
		hang-node) cmd_hang_node "$@" ;;
		resume-node) cmd_resume_node "$@" ;;
		-h | --help | help) usage 0 ;;
		*) usage 2 ;;
	esac
}

main "$@"
