#!/usr/bin/env bash
# feed_rules.sh: the fine points of the deactivations file (SPEC §3.6, §8 Deactivations), one
# partner subscription per case, each case's subscriber and churn events next to it: an event on
# the creation date itself or after D, PLAN_MIGRATION to an eligible plan or not, two events on
# the latest date, PENDING_UNSUBSCRIPTION, a subscription not yet created or not yet active, an
# event reaching P through its matched subscriber, its alias or its msisdn, and the 7-day rule
# at D - E = 6 and 7.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
export OTTRECON_DATADIR=$SRCDIR
OUTBOX=$WORK/spool/outbox
write_config
assert_exit 0 "$OTTRECON_BIN" db migrate

# c01..c24: dateCreated 2026-12-05 unless said; D = 2026-12-10. pv_addon_mobile allows POST30,
# POST50, POST80; plan123 only POST50, POST80.
cat >"$WORK/activations_20261210.csv" <<'EOF'
countryCode,siteCode,productName,subscriptionCode,msisdn,alias,telcoCode,dateCreated,dateActive,datePendingUnsubscription,dateUnsubscribed,unsubscriptionSource
XX,amazon,pv_addon_mobile,c01,+573000000001,m1,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c02,+573000000002,m2,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c03,+573000000003,m3,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c04,+573000000004,m4,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c05,+573000000005,m5,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c06,+573000000006,m6,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c07,+573000000007,m7,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c08,+573000000008,m8,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c09,+573000000009,m9,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,2026-12-09T00:00:00Z,,
XX,amazon,pv_addon_mobile,c10,+573000000010,,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c11,+573000000011,,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_home,c12,,h12,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c13,+573000000013,m13,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c14,+573000000014,m14,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c16,+573000000016,m16,OPERATOR1,2026-12-11T10:00:00Z,2026-12-11T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c17,+573000000017,m17,OPERATOR1,2026-12-05T10:00:00Z,2026-12-11T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c18,+573000000018,m18,OPERATOR1,2026-12-05T23:30:00-05:00,2026-12-06T05:00:00Z,,,
XX,amazon,pv_addon_mobile,c19,+573000000019,m19,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c20,+573000000020,m20,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,plan123,c21,+573000000021,m21,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c22,+573000000022,m22,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,,
XX,amazon,pv_addon_mobile,c24,+573000000024,m24,OPERATOR1,2026-12-05T10:00:00Z,2026-12-05T10:05:00Z,,2026-12-09T00:00:00Z,
EOF
# Every subscriber ACTIVE POSTPAID POST50 (eligible) but m13 (PREPAID), m20 (SUSPENDED) and
# m22 (PREPAID); no m11 or h12.
{
	echo 'country_code,service_type,service_id,account_id,msisdn,plan_code,plan_type,status,status_date'
	for i in 1 2 3 4 5 6 7 8 9 10 14 16 17 18 19 21 24; do
		printf 'XX,MOBILE,m%d,a%d,+5730000000%02d,POST50,POSTPAID,ACTIVE,2026-01-01\n' "$i" "$i" "$i"
	done
	echo 'XX,MOBILE,m13,a13,+573000000013,POST50,PREPAID,ACTIVE,2026-01-01'
	echo 'XX,MOBILE,m20,a20,+573000000020,POST50,POSTPAID,SUSPENDED,2026-01-01'
	echo 'XX,MOBILE,m22,a22,+573000000022,POST50,PREPAID,ACTIVE,2026-01-01'
} >"$WORK/bss_subscribers_XX_20261201.csv"
cat >"$WORK/bss_churn_XX_20261210.csv" <<'EOF'
country_code,service_type,service_id,msisdn,event_type,event_date,old_plan,new_plan,new_msisdn
XX,MOBILE,m1,,CHURN,2026-12-05,,,
XX,MOBILE,m2,,CHURN,2026-12-06,,,
XX,MOBILE,m3,,CHURN,2026-12-11,,,
XX,MOBILE,m4,,PLAN_MIGRATION,2026-12-06,POST50,POST80,
XX,MOBILE,m5,,PLAN_MIGRATION,2026-12-06,POST50,POST10,
XX,MOBILE,m6,,NON_PAYMENT,2026-12-07,,,
XX,MOBILE,m6,,NUMBER_CHANGE,2026-12-07,,,+573000000066
XX,MOBILE,m7,,NON_PAYMENT,2026-12-07,,,
XX,MOBILE,m7,,PLAN_MIGRATION,2026-12-07,POST50,POST10,
XX,MOBILE,m8,,CHURN,2026-12-06,,,
XX,MOBILE,m8,,NON_PAYMENT,2026-12-08,,,
XX,MOBILE,m9,,CHURN,2026-12-06,,,
XX,MOBILE,m10,,CHURN,2026-12-06,,,
XX,MOBILE,x11,+573000000011,NON_PAYMENT,2026-12-06,,,
XX,HOME,h12,,CHURN,2026-12-06,,,
XX,MOBILE,m16,,CHURN,2026-12-06,,,
XX,MOBILE,m17,,CHURN,2026-12-06,,,
XX,MOBILE,m18,,CHURN,2026-12-06,,,
XX,MOBILE,x19,+573000000019,CHURN,2026-12-06,,,
XX,MOBILE,m20,,NON_PAYMENT,2026-12-06,,,
XX,MOBILE,m21,,PLAN_MIGRATION,2026-12-06,POST50,POST30,
XX,MOBILE,m22,,PLAN_MIGRATION,2026-12-06,POST10,POST80,
XX,MOBILE,m24,,CHURN,2026-12-06,,,
EOF
assert_exit 0 "$OTTRECON_BIN" load --layout docomo_activations "$WORK/activations_20261210.csv"
assert_exit 0 "$OTTRECON_BIN" load --layout bss_subscribers "$WORK/bss_subscribers_XX_20261201.csv"
assert_exit 0 "$OTTRECON_BIN" load --layout bss_churn "$WORK/bss_churn_XX_20261210.csv"

