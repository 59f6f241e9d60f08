# tests/integration/lib.sh: sourced by every integration test (a fresh database, a work dir,
# a config writer and assertions that print what was expected and what was got).
# shellcheck shell=bash disable=SC2153 # (OTTRECON_TEST_* come from tools/check)
#
# Usage, at the top of tests/integration/NAME.sh:
#
#   source "$(dirname "$0")/lib.sh"
#   write_config                      # $WORK/ottrecon.yaml -> $CONFIG (and $OTTRECON_CONFIG)
#   assert_exit 0 "$OTTRECON_BIN" db migrate
#   assert_eq 3 "$(psql_val 'select count(*) from schema_migrations')" "migrations applied"
#   assert_file_contains "$OUT" "expected text"
#
# Provides (after sourcing):
#   TEST_NAME   the script's name without .sh
#   TEST_DB     a fresh database made for this test (dropped at the end); PGDATABASE=TEST_DB
#   WORK        a fresh temp work dir (removed at the end; OTTRECON_KEEP_WORK=1 keeps it)
#   OUT, ERR    files holding the stdout and stderr of the last assert_exit
#   OTTRECON_BIN, SRCDIR, BUILDDIR   from meson (defaults derived from this file's place)
#
# Needs the servers that tools/check starts (PGHOST, PGPORT, ... and OTTRECON_TEST_SFTP_*):
# without them the test is skipped with exit 77 (meson's SKIP).
set -euo pipefail

SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILDDIR=${BUILDDIR:-$SRCDIR/build}
OTTRECON_BIN=${OTTRECON_BIN:-$BUILDDIR/ottrecon}
TEST_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
export SRCDIR BUILDDIR OTTRECON_BIN

# Prints a note on the test's output (shown by meson on failure or with -v).
note() { printf '# %s\n' "$*"; }

# Fails the test now, saying why.
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

if [[ -z ${PGHOST:-} || -z ${PGPORT:-} ]]; then
	skip "PGHOST/PGPORT are not set: integration tests need the throwaway PostgreSQL and sshd" \
		"that tools/check starts (run: tools/check -- $TEST_NAME)"
fi
[[ -x $OTTRECON_BIN ]] || fail "OTTRECON_BIN=$OTTRECON_BIN is not an executable (build first)"

# Skips the test when the throwaway sshd is not there (for tests that need SFTP).
require_sftp() {
	local v
	for v in OTTRECON_TEST_SFTP_HOST OTTRECON_TEST_SFTP_PORT OTTRECON_TEST_SFTP_USER \
		OTTRECON_TEST_SFTP_KEY OTTRECON_TEST_SFTP_KNOWN_HOSTS OTTRECON_TEST_SFTP_ROOT \
		OTTRECON_TEST_SSHD_DIR; do
		[[ -n ${!v:-} ]] || skip "$v is not set: this test needs the sshd that tools/check starts"
	done
}

# --- the test's database and work dir ---------------------------------------------------------

