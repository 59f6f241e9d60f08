#!/usr/bin/env bash
# feed.sh: `ottrecon eligibility` and `ottrecon churn` (SPEC §3.5, §3.6, §8 Partner files) on the
# hand-written fixtures of tests/fixtures/feed: full then delta over three days (subscribers
# joining, churning, migrating plan, changing number; HOME and MOBILE; a product with several
# eligible plans), the empty delta, .ctl files recomputed, a crash at each point between record
# and write then a re-run, replacing a file not pushed, refusing one pushed (and --force), dates
# that go backwards, --country, and deactivation requests: reasons, the 7-day rule, closing.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
export OTTRECON_DATADIR=$SRCDIR
FIX=$SRCDIR/tests/fixtures/feed
OUTBOX=$WORK/spool/outbox
SENT=$WORK/spool/sent

write_config '  - code: ZZ
    telco_code: OPERATOR9
    products:
      - partner_product: zz_video
        family: PRIME_VIDEO
        service: MOBILE
        kind: ADDON
        sku: ZZ-PV
        monthly_price: 3.00
        currency: EUR
        eligible_plans: [POSTZ]'

assert_exit 0 "$OTTRECON_BIN" eligibility --help
assert_file_contains "$OUT" "usage: ottrecon eligibility [--as-of YYYY-MM-DD] [--country CC] [--full|--delta] [--force]"
assert_exit 0 "$OTTRECON_BIN" churn --help
assert_exit 64 "$OTTRECON_BIN" eligibility --full --delta
assert_exit 64 "$OTTRECON_BIN" churn --full
assert_exit 64 "$OTTRECON_BIN" eligibility --country QQ
assert_exit 64 "$OTTRECON_BIN" eligibility --as-of 2026-02-30
assert_exit 78 "$OTTRECON_BIN" eligibility --as-of 2026-12-01
assert_file_contains "$ERR" "ottrecon db migrate"
assert_exit 0 "$OTTRECON_BIN" db migrate

load() { assert_exit 0 "$OTTRECON_BIN" load --layout "$@"; }

# assert_file PATH EXPECTED-CONTENT: the file, byte for byte, and its .ctl recomputed.
assert_file() {
	local path=$1 want=$2
	[[ -f $path ]] || fail "$path was not written"
	if ! diff -u <(printf '%s\n' "$want") "$path" >"$WORK/diff"; then
		cat "$WORK/diff" >&2
		fail "$(basename "$path") differs from what was expected"
	fi
	[[ -f $path.ctl ]] || fail "$path.ctl was not written"
	local rows sha
	rows=$(($(wc -l <"$path") - 1))
	sha=$(sha256sum "$path" | cut -d' ' -f1)
	assert_eq "rows=$rows sha256=$sha" "$(cat "$path.ctl")" "$(basename "$path").ctl"
	assert_eq 640 "$(stat -c %a "$path")" "$(basename "$path") mode"
	note "ok: $(basename "$path") ($rows rows) and its .ctl"
}

EH='countryCode,telcoCode,alias,msisdn,productName,eligibilityType,action,effectiveDate'
DH='countryCode,telcoCode,subscriptionCode,alias,msisdn,productName,reason,requestDate'

