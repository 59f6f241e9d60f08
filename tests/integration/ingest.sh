#!/usr/bin/env bash
# ingest.sh: `ottrecon ingest` on a spool holding good, bad, already-loaded and foreign files:
# order by the date in the names, archive/ and reject/ moves, exit codes (SPEC §4, §8).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
write_config
assert_exit 0 "$OTTRECON_BIN" db migrate
SPOOL=$WORK/spool

# SPEC §2: the spool's directories are made under it; on a fresh spool, ingest has nothing to
# do but leaves inbox/ and bss/ (and the others) ready for files.
[[ ! -e $SPOOL ]] || fail "the spool exists before the first command"
assert_exit 0 "$OTTRECON_BIN" ingest --as-of 2026-12-01
assert_eq "archive bss inbox outbox reject reports sent" "$(cd "$SPOOL" && echo *)" \
	"spool directories made"
assert_eq 750 "$(stat -c %a "$SPOOL/inbox")" "mode of spool/inbox"

HDR='"countryCode","siteCode","productName","subscriptionCode","msisdn","alias","telcoCode","dateCreated","dateActive","datePendingUnsubscription","dateUnsubscribed","unsubscriptionSource"'
act_row() { # code dateActive dateUnsubscribed
	printf '"XX","amazon","plan123","%s","+573001234567",,"OPERATOR1","2026-11-01T10:00:00Z","%s",,"%s",%s\n' \
		"$1" "$2" "$3" "$([[ -n $3 ]] && echo '"USER"')"
}

# Day 2 names s1 unsubscribed; day 1 has it active. Loading day 2 first would be undone by day 1:
# ingest must load 20261201 before 20261202 whatever the directory order.
{ echo "$HDR"; act_row s1 2026-11-01T11:00:00Z ""; act_row s2 2026-11-01T11:00:00Z ""; } \
	>"$SPOOL/inbox/activations_20261201.csv"
{ echo "$HDR"; act_row s1 2026-11-01T11:00:00Z 2026-12-02T08:00:00Z; act_row s3 "" ""; } \
	>"$SPOOL/inbox/activations_20261202.csv"
# A partner file still being downloaded, and a file that is not the partner's: left alone.
cp "$SPOOL/inbox/activations_20261202.csv" "$SPOOL/inbox/activations_20261203.csv.part"
echo "hello" >"$SPOOL/inbox/readme.txt"
# BSS: a good snapshot, a refused one (missing required column), a foreign file.
printf 'country_code,service_type,service_id,account_id,msisdn,plan_code,plan_type,status,status_date\n' \
	>"$SPOOL/bss/bss_subscribers_XX_20261202.csv"
printf 'XX,MOBILE,m1,a1,+573001234567,POST50,POSTPAID,ACTIVE,2026-01-01\n' \
	>>"$SPOOL/bss/bss_subscribers_XX_20261202.csv"
printf 'country_code,service_type\nXX,MOBILE\n' >"$SPOOL/bss/bss_addons_XX_20261202.csv"
echo "x" >"$SPOOL/bss/other_20261202.csv"

assert_exit 65 "$OTTRECON_BIN" ingest --as-of 2026-12-03
assert_file_contains "$ERR" "bss_addons_XX_20261202.csv:1: missing required column 'service_id'"
assert_file_contains "$ERR" "4 file(s): 3 loaded, 0 already loaded, 1 refused"

assert_eq "activations_20261201.csv activations_20261202.csv bss_subscribers_XX_20261202.csv" \
	"$(cd "$SPOOL/archive" && echo *)" "loaded files moved to archive/"
assert_eq "bss_addons_XX_20261202.csv" "$(cd "$SPOOL/reject" && ls | grep -v rejects.csv | tr '\n' ' ' | sed 's/ $//')" \
	"refused file moved to reject/"
assert_eq "activations_20261203.csv.part readme.txt" "$(cd "$SPOOL/inbox" && echo *)" \
	"partial and foreign files left in inbox/"
