# shellcheck shell=bash
# Shared helpers for scripts/setup and scripts/test (sourced, not run).
#
# Everything here is plain bash with no state beyond a few HE_* variables,
# so each script stays readable on its own.

# Repository root: the parent of the scripts/ directory this file is in.
HE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HE_BUILD="$HE_ROOT/build"
# shellcheck disable=SC2034 # used by the scripts that source this file
HE_LOGS="$HE_BUILD/logs"

# Bold only on a terminal, so CI logs stay free of escape codes.
if [ -t 1 ]; then
	he_b=$'\033[1m'
	he_n=$'\033[0m'
else
	he_b=''
	he_n=''
fi

he_say() {
	printf '%s==> %s%s\n' "$he_b" "$*" "$he_n"
}

he_warn() {
	printf 'warning: %s\n' "$*" >&2
}

he_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# he_root CMD...: run CMD as root: directly when we are root, else via sudo.
he_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		he_die "need root for '$*' and sudo is not installed; run this script as root"
	fi
}

# he_now: seconds since the epoch, for stage durations.
he_now() {
	date +%s
}
