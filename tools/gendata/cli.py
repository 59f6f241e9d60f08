"""cli.py: tools/gen-data's command line: builds the world, streams it through the writers,
writes expected.json (and, when asked, an ottrecon configuration)."""

import argparse
import json
import os
import random
import re
import sys
import time

from . import writers as W
from .config import render_config
from .truth import discrepancies
from .world import DAY, STATUSES, World

USAGE_EPILOG = """\
files written under DIR:
  inbox/activations_<YYYYMMDD>.csv          docomo_activations, one per day (the first holds
                                            the base, later ones that day's changes)
  bss/bss_subscribers_<CC>_<YYYYMMDD>.csv   bss_subscribers snapshot per country
  bss/bss_addons_<CC>_<YYYYMMDD>.csv        bss_addons snapshot per country
  bss/bss_churn_<CC>_<YYYYMMDD>.csv         bss_churn events (last 90 days) per country
  expected.json                             rows, bad rows (line, column, kind), status counts,
                                            the SPEC §5 discrepancies as of --as-of

Same arguments, same bytes: everything comes from --seed.
"""

MAX_REJECT_RATIO = 0.01


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog='gen-data', formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Deterministic synthetic partner activation files and BSS exports for '
                    'ottrecon (SPEC §3), with realistic mess and a known number of bad rows.',
        epilog=USAGE_EPILOG)
    ap.add_argument('--out', required=True, metavar='DIR', help='output directory')
    ap.add_argument('--seed', type=int, default=1, help='random seed (default 1)')
    ap.add_argument('--subscriptions', type=int, default=10000, metavar='N',
                    help='partner subscriptions (distinct subscriptionCodes; default 10000)')
    ap.add_argument('--as-of', default='2026-11-30', metavar='YYYY-MM-DD',
                    help='the date of the files and of the final state (default 2026-11-30)')
    ap.add_argument('--days', type=int, default=1, metavar='K',
                    help='daily activations files ending on --as-of (default 1)')
    ap.add_argument('--countries', default='XX', metavar='CC[=TELCO],...',
                    help='countries (default XX); telco codes default to OPERATOR1, 2, ...')
    ap.add_argument('--mess', type=float, default=0.05, metavar='RATE',
                    help='rate of rows with an input quirk that must still load (default 0.05)')
    ap.add_argument('--bad-rows', type=int, default=0, metavar='N',
                    help='rows per file that must be rejected (default 0)')
    ap.add_argument('--force', action='store_true',
                    help='write into a DIR that is not empty (files of the same name are replaced)')
    ap.add_argument('-q', '--quiet', action='store_true', help='no summary on stderr')
    g = ap.add_argument_group('configuration (SPEC §2) describing the generated world')
    g.add_argument('--config-out', metavar='FILE', help='write an ottrecon configuration')
    g.add_argument('--spool', metavar='DIR', help='its spool (default: DIR of --out)')
    g.add_argument('--conninfo', default='', metavar='STR', help='its database.conninfo')
    g.add_argument('--sftp-host')
    g.add_argument('--sftp-port', type=int)
    g.add_argument('--sftp-user')
    g.add_argument('--sftp-key', metavar='FILE', help='partners.docomo.sftp.private_key')
    g.add_argument('--known-hosts', metavar='FILE')
    g.add_argument('--remote-inbox', metavar='DIR')
    g.add_argument('--remote-outbox', metavar='DIR')
    a = ap.parse_args(argv)

    if a.subscriptions < 1:
        ap.error('--subscriptions must be at least 1')
    if a.days < 1:
        ap.error('--days must be at least 1')
    if not 0 <= a.mess <= 1:
        ap.error('--mess must be from 0 to 1')
    if a.bad_rows < 0:
        ap.error('--bad-rows must be 0 or more')
    try:
        a.as_of_day = W.parse_day(a.as_of)
    except ValueError:
        ap.error('--as-of must be YYYY-MM-DD, not %r' % a.as_of)
    countries = []
    for i, item in enumerate(x.strip() for x in a.countries.split(',')):
        code, _, telco = item.partition('=')
        if not re.fullmatch(r'[A-Z]{2}', code):
            ap.error('--countries: %r is not a two-letter upper-case country code' % code)
        if code in (c for c, _ in countries):
            ap.error('--countries: %s given twice' % code)
        countries.append((code, telco or 'OPERATOR%d' % (i + 1)))
    a.country_list = countries
    sftp_given = [a.sftp_host, a.sftp_port, a.sftp_user, a.sftp_key, a.known_hosts,
                  a.remote_inbox, a.remote_outbox]
    if any(v is not None for v in sftp_given) and not a.config_out:
        ap.error('--sftp-* options need --config-out')
    if any(v is not None for v in sftp_given) and a.sftp_host is None:
        ap.error('--sftp-host is needed with the other --sftp-* options')
    return a