# --- day 1: the first file is full; ZZ has no subscriber snapshot yet: nobody is eligible there,
# and its file is written all the same, with no rows (SPEC §8: a file is always written) -------
load bss_subscribers "$FIX/bss_subscribers_XX_20261201.csv"
assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-01
assert_file_contains "$ERR" "ZZ 2026-12-01: no bss_subscribers snapshot of ZZ dated on or before 2026-12-01: no subscriber is eligible"
assert_file_contains "$OUT" "$OUTBOX/eligibility_XX_20261201.csv rows=18"
assert_file_contains "$OUT" "$OUTBOX/eligibility_ZZ_20261201.csv rows=0"
assert_file "$OUTBOX/eligibility_ZZ_20261201.csv" "$EH"
assert_file_contains "$ERR" "recorded file=eligibility_XX_20261201.csv mode=FULL add=18 remove=0"
DAY1="$EH
XX,OPERATOR1,h1,,pv_home,ADDON,ADD,2026-12-01
XX,OPERATOR1,h2,,pv_home,ADDON,ADD,2026-12-01
XX,OPERATOR1,m1,+573000000001,music_addon_mobile,ADDON,ADD,2026-12-01
XX,OPERATOR1,m1,+573000000001,plan123,BUNDLE,ADD,2026-12-01
XX,OPERATOR1,m1,+573000000001,pv_addon_mobile,ADDON,ADD,2026-12-01
XX,OPERATOR1,m10,+573000000010,music_addon_mobile,ADDON,ADD,2026-12-01
XX,OPERATOR1,m10,+573000000010,plan123,BUNDLE,ADD,2026-12-01
XX,OPERATOR1,m10,+573000000010,pv_addon_mobile,ADDON,ADD,2026-12-01
XX,OPERATOR1,m2,+573000000002,music_addon_mobile,ADDON,ADD,2026-12-01
XX,OPERATOR1,m2,+573000000002,pv_addon_mobile,ADDON,ADD,2026-12-01
XX,OPERATOR1,m6,+573000000006,music_addon_mobile,ADDON,ADD,2026-12-01
XX,OPERATOR1,m6,+573000000006,plan123,BUNDLE,ADD,2026-12-01
XX,OPERATOR1,m6,+573000000006,pv_addon_mobile,ADDON,ADD,2026-12-01
XX,OPERATOR1,m7,+573000000007,music_addon_mobile,ADDON,ADD,2026-12-01
XX,OPERATOR1,m7,+573000000007,plan123,BUNDLE,ADD,2026-12-01
XX,OPERATOR1,m7,+573000000007,pv_addon_mobile,ADDON,ADD,2026-12-01
XX,OPERATOR1,m8,+573000000008,music_addon_mobile,ADDON,ADD,2026-12-01
XX,OPERATOR1,m8,+573000000008,pv_addon_mobile,ADDON,ADD,2026-12-01"
assert_file "$OUTBOX/eligibility_XX_20261201.csv" "$DAY1"
# The writer follows the partner layout: the file passes its own layout's checks.
assert_exit 0 "$OTTRECON_BIN" validate --layout docomo_eligibility "$OUTBOX/eligibility_XX_20261201.csv"

# --country: ZZ alone, once its snapshot is loaded (its empty file, not pushed, is replaced).
load bss_subscribers "$FIX/bss_subscribers_ZZ_20261201.csv"
assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-01 --country zz  # (any case)
assert_file_contains "$ERR" "replacing file=eligibility_ZZ_20261201.csv (not pushed yet)"
assert_file "$OUTBOX/eligibility_ZZ_20261201.csv" "$EH
ZZ,OPERATOR9,z1,+493000000001,zz_video,ADDON,ADD,2026-12-01"
assert_eq "1 FULL" "$(psql_val "select count(*) || ' ' || min(mode) from feed.file where kind = 'eligibility' and country_code = 'ZZ'")" \
	"ZZ: the empty file replaced, the new one still full"
# Once the partner was told of eligible pairs, a missing snapshot is refused rather than
# removing every pair (the snapshot moved past the date here, to simulate its loss).
psql_val "update ottrecon.bss_snapshot set as_of = as_of + 30 where country_code = 'ZZ'" >/dev/null
assert_exit 65 "$OTTRECON_BIN" eligibility --as-of 2026-12-02 --country ZZ
assert_file_contains "$ERR" "ZZ 2026-12-02: not written: no bss_subscribers snapshot of ZZ dated on or before 2026-12-02, and the partner was told of eligible pairs"
[[ ! -e $OUTBOX/eligibility_ZZ_20261202.csv ]] || fail "a ZZ file was written without a snapshot"
psql_val "update ottrecon.bss_snapshot set as_of = as_of - 30 where country_code = 'ZZ'" >/dev/null
# The same on the date of a file not pushed yet: that file is taken back to be written again,
# and the refusal gives it back, so the file in the outbox and its record stay together.
assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-02 --country ZZ
assert_file "$OUTBOX/eligibility_ZZ_20261202.csv" "$EH"
psql_val "update ottrecon.bss_snapshot set as_of = as_of + 30 where country_code = 'ZZ'" >/dev/null
assert_exit 65 "$OTTRECON_BIN" eligibility --as-of 2026-12-02 --country ZZ
assert_file_contains "$ERR" "ZZ 2026-12-02: not written: no bss_subscribers snapshot"
assert_eq 1 "$(psql_val "select count(written_at) from feed.file where name = 'eligibility_ZZ_20261202.csv'")" \
	"a refused country keeps the record of its file not pushed yet"
assert_file "$OUTBOX/eligibility_ZZ_20261202.csv" "$EH"
psql_val "update ottrecon.bss_snapshot set as_of = as_of - 30 where country_code = 'ZZ'" >/dev/null
assert_eq 1 "$(psql_val "select count(*) from feed.file where name = 'eligibility_XX_20261201.csv'")" \
	"--country ZZ left XX's file alone"

