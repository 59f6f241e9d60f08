#!/usr/bin/env bash
# load.sh: `ottrecon load --layout NAME [--as-of D] [--force] FILE...` against a real PostgreSQL
# (SPEC §1, §3, §4, §8; issue 3): the manifest, no-op reloads, refusals, reject files, whole-file
# transactions (kill -9 mid-COPY and mid-merge), delta and snapshot activations, duplicates,
# backwards statuses, out-of-order dates, BSS snapshots and churn events, exit codes.
# Every scenario starts from empty tables and checks exact counts.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
export OTTRECON_DATADIR=$SRCDIR # schemas/ and sql/ of this source tree

FIX=$SRCDIR/tests/fixtures/load # small hand-written files (see README.md there)
IN=$WORK/in                     # files are loaded from here (load leaves them where they are)
REJ=$WORK/spool/reject          # SPOOL/reject/<file>.rejects.csv
REJ_HEADER='line,column,reason,raw'
ACT_HEADER='countryCode,siteCode,productName,subscriptionCode,msisdn,alias,telcoCode,dateCreated,dateActive,datePendingUnsubscription,dateUnsubscribed,unsubscriptionSource'
KILL_ROWS=${LOAD_TEST_KILL_ROWS:-300000} # rows of the file killed mid-load

# --- helpers ----------------------------------------------------------------------------------

# scenario TEXT: announces a scenario and starts it from empty tables, spool and input dir.
scenario() {
	printf '\n# === %s\n' "$*"
	# (the partitions of large files' rows go, then every table is emptied)
	psql_val "do \$\$ declare t text; begin for t in select format('%I.%I', schemaname, tablename)
	          from pg_tables where schemaname = 'ottrecon' and tablename ~ '^partner_row_[0-9]+\$'
	          loop execute 'drop table ' || t; end loop; end \$\$" >/dev/null
	psql_val "do \$\$ begin execute (select 'truncate ' || string_agg(format('%I.%I', table_schema,
	          table_name), ', ') || ' restart identity' from information_schema.tables
	          where table_schema = 'ottrecon' and table_type = 'BASE TABLE'); end \$\$" >/dev/null
	rm -rf "$WORK/spool" "$IN" "$WORK/bg.pids"
	mkdir -p "$IN"
}

# fixture NAME [AS]: copies tests/fixtures/load/NAME into the input dir (as AS); prints its path.
fixture() {
	cp "$FIX/$1" "$IN/${2:-$1}"
	printf '%s\n' "$IN/${2:-$1}"
}

# load CODE ARGS...: runs `ottrecon load ARGS...` and checks its exit code ($OUT, $ERR kept).
load() {
	local code=$1
	shift
	assert_exit "$code" "$OTTRECON_BIN" load "$@"
}

# count TABLE [WHERE]: rows of ottrecon.TABLE.
count() {
	psql_val "select count(*) from ottrecon.$1 ${2:+where $2}"
}

# assert_count EXPECTED TABLE [WHERE]
assert_count() {
	assert_eq "$1" "$(count "$2" "${3:-}")" "rows in $2${3:+ where $3}"
}

# assert_counts "LOAD_FILE PARTNER_ROW PARTNER_SUBSCRIPTION SNAPSHOT SUBSCRIBER ADDON CHURN":
# the row counts of all seven tables at once.
assert_counts() {
	assert_eq "$1" "$(psql_val "select (select count(*) from ottrecon.load_file) || ' ' ||
		(select count(*) from ottrecon.partner_row) || ' ' ||
		(select count(*) from ottrecon.partner_subscription) || ' ' ||
		(select count(*) from ottrecon.bss_snapshot) || ' ' ||
		(select count(*) from ottrecon.bss_subscriber) || ' ' ||
		(select count(*) from ottrecon.bss_addon) || ' ' ||
		(select count(*) from ottrecon.bss_churn_event)")" \
		"rows in load_file partner_row partner_subscription bss_snapshot bss_subscriber bss_addon bss_churn_event"
}

# manifest NAME: the manifest rows of file NAME, oldest first, as
# "OUTCOME read=N loaded=N rejected=N dup=N" joined by " | ".
manifest() {
	psql_val "select coalesce(string_agg(outcome || ' read=' || coalesce(rows_read::text, '-')
		|| ' loaded=' || coalesce(rows_loaded::text, '-')
		|| ' rejected=' || coalesce(rows_rejected::text, '-')
		|| ' dup=' || coalesce(rows_duplicate::text, '-'), ' | ' order by file_id), '')
		from ottrecon.load_file where name = '$1'"
}

# assert_manifest NAME EXPECTED
assert_manifest() {
	assert_eq "$2" "$(manifest "$1")" "manifest of $1"
}

# file_id NAME: the file_id of the LOADED manifest row of NAME.
file_id() {
	psql_val "select file_id from ottrecon.load_file where name = '$1' and outcome = 'LOADED'"
}

# assert_rejects NAME EXPECTED: SPOOL/reject/NAME.rejects.csv holds exactly EXPECTED (+ newline).
assert_rejects() {
	local f=$REJ/$1.rejects.csv
	[[ -f $f ]] || fail "reject file $f does not exist"
	if ! diff <(printf '%s\n' "$2") "$f" >"$WORK/diff" 2>&1; then
		{
			printf 'FAIL: reject file %s differs (< expected, > actual)\n' "$f"
			sed 's/^/  | /' "$WORK/diff"
		} >&2
		exit 1
	fi
	note "ok: $1.rejects.csv is exactly as expected ($(($(grep -c '' "$f") - 1)) lines after the header)"
}

# assert_no_rejects NAME: no SPOOL/reject/NAME.rejects.csv.
assert_no_rejects() {
	[[ ! -e $REJ/$1.rejects.csv ]] || fail "unexpected reject file $REJ/$1.rejects.csv: $(cat "$REJ/$1.rejects.csv")"
	note "ok: no reject file for $1"
}

# gen_activations N PREFIX [BADLINE...]: an activations file of N rows (codes PREFIX-0000001...)
# on stdout; the physical lines BADLINE (header = line 1) get the invalid MSISDN 12345.
gen_activations() {
	local n=$1 prefix=$2
	shift 2
	awk -v n="$n" -v p="$prefix" -v bad="$*" -v h="$ACT_HEADER" 'BEGIN {
		split(bad, b, " ")
		for (k in b) isbad[b[k]] = 1
		print h
		for (i = 1; i <= n; i++) {
			m = (i + 1) in isbad ? "12345" : sprintf("+5730%08d", i)
			printf "XX,amazon,plan123,%s-%07d,%s,M-%07d,OPERATOR1,2026-11-01T10:00:00Z,2026-11-01T11:00:00Z,,,\n",
				p, i, m, i
		}
	}'
}

# gen_reject_line L PREFIX: the reject line that gen_activations' BADLINE L gives.
gen_reject_line() {
	printf "%s,msisdn,invalid MSISDN (8 to 15 digits expected): '12345',\"XX,amazon,plan123,%s-%07d,12345,M-%07d,OPERATOR1,2026-11-01T10:00:00Z,2026-11-01T11:00:00Z,,,\"\n" \
		"$1" "$2" "$(($1 - 1))" "$(($1 - 1))"
}