assert_eq "other_20261202.csv" "$(cd "$SPOOL/bss" && echo *)" "foreign file left in bss/"

assert_eq "activations_20261201.csv|2026-12-01|LOADED
activations_20261202.csv|2026-12-02|LOADED
bss_addons_XX_20261202.csv|2026-12-02|REFUSED
bss_subscribers_XX_20261202.csv|2026-12-02|LOADED" \
	"$(psql_val "select name, as_of, outcome from ottrecon.load_file order by name")" \
	"manifest: names, as-of from the names, outcomes"
assert_eq "s1|2026-12-02 08:00:00+00
s2|
s3|" "$(psql_val "select subscription_code, date_unsubscribed from ottrecon.partner_subscription order by 1")" \
	"day 2 applied after day 1"
assert_eq 4 "$(psql_val "select count(*) from ottrecon.partner_row")" "history keeps every row"

# Already loaded content arriving again: archived (as name.1, the name being taken), not loaded.
cp "$SPOOL/archive/activations_20261201.csv" "$SPOOL/inbox/"
assert_exit 0 "$OTTRECON_BIN" ingest
assert_file_contains "$ERR" "already loaded"
assert_eq "activations_20261201.csv activations_20261201.csv.1 activations_20261202.csv bss_subscribers_XX_20261202.csv" \
	"$(cd "$SPOOL/archive" && echo *)" "already-loaded file archived under a free name"
assert_eq 4 "$(psql_val "select count(*) from ottrecon.partner_row")" "nothing loaded twice"

# A pattern that matches pull's download names too ("activations_*"): the .part is still a
# download in progress (SPEC §7), left alone and never loaded as a file of its own. (The
# pattern is in the partner's sftp block, written when the tests have an sshd.)
if grep -q '^      pattern: ' "$CONFIG"; then
	sed -i 's|^      pattern: .*|      pattern: "activations_*"|' "$CONFIG"
	assert_exit 0 "$OTTRECON_BIN" ingest
	assert_file_contains "$ERR" "nothing waiting"
	assert_eq "activations_20261203.csv.part readme.txt" "$(cd "$SPOOL/inbox" && echo *)" \
		"a download in progress left in inbox/ when the pattern matches it"
	assert_eq 0 "$(psql_val "select count(*) from ottrecon.load_file where name like '%.part'")" \
		"no .part in the manifest"
	sed -i 's|^      pattern: .*|      pattern: "activations_*.csv"|' "$CONFIG"
fi

# A BSS export still being copied under a .part name is left alone too.
cp "$SPOOL/archive/bss_subscribers_XX_20261202.csv" "$SPOOL/bss/bss_subscribers_XX_20261203.csv.part"
assert_exit 0 "$OTTRECON_BIN" ingest
assert_file_contains "$ERR" "nothing waiting"
[[ -f $SPOOL/bss/bss_subscribers_XX_20261203.csv.part ]] || fail "a BSS .part was taken by ingest"
rm "$SPOOL/bss/bss_subscribers_XX_20261203.csv.part"

# Nothing waiting: exit 0.
rm "$SPOOL/inbox/activations_20261203.csv.part"
assert_exit 0 "$OTTRECON_BIN" ingest
assert_file_contains "$ERR" "nothing waiting"

# The BSS layout is the name's prefix (SPEC §8), whatever follows it; without a YYYYMMDD in the
# name the as-of is --as-of.
printf 'country_code,service_type,service_id,msisdn,event_type,event_date,old_plan,new_plan,new_msisdn\nXX,MOBILE,m1,,CHURN,2026-12-01,,,\n' \
	>"$SPOOL/bss/bss_churn.csv"
printf 'country_code,service_type,service_id,account_id,msisdn,sku,status,start_date,end_date,monthly_price,currency,channel,updated_at\nXX,MOBILE,m1,a1,,AMZ-PV-MOB-0,ACTIVE,2026-01-01,,0,USD,BUNDLE,\n' \
	>"$SPOOL/bss/bss_addons-XX-20261203.csv"