# Running day 1 again before it was pushed replaces it: same file, still one record, still full.
assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-01 --country XX
assert_file_contains "$ERR" "replacing file=eligibility_XX_20261201.csv (not pushed yet)"
assert_file "$OUTBOX/eligibility_XX_20261201.csv" "$DAY1"
assert_eq "1 FULL" "$(psql_val "select count(*) || ' ' || min(mode) from feed.file where kind = 'eligibility' and country_code = 'XX'")" \
	"the replaced file is gone, the new one is full again"

# --- day 2: a crash after the rows are recorded, before the file is written -------------------
load bss_subscribers "$FIX/bss_subscribers_XX_20261202.csv"
DAY2="$EH
XX,OPERATOR1,m2,+573000000002,plan123,BUNDLE,ADD,2026-12-02
XX,OPERATOR1,m6,+573000000006,music_addon_mobile,ADDON,REMOVE,2026-12-02
XX,OPERATOR1,m6,+573000000006,plan123,BUNDLE,REMOVE,2026-12-02
XX,OPERATOR1,m6,+573000000006,pv_addon_mobile,ADDON,REMOVE,2026-12-02
XX,OPERATOR1,m7,+573000000007,music_addon_mobile,ADDON,REMOVE,2026-12-02
XX,OPERATOR1,m7,+573000000007,plan123,BUNDLE,REMOVE,2026-12-02
XX,OPERATOR1,m7,+573000000007,pv_addon_mobile,ADDON,REMOVE,2026-12-02
XX,OPERATOR1,m9,+573000000009,music_addon_mobile,ADDON,ADD,2026-12-02
XX,OPERATOR1,m9,+573000000009,plan123,BUNDLE,ADD,2026-12-02
XX,OPERATOR1,m9,+573000000009,pv_addon_mobile,ADDON,ADD,2026-12-02"
OTTRECON_FAULT=feed-recorded assert_exit 137 "$OTTRECON_BIN" eligibility --as-of 2026-12-02 --country XX
assert_eq "1 0" "$(psql_val "select count(*) || ' ' || count(written_at) from feed.file where name = 'eligibility_XX_20261202.csv'")" \
	"after the crash: recorded, not written"
[[ ! -e $OUTBOX/eligibility_XX_20261202.csv ]] || fail "the file appeared although the run was killed before writing it"
# The next run writes what was recorded (and then, as a re-run of that date, replaces it).
assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-02 --country XX
assert_file "$OUTBOX/eligibility_XX_20261202.csv" "$DAY2"
assert_file_contains "$ERR" "recorded file=eligibility_XX_20261202.csv mode=DELTA add=4 remove=6"

# A crash between the data file and its .ctl, then one after the .ctl, before it is marked: the
# next run (another date's, here) finishes the file first, byte for byte the same.
for point in feed-data-written feed-ctl-written; do
	OTTRECON_FAULT=$point assert_exit 137 "$OTTRECON_BIN" eligibility --as-of 2026-12-02 --country XX
	assert_eq 0 "$(psql_val "select count(written_at) from feed.file where name = 'eligibility_XX_20261202.csv'")" \
		"$point: not marked written"
	assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-02 --country XX
	assert_file "$OUTBOX/eligibility_XX_20261202.csv" "$DAY2"
done
assert_eq "" "$(cd "$OUTBOX" && shopt -s nullglob && echo .??*)" "no temporary files left in the outbox"

# A crash between the data file and its .ctl, then a push of the data file alone (what a nightly
# does after a failed step; found by tools/soak with a full spool): the next run writes the
# .ctl from the pushed file, for the next push.
rm -f "$OUTBOX"/eligibility_XX_20261202.csv*
psql_val "update feed.file set written_at = null where name = 'eligibility_XX_20261202.csv'" >/dev/null
OTTRECON_FAULT=feed-data-written assert_exit 137 "$OTTRECON_BIN" eligibility --as-of 2026-12-02 --country XX
[[ -f $OUTBOX/eligibility_XX_20261202.csv && ! -e $OUTBOX/eligibility_XX_20261202.csv.ctl ]] ||
	fail "expected the data file without its .ctl after the crash"
mkdir -p "$SENT" && mv "$OUTBOX/eligibility_XX_20261202.csv" "$SENT/"
assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-02 --country XX --skip-pushed
assert_file_contains "$ERR" "file=eligibility_XX_20261202.csv was pushed without its .ctl"
assert_eq "rows=10 sha256=$(sha256sum "$SENT/eligibility_XX_20261202.csv" | cut -d' ' -f1)" \
	"$(cat "$OUTBOX/eligibility_XX_20261202.csv.ctl")" "the .ctl written from the pushed file"
