"""world.py: the generator's model: countries, products, subscribers, partner subscriptions, BSS
add-ons and churn events, produced one self-contained unit at a time (see __init__.py).

Everything is drawn from random.Random streams seeded from the seed alone, using only
Random.random() (whose sequence Python keeps stable across versions), never the clock or hash
ordering; the same parameters give the same world.  Memory does not grow with the number of
units: a unit is built, yielded, and forgotten.

Time: timestamps are whole seconds since 1970-01-01T00:00:00Z, dates are days since then.  Every
date in the world is on or before the as-of date D (nothing happens in the future, except a BSS
add-on's scheduled end_date).
"""

import random

DAY = 86400

PENDING_ACTIVATION = 'PENDING_ACTIVATION'
ACTIVE = 'ACTIVE'
PENDING_UNSUBSCRIPTION = 'PENDING_UNSUBSCRIPTION'
UNSUBSCRIBED = 'UNSUBSCRIBED'
STATUSES = (PENDING_ACTIVATION, ACTIVE, PENDING_UNSUBSCRIPTION, UNSUBSCRIBED)

# Partner product names that the telco never configured (SPEC §5 UNMAPPED_PRODUCT).
UNMAPPED_PRODUCT = 'prime_video_promo_2019'
SITE = 'amazon'

# Calling code, first digit(s) of a mobile number after it, national number length: plausible
# numbering plans, given to the configured countries in order.
NUMBERING = [('57', '3', 10), ('51', '9', 9), ('56', '9', 9), ('593', '9', 9),
             ('595', '9', 9), ('506', '8', 8), ('598', '9', 8), ('591', '7', 8)]

MOBILE_PLANS = (('POST30', 'POSTPAID', 0.20), ('POST50', 'POSTPAID', 0.30),
                ('POST80', 'POSTPAID', 0.25), ('PRE10', 'PREPAID', 0.15),
                ('HYB20', 'HYBRID', 0.10))
HOME_PLANS = (('FIBER100', 'POSTPAID', 0.45), ('FIBER500', 'POSTPAID', 0.40),
              ('FIBER50', 'POSTPAID', 0.15))
PLAN_TYPE = {p: t for p, t, _ in MOBILE_PLANS + HOME_PLANS}

# Which products a customer on a plan takes: (cumulative probability, product names).
PLAN_PRODUCTS = {
    'POST80': ((0.80, ('plan123',)), (1.0, ('plan123', 'music_addon_mobile'))),
    'POST50': ((0.70, ('pv_addon_mobile',)), (0.90, ('music_addon_mobile',)),
               (1.0, ('pv_addon_mobile', 'music_addon_mobile'))),
    'FIBER500': ((0.85, ('pv_bundle_home',)), (1.0, ('pv_bundle_home', 'music_addon_home'))),
    'FIBER100': ((0.75, ('pv_addon_home',)), (0.90, ('music_addon_home',)),
                 (1.0, ('pv_addon_home', 'music_addon_home'))),
}
PLAN_PRODUCTS['POST30'] = PLAN_PRODUCTS['POST50']
# Plans eligible for nothing: their customers (an anomaly) took what a neighbour plan offers.
PLAN_PRODUCTS_FALLBACK = {'MOBILE': 'POST50', 'HOME': 'FIBER100'}

SOURCES = ((0.22, 'TELCO'), (0.67, 'USER'), (0.78, 'PARTNER'), (0.88, 'DOCOMO'),
           (0.98, 'AMAZON'), (1.0, None))
CHANNELS = ((0.5, 'SELF_SERVICE'), (0.85, 'AGENT'), (1.0, 'MANUAL'))

CHURN_WINDOW_DAYS = 90  # the churn file carries the events of the last 90 days


class Product:
    """One configured partner product of a country (SPEC §2 countries[].products[])."""
    __slots__ = ('name', 'site', 'family', 'service', 'kind', 'sku', 'price', 'currency',
                 'eligible_plans')

    def __init__(self, name, family, service, kind, sku, price, eligible_plans,
                 currency='USD', site=SITE):
        self.name, self.site, self.family, self.service = name, site, family, service
        self.kind, self.sku, self.price, self.currency = kind, sku, price, currency
        self.eligible_plans = tuple(eligible_plans)