TEST_DB=${TEST_NAME,,}
TEST_DB=ottrecon_test_${TEST_DB//[^a-z0-9_]/_}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ottrecon-test-$TEST_NAME.XXXXXX")
OUT=$WORK/last.stdout
ERR=$WORK/last.stderr
: >"$OUT"
: >"$ERR"

test_cleanup() {
	local rc=$?
	set +e
	dropdb --if-exists --force "$TEST_DB" >/dev/null 2>&1
	# A test that stopped the shared sshd and failed before starting it again: start it, so
	# that the next tests still have one.
	if [[ -x ${OTTRECON_TEST_SSHD_DIR:-/nonexistent}/sshdctl ]] &&
		! "$OTTRECON_TEST_SSHD_DIR/sshdctl" status >/dev/null 2>&1; then
		note "restarting the sshd this test left stopped"
		"$OTTRECON_TEST_SSHD_DIR/sshdctl" start >/dev/null 2>&1
	fi
	if [[ ${OTTRECON_KEEP_WORK:-} == 1 ]]; then
		note "work dir kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap test_cleanup EXIT

dropdb --if-exists --force "$TEST_DB" >/dev/null 2>&1 || true
createdb "$TEST_DB" || fail "cannot create database $TEST_DB (PGHOST=$PGHOST PGPORT=$PGPORT)"
export PGDATABASE=$TEST_DB

# Prints one value from the test database: psql_val "select count(*) from t".
psql_val() {
	psql -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# --- configuration ----------------------------------------------------------------------------

# Writes a configuration (SPEC §2) for this test to $WORK/ottrecon.yaml (or FILE) and sets
# CONFIG and OTTRECON_CONFIG to it: the test database, a spool in $WORK/spool, country XX with
# telco_code OPERATOR1 and four products, and a docomo partner pointing at the throwaway sshd
# when there is one (remote dirs $OTTRECON_TEST_SFTP_ROOT/outgoing/activations and /incoming).
# EXTRA is YAML appended at the end: top-level sections not written here (recon, reports).
#   write_config [EXTRA [FILE]]
write_config() {
	local extra=${1:-} file=${2:-$WORK/ottrecon.yaml}
	{
		cat <<-EOF
			# written by tests/integration/lib.sh for test $TEST_NAME
			database:
			  conninfo: "dbname=$TEST_DB"
			spool: $WORK/spool
		EOF
		if [[ -n ${OTTRECON_TEST_SFTP_PORT:-} ]]; then
			cat <<-EOF
				partners:
				  docomo:
				    sftp:
				      host: $OTTRECON_TEST_SFTP_HOST
				      port: $OTTRECON_TEST_SFTP_PORT
				      user: $OTTRECON_TEST_SFTP_USER
				      private_key: $OTTRECON_TEST_SFTP_KEY
				      known_hosts: $OTTRECON_TEST_SFTP_KNOWN_HOSTS
				      remote_inbox: $OTTRECON_TEST_SFTP_ROOT/outgoing/activations
				      pattern: "activations_*.csv"
				      remote_outbox: $OTTRECON_TEST_SFTP_ROOT/incoming
				      after_pull: keep
				      timeout_s: 10
				      retries: 1
				    activations_mode: delta
			EOF
		fi
		cat <<-'EOF'
			countries:
			  - code: XX
			    telco_code: OPERATOR1
			    products:
			      - partner_product: plan123
			        site: amazon
			        family: PRIME_VIDEO
			        service: MOBILE
			        kind: BUNDLE
			        sku: AMZ-PV-MOB-0
			        monthly_price: 0.00
			        currency: USD
			        eligible_plans: [POST50, POST80]
			      - partner_product: pv_addon_mobile
			        site: amazon
			        family: PRIME_VIDEO
			        service: MOBILE
			        kind: ADDON
			        sku: AMZ-PV-MOB-5
			        monthly_price: 4.99
			        currency: USD
			        eligible_plans: [POST30, POST50, POST80]
			      - partner_product: music_addon_mobile
			        site: amazon
			        family: PRIME_MUSIC
			        service: MOBILE
			        kind: ADDON
			        sku: AMZ-PM-MOB-3
			        monthly_price: 2.99
			        currency: USD
			        eligible_plans: [POST30, POST50, POST80]
			      - partner_product: pv_home
			        site: amazon
			        family: PRIME_VIDEO
			        service: HOME
			        kind: ADDON
			        sku: AMZ-PV-HOME-5
			        monthly_price: 5.99
			        currency: USD
			        eligible_plans: [FIBER100, FIBER500]
		EOF
		if [[ -n $extra ]]; then
			printf '%s\n' "$extra"
		fi
	} >"$file"
	export CONFIG=$file OTTRECON_CONFIG=$file
}

# --- assertions -------------------------------------------------------------------------------

# assert_eq EXPECTED ACTUAL MSG
assert_eq() {
	if [[ $1 != "$2" ]]; then
		printf 'FAIL: %s\n  expected: %s\n  got:      %s\n' "${3:-values differ}" "$1" "$2" >&2
		exit 1
	fi
	note "ok: ${3:-$1}"
}

# assert_exit CODE CMD [ARGS...]: runs CMD (stdout -> $OUT, stderr -> $ERR) and checks its exit
# code; on a mismatch prints the command, both codes and the tail of its output.
assert_exit() {
	local want=$1 got=0
	shift
	"$@" >"$OUT" 2>"$ERR" || got=$?
	if [[ $got != "$want" ]]; then
		{
			printf 'FAIL: exit code of: %s\n  expected: %s\n  got:      %s\n' "$*" "$want" "$got"
			printf '  --- stdout (last 20 lines) ---\n'
			tail -n 20 "$OUT" | sed 's/^/  | /'
			printf '  --- stderr (last 20 lines) ---\n'
			tail -n 20 "$ERR" | sed 's/^/  | /'
		} >&2
		exit 1
	fi
	note "ok: exit $want: $*"
}

# assert_file_contains FILE TEXT: FILE has TEXT (a fixed string) somewhere.
assert_file_contains() {
	if [[ ! -f $1 ]]; then
		fail "file $1 does not exist (expected it to contain: $2)"
	fi
	if ! grep -qF -- "$2" "$1"; then
		{
			printf 'FAIL: %s does not contain the expected text\n  expected: %s\n' "$1" "$2"
			printf '  --- %s (first 40 lines) ---\n' "$1"
			head -n 40 "$1" | sed 's/^/  | /'
		} >&2
		exit 1
	fi
	note "ok: $(basename "$1") contains: $2"
}

# assert_file_not_contains FILE TEXT
assert_file_not_contains() {
	[[ -f $1 ]] || fail "file $1 does not exist"
	if grep -qF -- "$2" "$1"; then
		{
			printf 'FAIL: %s contains unexpected text: %s\n' "$1" "$2"
			grep -nF -- "$2" "$1" | head -n 10 | sed 's/^/  | /'
		} >&2
		exit 1
	fi
	note "ok: $(basename "$1") does not contain: $2"
}

# assert_log_lines FILE: every line of FILE is a text log line of SPEC §1
# ("2026-12-03T02:00:01Z INFO pull: text"): a message never spills onto a second line.
assert_log_lines() {
	local bad
	[[ -f $1 ]] || fail "file $1 does not exist"
	bad=$(grep -nvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z (DEBUG|INFO|WARN|ERROR) [a-z][a-z:_-]*: ' "$1" || true)
	if [[ -n $bad ]]; then
		{
			printf 'FAIL: %s has lines that are not log lines\n' "$1"
			printf '%s\n' "$bad" | head -n 10 | sed 's/^/  | /'
		} >&2
		exit 1
	fi
	note "ok: $(basename "$1"): every line a log line"
}

# --- the throwaway sshd -----------------------------------------------------------------------

# Runs OpenSSH's sftp with the test key, the host key checked against the test known_hosts:
#   sftp_batch BATCHFILE [-o OPTION=VALUE...]
# Options given override the defaults (ssh keeps the first value it is given for an option);
# the key is SFTP_KEY when set, else the test key.
sftp_batch() {
	local batch=$1
	shift
	sftp -F /dev/null -b "$batch" -P "$OTTRECON_TEST_SFTP_PORT" "$@" \
		-i "${SFTP_KEY:-$OTTRECON_TEST_SFTP_KEY}" \
		-o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none \
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$OTTRECON_TEST_SFTP_KNOWN_HOSTS" \
		-o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 \
		"$OTTRECON_TEST_SFTP_USER@$OTTRECON_TEST_SFTP_HOST"
}

# Stop, start and restart the throwaway sshd (same port, same keys), e.g. to test that an
# unreachable SFTP server gives exit 69. A test that stops it must start it again.
sshd_stop() { "$OTTRECON_TEST_SSHD_DIR/sshdctl" stop; }
sshd_start() { "$OTTRECON_TEST_SSHD_DIR/sshdctl" start; }
sshd_restart() { "$OTTRECON_TEST_SSHD_DIR/sshdctl" restart; }