assert_eq 1 "$(psql_val "select count(written_at) from feed.file where name = 'eligibility_XX_20261202.csv'")" \
	"marked written"
mv "$SENT/eligibility_XX_20261202.csv" "$OUTBOX/"   # back to the outbox for what follows

# --- day 3: a number change is a REMOVE of the old pair and an ADD of the new one --------------
load bss_subscribers "$FIX/bss_subscribers_XX_20261203.csv"
assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-03 --country XX
assert_file "$OUTBOX/eligibility_XX_20261203.csv" "$EH
XX,OPERATOR1,m8,+573000000008,music_addon_mobile,ADDON,REMOVE,2026-12-03
XX,OPERATOR1,m8,+573000000088,music_addon_mobile,ADDON,ADD,2026-12-03
XX,OPERATOR1,m8,+573000000008,pv_addon_mobile,ADDON,REMOVE,2026-12-03
XX,OPERATOR1,m8,+573000000088,pv_addon_mobile,ADDON,ADD,2026-12-03"

# --- day 4: nothing changed: a file with a header and no rows ----------------------------------
assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-04 --country XX
assert_file "$OUTBOX/eligibility_XX_20261204.csv" "$EH"
assert_eq "rows=0 sha256=$(sha256sum <<<"$EH" | cut -d' ' -f1)" "$(cat "$OUTBOX/eligibility_XX_20261204.csv.ctl")" \
	"empty delta's .ctl"

# The partner's view equals the subscribers eligible on day 3: replaying every file gives it.
assert_eq 16 "$(psql_val "select count(*) from feed.eligibility_pair where country_code = 'XX'")" \
	"eligible pairs known to the partner after day 4"

# Dates only move forward.
assert_exit 65 "$OTTRECON_BIN" eligibility --as-of 2026-12-02 --country XX
assert_file_contains "$ERR" "not written: eligibility_XX_20261204.csv was written for a later date (2026-12-04)"

# --full after deltas: every pair ADD again (16 of them).
assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-04 --country XX --full
assert_eq "$EH" "$(head -n 1 "$OUTBOX/eligibility_XX_20261204.csv")" "full file header"
assert_eq 16 "$(grep -c ',ADD,2026-12-04$' "$OUTBOX/eligibility_XX_20261204.csv")" "full file: 16 ADD"
# ... and taking it back (rerun as delta before the push) restores the partner's view exactly.
assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-04 --country XX --delta
assert_file "$OUTBOX/eligibility_XX_20261204.csv" "$EH"

# --- pushed files are never replaced; --force writes a new version -----------------------------
if [[ -n ${OTTRECON_TEST_SFTP_PORT:-} ]]; then
	REMOTE_OUT=$OTTRECON_TEST_SFTP_ROOT/$TEST_NAME/incoming   # this test's own remote folder
	rm -rf "$REMOTE_OUT" && mkdir -p "$REMOTE_OUT"
	sed -i "s|^      remote_outbox: .*|      remote_outbox: $REMOTE_OUT|" "$CONFIG"
	assert_exit 0 "$OTTRECON_BIN" push
	[[ -f $SENT/eligibility_XX_20261204.csv ]] || fail "push did not move the file to sent/"
	cmp "$SENT/eligibility_XX_20261204.csv" "$REMOTE_OUT/eligibility_XX_20261204.csv" ||
		fail "the partner's copy differs"
