# tests/integration/sftp_lib.sh: sourced (after lib.sh) by the sftp_* tests: a remote tree of
# this test's own under the throwaway sshd's root, config edits, and cleanup of what the test
# started or changed (extra authorized keys, extra servers), chained before lib.sh's cleanup.
# shellcheck shell=bash disable=SC2153,SC2034 # (OTTRECON_TEST_* come from tools/check; the
# variables set here are used by the tests that source this file)
#
#   source "$(dirname "$0")/lib.sh"
#   source "$(dirname "$0")/sftp_lib.sh"      # REMOTE_IN, REMOTE_OUT, REMOTE_ARCHIVE, SPOOL
#   set_sftp retries 0                        # edits partners.docomo.sftp.KEY in $CONFIG
#   sha FILE                                  # lowercase SHA-256 of FILE
#   kill_later PID                            # killed (by pid) when the test ends

require_sftp
write_config
# Under the sanitizers: ignore leaks inside libssh2 1.10 itself (see sftp_lsan.supp); the full
# unwinder is needed to see libssh2 in a stack that goes through libcrypto.
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$SRCDIR/tests/integration/sftp_lsan.supp
if [[ -n ${ASAN_OPTIONS:-} ]]; then
	export ASAN_OPTIONS=$ASAN_OPTIONS:fast_unwind_on_malloc=0
fi
SPOOL=$WORK/spool
REMOTE=$OTTRECON_TEST_SFTP_ROOT/$TEST_NAME
REMOTE_IN=$REMOTE/in
REMOTE_OUT=$REMOTE/out
REMOTE_ARCHIVE=$REMOTE/archive
rm -rf "$REMOTE"
mkdir -p "$REMOTE_IN" "$REMOTE_OUT" "$REMOTE_ARCHIVE"
AUTHORIZED_KEYS=$OTTRECON_TEST_SSHD_DIR/authorized_keys
cp "$AUTHORIZED_KEYS" "$WORK/authorized_keys.orig"
SFTP_KILL_PIDS=()

# Sets KEY of the sftp block of $CONFIG to VALUE (the key must be there already).
set_sftp() {
	grep -q "^      $1: " "$CONFIG" || fail "set_sftp: no key $1 in $CONFIG"
	sed -i "s|^      $1: .*|      $1: $2|" "$CONFIG"
}

# Adds KEY: VALUE to the sftp block of $CONFIG (for optional keys such as passphrase_file).
add_sftp() {
	sed -i "s|^      user: \(.*\)|      user: \1\n      $1: $2|" "$CONFIG"
}

set_sftp remote_inbox "$REMOTE_IN"
set_sftp remote_outbox "$REMOTE_OUT"

sha() { sha256sum "$1" | cut -d' ' -f1; }

kill_later() { SFTP_KILL_PIDS+=("$1"); }

# Prints the pids of the sshd sessions (every process below the listener of the test sshd);
# killing them with the listener stopped is "the server died".
sshd_sessions() {
	local pid=${1:-$(cat "$OTTRECON_TEST_SSHD_DIR/sshd.pid")} kid
	for kid in $(pgrep -P "$pid"); do
		echo "$kid"
		sshd_sessions "$kid"
	done
}

# The server's host key fingerprint of a type (ed25519, ecdsa, rsa), as ssh-keygen prints it.
host_fingerprint() {
	ssh-keygen -lf "$OTTRECON_TEST_SSHD_DIR/ssh_host_$1_key.pub" | cut -d' ' -f2
}

# Runs "$@" in the background with stdout/stderr to BASE.out/BASE.err and the exit code in
# BASE.rc; sets BG_PID (wait for it with `wait "$BG_PID"`).
run_bg() {
	local base=$1
	shift
	(
		rc=0
		"$@" >"$base.out" 2>"$base.err" || rc=$?
		echo "$rc" >"$base.rc"
	) </dev/null >/dev/null 2>&1 &
	BG_PID=$!
	kill_later "$BG_PID"
}

# Waits (up to MAX seconds, default 60) until FILE exists with at least BYTES bytes.
wait_for_size() {
	local file=$1 bytes=$2 max=${3:-60} size=0 end=$((SECONDS + ${3:-60}))
	while ((SECONDS < end)); do
		size=$(stat -c %s "$file" 2>/dev/null || echo 0)
		((size >= bytes)) && return 0
		sleep 0.005
	done
	fail "$file did not reach $bytes bytes within $max s (has $size)"
}

sftp_cleanup() {
	local rc=$? pid
	set +e
	for pid in "${SFTP_KILL_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	cp "$WORK/authorized_keys.orig" "$AUTHORIZED_KEYS" 2>/dev/null
	rm -rf "$REMOTE"
	(exit "$rc")
	test_cleanup
}
trap sftp_cleanup EXIT
