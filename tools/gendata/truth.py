"""truth.py: the SPEC §5 ground truth of a generated world, judged one unit at a time.

`discrepancies(world, recon)` walks World.units() again (same parameters, same world) and applies
§5 and §8 to each unit on its own: units never share a service id, an MSISDN or a code, so every
match of §5 stays inside its unit.  It returns the expected discrepancy set as (key, category,
amount) with the keys `ottrecon reconcile` uses: CATEGORY|subscriptionCode for the partner side,
CATEGORY|CC|service_id|SKU for the BSS side; amounts are decimal strings with 2 decimals.
"""

from decimal import Decimal

from .world import ACTIVE, DAY, PENDING_ACTIVATION, PENDING_UNSUBSCRIPTION, UNSUBSCRIBED

# SPEC §2 defaults (the configuration tools/gen-data writes has no recon: section).
RECON_DEFAULTS = {'date_tolerance_days': 2, 'association_grace_days': 7,
                  'unsubscribe_grace_days': 3}
LIVE = (ACTIVE, PENDING_UNSUBSCRIPTION)


def _money(x):
    return str(Decimal(x).quantize(Decimal('0.01')))


def _matched(p, s):
    """The subscriber S that P matches (SPEC §5): by alias = service_id, else by msisdn."""
    if s is None or not s.in_bss or p.product is None or s.service != p.product.service:
        return None
    if p.alias is not None:
        return s if p.alias == s.service_id else None
    return s if p.msisdn is not None and p.msisdn == s.msisdn else None


def _unit(u, D, recon, out):
    tol = recon['date_tolerance_days']
    assoc = recon['association_grace_days']
    unsub = recon['unsubscribe_grace_days']
    country = u.country
    sku_product = {}
    for prod in country.products:
        sku_product.setdefault(prod.sku, prod)
    s = u.subscriber
    info = []  # (p, status, matched S, service key)
    for p in u.subs:
        st = p.status(D)
        m = _matched(p, s)
        if m is not None:
            key = ('S', m.service_id)
        elif p.alias is not None:
            key = ('S', p.alias)
        else:
            key = ('M', p.msisdn)
        info.append((p, st, m, key))

    # partner side
    first_of = {}
    for p, st, m, key in info:
        if p.product is None or st not in LIVE:
            continue
        g = (p.product.family, p.product.service, key)
        if g not in first_of or (p.created, p.code) < (first_of[g].created, first_of[g].code):
            first_of[g] = p
    for p, st, m, key in info:
        prod = p.product
        if prod is None:
            if st != UNSUBSCRIBED:
                out.append(('UNMAPPED_PRODUCT|' + p.code, 'UNMAPPED_PRODUCT', '0.00'))
            continue
        if st == PENDING_ACTIVATION:
            if D - p.created // DAY > assoc:
                out.append(('PENDING_ASSOCIATION_STALE|' + p.code, 'PENDING_ASSOCIATION_STALE',
                            '0.00'))
            continue
        if st not in LIVE:
            continue
        cat, amount = None, Decimal(0)
        fam_skus = {q.sku for q in country.by_family[(prod.family, prod.service)]}
        if first_of[(prod.family, prod.service, key)] is not p:
            cat = 'DUPLICATE_PARTNER_SUBSCRIPTION'
        elif m is None:
            cat = 'UNKNOWN_SUBSCRIBER'
        elif not m.eligible_for(prod):
            cat = 'NOT_ELIGIBLE'
        else:
            live = [a for a in u.addons if a.live(D) and a.service_id == m.service_id
                    and a.sku in fam_skus]
            if not live:
                cat, amount = 'PARTNER_ACTIVE_NOT_BILLED', Decimal(prod.price)
            elif len(live) > 1:
                cat = 'DUPLICATE_BSS_ADDON'
            elif live[0].sku != prod.sku:
                cat = 'PRODUCT_MISMATCH'
                amount = abs(Decimal(prod.price) - Decimal(sku_product[live[0].sku].price))
            elif abs(live[0].start - p.active // DAY) > tol:
                cat = 'DATE_MISMATCH'
        if cat:
            out.append((cat + '|' + p.code, cat, _money(amount)))

    # BSS side: one per (service_id, sku) of live add-ons of configured SKUs
    keys = {}
    for a in u.addons:
        if a.live(D) and a.sku in sku_product:
            k = (a.service_id, a.sku)
            if k not in keys or a.start < keys[k].start:
                keys[k] = a
    for (sid, sku), a in sorted(keys.items()):
        prod = sku_product[sku]
        mine = []
        for p, st, m, key in info:
            if p.product is None or p.product.family != prod.family \
                    or p.product.service != prod.service:
                continue
            if m is not None:
                belongs = m.service_id == sid
            elif p.alias is not None:
                belongs = p.alias == sid
            else:
                belongs = p.msisdn is not None and p.msisdn == a.msisdn
            if belongs:
                mine.append((p, st))
        if any(st in LIVE for _, st in mine):
            continue
        latest = max(mine, key=lambda x: (x[0].created, x[0].code)) if mine else None
        if latest is not None and latest[1] == UNSUBSCRIBED:
            if D - latest[0].unsubscribed // DAY > unsub:
                cat = 'UNSUBSCRIBED_STILL_BILLED'
            else:
                continue
        elif D - a.start > assoc:
            cat = 'BILLED_NOT_ACTIVE_AT_PARTNER'
        else:
            continue
        out.append(('%s|%s|%s|%s' % (cat, country.code, sid, sku), cat, _money(prod.price)))


def discrepancies(world, recon=None):
    """The expected discrepancy set as of world.as_of: a dict for expected.json."""
    recon = dict(RECON_DEFAULTS, **(recon or {}))
    items = []
    for u in world.units():
        _unit(u, world.as_of, recon, items)
    items.sort()
    by_cat = {}
    for _, cat, _ in items:
        by_cat[cat] = by_cat.get(cat, 0) + 1
    return {'recon': recon, 'count': len(items), 'by_category': dict(sorted(by_cat.items())),
            'items': [list(x) for x in items]}
