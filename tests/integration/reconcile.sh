#!/usr/bin/env bash
# reconcile.sh: `ottrecon reconcile` on hand-written fixtures (tests/fixtures/recon/README.md):
# every SPEC §5 category and its grace/tolerance edges, exact report rows (§6), NEW/OPEN/RESOLVED
# over three runs, re-running an as-of, --country, masking and formula escaping, --fail-on, exits;
# then tests/fixtures/recon/edge: duplicates without S, several add-on rows of one SKU, a run for
# an earlier as-of after a later one.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
export OTTRECON_DATADIR=$SRCDIR
FIX=$SRCDIR/tests/fixtures/recon
REP=$WORK/spool/reports

# Country ZZ is appended to lib.sh's country list (countries is the last section it writes).
ZZ='  - code: ZZ
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
write_config "$ZZ"

# A database never migrated: 78, naming the fix.
assert_exit 78 "$OTTRECON_BIN" reconcile --as-of 2026-11-30
assert_file_contains "$ERR" "ottrecon db migrate"
assert_exit 0 "$OTTRECON_BIN" db migrate

# Usage errors.
assert_exit 0 "$OTTRECON_BIN" reconcile --help
assert_file_contains "$OUT" "usage: ottrecon reconcile [--as-of YYYY-MM-DD] [--country CC] [--fail-on new|any]"
assert_exit 64 "$OTTRECON_BIN" reconcile --fail-on sometimes
assert_exit 64 "$OTTRECON_BIN" reconcile --as-of 2026-11-31
assert_exit 64 "$OTTRECON_BIN" reconcile --country QQ
assert_file_contains "$ERR" "country 'QQ' is not configured"

assert_exit 0 "$OTTRECON_BIN" load --layout docomo_activations "$FIX/activations_20261130.csv"
assert_exit 0 "$OTTRECON_BIN" load --layout bss_subscribers "$FIX/bss_subscribers_20261130.csv"
# Both add-on snapshots up front: as of 2026-11-30 the one dated 2026-12-01 must not count.
assert_exit 0 "$OTTRECON_BIN" load --layout bss_addons "$FIX/bss_addons_20261130.csv" \
	"$FIX/bss_addons_20261201.csv"

# assert_report FILE EXPECTED: the report equals the fixture, byte for byte. RECON_BLESS=1
# (by hand only) writes the fixture instead: review every row against README.md before keeping it.
assert_report() {
	[[ -f $1 ]] || fail "report $1 was not written"
	if [[ ${RECON_BLESS:-} == 1 ]]; then
		cp "$1" "$2"
	fi
	if ! diff -u "$2" "$1" >"$WORK/diff"; then
		cat "$WORK/diff" >&2
		fail "$(basename "$1") differs from $(basename "$2")"
	fi
	note "ok: $(basename "$1") = $(basename "$2")"
}

# empty_database: every loaded table and every run emptied (the next section starts afresh).
empty_database() {
	psql_val "do \$\$ begin execute (select 'truncate ' || string_agg(format('%I.%I', table_schema,
		table_name), ', ') || ' restart identity cascade' from information_schema.tables
		where table_schema = 'ottrecon' and table_type = 'BASE TABLE'); end \$\$" >/dev/null
	psql_val "truncate recon.run, recon.item" >/dev/null
}

# --- run 1: everything NEW; --fail-on new fails, the reports are still written ---------------
assert_exit 1 "$OTTRECON_BIN" reconcile --as-of 2026-11-30 --fail-on new
assert_file_contains "$ERR" "INFO reconcile: reconciled country=XX as_of=2026-11-30 new=19 open=0 resolved=0"
assert_report "$REP/discrepancies_XX_20261130.csv" "$FIX/expected_discrepancies_XX_20261130.csv"
assert_report "$REP/discrepancies_ZZ_20261130.csv" "$FIX/expected_discrepancies_ZZ_20261130.csv"
assert_report "$REP/recon_summary_20261130.csv" "$FIX/expected_recon_summary_20261130.csv"
# (a TOTAL per currency: amounts in USD and EUR do not add up; the UNMAPPED_PRODUCT rows have none)
assert_eq "XX       UNSUBSCRIBED_STILL_BILLED               2        0        0           7.98 USD
ZZ       UNKNOWN_SUBSCRIBER                      1        0        0           0.00 EUR
TOTAL                                            3        0        0           0.00
TOTAL                                            1        0        0           0.00 EUR
TOTAL                                           16        0        0          34.92 USD" \
	"$(tail -n 5 "$OUT")" "stdout summary: last categories and totals"