def default_products():
    """The product catalogue every generated country sells."""
    mob = ('POST30', 'POST50', 'POST80')
    home = ('FIBER100', 'FIBER500')
    return [
        Product('plan123', 'PRIME_VIDEO', 'MOBILE', 'BUNDLE', 'AMZ-PV-MOB-0', '0.00', ('POST80',)),
        Product('pv_addon_mobile', 'PRIME_VIDEO', 'MOBILE', 'ADDON', 'AMZ-PV-MOB-5', '5.99', mob),
        Product('music_addon_mobile', 'PRIME_MUSIC', 'MOBILE', 'ADDON', 'AMZ-PM-MOB-3', '3.99',
                mob),
        Product('pv_bundle_home', 'PRIME_VIDEO', 'HOME', 'BUNDLE', 'AMZ-PV-HOME-0', '0.00',
                ('FIBER500',)),
        Product('pv_addon_home', 'PRIME_VIDEO', 'HOME', 'ADDON', 'AMZ-PV-HOME-5', '5.99', home),
        Product('music_addon_home', 'PRIME_MUSIC', 'HOME', 'ADDON', 'AMZ-PM-HOME-3', '3.99', home),
    ]


class Country:
    """A configured country: telco code, numbering plan and products; allocates unique ids."""
    __slots__ = ('code', 'telco', 'calling', 'mobile_prefix', 'nat_digits', 'products',
                 'by_name', 'by_family', 'next_index', 'last_account', 'next_account',
                 '_mult', '_add', '_mod', '_fmt', 'capacity')

    def __init__(self, code, telco, numbering, products, rng):
        self.code, self.telco = code, telco
        self.calling, self.mobile_prefix, nat_len = numbering
        self.nat_digits = nat_len - len(self.mobile_prefix)
        self.products = products
        self.by_name = {p.name: p for p in products}
        self.by_family = {}
        for p in products:
            self.by_family.setdefault((p.family, p.service), []).append(p)
        self.next_index = 1
        self.next_account = 1
        self.last_account = None
        # k -> (k * mult + add) mod 10^digits is a bijection (mult is prime to 10): MSISDN k is
        # unique, and current (even k) and former (odd k) numbers never meet.
        self._mod = 10 ** self.nat_digits
        self._mult = 7919 if self._mod > 7919 else 7
        self._add = int(rng.random() * self._mod)
        self._fmt = '+' + self.calling + self.mobile_prefix + '%0' + str(self.nat_digits) + 'd'
        self.capacity = self._mod // 2

    def msisdn(self, k):
        return self._fmt % ((k * self._mult + self._add) % self._mod)


class Subscriber:
    """A row of bss_subscribers (or, with in_bss False, a service the BSS snapshot lacks)."""
    __slots__ = ('country', 'service', 'service_id', 'account_id', 'msisdn', 'plan_code',
                 'plan_type', 'status', 'status_date', 'since', 'in_bss', 'former_msisdn',
                 'number_changed')

    def eligible_for(self, product):
        """SPEC §3.5: ACTIVE, POSTPAID, of the product's service, plan in eligible_plans."""
        return (self.status == 'ACTIVE' and self.plan_type == 'POSTPAID'
                and self.service == product.service and self.plan_code in product.eligible_plans)


class Subscription:
    """A partner subscription (docomo_activations) in its final state as of D.

    created/active/pending/unsubscribed are whole seconds (UTC) or None; a file dated d shows
    only the dates on or before d.  product is None for an unmapped productName."""
    __slots__ = ('code', 'country', 'site', 'product_name', 'product', 'telco', 'msisdn',
                 'alias', 'created', 'active', 'pending', 'unsubscribed', 'source', 'tag')

    def status(self, day):
        """SPEC §3.1 status as of the end of `day` (days since the epoch)."""
        end = (day + 1) * DAY
        if self.unsubscribed is not None and self.unsubscribed < end:
            return UNSUBSCRIBED
        if self.pending is not None and self.pending < end:
            return PENDING_UNSUBSCRIPTION
        if self.active is not None and self.active < end:
            return ACTIVE
        return PENDING_ACTIVATION

    def days_touched(self):
        """Calendar days on which this subscription was created or changed."""
        return {t // DAY for t in (self.created, self.active, self.pending, self.unsubscribed)
                if t is not None}


class Addon:
    """A row of bss_addons (start and end are days; updated a timestamp)."""
    __slots__ = ('country', 'service', 'service_id', 'account_id', 'msisdn', 'sku', 'status',
                 'start', 'end', 'price', 'currency', 'channel', 'updated')

    def live(self, day):
        """SPEC §3.3: ACTIVE and end_date empty or after day."""
        return self.status == 'ACTIVE' and (self.end is None or self.end > day)