assert_exit 0 "$OTTRECON_BIN" ingest --as-of 2026-12-05
assert_eq "bss_addons-XX-20261203.csv|2026-12-03|LOADED
bss_churn.csv|2026-12-05|LOADED" \
	"$(psql_val "select name, as_of, outcome from ottrecon.load_file where name !~ '^(activations|bss_subscribers)' and outcome = 'LOADED' order by name")" \
	"BSS files known by their name prefix"
assert_eq "other_20261202.csv" "$(cd "$SPOOL/bss" && echo *)" "BSS files by prefix moved, foreign file left"

# The same name refused twice (the partner sends a still-broken file again): the second file and
# its rejects take a free name in reject/ together, and the first one's rejects stay (SPEC §4:
# nothing is deleted; §8: a refused file gets its .rejects.csv).
printf '%s\n"XX","amazon","plan123","r1","bad-one",,"OPERATOR1","2026-11-01T10:00:00Z",,,,\n' \
	"$HDR" >"$SPOOL/inbox/activations_20261205.csv"
assert_exit 65 "$OTTRECON_BIN" ingest
printf '%s\n"XX","amazon","plan123","r1","bad-two",,"OPERATOR1","2026-11-01T10:00:00Z",,,,\n' \
	"$HDR" >"$SPOOL/inbox/activations_20261205.csv"
assert_exit 65 "$OTTRECON_BIN" ingest
assert_eq "activations_20261205.csv activations_20261205.csv.1 activations_20261205.csv.1.rejects.csv activations_20261205.csv.rejects.csv" \
	"$(cd "$SPOOL/reject" && echo activations_20261205.csv*)" "each refused file with its own rejects"
assert_file_contains "$SPOOL/reject/activations_20261205.csv.rejects.csv" "'bad-one'"
assert_file_contains "$SPOOL/reject/activations_20261205.csv.1.rejects.csv" "'bad-two'"
assert_file_contains "$SPOOL/reject/activations_20261205.csv.1" "bad-two"

# `load` by hand (the file stays where it is, its rejects go to reject/NAME.rejects.csv): a file
# refused for its rows, loaded again unchanged (same rejects: nothing set aside), then corrected
# in place and loaded: the rejects that explain the refusal are kept, not removed (SPEC §4).
bad_row() { printf '"XX","amazon","plan123","%s","12",,"OPERATOR1","2026-11-01T10:00:00Z",,,,\n' "$1"; }
{ echo "$HDR"; bad_row r1; bad_row r2; act_row r3 2026-11-01T11:00:00Z ""; } >"$WORK/activations_20261204.csv"
assert_exit 65 "$OTTRECON_BIN" load --layout docomo_activations "$WORK/activations_20261204.csv"
cp "$SPOOL/reject/activations_20261204.csv.rejects.csv" "$WORK/first.rejects.csv"
assert_exit 65 "$OTTRECON_BIN" load --layout docomo_activations "$WORK/activations_20261204.csv"
{ echo "$HDR"; act_row r1 2026-11-01T11:00:00Z ""; act_row r2 2026-11-01T11:00:00Z ""; act_row r3 2026-11-01T11:00:00Z ""; } \
	>"$WORK/activations_20261204.csv"
assert_exit 0 "$OTTRECON_BIN" load --layout docomo_activations "$WORK/activations_20261204.csv"
assert_file_contains "$ERR" "kept activations_20261204.csv.rejects.csv of an earlier attempt as activations_20261204.csv.rejects.csv.1"
assert_eq "activations_20261204.csv.rejects.csv.1" \
	"$(cd "$SPOOL/reject" && echo activations_20261204*)" "the refused attempt's rejects, kept"
cmp -s "$WORK/first.rejects.csv" "$SPOOL/reject/activations_20261204.csv.rejects.csv.1" ||
	fail "the refused attempt's rejects were not kept as they were"