def warn(msg):
    print('gen-data: warning: ' + msg, file=sys.stderr)


def plan_files(a, world, root):
    """Creates every OutFile with its file quirks and bad-row plan (all decided by the seed)."""
    fmt = W.Fmt(a.as_of_day)
    calling = {c.code: c.calling for c in world.countries}
    country0 = [(c.code, c.telco, c.calling) for c in world.countries]
    D, K = a.as_of_day, a.days
    first = D - K + 1
    ymd = lambda d: W.day_string(d).replace('-', '')
    n = a.subscriptions
    share = {}
    prev = 0.0
    for c, cum in zip(world.countries, world.country_cum):
        share[c.code] = cum - prev
        prev = cum

    specs = []  # (rel, layout, day, renderer class, estimated good rows, is bss, country)
    for d in range(first, D + 1):
        est = n if d == first else max(1, int(n * 0.006))
        specs.append(('inbox/activations_%s.csv' % ymd(d), 'docomo_activations', d,
                      W.ActivationRenderer, est, False, None))
    for c in world.countries:
        for layout, cls, per in (('bss_subscribers', W.SubscriberRenderer, 1.16),
                                 ('bss_addons', W.AddonRenderer, 0.97),
                                 ('bss_churn', W.ChurnRenderer, 0.14)):
            specs.append(('bss/%s_%s_%s.csv' % (layout, c.code, ymd(D)), layout, D, cls,
                          max(1, int(n * per * share[c.code])), True, c.code))

    fr = random.Random('gen-data/%d/files' % a.seed).random
    messy = a.mess > 0
    nf = len(specs)
    bss_idx = [i for i, s in enumerate(specs) if s[5]]
    crlf = [messy and fr() < 0.35 for _ in specs]
    bom = [messy and fr() < 0.25 for _ in specs]
    shuffle = [messy and s[5] and fr() < 0.35 for s in specs]
    extra_file = bss_idx[int(fr() * len(bss_idx))] if messy else -1
    if messy:
        if not any(crlf):
            crlf[int(fr() * nf)] = True
        if not any(bom):
            bom[int(fr() * nf)] = True
        if not any(shuffle):
            shuffle[bss_idx[int(fr() * len(bss_idx))]] = True

    files = []
    for i, (rel, layout, day, cls, est, is_bss, cc) in enumerate(specs):
        rng = random.Random('gen-data/%d/file/%s' % (a.seed, rel))
        r = rng.random
        own = [x for x in country0 if x[0] == cc] + [x for x in country0 if x[0] != cc]
        renderer = cls(fmt, a.mess, calling, own)
        perm = None
        if shuffle[i]:
            perm = list(range(len(cls.columns)))
            for j in range(len(perm) - 1, 0, -1):  # Fisher-Yates on random()
                k = int(r() * (j + 1))
                perm[j], perm[k] = perm[k], perm[j]
            if perm == sorted(perm):
                perm[0], perm[1] = perm[1], perm[0]
        extra_at = None
        if i == extra_file:
            extra_at = int(r() * (len(cls.columns) + 1))
        start = int(r() * len(W.BAD_KINDS))
        plan = sorted(int(r() * est) for _ in range(a.bad_rows))
        plan = [(pos, start + j) for j, pos in enumerate(plan)]
        f = W.OutFile(root, rel, layout, day, cls.columns, rng, crlf=crlf[i], bom=bom[i],
                      perm=perm, extra_at=extra_at, extra_rate=min(0.3, 4 * a.mess),
                      quote_header=not is_bss, bad_plan=plan)
        f.renderer = renderer
        f.country = cc
        files.append(f)
    return files


