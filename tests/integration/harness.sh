#!/usr/bin/env bash
# tests/integration/harness.sh: proves the test harness works — the throwaway PostgreSQL answers,
# the throwaway sshd serves sftp to the test key only with a matching known_hosts.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
require_sftp

note "database: $TEST_DB on $PGHOST:$PGPORT as $PGUSER"
assert_eq 1 "$(psql_val 'select 1')" "the database answers select 1"
assert_eq "$TEST_DB" "$(psql_val 'select current_database()')" "psql_val uses the test's database"
assert_eq t "$(psql_val 'select rolsuper from pg_roles where rolname = current_user')" \
	"PGUSER is a superuser"

note "config writer"
# shellcheck disable=SC2119 # (no extra YAML)
write_config
assert_file_contains "$CONFIG" "conninfo: \"dbname=$TEST_DB\""
assert_file_contains "$CONFIG" "port: $OTTRECON_TEST_SFTP_PORT"
assert_eq "$CONFIG" "$OTTRECON_CONFIG" "OTTRECON_CONFIG names the written config"

note "assert_exit keeps stdout and stderr"
assert_exit 3 bash -c 'echo to-stdout; echo to-stderr >&2; exit 3'
assert_eq to-stdout "$(cat "$OUT")" "stdout kept in \$OUT"
assert_eq to-stderr "$(cat "$ERR")" "stderr kept in \$ERR"

note "sshd: the user key is private, known_hosts has the three host keys"
assert_eq 600 "$(stat -c %a "$OTTRECON_TEST_SFTP_KEY")" "user key mode"
assert_eq 3 "$(grep -c "^\[127.0.0.1\]:$OTTRECON_TEST_SFTP_PORT " "$OTTRECON_TEST_SFTP_KNOWN_HOSTS")" \
	"known_hosts lines for [127.0.0.1]:$OTTRECON_TEST_SFTP_PORT"

note "sftp put and get through $OTTRECON_TEST_SFTP_ROOT"
remote=harness-$$
mkdir -p "$WORK/local"
printf 'uploaded by harness.sh\nline 2\n' >"$WORK/local/up.txt"
mkdir -p "$OTTRECON_TEST_SFTP_ROOT/$remote"
printf 'placed on the server by harness.sh\n' >"$OTTRECON_TEST_SFTP_ROOT/$remote/down.txt"
cat >"$WORK/batch" <<EOF
cd $remote
put $WORK/local/up.txt up.txt
get down.txt $WORK/local/down.txt
ls -1
EOF
assert_exit 0 sftp_batch "$WORK/batch"
assert_eq "$(cat "$WORK/local/up.txt")" "$(cat "$OTTRECON_TEST_SFTP_ROOT/$remote/up.txt")" \
	"uploaded file arrived under the sftp root"
assert_eq "placed on the server by harness.sh" "$(cat "$WORK/local/down.txt")" \
	"downloaded file has the server's content"
assert_file_contains "$OUT" "up.txt"

note "a connection with an empty known_hosts is refused"
: >"$WORK/empty_known_hosts"
assert_exit 255 sftp_batch "$WORK/batch" -o UserKnownHostsFile="$WORK/empty_known_hosts"
assert_file_contains "$ERR" "Host key verification failed"

note "a connection with another host key in known_hosts is refused"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/other_host_key" </dev/null
printf '[127.0.0.1]:%s %s\n' "$OTTRECON_TEST_SFTP_PORT" \
	"$(cut -d' ' -f1,2 "$WORK/other_host_key.pub")" >"$WORK/wrong_known_hosts"
assert_exit 255 sftp_batch "$WORK/batch" -o UserKnownHostsFile="$WORK/wrong_known_hosts"
assert_file_contains "$ERR" "REMOTE HOST IDENTIFICATION HAS CHANGED"

note "another user key is refused"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/other_user_key" </dev/null
SFTP_KEY=$WORK/other_user_key assert_exit 255 sftp_batch "$WORK/batch"
assert_file_contains "$ERR" "Permission denied"

note "sshd_stop makes it unreachable; sshd_start brings it back on the same port"
sshd_stop
assert_exit 255 sftp_batch "$WORK/batch"
assert_file_contains "$ERR" "Connection refused"
sshd_start
sshd_restart
assert_exit 0 sftp_batch "$WORK/batch"

rm -rf "${OTTRECON_TEST_SFTP_ROOT:?}/$remote"
note "harness works"
