"""writers.py: renders the world's units as the input files of SPEC §3 (see __init__.py).

One OutFile per output file, all open at once while the units stream by; rows are buffered and
written in large blocks.  Each file has its own random stream (seeded from the seed and the
file's name), so what one file looks like does not depend on another.

Row quirks (at rate `mess` per row, one per row) and file quirks (CRLF, BOM, BSS columns in
another order, one unknown column in one BSS file) all load to the values the world holds.
Bad rows (`bad_rows` per file) are extra rows, each of a different kind where the layout allows,
that the loader must reject; each is recorded with the physical line it starts on (header =
line 1) and the column the validator names (None for a record-level problem).
"""

import datetime
import os

from .world import DAY

ACTIVATION_COLUMNS = ['countryCode', 'siteCode', 'productName', 'subscriptionCode', 'msisdn',
                      'alias', 'telcoCode', 'dateCreated', 'dateActive',
                      'datePendingUnsubscription', 'dateUnsubscribed', 'unsubscriptionSource']
SUBSCRIBER_COLUMNS = ['country_code', 'service_type', 'service_id', 'account_id', 'msisdn',
                      'plan_code', 'plan_type', 'status', 'status_date']
ADDON_COLUMNS = ['country_code', 'service_type', 'service_id', 'account_id', 'msisdn', 'sku',
                 'status', 'start_date', 'end_date', 'monthly_price', 'currency', 'channel',
                 'updated_at']
CHURN_COLUMNS = ['country_code', 'service_type', 'service_id', 'msisdn', 'event_type',
                 'event_date', 'old_plan', 'new_plan', 'new_msisdn']

# Kinds of bad rows, in the order they are used (cycled when a file needs more).
BAD_KINDS = ['impossible_date', 'bad_date_format', 'msisdn_scientific', 'missing_required',
             'wrong_field_count', 'bad_enum', 'bare_cr']

EPOCH = datetime.date(1970, 1, 1)

# The unknown column added to one BSS file: free text, sometimes with commas, quotes, newlines.
EXTRA_COLUMN = 'agent_notes'
EXTRA_TEXTS = ['Cliente VIP, no cobrar reconexion', 'Migrado desde legado, revisar',
               'Llamo al call center, pidio "Prime" gratis', 'Oferta retencion, 3 meses',
               'Revisar factura\nsegun ticket 4411', 'Portabilidad, numero anterior',
               'Alta por agente, tienda Centro']


def day_string(d):
    """YYYY-MM-DD of a day number."""
    return (EPOCH + datetime.timedelta(days=d)).isoformat()


def parse_day(s):
    """Day number of YYYY-MM-DD."""
    return (datetime.date.fromisoformat(s) - EPOCH).days