assert_eq "640" "$(stat -c %a "$REP/discrepancies_XX_20261130.csv")" "report mode 0640"
# The view shows the report's UTC timestamps, in whole seconds, whatever the session's time zone.
assert_eq "$(python3 -c 'import csv,sys
rows = [(r["subscription_code"].removeprefix("\x27"), r["partner_date_active"], r["partner_date_unsubscribed"])
        for r in csv.DictReader(open(sys.argv[1])) if r["subscription_code"]]
for r in sorted(rows, key=lambda r: r[0].encode()): print(*r)' \
	"$REP/discrepancies_XX_20261130.csv")" \
	"$(PGTZ=Asia/Kolkata psql -XAtq -F' ' -c "select subscription_code, to_char(partner_date_active,
	'YYYY-MM-DD HH24:MI:SS'), to_char(partner_date_unsubscribed, 'YYYY-MM-DD HH24:MI:SS')
	from report.discrepancies where country = 'XX' and as_of = '2026-11-30'
	and subscription_code is not null order by subscription_code collate \"C\"")" \
	"report.discrepancies: timestamps as in the CSV, in a session at +05:30"
assert_eq "discrepancies_XX_20261130.csv discrepancies_ZZ_20261130.csv recon_summary_20261130.csv" \
	"$(cd "$REP" && shopt -s dotglob && echo *)" "no temporary files left"

# --- run 2: pnb1 billed now (RESOLVED); pas0, m14, usb0 one day past their grace (NEW) --------
assert_exit 0 "$OTTRECON_BIN" reconcile --as-of 2026-12-01 --fail-on new --country ZZ
assert_exit 1 "$OTTRECON_BIN" reconcile --as-of 2026-12-01 --fail-on new
assert_report "$REP/discrepancies_XX_20261201.csv" "$FIX/expected_discrepancies_XX_20261201.csv"
assert_report "$REP/recon_summary_20261201.csv" "$FIX/expected_recon_summary_20261201.csv"
# Running the same as-of again replaces the run: same report, still two XX runs.
assert_exit 0 "$OTTRECON_BIN" reconcile --as-of 2026-12-01
assert_report "$REP/discrepancies_XX_20261201.csv" "$FIX/expected_discrepancies_XX_20261201.csv"
assert_eq 2 "$(psql_val "select count(*) from recon.run where country_code = 'XX'")" \
	"re-run replaced, not stacked"