def generate(a):
    root = a.out
    if os.path.isdir(root) and os.listdir(root) and not a.force:
        sys.exit('gen-data: %s is not empty (use --force to write into it)' % root)
    os.makedirs(root, exist_ok=True)
    t0 = time.monotonic()
    world = World(a.seed, a.subscriptions, a.as_of_day, a.country_list, a.mess)
    files = plan_files(a, world, root)
    D, K = a.as_of_day, a.days
    first = D - K + 1
    act = {f.day: f for f in files if f.layout == 'docomo_activations'}
    bss = {(f.layout, f.country): f for f in files if f.layout != 'docomo_activations'}
    for f in act.values():
        f.status_counts = dict.fromkeys(STATUSES, 0)
    final = {c.code: dict.fromkeys(STATUSES, 0) for c in world.countries}
    stats = {c.code: {'units': {}, 'subscribers': 0, 'ghost_services': 0, 'subscriptions': 0,
                      'addons': 0, 'churn_events': 0, 'tags': {}} for c in world.countries}

    first_end = (first + 1) * DAY
    base = act[first]
    base_write, base_fields, base_r = base.write, base.renderer.fields, base.r
    base_counts = base.status_counts
    for u in world.units():
        cc = u.country.code
        st = stats[cc]
        st['units'][u.kind] = st['units'].get(u.kind, 0) + 1
        s = u.subscriber
        if s.in_bss:
            f = bss[('bss_subscribers', cc)]
            f.write(f.renderer.fields(s, f.r))
            st['subscribers'] += 1
        else:
            st['ghost_services'] += 1
        if u.addons:
            f = bss[('bss_addons', cc)]
            for x in u.addons:
                f.write(f.renderer.fields(x, f.r))
            st['addons'] += len(u.addons)
        if u.events:
            f = bss[('bss_churn', cc)]
            for x in u.events:
                f.write(f.renderer.fields(x, f.r))
            st['churn_events'] += len(u.events)
        fin = final[cc]
        for p in u.subs:
            st['subscriptions'] += 1
            if p.tag:
                st['tags'][p.tag] = st['tags'].get(p.tag, 0) + 1
            fin[p.status(D)] += 1
            if p.created < first_end:
                base_write(base_fields(p, first, base_r))
                base_counts[p.status(first)] += 1
            if K > 1:
                for d in sorted(d for d in p.days_touched() if d > first):
                    f = act[d]
                    f.write(f.renderer.fields(p, d, f.r))
                    f.status_counts[p.status(d)] += 1
    for f in files:
        f.close()
    elapsed = time.monotonic() - t0

    out_files = []
    for f in files:
        e = f.expected()
        if f.layout == 'docomo_activations':
            e['distinct_subscription_codes'] = f.good
            e['status_counts'] = f.status_counts
        else:
            e['country'] = f.country
        if f.rows and len(f.bad) > MAX_REJECT_RATIO * f.rows:
            warn('%s: %d bad rows of %d rows is over max_reject_ratio %g: it would be refused'
                 % (f.rel, len(f.bad), f.rows, MAX_REJECT_RATIO))
            e['over_max_reject_ratio'] = True
        out_files.append(e)
    total = dict.fromkeys(STATUSES, 0)
    for c in final.values():
        for k, v in c.items():
            total[k] += v
    expected = {
        'generator': {
            'seed': a.seed, 'subscriptions': a.subscriptions, 'as_of': a.as_of, 'days': a.days,
            'first_day': W.day_string(first),
            'countries': [{'code': c.code, 'telco_code': c.telco, 'calling_code': c.calling}
                          for c in world.countries],
            'mess': a.mess, 'bad_rows_per_file': a.bad_rows,
        },
        'files': out_files,
        'activations': {
            'distinct_subscription_codes': sum(total.values()),
            'status_as_of': total,
            'status_as_of_by_country': final,
        },
        'world': stats,
        # SPEC §5 ground truth as of --as-of: World(...).units() walked again (truth.py).
        'discrepancies': discrepancies(world),
    }
    with open(os.path.join(root, 'expected.json'), 'w', encoding='utf-8') as fh:
        json.dump(expected, fh, indent=1, sort_keys=False)
        fh.write('\n')

    if a.config_out:
        sftp = None
        if a.sftp_host is not None:
            sftp = {'host': a.sftp_host, 'port': a.sftp_port, 'user': a.sftp_user,
                    'private_key': a.sftp_key, 'known_hosts': a.known_hosts,
                    'remote_inbox': a.remote_inbox, 'pattern': 'activations_*.csv',
                    'remote_outbox': a.remote_outbox}
        spool = a.spool if a.spool else os.path.abspath(root)
        text = render_config(world, spool, a.conninfo, sftp,
                             note='(--seed %d --countries %s)' % (a.seed, a.countries))
        d = os.path.dirname(a.config_out)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(a.config_out, 'w', encoding='utf-8') as fh:
            fh.write(text)

    if not a.quiet:
        rows = sum(f.rows for f in files)
        print('gen-data: %d subscriptions, %d files, %d rows in %.1f s -> %s'
              % (a.subscriptions, len(files), rows, elapsed, root), file=sys.stderr)
    return 0


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return generate(a)
    except (OSError, ValueError) as e:
        print('gen-data: %s' % e, file=sys.stderr)
        return 1
