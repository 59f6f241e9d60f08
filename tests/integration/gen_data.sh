#!/usr/bin/env bash
# gen_data.sh: tools/gen-data is deterministic (same seed, same bytes; another seed, other bytes),
# `ottrecon validate` rejects exactly the bad rows expected.json lists (same lines, columns and
# kinds) and loads every other row, the input quirks load to the values of the clean files, and
# the activations files replayed in order give expected.json's final status counts. No database.
set -euo pipefail
bin=${OTTRECON_BIN:?meson sets OTTRECON_BIN}
src=${SRCDIR:?meson sets SRCDIR}
work=$(mktemp -d "${TMPDIR:-/tmp}/ottrecon-gen-data.XXXXXX")
trap 'rm -rf "$work"' EXIT
unset OTTRECON_CONFIG # validate must run on its defaults here
command -v python3 >/dev/null || { echo "FAIL: python3 is needed (Debian package python3)" >&2; exit 1; }

gen() { python3 "$src/tools/gen-data" -q "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

args=(--subscriptions 2000 --bad-rows 3 --days 2 --countries "XX,YY" --as-of 2026-11-30)

# 1. Determinism: the same arguments give byte-identical trees; another seed does not.
gen --out "$work/a" --seed 7 "${args[@]}" 2>"$work/a.err"
gen --out "$work/b" --seed 7 "${args[@]}" 2>/dev/null
gen --out "$work/c" --seed 8 "${args[@]}" 2>/dev/null
diff -r "$work/a" "$work/b" >/dev/null || fail "same seed, different output: $(diff -rq "$work/a" "$work/b" | head -5)"
if diff -r "$work/a" "$work/c" >/dev/null; then fail "seeds 7 and 8 gave identical output"; fi
(cd "$work/a" && find . -type f | sort) >"$work/files.txt"
expected_files='./bss/bss_addons_XX_20261130.csv
./bss/bss_addons_YY_20261130.csv
./bss/bss_churn_XX_20261130.csv
./bss/bss_churn_YY_20261130.csv
./bss/bss_subscribers_XX_20261130.csv
./bss/bss_subscribers_YY_20261130.csv
./expected.json
./inbox/activations_20261129.csv
./inbox/activations_20261130.csv'
[ "$(cat "$work/files.txt")" = "$expected_files" ] || { diff <(echo "$expected_files") "$work/files.txt" >&2; fail "file names"; }
echo "ok: deterministic; $(wc -l <"$work/files.txt") files"

# 2. validate rejects exactly the bad rows of expected.json, and refuses exactly the files that
#    expected.json says are over max_reject_ratio 0.01.
cat >"$work/check_rejects.py" <<'EOF'
import csv, json, os, subprocess, sys
root, ottrecon, min_kinds = sys.argv[1], sys.argv[2], int(sys.argv[3])
# what the validator says for each kind of bad row (the start of its reason)
REASON = {'impossible_date': ('impossible date',), 'bad_date_format': ('not an ISO 8601',),
          'msisdn_scientific': ('invalid MSISDN',), 'missing_required': ('missing required value',),
          'wrong_field_count': ('wrong number of fields',), 'bare_cr': ('bare CR',),
          'bad_enum': ('not in enum', 'does not match pattern')}
exp = json.load(open(os.path.join(root, 'expected.json')))
errors, kinds, bad_total = [], set(), 0
for f in exp['files']:
    p = subprocess.run([ottrecon, 'validate', '--layout', f['layout'], '--max-reject-ratio',
                        '0.01', f['name']], cwd=root, capture_output=True, text=True)
    got = list(csv.DictReader(p.stdout.splitlines(True)))
    want = f['bad_rows']
    if [(int(r['line']), r['column'] or None) for r in got] != [(b['line'], b['column']) for b in want]:
        errors.append('%s: rejects (line, column) %s, expected %s' % (
            f['name'], [(r['line'], r['column']) for r in got], [(b['line'], b['column']) for b in want]))
    for r, b in zip(got, want):
        kinds.add(b['kind'])
        if not r['reason'].startswith(REASON[b['kind']]):
            errors.append('%s:%s: reason %r for a %s row' % (f['name'], r['line'], r['reason'], b['kind']))
    count = '%s: read=%d loaded=%d rejected=%d' % (f['name'], f['rows'], f['good_rows'], len(want))
    if count not in p.stderr.splitlines():
        errors.append('%s: no count line %r in: %s' % (f['name'], count, p.stderr.strip()))
    want_rc = 65 if f.get('over_max_reject_ratio') else 0
    if p.returncode != want_rc:
        errors.append('%s: exit %d, expected %d' % (f['name'], p.returncode, want_rc))
    bad_total += len(want)
per_file = exp['generator']['bad_rows_per_file']
if any(len(f['bad_rows']) != per_file for f in exp['files']):
    errors.append('expected %d bad rows in every file' % per_file)
if len(kinds) < min_kinds:
    errors.append('only %d kinds of bad rows used: %s' % (len(kinds), sorted(kinds)))
for e in errors:
    print('FAIL:', e, file=sys.stderr)
print('%d files, %d bad rows, kinds %s' % (len(exp['files']), bad_total, ' '.join(sorted(kinds))))
sys.exit(1 if errors else 0)
EOF
python3 "$work/check_rejects.py" "$work/a" "$bin" 6 || fail "validate disagrees with expected.json"
# the generator warned about the small files it cannot keep under the ratio
grep -q 'over max_reject_ratio 0.01' "$work/a.err" || fail "no warning about files over the ratio"
echo "ok: validate rejects exactly the expected rows"

# 3. Quirks load to the same values: every row of a --mess 1 tree (each row with a quirk, every
#    file quirk) normalised as SPEC §3 says equals the row of the --mess 0 tree (no bad rows).
#    The clean activations files replayed in date order give the final status counts.
gen --out "$work/clean" --seed 3 --subscriptions 2000 --days 3 --countries XX,YY --mess 0
gen --out "$work/messy" --seed 3 --subscriptions 2000 --days 3 --countries XX,YY --mess 1
cat >"$work/check_values.py" <<'EOF'
import csv, datetime, json, os, re, sys
clean, messy = sys.argv[1], sys.argv[2]
TS = {'dateCreated', 'dateActive', 'datePendingUnsubscription', 'dateUnsubscribed', 'updated_at'}
DATES = {'status_date', 'start_date', 'end_date', 'event_date'}
ENUMS = {'unsubscriptionSource', 'service_type', 'plan_type', 'status', 'channel', 'event_type'}
DAY = 86400
def seconds(v):
    if re.fullmatch(r'\d{4}-\d\d-\d\d', v):
        v += 'T00:00:00Z'
    return int(datetime.datetime.fromisoformat(v.replace('Z', '+00:00')).timestamp())
def norm(col, v):
    v = v.strip(' \t\r\n')
    if not v:
        return None
    if col in TS:
        return seconds(v)
    if col in DATES:
        return seconds(v) // DAY
    if col in ('msisdn', 'new_msisdn'):
        d = re.sub(r'[ .()-]', '', v)
        d = '+' + d[2:] if d.startswith('00') else d
        return d if d.startswith('+') else '+' + d
    return v.upper() if col in ENUMS else v
def rows(path):
    with open(path, encoding='utf-8-sig', newline='') as f:
        return [{k: norm(k, v) for k, v in r.items() if k != 'agent_notes'} for r in csv.DictReader(f)]
exp = json.load(open(os.path.join(clean, 'expected.json')))
errors, n, quirks = [], 0, set()
for f in exp['files']:
    a, b = rows(os.path.join(clean, f['name'])), rows(os.path.join(messy, f['name']))
    raw = open(os.path.join(messy, f['name']), 'rb').read()
    quirks |= {q for q, hit in (('crlf', b'\r\n' in raw), ('bom', raw.startswith(b'\xef\xbb\xbf')),
                                ('offset', b'-05:00' in raw), ('fraction', re.search(rb':\d\d\.\d+Z', raw)),
                                ('msisdn', b'(57) ' in raw), ('extra', b'agent_notes' in raw)) if hit}
    if len(a) != len(b):
        errors.append('%s: %d rows clean, %d messy' % (f['name'], len(a), len(b)))
        continue
    for x, y in zip(a, b):
        n += 1
        # the one quirk that changes a value: dateCreated as a bare date (midnight of that day)
        if x.get('dateCreated') != y.get('dateCreated') and y['dateCreated'] % DAY == 0 \
                and x['dateCreated'] // DAY == y['dateCreated'] // DAY:
            x['dateCreated'] = y['dateCreated']
        if x != y:
            errors.append('%s: %s != %s' % (f['name'], x, y))
if len(quirks) < 6:
    errors.append('file quirks seen: %s' % sorted(quirks))
# replay the clean activations files in date order: a later row updates the code
state = {}
for f in sorted((f for f in exp['files'] if f['layout'] == 'docomo_activations'), key=lambda f: f['date']):
    for r in rows(os.path.join(clean, f['name'])):
        state[r['subscriptionCode']] = r
end = (datetime.date.fromisoformat(exp['generator']['as_of']) - datetime.date(1970, 1, 1)).days * DAY + DAY
def status(r):
    for col, st in (('dateUnsubscribed', 'UNSUBSCRIBED'), ('datePendingUnsubscription', 'PENDING_UNSUBSCRIPTION'),
                    ('dateActive', 'ACTIVE')):
        if r[col] is not None and r[col] < end:
            return st
    return 'PENDING_ACTIVATION'
counts = dict.fromkeys(('PENDING_ACTIVATION', 'ACTIVE', 'PENDING_UNSUBSCRIPTION', 'UNSUBSCRIBED'), 0)
for r in state.values():
    counts[status(r)] += 1
if len(state) != exp['activations']['distinct_subscription_codes'] or len(state) != 2000:
    errors.append('%d distinct subscriptionCodes, expected %d' % (len(state), exp['activations']['distinct_subscription_codes']))
if counts != exp['activations']['status_as_of']:
    errors.append('final status counts %s, expected %s' % (counts, exp['activations']['status_as_of']))
for e in errors[:20]:
    print('FAIL:', e, file=sys.stderr)
print('%d rows equal after normalisation; file quirks %s; final status %s' % (n, ' '.join(sorted(quirks)), counts))
sys.exit(1 if errors else 0)
EOF
python3 "$work/check_values.py" "$work/clean" "$work/messy" || fail "quirks changed values"
python3 "$work/check_rejects.py" "$work/messy" "$bin" 0 || fail "validate rejects rows of the --mess 1 tree"
echo "ok: quirks load to the clean values"

# 4. --config-out writes a configuration ottrecon accepts, naming the generated countries.
gen --out "$work/cfg" --subscriptions 1000 --countries XX,YY --config-out "$work/cfg.yaml" \
	--conninfo "dbname=ottrecon_gen" --spool "$work/spool"
"$bin" --config "$work/cfg.yaml" validate --layout bss_churn "$work"/cfg/bss/bss_churn_XX_*.csv \
	>/dev/null 2>"$work/cfg.err" || { cat "$work/cfg.err" >&2; fail "config not accepted"; }
grep -q 'telco_code: "OPERATOR2"' "$work/cfg.yaml" || fail "config lacks country YY"
grep -q 'conninfo: "dbname=ottrecon_gen"' "$work/cfg.yaml" || fail "config lacks conninfo"
if grep -q '^partners:' "$work/cfg.yaml"; then fail "partners written without --sftp-host"; fi
echo "ok: configuration accepted"

echo "gen_data: all checks passed"
