#!/usr/bin/env bash
# kpi.sh: `ottrecon kpi` (SPEC §6) on tests/fixtures/kpi, every figure worked out by hand below,
# the SQL view report.kpi_monthly, a late file changing a past month, empty rates, usage errors.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
export OTTRECON_DATADIR=$SRCDIR
FIX=$SRCDIR/tests/fixtures/kpi
REP=$WORK/spool/reports

write_config 'recon:
  free_period_days: 30'
assert_exit 0 "$OTTRECON_BIN" db migrate
assert_exit 0 "$OTTRECON_BIN" kpi --help
assert_file_contains "$OUT" "usage: ottrecon kpi --month YYYY-MM [--country CC]"
assert_exit 64 "$OTTRECON_BIN" kpi
assert_exit 64 "$OTTRECON_BIN" kpi --month 2026-13
assert_exit 64 "$OTTRECON_BIN" kpi --month 2026-1
assert_exit 64 "$OTTRECON_BIN" kpi --month 2026-11 --country QQ

assert_exit 0 "$OTTRECON_BIN" load --layout docomo_activations "$FIX/activations_20261130.csv"
assert_exit 0 "$OTTRECON_BIN" load --layout bss_subscribers "$FIX/bss_subscribers_XX_20261130.csv" \
	"$FIX/bss_subscribers_XX_20261205.csv"

H=month,country,service_type,family,sales,associations,association_rate,free_period,paying,bundled,postpaid_base,penetration,deactivations,deactivations_user,deactivations_telco,deactivations_partner
# November 2026, E = 2026-11-30, free_period_days 30; k13 (unmapped product), k14 (other telco)
# and k9 (created after E) do not count; the 2026-12-05 snapshot is after E and does not count.
# MOBILE PRIME_VIDEO:
#   sales 5: created in November: k2, k5, k6, k7, k15 (23:59:59 on the 30th)
#   associations 4: dateActive in November: k2, k4, k6, k7 (k3's is Oct 31, k15's Dec 1)
#   association_rate 0.6000: of the 5 sold, k2, k6, k7 active by E
#   free_period 2: live ADDON, E - active < 30: k2 (24 days), k4 (29)
#   paying 2: live ADDON, >= 30: k3 (30, the edge), k8 (121; its Dec 2 unsubscription is after E)
#   bundled 2: live BUNDLE: k1, k7 (pending unsubscription is live)
#   postpaid_base 3: m1, m2, m3 ACTIVE POSTPAID (m4 suspended, m5 prepaid)
#   penetration 0.6667: m1 (k1; k4 by msisdn), m2 (k2, k8) of 3; m3's k11 unsubscribed on E
#   deactivations 3: k6 USER, k10 amazon (-> AMAZON: partner), k11 DOCOMO (partner)
# MOBILE PRIME_MUSIC: q1 sold, associated and free (28 days) on m3 (1/3); q2 TELCO deactivation.
# HOME PRIME_VIDEO: h1a sold, not active: rate 0.0000; base h1, h2; nothing live: 0.0000.
NOV="$H
2026-11,XX,HOME,PRIME_VIDEO,1,0,0.0000,0,0,0,2,0.0000,0,0,0,0
2026-11,XX,MOBILE,PRIME_MUSIC,1,1,1.0000,1,0,0,3,0.3333,1,0,1,0
2026-11,XX,MOBILE,PRIME_VIDEO,5,4,0.6000,2,2,2,3,0.6667,3,1,0,2"

assert_kpi() { # assert_kpi FILE EXPECTED
	[[ -f $1 ]] || fail "$1 was not written"
	if ! diff -u <(printf '%s\n' "$2") "$1" >"$WORK/diff"; then
		cat "$WORK/diff" >&2
		fail "$(basename "$1") differs from the figures worked out by hand"
	fi
	note "ok: $(basename "$1")"
}

assert_exit 0 "$OTTRECON_BIN" kpi --month 2026-11
assert_kpi "$REP/kpi_202611.csv" "$NOV"
assert_file_contains "$OUT" "$REP/kpi_202611.csv rows=3"
assert_eq 640 "$(stat -c %a "$REP/kpi_202611.csv")" "report mode"
assert_exit 0 "$OTTRECON_BIN" kpi --month 2026-11 --country XX
assert_kpi "$REP/kpi_202611.csv" "$NOV"
assert_exit 0 "$OTTRECON_BIN" kpi --month 2026-11 --country xx
assert_kpi "$REP/kpi_202611.csv" "$NOV"
assert_file_contains "$OUT" "$REP/kpi_202611.csv rows=3"

# The SQL view gives the same figures.
assert_eq "$(tail -n +2 <<<"$NOV")" "$(psql -XAtq -F, -c "select * from report.kpi_monthly where month = '2026-11' order by 2, 3, 4")" \
	"report.kpi_monthly for 2026-11"

# October: no snapshot dated <= Oct 31 (base 0: penetration empty), no HOME sales (rate empty).
assert_exit 0 "$OTTRECON_BIN" kpi --month 2026-10
assert_file_contains "$REP/kpi_202610.csv" "2026-10,XX,HOME,PRIME_VIDEO,0,0,,0,0,0,0,,0,0,0,0"

# A late report of a November fact changes November: k5 active on Nov 25.
assert_exit 0 "$OTTRECON_BIN" load --layout docomo_activations "$FIX/activations_20261203.csv"
assert_exit 0 "$OTTRECON_BIN" kpi --month 2026-11
assert_file_contains "$REP/kpi_202611.csv" "2026-11,XX,MOBILE,PRIME_VIDEO,5,5,0.8000,3,2,2,3,0.6667,3,1,0,2"

# A service repeated in the snapshot counts once, by the row that counts (README: an ACTIVE one,
# else the first line; the others are superseded). This snapshot replaces the one of Nov 30: m4
# (SUSPENDED, then ACTIVE POSTPAID) is in the base, with k3 live; m5 (ACTIVE PREPAID, then ACTIVE
# POSTPAID) is not, so its k7 does not count. m6 shares m1's msisdn: k4 (no alias) matches one
# subscriber, m1 (as in reconcile: ACTIVE first, then the smallest service id), not m6 too.
# PRIME_VIDEO 3 of 5 (m1, m2, m4), PRIME_MUSIC 1 of 5.
assert_exit 0 "$OTTRECON_BIN" load --layout bss_subscribers --as-of 2026-11-30 \
	"$FIX/bss_subscribers_XX_repeats.csv"
assert_exit 0 "$OTTRECON_BIN" kpi --month 2026-11
assert_kpi "$REP/kpi_202611.csv" "$H
2026-11,XX,HOME,PRIME_VIDEO,1,0,0.0000,0,0,0,2,0.0000,0,0,0,0
2026-11,XX,MOBILE,PRIME_MUSIC,1,1,1.0000,1,0,0,5,0.2000,1,0,1,0
2026-11,XX,MOBILE,PRIME_VIDEO,5,5,0.8000,3,2,2,5,0.6000,3,1,0,2"
note "kpi: all checks passed"