# Waits (up to SECONDS) until no ottrecon session is connected to the test database: after a
# kill -9, the server notices the closed socket and rolls the open transaction back.
wait_backends_gone() {
	local n deadline=$((SECONDS + ${1:-60}))
	while ((SECONDS < deadline)); do
		n=$(psql_val "select count(*) from pg_stat_activity
		              where datname = current_database() and application_name = 'ottrecon'")
		((n == 0)) && return 0
		sleep 0.1
	done
	fail "an ottrecon backend is still connected ${1:-60} s after its client was killed"
}

# --- scenarios --------------------------------------------------------------------------------

scenario_load_and_reload() {
	scenario "1. load a file; reload it; the same content under another name"
	local f
	f=$(fixture activations_20261201.csv)
	load 0 --layout docomo_activations "$f"
	assert_file_contains "$ERR" "INFO load: loaded file=$f layout=docomo_activations file_id=1 read=5 loaded=5 rejected=0 duplicates=0"
	assert_manifest activations_20261201.csv "LOADED read=5 loaded=5 rejected=0 dup=0"
	assert_eq "docomo_activations|2026-12-01|$(stat -c %s "$f")|$(sha256sum "$f" | cut -d' ' -f1)|f|$f" \
		"$(psql_val "select layout, as_of, size_bytes, sha256, forced, path from ottrecon.load_file")" \
		"manifest: layout, as-of from the name, size, SHA-256, not forced, path"
	assert_eq t "$(psql_val "select finished_at is not null and finished_at >= started_at from ottrecon.load_file")" \
		"manifest: started and finished"
	assert_counts "1 5 5 0 0 0 0"
	assert_no_rejects activations_20261201.csv
	# The values are stored normalised (SPEC §3): E.164, UTC, upper-case enums, trimmed.
	assert_eq "5b23765be4b06e7171d79c7d|+1234567890|2018-06-29 15:45:31+00|TELCO
A-0001|+573001234501||
A-0002|+573001234502||
A-0003|+573001234503||
A-0004||2026-11-28 12:00:00+00|USER" \
		"$(psql_val "select subscription_code, msisdn, date_unsubscribed, unsubscription_source
		             from ottrecon.partner_subscription order by 1")" "stored values normalised"
	assert_eq "2026-11-21 14:00:00+00|2026-11-22 00:00:00+00|2026-11-23 12:00:00.25+00" \
		"$(psql_val "select string_agg(date_created::text, '|' order by subscription_code)
		             from ottrecon.partner_row where subscription_code in ('A-0002', 'A-0003', 'A-0004')")" \
		"timestamps in UTC (offset, bare date, fraction)"
	assert_eq "2 3 4 5 6" "$(psql_val "select string_agg(line::text, ' ' order by line) from ottrecon.partner_row")" \
		"history keeps the file lines"
	# Where the rows are: a file as large as OTTRECON_LOAD_PARTITION_BYTES (the load_partitioned
	# run sets 0) has a partition of its own; smaller ones share partner_row_small.
	local where=partner_row_small
	[[ ${OTTRECON_LOAD_PARTITION_BYTES:-} == 0 ]] && where=partner_row_1
	assert_eq "$where 5" "$(psql_val "select tableoid::regclass::text, count(*) from ottrecon.partner_row
	                                 group by 1" | sed 's/^ottrecon\.//; s/|/ /')" "rows in $where"

	note "reload: a no-op that says so"
	load 0 --layout docomo_activations "$f"
	assert_file_contains "$ERR" "INFO load: activations_20261201.csv: already loaded (file_id 1, as 'activations_20261201.csv' at "
	assert_file_not_contains "$ERR" "loaded file="
	assert_counts "1 5 5 0 0 0 0"

	note "the same content under another name: also already loaded"
	local g
	g=$(fixture activations_20261201.csv activations_copy_20261205.csv)
	load 0 --layout docomo_activations "$g"
	assert_file_contains "$ERR" "INFO load: activations_copy_20261205.csv: already loaded (file_id 1, as 'activations_20261201.csv' at "
	assert_counts "1 5 5 0 0 0 0"
	assert_manifest activations_copy_20261205.csv ""
}

scenario_same_name_other_content() {
	scenario "2. the same name with other content: refused (65), then loaded with --force"
	local f
	f=$(fixture activations_20261201.csv)
	load 0 --layout docomo_activations "$f"
	cp "$FIX/delta_20261201.csv" "$f" # other content, same name
	load 65 --layout docomo_activations "$f"
	assert_file_contains "$ERR" "ERROR load: activations_20261201.csv: refused: another file named 'activations_20261201.csv' with other content was loaded (file_id 1, sha256 "
	assert_file_contains "$ERR" "hint: load it anyway with --force"
	assert_manifest activations_20261201.csv "LOADED read=5 loaded=5 rejected=0 dup=0 | REFUSED read=0 loaded=0 rejected=0 dup=0"
	assert_eq "$(sha256sum "$f" | cut -d' ' -f1)|t" \
		"$(psql_val "select sha256, reason like 'another file named ''activations_20261201.csv'' with other content was loaded%'
		             from ottrecon.load_file where outcome = 'REFUSED'")" \
		"the REFUSED row has the new content's SHA-256 and the reason"
	assert_counts "2 5 5 0 0 0 0"
	assert_count 0 partner_row "subscription_code like 'D-%'"

	note "--force loads it"
	load 0 --layout docomo_activations --force "$f"
	assert_file_contains "$ERR" "read=4 loaded=4 rejected=0 duplicates=0"
	assert_manifest activations_20261201.csv "LOADED read=5 loaded=5 rejected=0 dup=0 | REFUSED read=0 loaded=0 rejected=0 dup=0 | LOADED read=4 loaded=4 rejected=0 dup=0"
	assert_eq "false false true" "$(psql_val "select string_agg(forced::text, ' ' order by file_id) from ottrecon.load_file")" \
		"only the last load is marked forced"
	assert_counts "3 9 9 0 0 0 0"

	note "the forced content again: already loaded, even with --force"
	load 0 --layout docomo_activations --force "$f"
	assert_file_contains "$ERR" "already loaded (file_id 3,"
	assert_counts "3 9 9 0 0 0 0"
}

scenario_reject_ratio() {
	scenario "3. rejects under and over max_reject_ratio (default 0.01)"
	local f
	note "1 bad row of 200: loaded, the bad row in the rejects"
	f=$IN/ratio_one_20261201.csv
	gen_activations 200 G1 101 >"$f"
	load 0 --layout docomo_activations "$f"
	assert_manifest ratio_one_20261201.csv "LOADED read=200 loaded=199 rejected=1 dup=0"
	assert_counts "1 199 199 0 0 0 0"
	assert_count 0 partner_row "line = 101"
	assert_rejects ratio_one_20261201.csv "$REJ_HEADER
$(gen_reject_line 101 G1)"
	assert_file_contains "$ERR" "read=200 loaded=199 rejected=1 duplicates=0 rejects=$REJ/ratio_one_20261201.csv.rejects.csv"

	note "2 bad rows of 200 (exactly the ratio, not over it): loaded"
	f=$IN/ratio_two_20261201.csv
	gen_activations 200 G2 2 201 >"$f"
	load 0 --layout docomo_activations "$f"
	assert_manifest ratio_two_20261201.csv "LOADED read=200 loaded=198 rejected=2 dup=0"
	assert_counts "2 397 397 0 0 0 0"
	assert_rejects ratio_two_20261201.csv "$REJ_HEADER
$(gen_reject_line 2 G2)
$(gen_reject_line 201 G2)"

	note "3 bad rows of 200: refused whole (65), nothing of it loaded, rejects written"
	f=$IN/ratio_three_20261201.csv
	gen_activations 200 G3 10 20 30 >"$f"
	load 65 --layout docomo_activations "$f"
	assert_file_contains "$ERR" "ERROR load: ratio_three_20261201.csv: refused: 3 of 200 rows rejected, over max_reject_ratio 0.01; nothing loaded"
	assert_file_contains "$ERR" "INFO load: refused file=$f read=200 rejected=3 rejects=$REJ/ratio_three_20261201.csv.rejects.csv"
	assert_manifest ratio_three_20261201.csv "REFUSED read=200 loaded=0 rejected=3 dup=0"
	assert_eq "3 of 200 rows rejected, over max_reject_ratio 0.01" \
		"$(psql_val "select reason from ottrecon.load_file where name = 'ratio_three_20261201.csv'")" \
		"the refusal's reason"
	assert_counts "3 397 397 0 0 0 0"
	assert_count 0 partner_row "subscription_code like 'G3-%'"
	assert_rejects ratio_three_20261201.csv "$REJ_HEADER
$(gen_reject_line 10 G3)
$(gen_reject_line 20 G3)
$(gen_reject_line 30 G3)"

	note "the same name, corrected: loaded (nothing of that name was loaded), the old rejects gone"
	gen_activations 200 G3 >"$f"
	load 0 --layout docomo_activations "$f"
	assert_manifest ratio_three_20261201.csv "REFUSED read=200 loaded=0 rejected=3 dup=0 | LOADED read=200 loaded=200 rejected=0 dup=0"
	assert_no_rejects ratio_three_20261201.csv
	assert_counts "4 597 597 0 0 0 0"

	note "a hand-written file with six kinds of bad rows: refused at the default ratio"
	f=$(fixture rejects_20261201.csv)
	local expected
	expected=$(
		cat <<-'EOF'
			line,column,reason,raw
			3,msisdn,invalid MSISDN (8 to 15 digits expected): '5.73E+11',"XX,amazon,plan123,R-0002,5.73E+11,,OPERATOR1,2026-11-20T10:00:00Z,,,,"
			4,dateCreated,impossible date: '2026-02-30T00:00:00Z',"XX,amazon,plan123,R-0003,+573001230003,,OPERATOR1,2026-02-30T00:00:00Z,,,,"
			5,subscriptionCode,missing required value,"XX,amazon,plan123,,+573001230004,,OPERATOR1,2026-11-20T10:00:00Z,,,,"
			6,,"missing value: one of msisdn, alias is required","XX,amazon,plan123,R-0005,,,OPERATOR1,2026-11-20T10:00:00Z,,,,"
			7,,"wrong number of fields: expected 12, got 11","XX,amazon,plan123,R-0006,+573001230006,,OPERATOR1,2026-11-20T10:00:00Z,,,"
			9,dateCreated,not an ISO 8601 timestamp: '20/11/2026',"""XX"",""amazon"",""plan123"",""R-0008
			continued"",""+573001230008"",,""OPERATOR1"",""20/11/2026"",,,,"
		EOF
	)
	load 65 --layout docomo_activations "$f"
	assert_manifest rejects_20261201.csv "REFUSED read=9 loaded=0 rejected=6 dup=0"
	assert_rejects rejects_20261201.csv "$expected"
	assert_counts "5 597 597 0 0 0 0"

	note "the same file with max_reject_ratio 0.7: loaded, the same rejects"
	write_config "$(printf 'recon:\n  max_reject_ratio: 0.7')" "$WORK/ratio.yaml"
	load 0 --config "$WORK/ratio.yaml" --layout docomo_activations "$f"
	write_config # back to the default configuration
	assert_manifest rejects_20261201.csv "REFUSED read=9 loaded=0 rejected=6 dup=0 | LOADED read=9 loaded=3 rejected=6 dup=0"
	assert_rejects rejects_20261201.csv "$expected"
	assert_eq "R-0001:2 R-0007:8 R-0009:11" \
		"$(psql_val "select string_agg(subscription_code || ':' || line, ' ' order by line)
		             from ottrecon.partner_row where file_id = $(file_id rejects_20261201.csv)")" \
		"the three good rows loaded, with the lines where their records start"
	assert_counts "6 600 600 0 0 0 0"
	assert_eq t "$(psql_val "select bool_and(rows_read = rows_loaded + rows_rejected) from ottrecon.load_file
	                         where outcome = 'LOADED'")" "rows read = loaded + rejected in every LOADED row"
}

# start_load FILE: starts `ottrecon load` of FILE in the background; its pid in LOAD_PID.
start_load() {
	"$OTTRECON_BIN" load --layout docomo_activations "$1" >"$WORK/bg.out" 2>"$WORK/bg.err" &
	LOAD_PID=$!
	echo "$LOAD_PID" >>"$WORK/bg.pids"
}

# stop_leftovers: after a failed scenario, stops the background processes it started (by pid)
# and their sessions, so that the next scenario starts clean.
stop_leftovers() {
	local pid
	if [[ -f $WORK/bg.pids ]]; then
		while read -r pid; do
			# only if it still is one of ours (a pid may have been reused since)
			if grep -qaF -e "$OTTRECON_BIN" -e 'pg_sleep(120)' "/proc/$pid/cmdline" 2>/dev/null; then
				kill -9 "$pid" 2>/dev/null || true
			fi
		done <"$WORK/bg.pids"
		rm -f "$WORK/bg.pids"
	fi
	psql_val "select count(pg_terminate_backend(pid)) from pg_stat_activity
	          where datname = current_database() and pid <> pg_backend_pid()" >/dev/null
}

# wait_for WHAT PID SQL: polls (every 20 ms, up to 60 s) until SQL counts more than 0; fails
# when the background process PID ended first.
wait_for() {
	local n=0 deadline=$((SECONDS + 60))
	while ((SECONDS < deadline)); do
		n=$(psql_val "$3")
		((n > 0)) && return 0
		if ! kill -0 "$2" 2>/dev/null; then
			sed 's/^/  | /' "$WORK/bg.err" >&2
			fail "the process $2 ended before $1 could be seen (for the load: raise LOAD_TEST_KILL_ROWS)"
		fi
		sleep 0.02
	done
	{
		printf 'FAIL: %s not seen within 60 s; the ottrecon sessions meanwhile:\n' "$1"
		psql_val "select pid || ' ' || state || ' ' || coalesce(wait_event_type, '-') || ' '
		          || (now() - query_start)::text || ' ' || regexp_replace(query, '\s+', ' ', 'g')
		          from pg_stat_activity where datname = current_database()
		          and application_name = 'ottrecon'" | sed 's/^/  | /'
	} >&2
	exit 1
}

# kill_load: kill -9 of the background load; waits until the server has dropped its session.
kill_load() {
	kill -9 "$LOAD_PID"
	wait "$LOAD_PID" 2>/dev/null || true
	note "killed the load (pid $LOAD_PID) with SIGKILL"
}

# big_file: prints the path of a generated activations file of KILL_ROWS rows (made once).
big_file() {
	local f=$WORK/big/big_20261201.csv
	if [[ ! -f $f ]]; then
		mkdir -p "$WORK/big"
		gen_activations "$KILL_ROWS" K >"$f"
	fi
	cp "$f" "$IN/"
	printf '%s\n' "$IN/big_20261201.csv"
}

# lock_rows CODE: another session locks the current row of subscriptionCode CODE (FOR UPDATE)
# until unlock_rows; a load that must supersede that row waits there, after its COPY and
# before its commit.
lock_rows() {
	PGAPPNAME=load_test_blocker psql -XAtq -v ON_ERROR_STOP=1 -c 'begin' \
		-c "select 1 from ottrecon.partner_subscription where subscription_code = '$1' for update" \
		-c 'select pg_sleep(120)' >/dev/null 2>&1 &
	BLOCKER_PID=$!
	echo "$BLOCKER_PID" >>"$WORK/bg.pids"
	wait_for "the lock held" "$BLOCKER_PID" "select count(*) from pg_stat_activity
	    where datname = current_database() and application_name = 'load_test_blocker'
	    and state = 'active' and query like '%pg_sleep%'"
}

unlock_rows() {
	psql_val "select count(pg_terminate_backend(pid)) from pg_stat_activity
	          where datname = current_database() and application_name = 'load_test_blocker'" >/dev/null
	wait "$BLOCKER_PID" 2>/dev/null || true
}

scenario_kill_mid_copy() {
	scenario "4. kill -9 mid-COPY, then a re-run loads the file exactly once"
	local base seed f
	base=$(fixture activations_20261201.csv)
	seed=$IN/seed_20261130.csv
	gen_activations 1 K >"$seed" # K-0000001, which the big file updates
	load 0 --layout docomo_activations "$base" "$seed" # already there; must stay as it is
	assert_counts "2 6 6 0 0 0 0"
	f=$(big_file)
	note "$KILL_ROWS rows, $(stat -c %s "$f") bytes"

	start_load "$f"
	wait_for "the COPY" "$LOAD_PID" "select count(*) from pg_stat_progress_copy
	                                 where datname = current_database() and tuples_processed > 0"
	note "COPY under way: $(psql_val "select max(tuples_processed) from pg_stat_progress_copy
	                                   where datname = current_database()") rows received"
	kill_load
	wait_backends_gone 60
	assert_manifest big_20261201.csv "" # not even the LOADING row: it was rolled back
	assert_counts "2 6 6 0 0 0 0"
	assert_count 1 partner_row "subscription_code like 'K-%'"
	assert_no_rejects big_20261201.csv

	note "re-run: loaded exactly once (in well under 60 s: it takes a few seconds)"
	assert_exit 0 timeout 60 "$OTTRECON_BIN" load --layout docomo_activations "$f"
	assert_manifest big_20261201.csv "LOADED read=$KILL_ROWS loaded=$KILL_ROWS rejected=0 dup=0"
	assert_counts "3 $((KILL_ROWS + 6)) $((KILL_ROWS + 5)) 0 0 0 0"
	assert_eq "$KILL_ROWS $KILL_ROWS" \
		"$(psql_val "select count(*) || ' ' || count(distinct subscription_code) from ottrecon.partner_row
		             where file_id = $(file_id big_20261201.csv)")" "each row of the file once"
	assert_eq "$(file_id big_20261201.csv)" \
		"$(psql_val "select file_id from ottrecon.partner_subscription where subscription_code = 'K-0000001'")" \
		"K-0000001's current row is the big file's"
}

scenario_kill_mid_merge() {
	scenario "4b. kill -9 after the COPY, before the commit; two loads of one file at once"
	local d1 d2 d2b
	d1=$(fixture delta_20261201.csv)
	d2=$(fixture delta_20261202.csv)
	load 0 --layout docomo_activations "$d1"
	assert_counts "1 4 4 0 0 0 0"
	# The server notices a dead client within 100 ms even while a statement waits (otherwise
	# only when the statement ends); either way it rolls the transaction back.
	psql_val "alter database $TEST_DB set client_connection_check_interval = '100ms'" >/dev/null

	lock_rows D-1
	start_load "$d2"
	wait_for "the load waiting on the lock" "$LOAD_PID" "select count(*) from pg_stat_activity
	    where datname = current_database() and application_name = 'ottrecon'
	    and wait_event_type = 'Lock'"
	note "the load waits in: $(psql_val "select left(regexp_replace(query, '\s+', ' ', 'g'), 70)
	      from pg_stat_activity where datname = current_database() and application_name = 'ottrecon'")"
	kill_load
	unlock_rows
	wait_backends_gone 60
	psql_val "alter database $TEST_DB reset client_connection_check_interval" >/dev/null
	assert_manifest delta_20261202.csv ""
	assert_counts "1 4 4 0 0 0 0"
	assert_eq "D-1 D-2 D-3 D-4" "$(psql_val "select string_agg(subscription_code, ' ' order by 1)
	                                         from ottrecon.partner_subscription where file_id = 1")" \
		"the current state is day 1's"

	note "two loads of the same content at once (the second under another name): loaded once"
	d2b=$(fixture delta_20261202.csv delta_copy_20261202.csv)
	lock_rows D-1
	start_load "$d2"
	local first=$LOAD_PID
	wait_for "the first load waiting on the lock" "$first" "select count(*) from pg_stat_activity
	    where datname = current_database() and application_name = 'ottrecon'
	    and wait_event_type = 'Lock'"
	"$OTTRECON_BIN" load --layout docomo_activations "$d2b" >"$WORK/bg2.out" 2>"$WORK/bg2.err" &
	LOAD_PID=$!
	echo "$LOAD_PID" >>"$WORK/bg.pids"
	wait_for "the second load waiting" "$LOAD_PID" "select count(*) from pg_stat_activity
	    where datname = current_database() and application_name = 'ottrecon'
	    and wait_event_type = 'Lock'
	    having count(*) = 2"
	unlock_rows
	local rc1=0 rc2=0
	wait "$first" || rc1=$?
	wait "$LOAD_PID" || rc2=$?
	assert_eq "0 0" "$rc1 $rc2" "exit codes of the two loads"
	assert_file_contains "$WORK/bg.err" "loaded file=$d2 layout=docomo_activations file_id=3 read=5 loaded=5"
	assert_file_contains "$WORK/bg2.err" "delta_copy_20261202.csv: already loaded (file_id 3, as 'delta_20261202.csv'"
	assert_manifest delta_20261202.csv "LOADED read=5 loaded=5 rejected=0 dup=0"
	assert_manifest delta_copy_20261202.csv ""
	assert_counts "2 9 6 0 0 0 0"
}

scenario_large_after_analyze() {
	scenario "4c. a large file loads in seconds whatever the planner statistics say"
	local f
	fixture activations_20261201.csv >/dev/null
	load 0 --layout docomo_activations "$IN/activations_20261201.csv"
	# Autovacuum analyzes the tables when it sees fit; a load must not depend on when it last did
	# (here: statistics that know only the small file loaded so far).
	psql_val "analyze" >/dev/null
	f=$(big_file)
	note "$KILL_ROWS rows; a few seconds without the analyze above"
	assert_exit 0 timeout 60 "$OTTRECON_BIN" load --layout docomo_activations "$f"
	assert_manifest big_20261201.csv "LOADED read=$KILL_ROWS loaded=$KILL_ROWS rejected=0 dup=0"
	assert_counts "2 $((KILL_ROWS + 5)) $((KILL_ROWS + 5)) 0 0 0 0"
}

scenario_delta() {
	scenario "5. delta files: day 2 updates and adds; history keeps both days"
	local d1 d2
	d1=$(fixture delta_20261201.csv)
	d2=$(fixture delta_20261202.csv)
	load 0 --layout docomo_activations "$d1" "$d2" # in the order given
	assert_manifest delta_20261201.csv "LOADED read=4 loaded=4 rejected=0 dup=0"
	assert_manifest delta_20261202.csv "LOADED read=5 loaded=5 rejected=0 dup=0"
	assert_file_contains "$ERR" "INFO load: delta_20261201.csv: 4 subscriptions new, 0 updated (DELTA mode)"
	assert_file_contains "$ERR" "INFO load: delta_20261202.csv: 2 subscriptions new, 3 updated (DELTA mode)"
	assert_counts "2 9 6 0 0 0 0"
	# code: status as of 2026-12-02, the file its current row came from, the first file, source
	assert_eq "D-1 ACTIVE delta_20261202.csv delta_20261201.csv -
D-2 PENDING_UNSUBSCRIPTION delta_20261202.csv delta_20261201.csv -
D-3 UNSUBSCRIBED delta_20261202.csv delta_20261201.csv USER
D-4 ACTIVE delta_20261201.csv delta_20261201.csv -
D-5 ACTIVE delta_20261202.csv delta_20261202.csv -
D-6 PENDING_ACTIVATION delta_20261202.csv delta_20261202.csv -" \
		"$(psql_val "select p.subscription_code || ' ' || ottrecon.partner_status(p.date_active,
		               p.date_pending_unsubscription, p.date_unsubscribed, '2026-12-02') || ' '
		               || f.name || ' ' || ff.name || ' ' || coalesce(p.unsubscription_source, '-')
		             from ottrecon.partner_subscription p
		             join ottrecon.load_file f on f.file_id = p.file_id
		             join ottrecon.load_file ff on ff.file_id = (select min(r.file_id)
		               from ottrecon.partner_row r where r.subscription_code = p.subscription_code)
		             order by 1")" \
		"current state after day 2"
	assert_eq "PENDING_ACTIVATION" \
		"$(psql_val "select ottrecon.partner_status(date_active, date_pending_unsubscription,
		             date_unsubscribed, '2026-11-30') from ottrecon.partner_subscription
		             where subscription_code = 'D-1'")" "the status is a function of the as-of date"
	assert_eq "D-1 2 D-2 2 D-3 2 D-4 1 D-5 1 D-6 1" \
		"$(psql_val "select string_agg(subscription_code || ' ' || n, ' ' order by subscription_code)
		             from (select subscription_code, count(*) n from ottrecon.partner_row group by 1) t")" \
		"history: rows per code"
	assert_eq "2026-12-01 09:00:00+00 -" \
		"$(psql_val "select p.date_active || ' ' || coalesce(r.date_active::text, '-')
		             from ottrecon.partner_subscription p join ottrecon.partner_row r using (subscription_code)
		             where p.subscription_code = 'D-1' and r.file_id = $(file_id delta_20261201.csv)")" \
		"D-1: date_active is day 2's now; day 1's row in the history has none"
}

scenario_snapshot() {
	scenario "6. snapshot mode: codes absent from the next snapshot leave the current state"
	local cfg=$WORK/snapshot.yaml s1 s2
	write_config "" "$cfg"
	if grep -q 'activations_mode: delta' "$cfg"; then
		sed -i 's/activations_mode: delta/activations_mode: snapshot/' "$cfg"
	else
		printf 'partners:\n  docomo:\n    activations_mode: snapshot\n' >>"$cfg"
	fi
	write_config # $CONFIG stays the default one
	s1=$(fixture snapshot_20261201.csv)
	s2=$(fixture snapshot_20261202.csv)
	load 0 --config "$cfg" --layout docomo_activations "$s1"
	assert_file_contains "$ERR" "snapshot_20261201.csv: 3 subscriptions new, 0 updated (SNAPSHOT mode)"
	load 0 --config "$cfg" --layout docomo_activations "$s2"
	assert_file_contains "$ERR" "snapshot_20261202.csv: 1 subscriptions new, 2 updated (SNAPSHOT mode)"
	assert_file_contains "$ERR" "snapshot_20261202.csv: 1 subscriptions absent from this snapshot left the current state"
	assert_counts "2 6 3 0 0 0 0"
	assert_eq "S-2 S-3 S-4" "$(psql_val "select string_agg(subscription_code, ' ' order by 1)
	                                     from ottrecon.partner_subscription")" "current state: snapshot 2"
	assert_count 1 partner_row "subscription_code = 'S-1'"

	note "the same two files in delta mode keep S-1"
	scenario "6b. (the same files in delta mode)"
	s1=$(fixture snapshot_20261201.csv)
	s2=$(fixture snapshot_20261202.csv)
	load 0 --layout docomo_activations "$s1" "$s2"
	assert_file_not_contains "$ERR" "left the current state"
	assert_counts "2 6 4 0 0 0 0"
}

scenario_duplicates() {
	scenario "7. a subscriptionCode twice in one file: the most advanced status (then the later line) wins"
	local f
	f=$(fixture dups_20261201.csv)
	load 0 --layout docomo_activations "$f" # 3 duplicates of 10 rows: not counted in the ratio
	assert_file_contains "$ERR" "WARN load: dups_20261201.csv: 3 rows repeat a subscriptionCode of the same file"
	assert_file_contains "$ERR" "read=10 loaded=7 rejected=3 duplicates=3"
	assert_manifest dups_20261201.csv "LOADED read=10 loaded=7 rejected=3 dup=3"
	assert_counts "1 7 7 0 0 0 0"
	assert_eq "U-1 4 UNSUBSCRIBED +573003330001
U-2 7 ACTIVE +573003339999" \
		"$(psql_val "select subscription_code || ' ' || line || ' ' || ottrecon.partner_status(date_active,
		               date_pending_unsubscription, date_unsubscribed, '2026-12-01') || ' ' || msisdn
		             from ottrecon.partner_subscription where subscription_code in ('U-1', 'U-2') order by 1")" \
		"U-1: the UNSUBSCRIBED row (line 4); U-2: a tie, the later line (7)"
	assert_eq "4 5 7 8 9 10 11" "$(psql_val "select string_agg(line::text, ' ' order by line) from ottrecon.partner_row")" \
		"history: the rows kept"
	assert_rejects dups_20261201.csv "$REJ_HEADER
2,subscriptionCode,duplicate subscriptionCode,\"XX,amazon,plan123,U-1,+573003330001,,OPERATOR1,2026-11-01T10:00:00Z,,,,\"
3,subscriptionCode,duplicate subscriptionCode,\"XX,amazon,plan123,U-2,+573003330002,,OPERATOR1,2026-11-02T10:00:00Z,2026-11-02T11:00:00Z,,,\"
6,subscriptionCode,duplicate subscriptionCode,\"XX,amazon,plan123,U-1,+573003330001,,OPERATOR1,2026-11-01T10:00:00Z,2026-11-01T11:00:00Z,,,\""
}

scenario_status_backwards() {
	scenario "8. a status going backwards across files: applied, flagged, warned about"
	local b1 b2
	b1=$(fixture backwards_20261201.csv)
	b2=$(fixture backwards_20261202.csv)
	load 0 --layout docomo_activations "$b1"
	assert_file_not_contains "$ERR" "STATUS_BACKWARDS"
	load 0 --layout docomo_activations "$b2"
	assert_file_contains "$ERR" "WARN load: backwards_20261202.csv: 1 subscriptions went back in status (e.g. UNSUBSCRIBED, then ACTIVE again): applied and flagged STATUS_BACKWARDS"
	assert_counts "2 4 2 0 0 0 0"
	assert_eq "B-1 ACTIVE {STATUS_BACKWARDS}
B-2 PENDING_UNSUBSCRIPTION {}" \
		"$(psql_val "select subscription_code || ' ' || ottrecon.partner_status(date_active,
		               date_pending_unsubscription, date_unsubscribed, '2026-12-02') || ' ' || flags::text
		             from ottrecon.partner_subscription order by 1")" \
		"B-1 applied (ACTIVE again) and flagged; B-2 moved forward, not flagged"
}

scenario_dates_out_of_order() {
	scenario "9. dates out of order: loaded and flagged"
	local f
	f=$(fixture order_20261201.csv)
	load 0 --layout docomo_activations "$f"
	assert_file_contains "$ERR" "WARN load: order_20261201.csv: 2 rows have dates out of order (active before created, or unsubscribed before active): loaded and flagged DATES_OUT_OF_ORDER"
	assert_manifest order_20261201.csv "LOADED read=3 loaded=3 rejected=0 dup=0"
	assert_counts "1 3 3 0 0 0 0"
	assert_eq "O-1 {DATES_OUT_OF_ORDER} {DATES_OUT_OF_ORDER}
O-2 {DATES_OUT_OF_ORDER} {DATES_OUT_OF_ORDER}
O-3 {} {}" \
		"$(psql_val "select p.subscription_code || ' ' || r.flags::text || ' ' || p.flags::text
		             from ottrecon.partner_subscription p join ottrecon.partner_row r
		             on r.file_id = p.file_id and r.line = p.line order by 1")" \
		"flags in history and current state"

	note "a duplicate that loses is rejected, not loaded: neither flagged nor counted as flagged"
	f=$(fixture order_dup_20261202.csv) # P-1 twice: line 2 (out of order) loses to line 3
	load 0 --layout docomo_activations "$f"
	assert_manifest order_dup_20261202.csv "LOADED read=3 loaded=2 rejected=1 dup=1"
	assert_eq "P-1 3 {}
P-2 4 {}" "$(psql_val "select subscription_code || ' ' || line || ' ' || flags::text
	                      from ottrecon.partner_row where subscription_code like 'P-%' order by 1")" \
		"the rows loaded (none out of order)"
	assert_file_not_contains "$ERR" "rows have dates out of order"
}

scenario_bss_subscribers() {
	scenario "10. bss_subscribers: full snapshots per country and date"
	local f
	snapshots() {
		psql_val "select string_agg(b.layout || ' ' || b.country_code || ' ' || b.as_of || ' rows='
		            || b.rows || ' ' || f.name, ' | ' order by b.as_of, b.country_code)
		          from ottrecon.bss_snapshot b join ottrecon.load_file f using (file_id)
		          where b.layout = '$1'"
	}
	f=$(fixture bss_subscribers_XX_20261201.csv)
	load 0 --layout bss_subscribers "$f"
	assert_file_contains "$ERR" "WARN load: bss_subscribers_XX_20261201.csv: 2 rows of country YY, which is not configured: loaded, left out of reconciliation and reports"
	assert_file_contains "$ERR" "INFO load: bss_subscribers_XX_20261201.csv: bss_subscribers snapshot of XX as of 2026-12-01: 3 rows"
	assert_manifest bss_subscribers_XX_20261201.csv "LOADED read=5 loaded=5 rejected=0 dup=0"
	assert_eq "bss_subscribers XX 2026-12-01 rows=3 bss_subscribers_XX_20261201.csv | bss_subscribers YY 2026-12-01 rows=2 bss_subscribers_XX_20261201.csv" \
		"$(snapshots bss_subscribers)" "one snapshot per country"
	assert_counts "1 0 0 2 5 0 0"
	assert_eq "YM-2 POSTPAID CHURNED 2026-10-01" \
		"$(psql_val "select service_id || ' ' || plan_type || ' ' || status || ' ' || status_date
		             from ottrecon.bss_subscriber where service_id = 'YM-2'")" "enums stored in upper case"

	note "another file for the same date: replaces XX's snapshot of that date, YY's stays"
	f=$(fixture bss_subscribers_XX_20261201_v2.csv)
	load 0 --layout bss_subscribers "$f"
	assert_file_contains "$ERR" "bss_subscribers snapshot of XX as of 2026-12-01: 2 rows (replaces the earlier load)"
	assert_eq "bss_subscribers XX 2026-12-01 rows=2 bss_subscribers_XX_20261201_v2.csv | bss_subscribers YY 2026-12-01 rows=2 bss_subscribers_XX_20261201.csv" \
		"$(snapshots bss_subscribers)" "XX replaced"
	assert_counts "2 0 0 2 4 0 0"
	assert_eq "H-4 ACTIVE|M-1 POST80" \
		"$(psql_val "select string_agg(service_id || ' ' || case when service_type = 'HOME' then status else plan_code end,
		             '|' order by service_id) from ottrecon.bss_subscriber where country_code = 'XX'")" \
		"XX rows are the new file's"

	note "another date: kept alongside"
	f=$(fixture bss_subscribers_XX_20261202.csv)
	load 0 --layout bss_subscribers "$f"
	assert_file_not_contains "$ERR" "replaces"
	assert_counts "3 0 0 3 7 0 0"
	assert_eq 3 "$(psql_val "select rows from ottrecon.bss_snapshot where as_of = '2026-12-02'")" \
		"the 2026-12-02 snapshot"

	note "no date in the name and no --as-of: refused (65)"
	f=$(fixture bss_subscribers_latest.csv)
	load 65 --layout bss_subscribers "$f"
	assert_file_contains "$ERR" "ERROR load: bss_subscribers_latest.csv: refused: cannot tell the snapshot date: no --as-of and no YYYYMMDD in the file name"
	assert_counts "4 0 0 3 7 0 0"
	assert_eq "REFUSED cannot tell the snapshot date: no --as-of and no YYYYMMDD in the file name" \
		"$(psql_val "select outcome || ' ' || reason from ottrecon.load_file
		             where name = 'bss_subscribers_latest.csv'")" "the refusal is in the manifest"
	note "with --as-of: loaded with that date"
	load 0 --layout bss_subscribers --as-of 2026-11-30 "$f"
	assert_eq "LOADED 2026-11-30" "$(psql_val "select outcome || ' ' || as_of from ottrecon.load_file
	                                           where name = 'bss_subscribers_latest.csv'
	                                             and outcome = 'LOADED'")" "manifest as-of"
	assert_eq "XX 2026-11-30 1" "$(psql_val "select country_code || ' ' || as_of || ' ' || rows
	                                         from ottrecon.bss_snapshot where as_of = '2026-11-30'")" \
		"the snapshot is dated --as-of"
	assert_counts "5 0 0 4 8 0 0"

	note "--as-of wins over the date in the name"
	f=$(fixture bss_subscribers_XX_20261202.csv bss_subscribers_XX_20261203.csv)
	echo 'XX,MOBILE,M-4,A-4,+573001110004,POST30,POSTPAID,ACTIVE,2026-12-02' >>"$f"
	load 0 --layout bss_subscribers --as-of 2026-12-04 "$f"
	assert_eq "2026-12-04 4" "$(psql_val "select as_of || ' ' || rows from ottrecon.bss_snapshot
	                                      where file_id = $(file_id bss_subscribers_XX_20261203.csv)")" \
		"dated 2026-12-04"
	assert_counts "6 0 0 5 12 0 0"

	note "the same export again for a later date (a base back to an earlier state): that date's"
	note "snapshot, so that the snapshot in between is not taken as the latest"
	f=$(fixture bss_subscribers_XX_20261201_v2.csv bss_subscribers_XX_20261205.csv)
	load 0 --layout bss_subscribers "$f"
	assert_file_contains "$ERR" "bss_subscribers_XX_20261205.csv: same content as file_id $(file_id bss_subscribers_XX_20261201_v2.csv) ('bss_subscribers_XX_20261201_v2.csv', the snapshot of 2026-12-01): loaded as the snapshot of 2026-12-05"
	assert_eq "XX 2026-12-05 2" "$(psql_val "select country_code || ' ' || as_of || ' ' || rows
	                                         from ottrecon.bss_snapshot where as_of = '2026-12-05'")" \
		"the 2026-12-05 snapshot"
	assert_eq "$(psql_val "select snapshot_id from ottrecon.bss_snapshot where as_of = '2026-12-05'")" \
		"$(psql_val "select recon.latest_snapshot('bss_subscribers', 'XX', '2026-12-05')")" \
		"it is the latest as of 2026-12-05"
	note "the same file and date again: already loaded; the same file for another date: loaded"
	load 0 --layout bss_subscribers "$f"
	assert_file_contains "$ERR" "bss_subscribers_XX_20261205.csv: already loaded"
	load 0 --layout bss_subscribers --as-of 2026-12-06 "$f"
	assert_file_not_contains "$ERR" "refused"
	assert_eq "2026-12-06 2" "$(psql_val "select as_of || ' ' || rows from ottrecon.bss_snapshot
	                                      where as_of = '2026-12-06'")" "dated 2026-12-06"

	note "a service id twice in a snapshot: one row counts (an ACTIVE one first, then the first"
	note "line), the others are marked superseded; the same id of another service type is not a repeat"
	f=$IN/bss_subscribers_XX_20261207.csv
	cat >"$f" <<-'EOF'
		country_code,service_type,service_id,account_id,msisdn,plan_code,plan_type,status,status_date
		XX,MOBILE,R-1,A-1,+573001110001,POST50,POSTPAID,CHURNED,2026-11-01
		XX,MOBILE,R-1,A-9,+573001110009,POST80,POSTPAID,ACTIVE,2026-11-02
		XX,HOME,R-1,A-1,,FIBER100,POSTPAID,ACTIVE,2026-11-03
		XX,MOBILE,R-2,A-2,+573001110002,POST50,POSTPAID,SUSPENDED,2026-11-04
		XX,MOBILE,R-2,A-2,+573001110002,POST50,POSTPAID,CHURNED,2026-11-05
		XX,MOBILE,R-3,A-3,+573001110003,POST50,POSTPAID,ACTIVE,2026-11-06
		XX,MOBILE,R-3,A-3,+573001110003,POST80,POSTPAID,ACTIVE,2026-11-07
		XX,MOBILE,R-4,A-4,+573001110004,POST50,POSTPAID,ACTIVE,2026-11-08
	EOF
	load 0 --layout bss_subscribers "$f"
	assert_manifest bss_subscribers_XX_20261207.csv "LOADED read=8 loaded=8 rejected=0 dup=0"
	assert_eq "2 6 8" "$(psql_val "select string_agg(x.line::text, ' ' order by x.line)
	                               from ottrecon.bss_subscriber x join ottrecon.bss_snapshot b using (snapshot_id)
	                               where b.as_of = '2026-12-07' and x.superseded")" \
		"superseded rows (file lines)"
}

scenario_bss_addons_and_churn() {
	scenario "11. bss_addons snapshots; bss_churn events accumulate"
	local f
	f=$(fixture bss_addons_XX_20261201.csv)
	load 0 --layout bss_addons "$f"
	assert_manifest bss_addons_XX_20261201.csv "LOADED read=4 loaded=4 rejected=0 dup=0"
	assert_file_contains "$ERR" "WARN load: bss_addons_XX_20261201.csv: 1 rows of country YY, which is not configured"
	assert_counts "1 0 0 2 0 4 0"
	assert_eq "M-1 AMZ-PV-MOB-0 ACTIVE 2025-01-10 - 0.0000 BUNDLE 2025-01-10 10:00:00+00
M-3 AMZ-PM-MOB-3 INACTIVE 2026-06-01 2026-09-30 2.9900 AGENT 2026-10-01 04:00:00+00
M-3 AMZ-PV-MOB-5 ACTIVE 2026-11-02 - 4.9900 SELF_SERVICE 2026-11-02 11:00:00+00
YM-1 AMZ-PV-MOB-5 ACTIVE 2026-10-01 - 5.5000 AGENT -" \
		"$(psql_val "select service_id || ' ' || sku || ' ' || status || ' ' || start_date || ' '
		               || coalesce(end_date::text, '-') || ' ' || monthly_price || ' ' || channel || ' '
		               || coalesce(updated_at::text, '-') from ottrecon.bss_addon order by 1")" \
		"typed values: dates, numeric price, upper-case channel, UTC timestamp"
	assert_eq "7.9800" "$(psql_val "select sum(monthly_price) from ottrecon.bss_addon where country_code = 'XX'")" \
		"monthly_price is numeric"

	f=$(fixture bss_addons_XX_20261201_v2.csv)
	load 0 --layout bss_addons "$f"
	assert_file_contains "$ERR" "bss_addons snapshot of XX as of 2026-12-01: 2 rows (replaces the earlier load)"
	assert_counts "2 0 0 2 0 3 0"
	assert_eq "H-4 M-3 YM-1" "$(psql_val "select string_agg(service_id, ' ' order by service_id) from ottrecon.bss_addon")" \
		"XX replaced, YY kept"
	f=$(fixture bss_addons_XX_20261202.csv)
	load 0 --layout bss_addons "$f"
	assert_counts "3 0 0 3 0 4 0"
	f=$(fixture bss_addons_latest.csv)
	load 65 --layout bss_addons "$f"
	assert_file_contains "$ERR" "refused: cannot tell the snapshot date"
	assert_counts "4 0 0 3 0 4 0"
	load 0 --layout bss_addons --as-of 2026-11-29 "$f"
	assert_counts "5 0 0 4 0 5 0"
	assert_eq "bss_addons XX 2026-11-29 1" \
		"$(psql_val "select layout || ' ' || country_code || ' ' || as_of || ' ' || rows
		             from ottrecon.bss_snapshot where as_of = '2026-11-29'")" "dated --as-of"

	note "churn: the second file adds 2 new events; 2 already known are not added again"
	local c1 c2
	c1=$(fixture bss_churn_XX_20261201.csv)
	c2=$(fixture bss_churn_XX_20261202.csv)
	load 0 --layout bss_churn "$c1"
	assert_file_contains "$ERR" "INFO load: bss_churn_XX_20261201.csv: 3 churn events new, 0 already known"
	assert_counts "6 0 0 4 0 5 3"
	load 0 --layout bss_churn "$c2"
	assert_file_contains "$ERR" "INFO load: bss_churn_XX_20261202.csv: 2 churn events new, 2 already known"
	assert_manifest bss_churn_XX_20261202.csv "LOADED read=4 loaded=4 rejected=0 dup=0"
	assert_counts "7 0 0 4 0 5 5"
	assert_eq "H-4 NON_PAYMENT 2026-11-30 - bss_churn_XX_20261201.csv
M-1 CHURN 2026-12-01 - bss_churn_XX_20261202.csv
M-1 PLAN_MIGRATION 2026-11-28 PRE10 bss_churn_XX_20261201.csv
M-2 CHURN 2026-11-29 - bss_churn_XX_20261201.csv
M-3 NUMBER_CHANGE 2026-12-01 - bss_churn_XX_20261202.csv" \
		"$(psql_val "select e.service_id || ' ' || e.event_type || ' ' || e.event_date || ' '
		               || coalesce(e.new_plan, '-') || ' ' || f.name
		             from ottrecon.bss_churn_event e join ottrecon.load_file f using (file_id) order by 1")" \
		"each event once, from the file that brought it first"
	assert_eq "+573001119999" "$(psql_val "select new_msisdn from ottrecon.bss_churn_event where event_type = 'NUMBER_CHANGE'")" \
		"new_msisdn normalised"
}

scenario_unconfigured() {
	scenario "12. rows of an unconfigured country or another telcoCode: loaded and warned about"
	local f
	f=$(fixture foreign_20261201.csv)
	load 0 --layout docomo_activations "$f"
	assert_manifest foreign_20261201.csv "LOADED read=4 loaded=4 rejected=0 dup=0"
	assert_counts "1 4 4 0 0 0 0"
	assert_file_contains "$ERR" "WARN load: foreign_20261201.csv: 2 rows of country YY, which is not configured: loaded, left out of reconciliation and reports"
	assert_file_contains "$ERR" "WARN load: foreign_20261201.csv: 1 rows of country XX with telcoCode OPERATOR9 (configured: OPERATOR1): loaded, left out of reconciliation and reports"
	assert_eq 2 "$(grep -c 'WARN' "$ERR")" "exactly two warnings (none for XX/OPERATOR1)"
}

scenario_errors() {
	scenario "13. exit codes: 66 unreadable, 65 missing column, 64 usage, 69 unreachable, 78 not migrated"
	local good f
	good=$(fixture activations_20261201.csv)

	note "a file that cannot be opened: 66; the other files named are still loaded"
	load 66 --layout docomo_activations "$IN/missing_20261201.csv" "$good"
	assert_file_contains "$ERR" "cannot open '$IN/missing_20261201.csv': No such file or directory"
	assert_manifest activations_20261201.csv "LOADED read=5 loaded=5 rejected=0 dup=0"
	assert_counts "1 5 5 0 0 0 0"
	mkdir "$IN/adir_20261201.csv"
	load 66 --layout docomo_activations "$IN/adir_20261201.csv"
	assert_counts "1 5 5 0 0 0 0"

	note "a missing required column: 65, naming file and line"
	f=$(fixture nocolumn_20261201.csv)
	load 65 --layout docomo_activations "$f"
	assert_file_contains "$ERR" "nocolumn_20261201.csv:1: missing required column 'productName'"
	assert_manifest nocolumn_20261201.csv "REFUSED read=0 loaded=0 rejected=0 dup=0"
	assert_eq t "$(psql_val "select reason like '%missing required column ''productName''%'
	                         from ottrecon.load_file where name = 'nocolumn_20261201.csv'")" \
		"the refusal's reason names the column"
	assert_counts "2 5 5 0 0 0 0"

	note "usage errors: 64"
	load 64 "$good"
	assert_file_contains "$ERR" "--layout NAME is required"
	load 64 --layout docomo_activations
	assert_file_contains "$ERR" "no FILE given"
	load 64 --layout docomo_activations --as-of 2026-13-01 "$good"
	assert_file_contains "$ERR" "--as-of must be a date YYYY-MM-DD, not '2026-13-01'"
	load 64 --layout docomo_activations --bogus "$good"
	load 64 --layout docomo_eligibility "$good"
	assert_file_contains "$ERR" "layout 'docomo_eligibility' is written by ottrecon, not loaded"
	load 64 --layout no_such_layout "$good"
	assert_file_contains "$ERR" "no_such_layout"
	load 0 --help
	assert_file_contains "$OUT" "usage: ottrecon load --layout NAME [--as-of YYYY-MM-DD] [--force] FILE..."
	assert_exit 0 "$BUILDDIR/ottrecon-load" --help
	assert_file_contains "$OUT" "usage: ottrecon load --layout NAME"
	assert_counts "2 5 5 0 0 0 0"

	note "the database unreachable: 69"
	write_config "" "$WORK/unreachable.yaml"
	sed -i 's|^  conninfo: .*|  conninfo: "host=/nonexistent"|' "$WORK/unreachable.yaml"
	load 69 --config "$WORK/unreachable.yaml" --layout docomo_activations "$good"
	assert_file_contains "$ERR" "ERROR load: cannot connect to the database: "

	note "a database not migrated: 78, naming ottrecon db migrate"
	local bare=${TEST_DB}_bare
	dropdb --if-exists "$bare"
	createdb "$bare"
	write_config "" "$WORK/bare.yaml"
	sed -i "s|^  conninfo: .*|  conninfo: \"dbname=$bare\"|" "$WORK/bare.yaml"
	load 78 --config "$WORK/bare.yaml" --layout docomo_activations "$good"
	assert_file_contains "$ERR" "ottrecon db migrate"
	dropdb "$bare"
	write_config

	note "a path that is not UTF-8: a Latin-1 file name refuses the file (65, not 70); a"
	note "Latin-1 directory does not, the manifest keeps an ASCII copy of the path"
	local latin1
	latin1=$(printf '%s/dir\xe9' "$IN")
	mkdir "$latin1"
	cp "$FIX/delta_20261201.csv" "$(printf '%s/delta\xe9_20261201.csv' "$latin1")"
	load 65 --layout docomo_activations "$(printf '%s/delta\xe9_20261201.csv' "$latin1")"
	assert_file_contains "$ERR" "refused: the file name is not valid UTF-8"
	assert_manifest "delta?_20261201.csv" "REFUSED read=0 loaded=0 rejected=0 dup=0"
	cp "$FIX/delta_20261201.csv" "$latin1/"
	load 0 --layout docomo_activations "$latin1/delta_20261201.csv"
	assert_eq "$IN/dir?/delta_20261201.csv|LOADED" \
		"$(psql_val "select path, outcome from ottrecon.load_file where name = 'delta_20261201.csv'")" \
		"the path recorded in ASCII"
}

scenario_renamed_layout() {
	scenario "14. a country's layout that extends a shipped one, with a name of its own (SPEC §3)"
	local dd=$WORK/datadir f
	rm -rf "$dd"
	mkdir -p "$dd"
	cp -r "$SRCDIR/schemas" "$SRCDIR/sql" "$dd/"
	printf 'name: bss_subscribers_co\nextends: bss_subscribers\nrename: {PAIS: country_code, PLAN: plan_code}\n' \
		>"$dd/schemas/bss_subscribers_co.yaml"
	f=$IN/subs_co_20261201.csv
	printf 'PAIS,service_type,service_id,account_id,msisdn,PLAN,plan_type,status,status_date\n' >"$f"
	printf 'XX,MOBILE,M-1,A-1,+573001234567,POST50,postpaid,active,2026-01-01\n' >>"$f"
	assert_exit 0 env OTTRECON_DATADIR="$dd" "$OTTRECON_BIN" load --layout bss_subscribers_co "$f"
	assert_manifest subs_co_20261201.csv "LOADED read=1 loaded=1 rejected=0 dup=0"
	assert_eq "bss_subscribers" "$(psql_val "select layout from ottrecon.load_file")" \
		"recorded as the layout it extends"
	assert_eq "XX 2026-12-01 M-1 POST50 POSTPAID ACTIVE" \
		"$(psql_val "select b.country_code || ' ' || b.as_of || ' ' || s.service_id || ' ' ||
		             s.plan_code || ' ' || s.plan_type || ' ' || s.status
		             from ottrecon.bss_snapshot b join ottrecon.bss_subscriber s using (snapshot_id)
		             where b.layout = 'bss_subscribers'")" "the renamed columns are the snapshot's"
}

# --- main -------------------------------------------------------------------------------------

write_config
assert_exit 0 "$OTTRECON_BIN" db migrate

# Each scenario runs in a subshell, so that one failing does not hide the others' results.
failed=()
for s in scenario_load_and_reload scenario_same_name_other_content scenario_reject_ratio \
	scenario_delta scenario_snapshot scenario_duplicates scenario_status_backwards \
	scenario_dates_out_of_order scenario_bss_subscribers scenario_bss_addons_and_churn \
	scenario_unconfigured scenario_errors scenario_kill_mid_copy scenario_kill_mid_merge \
	scenario_large_after_analyze scenario_renamed_layout; do
	set +e
	(
		set -e
		"$s"
	)
	rc=$?
	set -e
	if ((rc != 0)); then
		failed+=("$s")
		stop_leftovers
	fi
done
if ((${#failed[@]} > 0)); then
	printf '\nFAIL: %d scenario(s) failed: %s\n' "${#failed[@]}" "${failed[*]}" >&2
	exit 1
fi
note "load: all checks passed"
