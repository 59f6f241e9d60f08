#!/usr/bin/env bash
# cron_check.sh BUILDDIR: the scheduling files meson configured (cron/*.in) are well formed: the
# crontab line has a schedule, a user and a command whose options the built ottrecon accepts,
# and the systemd service and timer pass `systemd-analyze verify` (where systemd-analyze is
# installed; CI's Debian has it when systemd is installed).
set -euo pipefail
BUILDDIR=$1
BIN=$BUILDDIR/ottrecon
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
note() { printf '# %s\n' "$*"; }

# --- crontab (cron.d format: min hour dom mon dow user command) -------------------------------
cron=$BUILDDIR/ottrecon.cron
[[ -f $cron ]] || fail "$cron was not configured"
mapfile -t jobs < <(grep -Ev '^[[:space:]]*(#|$|[A-Z_]+=)' "$cron")
((${#jobs[@]} == 1)) || fail "expected one job line in $cron, found ${#jobs[@]}"
read -r min hour dom mon dow user cmd rest <<<"${jobs[0]}"
[[ "$min $hour $dom $mon $dow" == "0 2 * * *" ]] || fail "schedule is '$min $hour $dom $mon $dow'"
[[ $user == ottrecon ]] || fail "user field is '$user'"
[[ $cmd == /*/bin/ottrecon ]] || fail "command '$cmd' is not an installed ottrecon path"
! grep -q '@[A-Z]*@' "$cron" "$BUILDDIR/ottrecon-nightly.service" "$BUILDDIR/ottrecon-nightly.timer" ||
	fail "a @VARIABLE@ was left unconfigured"
# The same arguments, given to the built binary with --help at the end, must parse.
args=${rest%%>>*}
# shellcheck disable=SC2086 # (split the command line as cron's /bin/sh would)
"$BIN" $args --help >/dev/null || fail "the built ottrecon does not accept: $args"
note "ok: crontab line: $min $hour $dom $mon $dow $user $cmd $args"

# --- systemd ----------------------------------------------------------------------------------
svc=$BUILDDIR/ottrecon-nightly.service
grep -q '^ExecStart=/.*/bin/ottrecon --log-format json nightly$' "$svc" || fail "ExecStart in $svc"
grep -q '^OnCalendar=\*-\*-\* 02:00:00 UTC$' "$BUILDDIR/ottrecon-nightly.timer" || fail "OnCalendar"
if ! command -v systemd-analyze >/dev/null; then
	note "systemd-analyze is not installed: systemd units checked by the greps above only"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$svc" "$BUILDDIR/ottrecon-nightly.timer" "$tmp/"
# verify checks that ExecStart's binary exists: point it at the built one.
sed -i "s|^ExecStart=[^ ]*|ExecStart=$(readlink -f "$BIN")|" "$tmp/ottrecon-nightly.service"
if ! systemd-analyze verify --man=no "$tmp/ottrecon-nightly.timer" \
	"$tmp/ottrecon-nightly.service" >"$tmp/out" 2>&1; then
	cat "$tmp/out" >&2
	fail "systemd-analyze verify"
fi
if [[ -s $tmp/out ]]; then
	cat "$tmp/out" >&2
	fail "systemd-analyze verify printed warnings"
fi
note "ok: systemd-analyze verify ottrecon-nightly.timer ottrecon-nightly.service"
