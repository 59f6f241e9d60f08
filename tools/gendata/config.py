"""config.py: the ottrecon configuration (SPEC §2) that describes a generated world."""

import json


def _s(v):
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(str(v), ensure_ascii=False)


def render_config(world, spool, conninfo, sftp=None, note=''):
    """YAML text: database, spool, partners.docomo (sftp only when given), countries with the
    products the world sells.  sftp: dict of the §2 sftp keys given on the command line."""
    out = ['# ottrecon configuration written by tools/gen-data' + (' ' + note if note else ''),
           'database:',
           '  conninfo: ' + _s(conninfo or ''),
           'spool: ' + _s(spool)]
    if sftp:
        out += ['partners:', '  docomo:', '    sftp:']
        for key in ('host', 'port', 'user', 'private_key', 'known_hosts', 'remote_inbox',
                    'pattern', 'remote_outbox'):
            if key in sftp and sftp[key] is not None:
                v = sftp[key]
                out.append('      %s: %s' % (key, v if key == 'port' else _s(v)))
        out.append('    activations_mode: delta')
    out.append('countries:')
    for c in world.countries:
        out += ['  - code: ' + _s(c.code),
                '    telco_code: ' + _s(c.telco),
                '    products:']
        for p in c.products:
            out += ['      - partner_product: ' + _s(p.name),
                    '        site: ' + _s(p.site),
                    '        family: ' + p.family,
                    '        service: ' + p.service,
                    '        kind: ' + p.kind,
                    '        sku: ' + _s(p.sku),
                    '        monthly_price: ' + p.price,
                    '        currency: ' + p.currency,
                    '        eligible_plans: [' + ', '.join(p.eligible_plans) + ']']
    return '\n'.join(out) + '\n'
