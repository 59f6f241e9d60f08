#!/usr/bin/env bash
# nightly.sh: `ottrecon nightly` end to end against the throwaway PostgreSQL and sshd: partner
# files pulled, loaded with the BSS exports, reconciled, partner files written and found on the
# server, KPIs; each step recorded; a second nightly exits 75 at once; an SFTP outage still
# reconciles and exits 69; `ottrecon status` shows it all (SPEC §1, §6, §7).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/sftp_lib.sh
source "$(dirname "$0")/sftp_lib.sh"
export OTTRECON_DATADIR=$SRCDIR
FIX=$SRCDIR/tests/fixtures/feed
set_sftp remote_inbox "$REMOTE_IN"
set_sftp remote_outbox "$REMOTE_OUT"
set_sftp after_pull "move:$REMOTE_ARCHIVE"

assert_exit 0 "$OTTRECON_BIN" nightly --help
assert_file_contains "$OUT" "usage: ottrecon nightly [--as-of YYYY-MM-DD]"
assert_exit 0 "$OTTRECON_BIN" status --help
assert_exit 78 "$OTTRECON_BIN" nightly --as-of 2026-12-01
assert_file_contains "$ERR" "ottrecon db migrate"
assert_exit 0 "$OTTRECON_BIN" db migrate
assert_exit 0 "$OTTRECON_BIN" status
assert_file_contains "$OUT" "last nightly: never run"

# --- day 1: the partner's file on the server, the BSS exports in spool/bss ----------------------
cp "$FIX/activations_20261201.csv" "$REMOTE_IN/"
mkdir -p "$SPOOL/bss"
cp "$FIX/bss_subscribers_XX_20261201.csv" "$FIX/bss_churn_XX_20261201.csv" "$SPOOL/bss/"
assert_exit 0 "$OTTRECON_BIN" nightly --as-of 2026-12-01
for s in pull:docomo ingest reconcile eligibility churn push:docomo kpi:previous-month kpi; do
	assert_file_contains "$ERR" "step=$s outcome=OK exit=0"
done
assert_file_contains "$ERR" "step=pull:docomo outcome=OK exit=0 duration_s="
assert_file_contains "$OUT" "nightly as of 2026-12-01: exit 0"
assert_eq "LOADED LOADED LOADED" "$(psql_val "select string_agg(outcome, ' ' order by file_id) from ottrecon.load_file")" \
	"three files loaded"
[[ -f $SPOOL/archive/activations_20261201.csv && -f $REMOTE_ARCHIVE/activations_20261201.csv ]] ||
	fail "the partner file was not archived (locally and on the server)"
assert_eq 1 "$(psql_val "select count(*) from recon.run where as_of = '2026-12-01'")" "reconciled"
for f in eligibility_XX_20261201.csv deactivations_XX_20261201.csv; do
	[[ -f $REMOTE_OUT/$f && -f $REMOTE_OUT/$f.ctl ]] || fail "$f (and .ctl) not on the server"
	cmp "$REMOTE_OUT/$f" "$SPOOL/sent/$f" || fail "$f on the server differs from spool/sent"
done
assert_eq "rows=18" "$(cut -d' ' -f1 "$REMOTE_OUT/eligibility_XX_20261201.csv.ctl")" "eligibility rows pushed"
[[ -f $SPOOL/reports/kpi_202612.csv && -f $SPOOL/reports/kpi_202611.csv ]] ||
	fail "KPI reports of the month and of the previous month (first day) not written"
assert_eq "0 8" "$(psql_val "select r.exit_code || ' ' || count(*) from ops.run r join ops.step s using (run_id) group by r.run_id")" \
	"the run and its eight steps recorded"
# 15 partner rows, 12 subscribers, 5 churn events
assert_eq "ingest|OK|files=3 loaded=3 refused=0 rows_loaded=32 rows_rejected=0" \
	"$(psql_val "select step || '|' || outcome || '|' || detail from ops.step where step = 'ingest'")" \
	"ingest's counts"

# Running a date again after it was done and pushed: nothing to write or send again, exit 0.
assert_exit 0 "$OTTRECON_BIN" nightly --as-of 2026-12-01
assert_file_contains "$ERR" "eligibility_XX_20261201.csv was pushed already: nothing to write"
assert_eq 4 "$(ls "$REMOTE_OUT" | wc -l)" "still the four partner files on the server"
assert_eq 2 "$(psql_val "select count(*) from feed.file")" "no partner file recorded twice"

# An `ottrecon-nightly` that is a copy or a hard link of the binary (not a symlink) runs its
# steps as `ottrecon STEP`, not as nightly again.
mkdir -p "$WORK/bin"
cp "$OTTRECON_BIN" "$WORK/bin/ottrecon-nightly"
assert_exit 0 "$WORK/bin/ottrecon-nightly" --as-of 2026-12-01
for s in ingest reconcile eligibility churn kpi; do
	assert_file_contains "$ERR" "step=$s outcome=OK exit=0"