# A partner file whose name is not UTF-8 (Latin-1 'ñ') is refused like any bad file: moved to
# reject/ and recorded, and ingest goes on with the next (SPEC §8), exiting 65 at the end; it
# must not stop the run (exit 70) and so block every later night.
latin1_name=$(printf 'activations_20261206_espa\xf1a.csv')
{ echo "$HDR"; act_row s6 "" ""; } >"$SPOOL/inbox/$latin1_name"
{ echo "$HDR"; act_row s7 "" ""; } >"$SPOOL/inbox/activations_20261207.csv"
assert_exit 65 "$OTTRECON_BIN" ingest
assert_file_contains "$ERR" "refused: the file name is not valid UTF-8"
assert_file_contains "$ERR" "2 file(s): 1 loaded, 0 already loaded, 1 refused"
[[ -f $SPOOL/reject/$latin1_name ]] || fail "the file with a Latin-1 name is not in reject/"
assert_eq "activations_20261207.csv|LOADED" \
	"$(psql_val "select name, outcome from ottrecon.load_file where name = 'activations_20261207.csv'")" \
	"the next file still loads"
assert_eq "activations_20261206_espa?a.csv|REFUSED" \
	"$(psql_val "select name, outcome from ottrecon.load_file where name like 'activations_20261206%'")" \
	"the refused file is in the manifest, under an ASCII name"

# A second ingest while one holds the lock: 75 at once.
psql -XAtq -c "select pg_advisory_lock(hashtextextended('ottrecon.ingest', 7)), pg_sleep(3)" >/dev/null &
holder=$!
for _ in $(seq 50); do
	[[ $(psql_val "select count(*) from pg_locks where locktype = 'advisory' and granted") -ge 1 ]] && break
	sleep 0.1
done
assert_exit 75 "$OTTRECON_BIN" ingest
assert_file_contains "$ERR" "another ingest is running"
wait "$holder"

# Database unreachable: 69, nothing moved.
cp "$SPOOL/archive/activations_20261202.csv" "$SPOOL/inbox/activations_20261209.csv"
write_config "" "$WORK/down.yaml"
sed -i 's|conninfo: .*|conninfo: "host=/nonexistent"|' "$WORK/down.yaml"
assert_exit 69 "$OTTRECON_BIN" --config "$WORK/down.yaml" ingest
assert_eq "activations_20261209.csv" "$(cd "$SPOOL/inbox" && ls | grep activations)" "nothing moved when the database is down"
rm "$SPOOL/inbox/activations_20261209.csv"

# Partners under other names than "docomo" (SPEC §2 names the partner freely; pull fetches for
# each into spool/inbox): a file matching one's pattern is an activations file of that partner,
# loaded in its activations_mode; a file matching none waits.
(unset OTTRECON_TEST_SFTP_PORT && write_config "" "$WORK/partners.yaml") # (no docomo partner)
sed -i '/^countries:/i\
partners:\
  docomo_co:\
    sftp: {host: h, user: u, private_key: /k, known_hosts: /kh, pattern: "co_*.csv"}\
    activations_mode: snapshot\
  docomo_ec:\
    sftp: {host: h, user: u, private_key: /k, known_hosts: /kh, pattern: "ec_*.csv"}' \
	"$WORK/partners.yaml"
{ echo "$HDR"; act_row p1 "" ""; } >"$SPOOL/inbox/co_20261210.csv"
{ echo "$HDR"; act_row p2 "" ""; } >"$SPOOL/inbox/ec_20261211.csv"
{ echo "$HDR"; act_row p3 "" ""; } >"$SPOOL/inbox/activations_20261212.csv"
assert_exit 0 "$OTTRECON_BIN" --config "$WORK/partners.yaml" ingest
assert_file_contains "$ERR" "co_20261210.csv: 1 subscriptions new, 0 updated (SNAPSHOT mode)"
assert_file_contains "$ERR" "ec_20261211.csv: 1 subscriptions new, 0 updated (DELTA mode)"
assert_eq "activations_20261212.csv readme.txt" "$(cd "$SPOOL/inbox" && echo *)" "a file of no partner's pattern waits"
echo "ingest: all checks passed"