assert_eq "2026-11-30|19|0|0|34.9200
2026-12-01|4|18|1|35.9100" "$(psql_val "select as_of, n_new, n_open, n_resolved, amount_at_risk
	from recon.run where country_code = 'XX' order by as_of")" "runs recorded with counts"

# --- run 3, one country: nothing NEW, the RESOLVED row is gone, days_open grows ----------------
rm "$REP"/*
# (--country in any case: the configured spelling is used)
assert_exit 0 "$OTTRECON_BIN" reconcile --as-of 2026-12-02 --country xx --fail-on new
assert_report "$REP/discrepancies_XX_20261202.csv" "$FIX/expected_discrepancies_XX_20261202.csv"
assert_eq "discrepancies_XX_20261202.csv recon_summary_20261202.csv" "$(cd "$REP" && echo *)" \
	"--country XX writes only XX's report and the summary"
assert_exit 1 "$OTTRECON_BIN" reconcile --as-of 2026-12-02 --country XX --fail-on any
assert_eq "ZZ|2026-11-30
ZZ|2026-12-01" "$(psql_val "select country_code, as_of from recon.run
	where country_code = 'ZZ' order by as_of")" "ZZ not run by --country XX"

# --- run 4: pnb1 unbilled again: NEW again, first_seen starts over --------------------------
assert_exit 0 "$OTTRECON_BIN" load --layout bss_addons "$FIX/bss_addons_20261203.csv"
assert_exit 0 "$OTTRECON_BIN" reconcile --as-of 2026-12-03 --country XX
assert_eq "2026-12-03,XX,PARTNER_ACTIVE_NOT_BILLED,NEW,2026-12-03,0,MOBILE,PRIME_VIDEO,pnb1,m07,+573000000007,m07,pv_addon_mobile,ACTIVE,2026-10-01 10:00:00,,,,,POST50,4.99,USD" \
	"$(grep ',pnb1,' "$REP/discrepancies_XX_20261203.csv")" "a resolved discrepancy that reappears is NEW"
assert_eq "1|22|0" "$(psql_val "select n_new, n_open, n_resolved from recon.run
	where country_code = 'XX' and as_of = '2026-12-03'")" "run 4 counts"

# --- SQL views --------------------------------------------------------------------------------
assert_eq "RESOLVED|pnb1|1|4.9900" "$(psql_val "select state, subscription_code, days_open,
	amount_at_risk from report.discrepancies where as_of = '2026-12-01' and state = 'RESOLVED'")" \
	"report.discrepancies: RESOLVED keeps its amount"
assert_eq "XX|0|22|35.9100" "$(psql_val "select country, sum(new), sum(open), sum(amount_at_risk)
	from report.recon_summary where as_of = '2026-12-02' group by country")" "report.recon_summary"

# Formula-injection guard: = + - @ tab CR get a leading quote, nothing else does.
assert_eq "'=1|'+1|'-1|'@1|'$(printf '\t')1|'$(printf '\r')1|1=1||" "$(psql_val "select concat_ws('|',
	report.csv_safe('=1'), report.csv_safe('+1'), report.csv_safe('-1'), report.csv_safe('@1'),
	report.csv_safe(E'\\t1'), report.csv_safe(E'\\r1'), report.csv_safe('1=1'), report.csv_safe(''),
	coalesce(report.csv_safe(null), ''))")" "report.csv_safe"

# --- mask_pii: MSISDNs, aliases, service ids cut to 4 characters, then escaped -----------------
write_config "$ZZ
reports:
  mask_pii: true"
assert_exit 0 "$OTTRECON_BIN" reconcile --as-of 2026-12-02 --country XX
assert_file_contains "$REP/discrepancies_XX_20261202.csv" \
	"2026-12-02,XX,UNMAPPED_PRODUCT,OPEN,2026-11-30,2,,,unm1,'@m20,0020,,mystery,ACTIVE,2026-10-01 10:00:00,,,,,,0.00,"
assert_file_contains "$REP/discrepancies_XX_20261202.csv" \
	"2026-12-02,XX,DATE_MISMATCH,OPEN,2026-11-30,2,MOBILE,PRIME_VIDEO,dm1,m10,0010,m10,pv_addon_mobile,"
assert_file_not_contains "$REP/discrepancies_XX_20261202.csv" "+5730"

# --- database unreachable: 69 ----------------------------------------------------------------
sed -i 's/conninfo: .*/conninfo: "host=127.0.0.1 port=1 dbname=x connect_timeout=2"/' "$CONFIG"
assert_exit 69 "$OTTRECON_BIN" reconcile --as-of 2026-12-02

# --- edge cases (tests/fixtures/recon/edge/README.md): duplicates without S by alias and by
# msisdn, fractional seconds, several live add-on rows of one SKU, one key per SKU, and a run
# for an earlier as-of after a later one ---------------------------------------------------------
write_config "$ZZ"
empty_database
rm -f "$REP"/*
EDGE=$FIX/edge
assert_exit 0 "$OTTRECON_BIN" load --layout docomo_activations "$EDGE/activations_20261130.csv"
assert_exit 0 "$OTTRECON_BIN" load --layout bss_subscribers "$EDGE/bss_subscribers_20261130.csv"
assert_exit 0 "$OTTRECON_BIN" load --layout bss_addons "$EDGE/bss_addons_20261130.csv" \
	"$EDGE/bss_addons_20261202.csv"
assert_exit 0 "$OTTRECON_BIN" reconcile --as-of 2026-11-30 --country XX
assert_report "$REP/discrepancies_XX_20261130.csv" "$EDGE/expected_discrepancies_XX_20261130.csv"
assert_exit 0 "$OTTRECON_BIN" reconcile --as-of 2026-12-03 --country XX
assert_eq "2026-12-03,XX,BILLED_NOT_ACTIVE_AT_PARTNER,RESOLVED,2026-11-30,3,MOBILE,PRIME_VIDEO,,,+573400000005,e05,,,,,AMZ-PV-MOB-5,ACTIVE,2026-11-20,POST50,4.99,USD
2026-12-03,XX,BILLED_NOT_ACTIVE_AT_PARTNER,NEW,2026-12-03,0,MOBILE,PRIME_VIDEO,,,+573400000006,e06,,,,,AMZ-PV-MOB-5,ACTIVE,2026-11-25,POST50,4.99,USD" \
	"$(grep -E ',e0[56],[^,]*,[^,]*,[^,]*,[^,]*,AMZ-PV-MOB-5,' "$REP/discrepancies_XX_20261203.csv")" \
	"2026-12-03: e06's AMZ-PV-MOB-5 past its grace, e05 resolved"
assert_exit 0 "$OTTRECON_BIN" reconcile --as-of 2026-12-02 --country XX
assert_report "$REP/discrepancies_XX_20261202.csv" "$EDGE/expected_discrepancies_XX_20261202.csv"
assert_eq "2026-11-30|6|0|0
2026-12-02|0|5|1
2026-12-03|1|5|1" "$(psql_val "select as_of, n_new, n_open, n_resolved from recon.run
	where country_code = 'XX' order by as_of")" "edge runs: 2026-12-02 compared with 2026-11-30"

# --- ground truth: tools/gen-data's expected discrepancy set, matched exactly -----------------
# (no missing, no extra, same categories and amounts), two countries, three daily delta files.
N=${RECON_TRUTH_SUBSCRIPTIONS:-100000}
empty_database
GT=$WORK/gt
python3 "$SRCDIR/tools/gen-data" -q --out "$GT/spool" --seed 11 --subscriptions "$N" --days 3 \
	--countries XX,YY --as-of 2026-11-30 --config-out "$GT/ottrecon.yaml" \
	--conninfo "dbname=$TEST_DB" || fail "gen-data failed"
export OTTRECON_CONFIG=$GT/ottrecon.yaml
assert_exit 0 "$OTTRECON_BIN" ingest --as-of 2026-11-30
assert_exit 0 "$OTTRECON_BIN" reconcile --as-of 2026-11-30
psql -XAtq -F, -c "select key, category, case when scale(trim_scale(amount_at_risk)) <= 2
	then round(amount_at_risk, 2) else trim_scale(amount_at_risk) end
	from report.discrepancies where as_of = '2026-11-30' order by key collate \"C\"" >"$GT/got.csv"
python3 - "$GT/spool/expected.json" >"$GT/want.csv" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))['discrepancies']['items']
for key, cat, amount in sorted(items, key=lambda x: x[0].encode()):
    print('%s,%s,%s' % (key, cat, amount))
PY
if ! diff "$GT/want.csv" "$GT/got.csv" >"$GT/diff"; then
	head -n 20 "$GT/diff" >&2
	fail "reconcile differs from gen-data's ground truth ($(grep -c '^<' "$GT/diff") missing," \
		"$(grep -c '^>' "$GT/diff") extra)"
fi
assert_eq "$(wc -l <"$GT/want.csv")" "$(wc -l <"$GT/got.csv")" \
	"ground truth at $N subscriptions: every expected discrepancy, nothing else"
note "by category: $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['discrepancies']['by_category'])" "$GT/spool/expected.json")"