done

# --- a second nightly while one holds the lock: 75 at once ------------------------------------
psql -XAtq -c "select pg_advisory_lock(hashtextextended('ottrecon.nightly', 0)), pg_sleep(20)" >/dev/null &
HOLDER=$!
for _ in $(seq 100); do
	[[ $(psql_val "select count(*) from pg_locks where locktype = 'advisory' and granted") -gt 0 ]] && break
	sleep 0.1
done
start=$SECONDS
assert_exit 75 "$OTTRECON_BIN" nightly --as-of 2026-12-02
assert_file_contains "$ERR" "another nightly is running on this database"
((SECONDS - start < 5)) || fail "the second nightly waited $((SECONDS - start)) s instead of exiting at once"
kill "$HOLDER" 2>/dev/null || true
psql_val "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(20)%' and pid <> pg_backend_pid()" >/dev/null
wait "$HOLDER" 2>/dev/null || true

# --- day 2: the partner's SFTP server is down: still ingests and reconciles; exit 69 -----------
cp "$FIX/bss_subscribers_XX_20261202.csv" "$FIX/bss_churn_XX_20261202.csv" "$SPOOL/bss/"
sshd_stop
assert_exit 69 "$OTTRECON_BIN" nightly --as-of 2026-12-02
sshd_start
assert_file_contains "$ERR" "step=pull:docomo outcome=FAILED exit=69"
assert_file_contains "$ERR" "step=reconcile outcome=OK exit=0"
assert_file_contains "$ERR" "step=push:docomo outcome=SKIPPED the partner's SFTP server was unreachable at pull"
assert_eq 1 "$(psql_val "select count(*) from recon.run where as_of = '2026-12-02'")" "reconciled during the outage"
[[ -f $SPOOL/outbox/eligibility_XX_20261202.csv ]] || fail "day 2's eligibility file not written"
assert_eq 69 "$(psql_val "select exit_code from ops.run order by run_id desc limit 1")" "run recorded with 69"

assert_exit 0 "$OTTRECON_BIN" status
assert_file_contains "$OUT" "as of 2026-12-02"
assert_file_contains "$OUT" "exit 69"
assert_file_contains "$OUT" "pull:docomo"
assert_file_contains "$OUT" "newest partner file: activations_20261201.csv"
# SPEC §1: status shows the recent files, with what each load did.
assert_file_contains "$OUT" "recent files (the last 10 loaded or refused):"
grep -qE '^  activations_20261201\.csv +docomo_activations +2026-12-01 +LOADED +15 +15 +0 ' "$OUT" ||
	fail "status does not list activations_20261201.csv among the recent files: $(cat "$OUT")"
grep -qE '^  bss_churn_XX_20261202\.csv +bss_churn +2026-12-02 +LOADED ' "$OUT" ||
	fail "status does not list bss_churn_XX_20261202.csv among the recent files"
# ... and the recent runs: the nightly above, and the reconcile runs of each day.
assert_file_contains "$OUT" "recent reconcile runs (the last 5):"
grep -qE '^  XX +2026-12-02 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+\.[0-9]{2} +20[0-9-]+ [0-9:]+Z' "$OUT" ||
	fail "status does not list the reconcile run of 2026-12-02"
assert_file_contains "$OUT" "open discrepancies (latest run of each country):"
assert_file_contains "$OUT" "PARTNER_ACTIVE_NOT_BILLED"
# A partner file older than a day is an incident: status says so.
psql_val "update ottrecon.load_file set finished_at = now() - interval '30 hours'" >/dev/null
assert_exit 0 "$OTTRECON_BIN" status
assert_file_contains "$OUT" "WARNING: the newest partner file is more than a day old"

# --- day 3: the server is back: the files waiting are pushed ----------------------------------
assert_exit 0 "$OTTRECON_BIN" nightly --as-of 2026-12-03
for f in eligibility_XX_20261202.csv deactivations_XX_20261202.csv eligibility_XX_20261203.csv; do
	[[ -f $REMOTE_OUT/$f && -f $REMOTE_OUT/$f.ctl ]] || fail "$f not pushed after the outage"
done
assert_eq "" "$(ls -A "$SPOOL/outbox")" "outbox empty"

# With --log-format json (what cron and systemd use) every line is one JSON object, the steps'
# included, and nothing else is printed.
assert_exit 0 "$OTTRECON_BIN" --log-format json nightly --as-of 2026-12-03
assert_eq "" "$(cat "$OUT")" "nothing on stdout with JSON logs"
python3 - "$ERR" <<'PY' || fail "a line of the JSON log is not a JSON object"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no log lines"
for line in lines:
    obj = json.loads(line)
    assert isinstance(obj, dict), line
PY
assert_file_contains "$ERR" '"step=reconcile outcome=OK exit=0'
note "nightly: all checks passed"