DH='countryCode,telcoCode,subscriptionCode,alias,msisdn,productName,reason,requestDate'
# assert_csv PATH EXPECTED: the file, byte for byte.
assert_csv() {
	[[ -f $1 && -f $1.ctl ]] || fail "$1 (and its .ctl) not written"
	if ! diff -u <(printf '%s\n' "$2") "$1" >"$WORK/diff"; then
		cat "$WORK/diff" >&2
		fail "$(basename "$1") differs from what was expected"
	fi
	note "ok: $(basename "$1")"
}

# Not requested: c01 (event on its creation date), c03 (event after D), c04 (migrated to a plan
# its product allows), c09 (pending unsubscription), c14 (nothing happened), c16 (created after
# D), c17 (not active yet), c18 (created 2026-12-06 in UTC: the event is on that date), c19
# (its subscriber m19 matched: an event of another service with its msisdn is not its), c24
# (unsubscribed).
# c06: NUMBER_CHANGE over NON_PAYMENT, c07: PLAN_MIGRATION over NON_PAYMENT on one date; c08:
# the latest event; c10 reached through the subscriber matched by msisdn, c11 through its msisdn
# (no subscriber, no alias), c12 through its alias (no subscriber); c13 NOT_ELIGIBLE; c20 an
# event wins over NOT_ELIGIBLE; c21 a plan its product does not allow (plan123: POST50, POST80);
# c22 NOT_ELIGIBLE (the migration was to a plan its product allows).
DAY10="$DH
XX,OPERATOR1,c02,m2,+573000000002,pv_addon_mobile,CHURN,2026-12-10
XX,OPERATOR1,c05,m5,+573000000005,pv_addon_mobile,PLAN_MIGRATION,2026-12-10
XX,OPERATOR1,c06,m6,+573000000006,pv_addon_mobile,NUMBER_CHANGE,2026-12-10
XX,OPERATOR1,c07,m7,+573000000007,pv_addon_mobile,PLAN_MIGRATION,2026-12-10
XX,OPERATOR1,c08,m8,+573000000008,pv_addon_mobile,NON_PAYMENT,2026-12-10
XX,OPERATOR1,c10,,+573000000010,pv_addon_mobile,CHURN,2026-12-10
XX,OPERATOR1,c11,,+573000000011,pv_addon_mobile,NON_PAYMENT,2026-12-10
XX,OPERATOR1,c12,h12,,pv_home,CHURN,2026-12-10
XX,OPERATOR1,c13,m13,+573000000013,pv_addon_mobile,NOT_ELIGIBLE,2026-12-10
XX,OPERATOR1,c20,m20,+573000000020,pv_addon_mobile,NON_PAYMENT,2026-12-10
XX,OPERATOR1,c21,m21,+573000000021,plan123,PLAN_MIGRATION,2026-12-10
XX,OPERATOR1,c22,m22,+573000000022,pv_addon_mobile,NOT_ELIGIBLE,2026-12-10"
assert_exit 0 "$OTTRECON_BIN" churn --as-of 2026-12-10
assert_csv "$OUTBOX/deactivations_XX_20261210.csv" "$DAY10"

# D - E = 6: nobody again; the events of 2026-12-11 (c03, c17 active since then) count now.
assert_exit 0 "$OTTRECON_BIN" churn --as-of 2026-12-16
assert_csv "$OUTBOX/deactivations_XX_20261216.csv" "$DH
XX,OPERATOR1,c03,m3,+573000000003,pv_addon_mobile,CHURN,2026-12-16
XX,OPERATOR1,c17,m17,+573000000017,pv_addon_mobile,CHURN,2026-12-16"
# D - E = 7: those of 2026-12-10 again, not those of 2026-12-16.
assert_exit 0 "$OTTRECON_BIN" churn --as-of 2026-12-17
assert_csv "$OUTBOX/deactivations_XX_20261217.csv" "${DAY10//2026-12-10/2026-12-17}"
note "feed_rules: all checks passed"
