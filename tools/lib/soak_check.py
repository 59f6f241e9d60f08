#!/usr/bin/env python3
"""soak_check.py WORLD SPOOL REMOTE_OUT AS_OF DAYS...: the invariants tools/soak checks after a
round (the nightly job run for each day, with faults, then cleanly).

WORLD is tools/gen-data's output dir (expected.json), SPOOL the round's spool, REMOTE_OUT the
partner's incoming folder on the SFTP server, AS_OF the last day (YYYY-MM-DD) and DAYS the
YYYYMMDD of every day run. The database is reached with psql (PG* environment). Prints one line
per broken invariant and exits 1 when there is any, else prints nothing and exits 0.
"""
import hashlib
import json
import os
import subprocess
import sys


def psql(sql):
    out = subprocess.run(['psql', '-XAtq', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split('\t') for line in out.splitlines()]


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def listing(d):
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def main():
    world, spool, remote_out, as_of = sys.argv[1:5]
    days = sys.argv[5:]
    exp = json.load(open(os.path.join(world, 'expected.json')))
    bad = []

    # 1. Every partner file loaded exactly once, with the rows the generator wrote.
    want_files = {os.path.basename(f['name']): f for f in exp['files']
                  if f['layout'] == 'docomo_activations'}
    got = {}
    for name, outcome, read, loaded, rejected in psql(
            "select name, outcome, rows_read, rows_loaded, rows_rejected from ottrecon.load_file"
            " where layout = 'docomo_activations'"):
        got.setdefault(name, []).append((outcome, int(read or 0), int(loaded or 0),
                                         int(rejected or 0)))
    for name, f in sorted(want_files.items()):
        runs = got.get(name, [])
        loads = [r for r in runs if r[0] == 'LOADED']
        if len(loads) != 1:
            bad.append('%s: loaded %d times (%s)' % (name, len(loads), runs))
            continue
        _, read, loaded, rejected = loads[0]
        if read != f['rows'] or rejected != f['rows'] - f['good_rows']:
            bad.append('%s: read=%d rejected=%d, the generator wrote %d rows, %d bad'
                       % (name, read, rejected, f['rows'], f['rows'] - f['good_rows']))
    for name in sorted(set(got) - set(want_files)):
        bad.append('%s: a file the generator did not write was loaded (%s)' % (name, got[name]))

    # 2. rows read = loaded + rejected, for every file loaded; nothing stuck half-way.
    for name, read, loaded, rejected in psql(
            "select name, rows_read, rows_loaded, rows_rejected from ottrecon.load_file"
            " where outcome = 'LOADED' and rows_read <> rows_loaded + rows_rejected"):
        bad.append('%s: read %s != loaded %s + rejected %s' % (name, read, loaded, rejected))
    for (n,) in psql("select count(*) from ottrecon.load_file where outcome = 'LOADING'"):
        if int(n):
            bad.append('%s load_file rows still LOADING' % n)

    # 3. The partner rows: each loaded row once (history), the current state as the generator
    # says (distinct codes and statuses as of the last day).
    (hist,), = psql("select count(*) from ottrecon.partner_row")
    (loaded_rows,), = psql("select coalesce(sum(rows_loaded), 0) from ottrecon.load_file"
                           " where layout = 'docomo_activations' and outcome = 'LOADED'")
    if hist != loaded_rows:
        bad.append('partner_row has %s rows, the manifest says %s were loaded' % (hist, loaded_rows))
    want_status = exp['activations']['status_as_of']
    got_status = {s: int(n) for s, n in psql(
        "select ottrecon.partner_status(date_active, date_pending_unsubscription,"
        " date_unsubscribed, '%s'::date), count(*) from ottrecon.partner_subscription"
        " group by 1" % as_of)}
    if got_status != {k: v for k, v in want_status.items() if v}:
        bad.append('status counts as of %s: %s, expected %s' % (as_of, got_status, want_status))

    # 4. No temporary or partial file taken for a complete one, nothing left behind.
    for (name,) in psql("select name from ottrecon.load_file where name like '.%'"
                        " or name like '%.part' or name like '%.tmp%'"):
        bad.append('a temporary file was loaded: %s' % name)
    for sub in ('inbox', 'bss', 'outbox'):
        left = [n for n in listing(os.path.join(spool, sub)) if not n.startswith('.')]
        if left:
            bad.append('spool/%s not empty after a clean night: %s' % (sub, left))
    parts = [n for n in listing(os.path.join(spool, 'inbox')) if n.endswith('.part')]
    if parts:
        bad.append('.part files left in spool/inbox: %s' % parts)

    # 5. Partner files: each day's eligibility and deactivations file and its .ctl on the
    # server once, matching spool/sent and each other, nothing else, no temporary names.
    want_remote = sorted('%s_XX_%s.csv%s' % (k, d, ext) for k in ('eligibility', 'deactivations')
                         for d in days for ext in ('', '.ctl'))
    remote = listing(remote_out)
    if remote != want_remote:
        bad.append('on the server: %s, expected %s' % (remote, want_remote))
    sent = listing(os.path.join(spool, 'sent'))
    if sent != want_remote:
        bad.append('in spool/sent: %s, expected %s (a name.N means a file was pushed twice)'
                   % (sent, want_remote))
    for name in want_remote:
        r, s = os.path.join(remote_out, name), os.path.join(spool, 'sent', name)
        if not (os.path.isfile(r) and os.path.isfile(s)):
            continue
        if sha256(r) != sha256(s):
            bad.append('%s differs between the server and spool/sent' % name)
        if name.endswith('.ctl'):
            data = r[:-4]
            if os.path.isfile(data):
                with open(data, 'rb') as f:
                    rows = f.read().count(b'\n') - 1
                want = 'rows=%d sha256=%s\n' % (rows, sha256(data))
                with open(r) as f:
                    if f.read() != want:
                        bad.append('%s does not match its data file' % name)
    for name, written in psql("select name, written_at is not null from feed.file"):
        if written != 't':
            bad.append('%s recorded but never written' % name)
    (nfiles,), = psql("select count(*) from feed.file")
    if int(nfiles) != 2 * len(days):
        bad.append('feed.file has %s files, expected %d' % (nfiles, 2 * len(days)))

    # 6. The discrepancies of the last day: the generator's ground truth, exactly.
    got_d = sorted(tuple(r) for r in psql(
        "select key, category, case when scale(trim_scale(amount_at_risk)) <= 2"
        " then round(amount_at_risk, 2) else trim_scale(amount_at_risk) end"
        " from report.discrepancies where as_of = '%s' and state <> 'RESOLVED'" % as_of))
    want_d = sorted(tuple(str(x) for x in item) for item in exp['discrepancies']['items'])
    if got_d != want_d:
        missing = sorted(set(want_d) - set(got_d))
        extra = sorted(set(got_d) - set(want_d))
        bad.append('discrepancies as of %s: %d missing %s, %d extra %s'
                   % (as_of, len(missing), missing[:3], len(extra), extra[:3]))

    for line in bad:
        print(line)
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