class ChurnEvent:
    """A row of bss_churn (day: event_date)."""
    __slots__ = ('country', 'service', 'service_id', 'msisdn', 'event_type', 'day', 'old_plan',
                 'new_plan', 'new_msisdn')

    def __init__(self, sub, event_type, day, old_plan=None, new_plan=None, msisdn=None,
                 new_msisdn=None):
        self.country, self.service, self.service_id = sub.country, sub.service, sub.service_id
        self.msisdn = msisdn if msisdn is not None else sub.msisdn
        self.event_type, self.day = event_type, day
        self.old_plan, self.new_plan, self.new_msisdn = old_plan, new_plan, new_msisdn


class Unit:
    """One service and everything that belongs to it.  kind: 'base' (subscriber, no partner
    subscription), 'customer', 'ghost_partner' (partner subscriptions for a service the BSS does
    not list) or 'ghost_addon' (a BSS add-on for a service the BSS does not list)."""
    __slots__ = ('kind', 'country', 'subscriber', 'subs', 'addons', 'events')

    def __init__(self, kind, country, subscriber):
        self.kind, self.country, self.subscriber = kind, country, subscriber
        self.subs, self.addons, self.events = [], [], []


def _pick(table, x):
    for p, v in table:
        if x < p:
            return v
    return table[-1][1]


def _pick_plan(plans, x):
    acc = 0.0
    for plan, _, w in plans:
        acc += w
        if x < acc:
            return plan
    return plans[-1][0]


