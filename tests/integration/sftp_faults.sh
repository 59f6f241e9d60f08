#!/usr/bin/env bash
# sftp_faults.sh: `ottrecon pull` when things go wrong: sshd killed in the middle of a large
# download then a resumed pull with the exact bytes, a file growing while it is read, a server
# that accepts TCP but never speaks (timeout), a refused connection with retries (SPEC §1, §7).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/sftp_lib.sh
source "$(dirname "$0")/sftp_lib.sh"
assert_exit 0 "$OTTRECON_BIN" db migrate
INBOX=$SPOOL/inbox
BIG=activations_20261210.csv
head -c 300M /dev/urandom >"$REMOTE_IN/$BIG"
SIZE=$(stat -c %s "$REMOTE_IN/$BIG")
WANT=$(sha "$REMOTE_IN/$BIG")
set_sftp retries 1
set_sftp timeout_s 5

note "sshd killed in the middle of a large download: 69, a partial .part stays"
run_bg "$WORK/pull1" "$OTTRECON_BIN" pull
wait_for_size "$INBOX/$BIG.part" $((20 << 20))
sessions=$(sshd_sessions)
[[ -n $sessions ]] || fail "no sshd session under the listener"
# shellcheck disable=SC2086 # (one pid a word)
kill $sessions 2>/dev/null || true
sshd_stop
wait "$BG_PID" || true
assert_eq 69 "$(cat "$WORK/pull1.rc")" "exit code of the interrupted pull"
assert_file_contains "$WORK/pull1.err" "connection lost"
assert_file_contains "$WORK/pull1.err" "attempt 1 of 2; trying again in 1 s"
assert_file_contains "$WORK/pull1.err" "giving up after 2 attempts"
part_size=$(stat -c %s "$INBOX/$BIG.part")
((part_size > 0 && part_size < SIZE)) || fail ".part has $part_size bytes of $SIZE"
note "the .part holds $part_size of $SIZE bytes"
[[ ! -e $INBOX/$BIG ]] || fail "an incomplete download was renamed"

note "sshd back: the next pull resumes from the .part and yields the exact bytes"
sshd_start
assert_exit 0 "$OTTRECON_BIN" pull
assert_file_contains "$ERR" "resuming file=$BIG from byte $part_size of $SIZE"
assert_file_contains "$ERR" "fetched file=$BIG bytes=$SIZE (resumed)"
assert_file_contains "$ERR" "1 file(s) fetched ($((SIZE - part_size)) bytes)"
assert_eq "$WANT" "$(sha "$INBOX/$BIG")" "sha256 of the resumed download"
[[ ! -e $INBOX/$BIG.part ]] || fail ".part left behind"

note "a .part of another version of the file (other mtime) is not resumed"
rm "$INBOX/$BIG"
head -c 1000 /dev/zero >"$INBOX/$BIG.part"
assert_exit 0 "$OTTRECON_BIN" pull
assert_file_contains "$ERR" "restarting file=$BIG: its .part is not a prefix of the file on the server"
assert_eq "$WANT" "$(sha "$INBOX/$BIG")" "sha256 after a restart"

note "a file growing while it is read is left for the next run"
rm "$INBOX/$BIG"
run_bg "$WORK/pull2" "$OTTRECON_BIN" pull
wait_for_size "$INBOX/$BIG.part" 1
echo '"XX","amazon","plan123","late row"' >>"$REMOTE_IN/$BIG"
wait "$BG_PID" || true
assert_eq 0 "$(cat "$WORK/pull2.rc")" "exit code when a file changed during its download"
assert_file_contains "$WORK/pull2.err" "file=$BIG changed while it was fetched (listed: $SIZE bytes"
assert_file_contains "$WORK/pull2.err" "left for the next run"
assert_file_contains "$WORK/pull2.err" "0 file(s) fetched (0 bytes), 0 already fetched, 1 left for the next run"
[[ ! -e $INBOX/$BIG && ! -e $INBOX/$BIG.part ]] || fail "a changing file was kept"
note "the next run, the file being still, fetches it whole"
assert_exit 0 "$OTTRECON_BIN" pull
assert_eq "$(sha "$REMOTE_IN/$BIG")" "$(sha "$INBOX/$BIG")" "sha256 of the grown file"
rm "$REMOTE_IN/$BIG" "$INBOX/$BIG"

note "a server that accepts TCP but never speaks: 69 within about timeout_s"
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)  # accepted, never answered
' >"$WORK/mute.port" &
kill_later $!
wait_for_size "$WORK/mute.port" 2 10
set_sftp port "$(cat "$WORK/mute.port")"
set_sftp timeout_s 2
set_sftp retries 0
start=$(date +%s%N)
assert_exit 69 "$OTTRECON_BIN" pull
ms=$((($(date +%s%N) - start) / 1000000))
note "gave up after $ms ms"
((ms >= 1500 && ms < 5000)) || fail "expected to give up after about 2 s, took $ms ms"
assert_file_contains "$ERR" "SSH handshake with $OTTRECON_TEST_SFTP_USER@127.0.0.1:$(cat "$WORK/mute.port"): timed out"

note "retries with exponential backoff: 2 retries wait 1 s then 2 s"
set_sftp retries 2
start=$(date +%s%N)
assert_exit 69 "$OTTRECON_BIN" pull
ms=$((($(date +%s%N) - start) / 1000000))
note "gave up after $ms ms"
((ms >= 8000 && ms < 13000)) || fail "expected 3 x 2 s + 1 s + 2 s, took $ms ms"
assert_file_contains "$ERR" "(attempt 1 of 3; trying again in 1 s)"
assert_file_contains "$ERR" "(attempt 2 of 3; trying again in 2 s)"
assert_file_contains "$ERR" "giving up after 3 attempts"

note "nothing listening: connection refused, 69"
set_sftp retries 0
sshd_stop
set_sftp port "$OTTRECON_TEST_SFTP_PORT"
assert_exit 69 "$OTTRECON_BIN" pull
assert_file_contains "$ERR" "cannot connect to 127.0.0.1 port $OTTRECON_TEST_SFTP_PORT: Connection refused"
sshd_start
