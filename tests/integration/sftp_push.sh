#!/usr/bin/env bash
# sftp_push.sh: `ottrecon push` against the throwaway sshd: data files before .ctl files,
# temporary remote names renamed when complete, local files moved to spool/sent, nothing sent
# twice, a different file of the same name left alone, --dry-run (SPEC §1, §7).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/sftp_lib.sh
source "$(dirname "$0")/sftp_lib.sh"
OUTBOX=$SPOOL/outbox
SENT=$SPOOL/sent
mkdir -p "$OUTBOX"

note "nothing to push: no connection needed"
assert_exit 0 "$OTTRECON_BIN" push
assert_file_contains "$ERR" "nothing to push: $OUTBOX is empty"

for f in eligibility_XX_20261203.csv deactivations_XX_20261203.csv; do
	head -c 123457 /dev/urandom >"$OUTBOX/$f"
	printf 'rows=1 sha256=%s\n' "$(sha "$OUTBOX/$f")" >"$OUTBOX/$f.ctl"
done
echo "half written" >"$OUTBOX/.eligibility_XX_20261204.csv.tmp.123"
CTL_SIZE=$(stat -c %s "$OUTBOX/eligibility_XX_20261203.csv.ctl")
declare -A WANT
for f in "$OUTBOX"/*; do WANT[$(basename "$f")]=$(sha "$f"); done

note "--dry-run lists data files, then control files, and changes nothing"
assert_exit 0 "$OTTRECON_BIN" push --dry-run
assert_eq "send deactivations_XX_20261203.csv 123457
send eligibility_XX_20261203.csv 123457
send deactivations_XX_20261203.csv.ctl $CTL_SIZE
send eligibility_XX_20261203.csv.ctl $CTL_SIZE" "$(cat "$OUT")" "dry-run output"
assert_eq "" "$(ls -A "$REMOTE_OUT")" "remote outbox after --dry-run"
assert_eq 5 "$(ls -A "$OUTBOX" | wc -l)" "outbox after --dry-run"

note "push sends them in that order, under temporary names, and moves them to sent/"
assert_exit 0 "$OTTRECON_BIN" push
assert_eq "deactivations_XX_20261203.csv
eligibility_XX_20261203.csv
deactivations_XX_20261203.csv.ctl
eligibility_XX_20261203.csv.ctl" "$(sed -n 's/.* sent file=\([^ ]*\) .*/\1/p' "$ERR")" "order of the uploads"
for f in "${!WANT[@]}"; do
	[[ $f == .* ]] && continue
	assert_eq "${WANT[$f]}" "$(sha "$REMOTE_OUT/$f")" "sha256 of remote $f"
	assert_eq "${WANT[$f]}" "$(sha "$SENT/$f")" "sha256 of sent/$f"
done
assert_file_contains "$ERR" "sent file=eligibility_XX_20261203.csv bytes=123457 to $REMOTE_OUT/eligibility_XX_20261203.csv"
assert_file_contains "$ERR" "4 file(s) sent ($((2 * 123457 + 2 * CTL_SIZE)) bytes), 0 already on the server, 0 not sent"
assert_eq ".eligibility_XX_20261204.csv.tmp.123" "$(ls -A "$OUTBOX")" "outbox keeps only the writer's temporary file"
assert_eq 4 "$(ls -A "$REMOTE_OUT" | wc -l)" "remote outbox: the 4 files and no temporary name"

note "a file the server has with the same size is not sent twice"
mtime_before=$(stat -c %Y.%Z "$REMOTE_OUT/eligibility_XX_20261203.csv")
sleep 1.1
cp "$SENT/eligibility_XX_20261203.csv" "$OUTBOX/"
assert_exit 0 "$OTTRECON_BIN" push
assert_file_contains "$ERR" "already sent file=eligibility_XX_20261203.csv bytes=123457 (the server has it with the same size)"
assert_file_contains "$ERR" "0 file(s) sent (0 bytes), 1 already on the server"
assert_eq "$mtime_before" "$(stat -c %Y.%Z "$REMOTE_OUT/eligibility_XX_20261203.csv")" "remote file untouched"
assert_eq "${WANT[eligibility_XX_20261203.csv]}" "$(sha "$SENT/eligibility_XX_20261203.csv.1")" \
	"the second copy lands in sent/ as NAME.1"