class World:
    """The generated world for one set of parameters.

    params: seed (int), subscriptions (int), as_of (days since the epoch), countries (list of
    (code, telco_code)), mess (0..1: the rate of the world-level quirk, a bare-date dateCreated).
    """

    def __init__(self, seed, subscriptions, as_of, countries, mess):
        self.seed, self.n, self.as_of, self.mess = seed, subscriptions, as_of, mess
        setup = random.Random('gen-data/%d/setup' % seed)
        self.countries = []
        for i, (code, telco) in enumerate(countries):
            numbering = NUMBERING[i % len(NUMBERING)]
            self.countries.append(Country(code, telco, numbering, default_products(), setup))
        w = [1.0 / (i + 1) for i in range(len(countries))]
        total = sum(w)
        acc, self.country_cum = 0.0, []
        for x in w:
            acc += x / total
            self.country_cum.append(acc)
        self.country_cum[-1] = 1.0
        # subscriptionCode: 8 hex of dateCreated (like a MongoDB ObjectId), 4 hex fixed for the
        # run, 12 hex of a bijection of the sequence number (unique by construction).
        self._code_mid = '%04x' % int(setup.random() * 65536)
        self._code_mult = (int(setup.random() * (1 << 47)) << 1) | 1
        self._code_add = int(setup.random() * (1 << 48))
        self._code_seq = 0

    def country(self, code):
        for c in self.countries:
            if c.code == code:
                return c
        raise KeyError(code)

    # --- the unit stream --------------------------------------------------------------------

    def units(self):
        """Yields the units in their fixed order; the subscriptions add up to exactly n."""
        for c in self.countries:  # a fresh walk starts from scratch
            c.next_index, c.next_account, c.last_account = 1, 1, None
        self._code_seq = 0
        rng = random.Random('gen-data/%d/world' % self.seed)
        quirk = random.Random('gen-data/%d/world-quirks' % self.seed)
        r, q = rng.random, quirk.random
        remaining = self.n
        cum = self.country_cum
        countries = self.countries
        while remaining > 0:
            x = r()
            ci = 0
            while x >= cum[ci]:
                ci += 1
            u = self._unit(countries[ci], remaining, r, q)
            remaining -= len(u.subs)
            yield u

    def _code(self, created):
        self._code_seq += 1
        k = (self._code_seq * self._code_mult + self._code_add) & 0xFFFFFFFFFFFF
        return '%08x%s%012x' % (created & 0xFFFFFFFF, self._code_mid, k)

    def _subscriber(self, country, r, customer):
        idx = country.next_index
        if idx >= country.capacity:
            raise ValueError('country %s: its numbering plan has no more unique MSISDNs'
                             % country.code)
        country.next_index = idx + 1
        s = Subscriber()
        s.country = country.code
        mobile = r() < 0.7
        s.service = 'MOBILE' if mobile else 'HOME'
        s.service_id = ('M-%08d' if mobile else 'H-%08d') % idx
        s.msisdn = country.msisdn(2 * idx) if mobile else None
        s.former_msisdn = country.msisdn(2 * idx + 1) if mobile else None
        s.number_changed = None
        if country.last_account is not None and r() < 0.25:
            s.account_id = country.last_account
        else:
            s.account_id = 'ACC-%08d' % country.next_account
            country.next_account += 1
            country.last_account = s.account_id
        plans = MOBILE_PLANS if mobile else HOME_PLANS
        plan = _pick_plan(plans, r())
        if customer and plan not in PLAN_PRODUCTS and r() < 0.9:
            # customers are mostly on plans that sell a product
            plan = 'POST50' if mobile else 'FIBER100'
        s.plan_code, s.plan_type = plan, PLAN_TYPE[plan]
        x = r()
        if customer:
            s.status = 'ACTIVE' if x < 0.94 else 'SUSPENDED' if x < 0.965 else 'CHURNED'
        else:
            s.status = 'ACTIVE' if x < 0.90 else 'SUSPENDED' if x < 0.93 else 'CHURNED'
        D = self.as_of
        s.since = D - 30 - int(r() * 2500)
        if s.status == 'ACTIVE':
            s.status_date = s.since
        else:
            s.status_date = D - int(r() * r() * 150)
        s.in_bss = True
        return s

    def _events(self, u, r, customer):
        """Churn events of the unit's subscriber within the churn file's window."""
        s, D = u.subscriber, self.as_of
        lo = D - CHURN_WINDOW_DAYS
        if s.status == 'CHURNED' and s.status_date >= lo:
            u.events.append(ChurnEvent(s, 'CHURN', s.status_date, old_plan=s.plan_code))
        elif s.status == 'SUSPENDED' and s.status_date >= lo:
            u.events.append(ChurnEvent(s, 'NON_PAYMENT', s.status_date))
        x = r()
        if x < 0.04 or (customer and s.plan_code not in PLAN_PRODUCTS and x < 0.5):
            # a plan migration to the current plan
            day = D - int(r() * CHURN_WINDOW_DAYS)
            plans = MOBILE_PLANS if s.service == 'MOBILE' else HOME_PLANS
            old = plans[int(r() * len(plans))][0]
            if old == s.plan_code:
                old = 'POST80' if s.service == 'MOBILE' else 'FIBER500'
            if old != s.plan_code:
                u.events.append(ChurnEvent(s, 'PLAN_MIGRATION', day, old_plan=old,
                                           new_plan=s.plan_code))
                if s.status == 'ACTIVE':
                    s.status_date = day
        if s.service == 'MOBILE' and r() < 0.015:
            day = D - int(r() * CHURN_WINDOW_DAYS)
            s.number_changed = day
            u.events.append(ChurnEvent(s, 'NUMBER_CHANGE', day, msisdn=s.former_msisdn,
                                       new_msisdn=s.msisdn))
        u.events.sort(key=lambda e: e.day)

    def _unit(self, country, remaining, r, q):
        x = r()
        if x < 0.30:
            kind = 'base'
        elif x < 0.305:
            kind = 'ghost_partner'
        elif x < 0.308:
            kind = 'ghost_addon'
        else:
            kind = 'customer'
        s = self._subscriber(country, r, kind != 'base')
        if kind.startswith('ghost'):
            s.in_bss = False
        u = Unit(kind, country, s)
        if s.in_bss:
            self._events(u, r, kind == 'customer')
        if kind == 'base' or kind == 'ghost_addon':
            if kind == 'ghost_addon' or (r() < 0.015 and s.status == 'ACTIVE'):
                self._orphan_addon(u, r)
            return u

        table = PLAN_PRODUCTS.get(s.plan_code) or PLAN_PRODUCTS[PLAN_PRODUCTS_FALLBACK[s.service]]
        names = _pick(table, r())
        for name in names:
            if len(u.subs) >= remaining:
                break
            self._product_history(u, country.by_name[name], remaining, r)
        for p in u.subs:
            # the world-level quirk, drawn from its own stream after the unit is complete so
            # that the rest of the world does not depend on the mess rate: a dateCreated the
            # partner wrote as a bare date, i.e. midnight UTC of that day
            if q() < self.mess / 4:
                p.created -= p.created % DAY
        return u

    # --- partner subscriptions -------------------------------------------------------------

    def _product_history(self, u, product, remaining, r):
        """The current subscription of one product, and sometimes an earlier one (ended) and
        a duplicate (a second live one of the same family)."""
        s, D = u.subscriber, self.as_of
        x = r()
        target = (PENDING_ACTIVATION if x < 0.03 else ACTIVE if x < 0.73 else
                  PENDING_UNSUBSCRIPTION if x < 0.79 else UNSUBSCRIBED)
        cur = self._subscription(u, product, target, s.since * DAY, r)
        x = r()
        # an earlier subscription of the same product, ended before this one was created
        if x < 0.10 and len(u.subs) < remaining and cur.created // DAY - s.since > 40:
            lo = s.since * DAY
            hi = cur.created - 2 * DAY
            created = lo + int(r() * (hi - lo) * 0.5)
            old = self._subscription(u, product, UNSUBSCRIBED, created, r, unsub_before=hi,
                                     exact_created=True)
            old.tag = 'history'
        # a second live subscription of the same family (DUPLICATE_PARTNER_SUBSCRIPTION)
        elif (x > 0.996 and len(u.subs) < remaining and cur.active is not None
              and cur.unsubscribed is None and cur.created + 3 * 3600 < (D + 1) * DAY):
            dup = self._subscription(u, product, ACTIVE, cur.created + 3600, r,
                                     exact_created=True, billed=False)  # the BSS bills once
            dup.tag = 'duplicate'
        if len(u.subs) < remaining and r() < 0.002:
            # the partner sends a productName nobody configured
            odd = self._subscription(u, None, ACTIVE, s.since * DAY, r)
            odd.tag = 'unmapped'

    def _subscription(self, u, product, target, lo, r, unsub_before=None, exact_created=False,
                      billed=True):
        """Draws one subscription's dates (all on or before D) and its add-ons."""
        s, D = u.subscriber, self.as_of
        end = (D + 1) * DAY
        p = Subscription()
        p.country, p.site, p.telco = s.country, SITE, u.country.telco
        p.product = product
        p.product_name = product.name if product else UNMAPPED_PRODUCT
        p.tag = None
        if exact_created:
            c = lo
        else:
            if target == PENDING_ACTIVATION:
                ago = int(r() * 4) if r() < 0.85 else 8 + int(r() * 50)
            else:
                y = r()
                ago = int(730 * y * y)
            c = (D - ago) * DAY + int(r() * DAY)
            if c < lo:
                c = lo + int(r() * (end - lo))
        if c % DAY == 0:
            c += 1  # only the bare-date quirk (see _unit) makes a midnight dateCreated
        a = pe = un = None
        if target != PENDING_ACTIVATION:
            if r() < 0.04 and target == UNSUBSCRIBED:
                # cancelled before it was ever activated
                limit = unsub_before if unsub_before is not None else end
                un = c + int(r() * min(5 * DAY, limit - c))
            else:
                a = c + (60 + int(r() * 3540) if r() < 0.9 else DAY // 2 + int(r() * 2 * DAY))
                if a >= end:
                    a = None
        if a is not None:
            if target == PENDING_UNSUBSCRIPTION:
                pe = end - 1 - int(r() * min(30 * DAY, end - 1 - a))
            elif target == UNSUBSCRIBED:
                limit = unsub_before if unsub_before is not None else end
                if limit <= a:
                    limit = a + 1
                un = a + int(r() * (limit - a))
                if r() < 0.6:
                    pe = un - int(r() * min(30 * DAY, un - a))
        # a subscriber who left the telco: the telco usually ended the subscription too
        if (s.status == 'CHURNED' and un is None and c < s.status_date * DAY
                and r() < 0.5):
            un = s.status_date * DAY + 7200 + int(r() * 3 * DAY)
            if un >= end:
                un = end - 1
            if a is not None and un < a:
                un = a
            if pe is not None and un < pe:
                pe = None
            p.source = 'TELCO'
        else:
            p.source = _pick(SOURCES, r()) if (pe is not None or un is not None) else None
        p.created, p.active, p.pending, p.unsubscribed = c, a, pe, un
        # how the partner knows the service: alias (service id), msisdn, or both
        if s.service == 'MOBILE':
            x = r()
            msisdn = s.msisdn
            if s.number_changed is not None and c < s.number_changed * DAY:
                msisdn = s.former_msisdn
            p.alias = s.service_id if x < 0.80 or x >= 0.95 else None
            p.msisdn = msisdn if x < 0.95 else None
        else:
            p.alias, p.msisdn = s.service_id, None
        p.code = self._code(c)
        u.subs.append(p)
        if billed and product is not None and (u.kind == 'customer' or r() < 0.5):
            self._addons_for(u, p, r)
        return p

    # --- BSS add-ons ------------------------------------------------------------------------

    def _addon(self, u, r, prod, status, start, end, channel):
        s = u.subscriber
        a = Addon()
        a.country, a.service, a.service_id = s.country, s.service, s.service_id
        a.account_id, a.msisdn = s.account_id, s.msisdn
        a.sku, a.price, a.currency = prod.sku, prod.price, prod.currency
        a.status, a.start, a.end = status, start, end
        a.channel = channel
        last = max(start, end if end is not None and end <= self.as_of else start)
        a.updated = last * DAY + int(r() * DAY)
        if a.updated >= (self.as_of + 1) * DAY:
            a.updated = (self.as_of + 1) * DAY - 1
        u.addons.append(a)
        return a

    def _addons_for(self, u, p, r):
        """The add-on(s) the BSS holds for partner subscription p, mostly right, sometimes not."""
        D = self.as_of
        s = u.subscriber
        prod = p.product
        channel = 'BUNDLE' if prod.kind == 'BUNDLE' else _pick(CHANNELS, r())
        st = p.status(D)
        x = r()
        sku_prod = prod
        if 0.008 <= x < 0.012:
            # PRODUCT_MISMATCH: billed as the other SKU of the family (bundle vs add-on)
            for other in u.country.by_family[(prod.family, prod.service)]:
                if other.sku != prod.sku:
                    sku_prod = other
                    p.tag = 'wrong_sku'
                    break
        if st == PENDING_ACTIVATION:
            if r() < 0.4:
                self._addon(u, r, sku_prod, 'ACTIVE', p.created // DAY, None, channel)
            return
        if p.active is None:
            # cancelled before activation: usually never provisioned
            if r() < 0.3:
                self._addon(u, r, sku_prod, 'INACTIVE', p.created // DAY,
                            p.unsubscribed // DAY, channel)
            return
        y = r()
        delta = -1 if y < 0.1 else 1 if y > 0.9 else 0
        start = min(p.active // DAY + delta, D)
        if 0.012 <= x < 0.017:
            # DATE_MISMATCH: started days away from the partner's activation
            start = min(start + (5 + int(r() * 35)) * (1 if r() < 0.5 else -1), D)
            p.tag = 'date_off'
        live_status = 'SUSPENDED' if s.status == 'SUSPENDED' else 'ACTIVE'
        if st == UNSUBSCRIBED:
            if r() < 0.04:
                self._addon(u, r, sku_prod, 'ACTIVE', start, None, channel)  # still billed
                p.tag = 'still_billed'
            else:
                end = min(p.unsubscribed // DAY + (1 if r() < 0.3 else 0), D)
                self._addon(u, r, sku_prod, 'INACTIVE', start, max(end, start), channel)
            return
        if x < 0.008:
            p.tag = 'not_billed'  # PARTNER_ACTIVE_NOT_BILLED: no add-on at all
            return
        if s.status == 'CHURNED' and r() < 0.5:
            self._addon(u, r, sku_prod, 'INACTIVE', start, max(start, s.status_date), channel)
            return
        end = None
        if st == PENDING_UNSUBSCRIPTION and r() < 0.5:
            end = D + 1 + int(r() * 25)  # scheduled end, still live as of D
        self._addon(u, r, sku_prod, live_status, start, end, channel)
        if 0.017 <= x < 0.020:
            # DUPLICATE_BSS_ADDON: provisioned twice
            self._addon(u, r, sku_prod, 'ACTIVE', min(start + 1 + int(r() * 5), D), None, 'MANUAL')
            p.tag = 'dup_addon'

    def _orphan_addon(self, u, r):
        """A live add-on with no partner subscription (BILLED_NOT_ACTIVE_AT_PARTNER, or within
        the association grace when it started less than a week ago)."""
        s = u.subscriber
        fams = [p for p in u.country.products if p.service == s.service]
        prod = fams[int(r() * len(fams))]
        start = self.as_of - int(r() * 200)
        channel = 'BUNDLE' if prod.kind == 'BUNDLE' else _pick(CHANNELS, r())
        self._addon(u, r, prod, 'ACTIVE', start, None, channel)