class Fmt:
    """Fast date and timestamp spelling, with the quirky spellings that mean the same instant."""

    def __init__(self, around):
        self.tod = ['%02d:%02d:%02d' % (h, m, s)
                    for h in range(24) for m in range(60) for s in range(60)]
        # the dates of the world's time span (about 7 years before the as-of date)
        self.lo = around - 3200
        self.dl = [day_string(d) for d in range(self.lo, around + 64)]
        self.tz = [s + 'T' for s in self.dl]

    def day(self, d):
        i = d - self.lo
        return self.dl[i] if 0 <= i < len(self.dl) else day_string(d)

    def ts(self, t):
        i = t // DAY - self.lo
        if 0 <= i < len(self.tz):
            return self.tz[i] + self.tod[t % DAY] + 'Z'
        return day_string(t // DAY) + 'T' + self.tod[t % DAY] + 'Z'

    def ts_offset(self, t, minutes):
        """The instant t written in local time at a UTC offset of `minutes`."""
        lt = t + minutes * 60
        sign = '-' if minutes < 0 else '+'
        m = abs(minutes)
        return '%sT%s%s%02d:%02d' % (self.day(lt // DAY), self.tod[lt % DAY], sign, m // 60,
                                     m % 60)

    def ts_fraction(self, t, r):
        """t with fractional seconds (a fraction never moves a date or reorders whole seconds)."""
        x = r()
        frac = '%03d' % int(x * 1000) if x < 0.5 else '%06d' % int(x * 1000000)
        return self.day(t // DAY) + 'T' + self.tod[t % DAY] + '.' + frac + 'Z'

    def date_as_timestamp(self, d, r):
        """A date written as a timestamp whose UTC date is d."""
        if r() < 0.5:
            return self.day(d) + 'T00:00:00Z'
        return self.ts_offset(d * DAY + int(r() * 3600), -300)


OFFSETS = (-300, -300, -180, 60, 330)


def msisdn_spelling(e164, calling, k):
    """One of the spellings of an E.164 number that normalise back to it (SPEC §3, §8)."""
    nat = e164[1 + len(calling):]
    if k == 0:
        return '+%s %s %s %s' % (calling, nat[:3], nat[3:6], nat[6:])
    if k == 1:
        return '%s-%s-%s-%s' % (calling, nat[:3], nat[3:6], nat[6:])
    if k == 2:
        return '00%s %s %s' % (calling, nat[:3], nat[3:])
    if k == 3:
        return '(%s) %s' % (calling, nat)
    return calling + nat


class OutFile:
    """One output file: header, buffered rows, file quirks, injected bad rows, counts."""

    def __init__(self, root, rel, layout, day, columns, rng, crlf=False, bom=False, perm=None,
                 extra_at=None, extra_rate=0.0, quote_header=False, bad_plan=()):
        self.root, self.rel, self.layout, self.day = root, rel, layout, day
        self.rng = rng
        self.r = rng.random
        self.crlf, self.bom = crlf, bom
        self.eol = '\r\n' if crlf else '\n'
        self.canon = list(columns)
        order = list(perm) if perm is not None else list(range(len(columns)))
        if extra_at is not None:
            order.insert(extra_at, len(columns))  # the extra value goes last in the field list
        self.order = None if order == list(range(len(columns))) else order
        self.header_names = [(columns + [EXTRA_COLUMN])[i] for i in order]
        self.has_extra = extra_at is not None
        self.extra_rate = extra_rate
        self.rows = 0          # data records written (good and bad)
        self.good = 0
        self.line = 2          # physical line the next record starts on
        self.bad = []          # expected rejects
        self.bad_plan = sorted(bad_plan)  # [(before good row number, kind index)]
        self.next_bad = self.bad_plan[0][0] if self.bad_plan else -1
        self.status_counts = None
        self.buf = []
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        self.f = open(os.path.join(root, rel), 'w', encoding='utf-8', newline='',
                      buffering=1 << 20)
        head = ','.join('"%s"' % c if quote_header else c for c in self.header_names)
        self.f.write(('\ufeff' if bom else '') + head + self.eol)

    def _line_of(self, fields):
        order = self.order
        if self.has_extra:
            fields.append(self._extra_value())
        if order is not None:
            fields = [fields[i] for i in order]
        return ','.join(fields)

    def _extra_value(self):
        r = self.r
        if r() >= self.extra_rate:
            return ''
        t = EXTRA_TEXTS[int(r() * len(EXTRA_TEXTS))]
        return '"' + t.replace('"', '""') + '"'

    def write(self, fields):
        """Writes one good row given its fields in the layout's order (already quoted)."""
        if self.good == self.next_bad:
            self._inject_bad()
        if self.order is None and not self.has_extra:
            self.buf.append(','.join(fields))
        else:
            text = self._line_of(fields)
            self.buf.append(text)
            if '\n' in text:
                self.line += text.count('\n')
        self.rows += 1
        self.good += 1
        self.line += 1
        if len(self.buf) >= 8192:
            self.flush()

    def _inject_bad(self):
        while self.bad_plan and self.bad_plan[0][0] == self.good:
            _, k = self.bad_plan.pop(0)
            kind = BAD_KINDS[k % len(BAD_KINDS)]
            fields, column, kind = self.renderer.bad(kind, len(self.bad) + 1, self.r)
            if self.has_extra:
                fields.append('')
            if self.order is not None:
                fields = [fields[i] for i in self.order]
            if kind == 'wrong_field_count':
                fields = fields[:-1]
            text = ','.join(fields)
            if kind == 'bare_cr':
                text = text.replace(',', '\r,', 1)
            self.bad.append({'line': self.line, 'column': column, 'kind': kind})
            self.buf.append(text)
            self.rows += 1
            self.line += 1 + text.count('\n')
        self.next_bad = self.bad_plan[0][0] if self.bad_plan else -1

    def flush(self):
        if self.buf:
            self.f.write(self.eol.join(self.buf) + self.eol)
            self.buf = []

    def close(self):
        if self.bad_plan:
            self.next_bad = self.good
            for i in range(len(self.bad_plan)):
                self.bad_plan[i] = (self.good, self.bad_plan[i][1])
            self._inject_bad()
        self.flush()
        self.f.close()

    def expected(self):
        e = {
            'name': self.rel,
            'layout': self.layout,
            'date': day_string(self.day),
            'rows': self.rows,
            'good_rows': self.good,
            'lines': self.line - 1,
            'columns': self.header_names,
            'crlf': self.crlf,
            'bom': self.bom,
            'rejected': len(self.bad),
            'bad_rows': self.bad,
        }
        return e


def _quote(v):
    return '"' + v + '"' if v else ''


class ActivationRenderer:
    """docomo_activations rows: every non-empty field quoted, as the partner writes them."""
    columns = ACTIVATION_COLUMNS
    kinds_column = {'impossible_date': 'dateCreated', 'bad_date_format': 'dateCreated',
                    'msisdn_scientific': 'msisdn', 'missing_required': 'subscriptionCode',
                    'bad_enum': 'countryCode'}

    def __init__(self, fmt, mess, calling, countries):
        self.fmt, self.mess, self.calling = fmt, mess, calling
        self.country = countries[0]

    def fields(self, p, day, r):
        """The row of subscription p as the partner knows it at the end of `day`."""
        fmt = self.fmt
        end = (day + 1) * DAY
        c, a, pe, un = p.created, p.active, p.pending, p.unsubscribed
        if a is not None and a >= end:
            a = None
        if pe is not None and pe >= end:
            pe = None
        if un is not None and un >= end:
            un = None
        src = p.source if (pe is not None or un is not None) else None
        ms, al = p.msisdn or '', p.alias or ''
        created = fmt.day(c // DAY) if c % DAY == 0 else None  # a bare date (world quirk)
        k = int(r() * 7) if r() < self.mess else -1
        if k == 1:
            off = OFFSETS[int(r() * len(OFFSETS))]
            if created is None:
                created = fmt.ts_offset(c, off)
            a = fmt.ts_offset(a, off) if a is not None else ''
            pe = fmt.ts_offset(pe, off) if pe is not None else ''
            un = fmt.ts_offset(un, off) if un is not None else ''
        else:
            if created is None:
                created = fmt.ts_fraction(c, r) if k == 5 else fmt.ts(c)
            a = fmt.ts(a) if a is not None else ''
            pe = fmt.ts(pe) if pe is not None else ''
            un = fmt.ts(un) if un is not None else ''
        v = [p.country, p.site, p.product_name, p.code, ms, al, p.telco, created, a, pe, un,
             src or '']
        if k == 0 and ms:
            v[4] = msisdn_spelling(ms, self.calling[p.country], int(r() * 5))
        elif k == 2:
            i = 10 if un else 8 if a else 7
            v[i] += ' '  # "2018-06-29T15:45:31Z " as in SPEC §3.1
        elif k == 3 and src:
            v[11] = src.lower()
        elif k == 4 or k == 3:
            i = (2, 3, 6, 5)[int(r() * 4)]
            if v[i]:
                v[i] = ' ' + v[i] + ' '
        elif k == 6:
            return ['"' + '","'.join(v) + '"']  # empty fields as "" too
        # every field quoted, empty ones left empty (no value starts with a quote)
        return [('"' + '","'.join(v) + '"').replace(',""', ',')]

    def bad(self, kind, n, r):
        """A row that must be rejected: a valid row with one defect of the given kind."""
        cc, telco, calling = self.country
        code = 'ffffffff0bad%012x' % n
        v = [cc, 'amazon', 'plan123', code, '+' + calling + '3001234567', 'M-99%06d' % n,
             telco, '2018-05-22T15:31:06Z', '2018-05-22T15:45:31Z', '', '', '']
        column = self.kinds_column.get(kind)
        if kind == 'impossible_date':
            v[7] = '2018-02-30T00:00:00Z'
        elif kind == 'bad_date_format':
            v[7] = '22/05/2018'
        elif kind == 'msisdn_scientific':
            v[4] = '5.73E+11'
        elif kind == 'missing_required':
            v[3] = ''
        elif kind == 'bad_enum':
            v[0] = 'COL'  # countryCode must be two capital letters (this layout's strict column)
        return [_quote(x) for x in v], column, kind


class BssRenderer:
    """Common quirks of the Siebel exports: unquoted fields, quotes only where a quirk adds them."""
    enum_fields = ()
    date_field = None

    def __init__(self, fmt, mess, calling, countries):
        self.fmt, self.mess, self.calling = fmt, mess, calling
        self.country = countries[0]

    def common_quirk(self, v, k, msisdn_fields, r, country):
        """Applies row quirk k (0..4) to the field list v in place; returns True when done."""
        if k == 0:
            for i in msisdn_fields:
                if v[i]:
                    v[i] = msisdn_spelling(v[i], self.calling[country], int(r() * 5))
                    return True
            k = 1
        if k == 1:
            for i in self.enum_fields:
                if v[i]:
                    v[i] = v[i].lower()
            return True
        if k == 2:
            i = int(r() * len(v))
            if v[i]:
                v[i] = ' ' + v[i] + ' '
            return True
        if k == 4:
            i = self.enum_fields[int(r() * len(self.enum_fields))]
            v[i] = '"' + v[i] + ' "'  # a trailing space inside quotes
            return True
        return False

    def base_bad(self, kind, v, column_of, r):
        column = column_of.get(kind)
        if kind == 'impossible_date':
            v[self.date_field] = '2018-02-30T00:00:00Z' if r() < 0.5 else '2018-02-30'
        elif kind == 'bad_date_format':
            v[self.date_field] = '22/05/2018'
        elif kind == 'msisdn_scientific':
            v[4 if self.columns[4] == 'msisdn' else 3] = '5.73E+11'
        elif kind == 'missing_required':
            v[2] = ''
        elif kind == 'bad_enum':
            v[self.bad_enum_field] = self.bad_enum_value
        return v, column, kind


class SubscriberRenderer(BssRenderer):
    columns = SUBSCRIBER_COLUMNS
    enum_fields = (1, 6, 7)
    date_field = 8
    bad_enum_field, bad_enum_value = 7, 'ACTIVO'
    column_of = {'impossible_date': 'status_date', 'bad_date_format': 'status_date',
                 'msisdn_scientific': 'msisdn', 'missing_required': 'service_id',
                 'bad_enum': 'status'}

    def fields(self, s, r):
        v = [s.country, s.service, s.service_id, s.account_id or '', s.msisdn or '',
             s.plan_code, s.plan_type, s.status, self.fmt.day(s.status_date)]
        if r() < self.mess:
            k = int(r() * 5)
            if not self.common_quirk(v, k, (4,), r, s.country):
                v[8] = self.fmt.date_as_timestamp(s.status_date, r)
        return v

    def bad(self, kind, n, r):
        cc, telco, calling = self.country
        v = [cc, 'MOBILE', 'M-99%06d' % n, 'ACC-99%06d' % n, '+' + calling + '3001234567',
             'POST50', 'POSTPAID', 'ACTIVE', '2020-01-15']
        return self.base_bad(kind, v, self.column_of, r)


class AddonRenderer(BssRenderer):
    columns = ADDON_COLUMNS
    enum_fields = (1, 6, 11)
    date_field = 7
    bad_enum_field, bad_enum_value = 6, 'ACTIV'
    column_of = {'impossible_date': 'start_date', 'bad_date_format': 'start_date',
                 'msisdn_scientific': 'msisdn', 'missing_required': 'service_id',
                 'bad_enum': 'status'}

    def fields(self, a, r):
        fmt = self.fmt
        v = [a.country, a.service, a.service_id, a.account_id or '', a.msisdn or '', a.sku,
             a.status, fmt.day(a.start), fmt.day(a.end) if a.end is not None else '', a.price,
             a.currency, a.channel, None]
        k = int(r() * 7) if r() < self.mess else -1
        if k == 5:
            v[12] = fmt.ts_offset(a.updated, OFFSETS[int(r() * len(OFFSETS))])
        elif k == 6:
            v[12] = fmt.ts_fraction(a.updated, r)
        else:
            v[12] = fmt.ts(a.updated)
            if k >= 0 and not self.common_quirk(v, k, (4,), r, a.country):
                v[7] = fmt.date_as_timestamp(a.start, r)
        return v

    def bad(self, kind, n, r):
        cc, telco, calling = self.country
        v = [cc, 'MOBILE', 'M-99%06d' % n, 'ACC-99%06d' % n, '+' + calling + '3001234567',
             'AMZ-PV-MOB-5', 'ACTIVE', '2020-01-15', '', '5.99', 'USD', 'AGENT',
             '2020-01-15T10:00:00Z']
        return self.base_bad(kind, v, self.column_of, r)


class ChurnRenderer(BssRenderer):
    columns = CHURN_COLUMNS
    enum_fields = (1, 4)
    date_field = 5
    bad_enum_field, bad_enum_value = 4, 'PORT_OUT'
    column_of = {'impossible_date': 'event_date', 'bad_date_format': 'event_date',
                 'msisdn_scientific': 'msisdn', 'missing_required': 'service_id',
                 'bad_enum': 'event_type'}

    def fields(self, e, r):
        v = [e.country, e.service, e.service_id, e.msisdn or '', e.event_type,
             self.fmt.day(e.day), e.old_plan or '', e.new_plan or '', e.new_msisdn or '']
        if r() < self.mess:
            k = int(r() * 5)
            if not self.common_quirk(v, k, (3, 8), r, e.country):
                v[5] = self.fmt.date_as_timestamp(e.day, r)
        return v

    def bad(self, kind, n, r):
        cc, telco, calling = self.country
        v = [cc, 'MOBILE', 'M-99%06d' % n, '+' + calling + '3001234567', 'CHURN', '2020-01-15',
             'POST50', '', '']
        return self.base_bad(kind, v, self.column_of, r)
