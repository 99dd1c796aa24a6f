#!/usr/bin/env bash
# scripts/run-sim end to end, as the README tells a newcomer to use it: on a
# fresh data directory it pairs the appliance with the reference city (CSR
# from the appliance's key, signed by the test CA, CA and certificate
# installed through `admin`), starts citysim and the display boards beside
# the appliance; an order dispatched with the citysim CLI reaches the
# appliance's database and the appliance's delivery event reaches the
# city's store; Ctrl-C (SIGINT) stops everything with exit code 0.
#
# Usage: test_run_sim.sh BUILD_DIR (the host build whose programs to run)
set -euo pipefail

bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${HE_TEST_TMP:-/tmp}/test_run_sim.XXXXXX")
run_pid=
cleanup() {
	if [ -n "$run_pid" ]; then
		kill -INT "$run_pid" 2>/dev/null || true
		wait "$run_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	echo "---- run-sim output" >&2
	tail -n 40 "$tmp/run.log" >&2 || true
	exit 1
}

# Four ports nobody listens on.
ports=()
while [ ${#ports[@]} -lt 4 ]; do
	p=$((20000 + RANDOM % 20000))
	if ! ss -Htln "sport = :$p" | grep -q . && ! [[ " ${ports[*]} " == *" $p "* ]]; then
		ports+=("$p")
	fi
done
kiosk_port=${ports[0]}
city_port=${ports[1]}
status_port=${ports[2]}
display_base=${ports[3]}

data=$tmp/data
city=$tmp/city
mkdir -p "$data"
printf '[http]\nport = %s\n' "$kiosk_port" >"$data/hotline-edge.conf"

HE_SIM_BIN=$bin HE_SIM_DATA=$data HE_CITY_DATA=$city HE_CITY_PORT=$city_port \
	HE_CITY_STATUS_PORT=$status_port HE_DISPLAY_PORT_BASE=$display_base \
	setsid "$root/scripts/run-sim" >"$tmp/run.log" 2>&1 &
run_pid=$!

# bounded wait: wait_for SECONDS DESCRIPTION COMMAND...
wait_for() {
	local secs=$1 what=$2
	shift 2
	for _ in $(seq $((secs * 10))); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$run_pid" 2>/dev/null || fail "run-sim exited while waiting for $what"
		sleep 0.1
	done
	fail "no $what after ${secs}s"
}

# GET path on the kiosk (bash's /dev/tcp: no curl needed).
http_get() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$kiosk_port" || return 1
	printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1" >&"$fd"
	cat <&"$fd"
	exec {fd}<&-
}
health() { http_get /api/v1/health | grep -q '"identity":{"state":"valid"'; }
wait_for 30 "kiosk with a valid identity" health

# Paired as a technician would: the CA and the signed certificate installed
# (and audited), the certificate's CN is the device id citysim knows.
[ -s "$data/keys/city-ca.crt" ] || fail "no city CA installed"
openssl x509 -in "$data/keys/device.crt" -noout -subject | grep -q 'CN *= *sim-0001' ||
	fail "the device certificate is not for sim-0001"
n=$(sqlite3 "file:$data/hotline.db?mode=ro" \
	"SELECT count(*) FROM audit WHERE action IN ('identity.install_ca', 'identity.install_cert') AND outcome = 'ok'")
[ "$n" -eq 2 ] || fail "expected 2 audited installs, found $n"

# The city sees the device.
handshake() { grep -q 'cn=sim-0001 GET /api/v1/time 200' "$city/citysim.log"; }
wait_for 30 "request from sim-0001 at the city" handshake

# The README's dispatch command, and the order on the appliance.
number=$("$bin/tools/citysim/citysim" dispatch --data "$city" --device sim-0001 \
	--title 路灯不亮 --content '幸福小区3号楼前路灯坏了一周' --phone 13800000000)
[ -n "$number" ] || fail "citysim dispatch printed no order number"
order_here() {
	[ "$(sqlite3 "file:$data/hotline.db?mode=ro" \
		"SELECT count(*) FROM orders WHERE number = '$number'")" -eq 1 ]
}
wait_for 45 "order $number on the appliance" order_here
delivered() {
	"$bin/tools/citysim/citysim" events --data "$city" --device sim-0001 --type order.delivered |
		grep -q "$number"
}
wait_for 30 "order.delivered of $number at the city" delivered

# Ctrl-C: the appliance stops cleanly and takes its helpers with it.
kill -INT -- "-$run_pid"
status=0
wait "$run_pid" || status=$?
run_pid=
[ "$status" -eq 0 ] || fail "run-sim exited with $status after SIGINT"
sleep 0.3
if pgrep -f -- "--data $city" >/dev/null || pgrep -f -- "--port-base $display_base" >/dev/null; then
	fail "citysim or displaysim still running after run-sim stopped"
fi
echo "run-sim: paired, order $number delivered both ways, clean stop"