note "another file of a name the server has: left alone (65), and its .ctl waits"
head -c 999 /dev/urandom >"$OUTBOX/eligibility_XX_20261203.csv"
echo "rows=9 sha256=0" >"$OUTBOX/eligibility_XX_20261203.csv.ctl"
assert_exit 65 "$OTTRECON_BIN" push
assert_file_contains "$ERR" "not sending file=eligibility_XX_20261203.csv bytes=999: $REMOTE_OUT already has a file of that name with 123457 bytes"
assert_file_contains "$ERR" "not sending file=eligibility_XX_20261203.csv.ctl: its data file was not sent"
assert_eq "${WANT[eligibility_XX_20261203.csv]}" "$(sha "$REMOTE_OUT/eligibility_XX_20261203.csv")" \
	"the remote file is unchanged"
assert_eq 3 "$(ls -A "$OUTBOX" | wc -l)" "both files stay in the outbox"
rm "$OUTBOX/eligibility_XX_20261203.csv" "$OUTBOX/eligibility_XX_20261203.csv.ctl"

note "a large upload goes to .NAME.part and is renamed only when complete"
head -c 200M /dev/urandom >"$OUTBOX/eligibility_XX_20261205.csv"
want=$(sha "$OUTBOX/eligibility_XX_20261205.csv")
run_bg "$WORK/push1" "$OTTRECON_BIN" push
wait_for_size "$REMOTE_OUT/.eligibility_XX_20261205.csv.part" 1
[[ ! -e $REMOTE_OUT/eligibility_XX_20261205.csv ]] || fail "the final name exists during the upload"
wait "$BG_PID" || true
assert_eq 0 "$(cat "$WORK/push1.rc")" "exit code of the large push"
assert_eq "$want" "$(sha "$REMOTE_OUT/eligibility_XX_20261205.csv")" "sha256 of the large upload"
[[ ! -e $REMOTE_OUT/.eligibility_XX_20261205.csv.part ]] || fail "the temporary name is left"

note "sshd killed during an upload: the partner never sees a partial file under the real name"
head -c 200M /dev/urandom >"$OUTBOX/eligibility_XX_20261206.csv"
want=$(sha "$OUTBOX/eligibility_XX_20261206.csv")
set_sftp retries 0
run_bg "$WORK/push2" "$OTTRECON_BIN" push
wait_for_size "$REMOTE_OUT/.eligibility_XX_20261206.csv.part" $((10 << 20))
sessions=$(sshd_sessions)
[[ -n $sessions ]] || fail "no sshd session under the listener"
# shellcheck disable=SC2086 # (one pid a word)
kill $sessions 2>/dev/null || true
sshd_stop
wait "$BG_PID" || true
assert_eq 69 "$(cat "$WORK/push2.rc")" "exit code of the interrupted push"
[[ ! -e $REMOTE_OUT/eligibility_XX_20261206.csv ]] || fail "a partial upload has the real name"
[[ -e $OUTBOX/eligibility_XX_20261206.csv ]] || fail "the file left the outbox"
sshd_start
assert_exit 0 "$OTTRECON_BIN" push
assert_eq "$want" "$(sha "$REMOTE_OUT/eligibility_XX_20261206.csv")" "sha256 after the second push"
[[ ! -e $REMOTE_OUT/.eligibility_XX_20261206.csv.part ]] || fail "the temporary name is left"
assert_eq "" "$(ls -A "$OUTBOX" | grep -v '^\.' || true)" "outbox empty"