else
	mkdir -p "$SENT" && mv "$OUTBOX"/* "$SENT"/   # what push does locally
fi
assert_exit 65 "$OTTRECON_BIN" eligibility --as-of 2026-12-04 --country XX
assert_file_contains "$ERR" "not written: eligibility_XX_20261204.csv was pushed already"
assert_file_contains "$ERR" "use --force to write a new version eligibility_XX_20261204_2.csv"
# --skip-pushed (what nightly passes): a date whose file was pushed is done, not an error.
assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-04 --country XX --skip-pushed
assert_file_contains "$ERR" "XX 2026-12-04: eligibility_XX_20261204.csv was pushed already: nothing to write"
assert_eq "" "$(ls "$OUTBOX")" "--skip-pushed wrote nothing"
assert_exit 0 "$OTTRECON_BIN" eligibility --as-of 2026-12-04 --country XX --force
assert_file "$OUTBOX/eligibility_XX_20261204_2.csv" "$EH"
[[ ! -e $OUTBOX/eligibility_XX_20261204.csv ]] || fail "the pushed file came back to the outbox"

# ======================= deactivations (early churn) ==========================================
load docomo_activations "$FIX/activations_20261201.csv"
load bss_churn "$FIX/bss_churn_XX_20261201.csv"
load bss_churn "$FIX/bss_churn_XX_20261202.csv"
load bss_churn "$FIX/bss_churn_XX_20261203.csv"
# As of day 1 (the events of days 2 and 3 are in the future and must not count).
assert_exit 0 "$OTTRECON_BIN" churn --as-of 2026-12-01
assert_file "$OUTBOX/deactivations_XX_20261201.csv" "$DH
XX,OPERATOR1,s11,h2,,pv_home,NON_PAYMENT,2026-12-01
XX,OPERATOR1,s12,,+573000000077,music_addon_mobile,CHURN,2026-12-01
XX,OPERATOR1,s13,m10,+573000000010,pv_addon_mobile,PLAN_MIGRATION,2026-12-01
XX,OPERATOR1,s3,m3,+573000000003,pv_addon_mobile,NOT_ELIGIBLE,2026-12-01
XX,OPERATOR1,s5,m5,+573000000005,pv_addon_mobile,NOT_ELIGIBLE,2026-12-01"
assert_file "$OUTBOX/deactivations_ZZ_20261201.csv" "$DH"
assert_exit 0 "$OTTRECON_BIN" validate --layout docomo_deactivations "$OUTBOX/deactivations_XX_20261201.csv"

# Day 2: m6 churned (CHURN wins over NON_PAYMENT on one date), m7 migrated to a plan its product
# does not allow; m2 migrated to an allowed plan (no request); day 1's requests are not repeated.
assert_exit 0 "$OTTRECON_BIN" churn --as-of 2026-12-02 --country XX
assert_file "$OUTBOX/deactivations_XX_20261202.csv" "$DH
XX,OPERATOR1,s6,m6,+573000000006,pv_addon_mobile,CHURN,2026-12-02
XX,OPERATOR1,s7,m7,+573000000007,plan123,PLAN_MIGRATION,2026-12-02"

# Day 3: the partner reports s5 pending unsubscription: its request is closed.
load docomo_activations "$FIX/activations_20261203.csv"
assert_exit 0 "$OTTRECON_BIN" churn --as-of 2026-12-03 --country XX
assert_file "$OUTBOX/deactivations_XX_20261203.csv" "$DH
XX,OPERATOR1,s8,m8,+573000000008,music_addon_mobile,NUMBER_CHANGE,2026-12-03"
assert_eq "2026-12-03 PENDING_UNSUBSCRIPTION" \
	"$(psql_val "select closed_on || ' ' || closed_status from feed.deactivation_request where subscription_code = 's5'")" \
	"s5's request closed"
assert_eq 7 "$(psql_val "select count(*) from feed.deactivation_request where closed_on is null")" \
	"open requests after day 3"

# Day 7: six days after day 1, nothing is asked again. Day 8: seven days after, the ones still
# ACTIVE are (s5 is pending unsubscription: not again; s6, s7, s8 were asked less than 7 days ago).
assert_exit 0 "$OTTRECON_BIN" churn --as-of 2026-12-07 --country XX
assert_file "$OUTBOX/deactivations_XX_20261207.csv" "$DH"
assert_exit 0 "$OTTRECON_BIN" churn --as-of 2026-12-08 --country XX
assert_file "$OUTBOX/deactivations_XX_20261208.csv" "$DH
XX,OPERATOR1,s11,h2,,pv_home,NON_PAYMENT,2026-12-08
XX,OPERATOR1,s12,,+573000000077,music_addon_mobile,CHURN,2026-12-08
XX,OPERATOR1,s13,m10,+573000000010,pv_addon_mobile,PLAN_MIGRATION,2026-12-08
XX,OPERATOR1,s3,m3,+573000000003,pv_addon_mobile,NOT_ELIGIBLE,2026-12-08"
# Re-running day 8 (not pushed) replaces its file; requests are not doubled.
assert_exit 0 "$OTTRECON_BIN" churn --as-of 2026-12-08 --country XX
assert_eq 4 "$(psql_val "select count(*) from feed.deactivation_request where request_date = '2026-12-08'")" \
	"day 8 requests after a re-run"
assert_eq "$(psql_val "select count(*) from feed.file")" \
	"$(psql_val "select count(*) from feed.file where written_at is not null and sha256 is not null")" \
	"every recorded file is written"
note "feed: all checks passed"
