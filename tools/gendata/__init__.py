"""gendata: deterministic synthetic input for ottrecon (used by tools/gen-data).

The generator is split in two so that the same model can later be evaluated for ground truth:

  world.py    the model.  `World(params).units()` yields, one at a time and in a fixed order,
              self-contained *units*: one telco service (a BSS subscriber, or a service id the
              BSS does not know) together with every partner subscription, BSS add-on and churn
              event that belongs to it.  Units never interact: service ids, MSISDNs (current and
              former) and subscriptionCodes are unique per country, so a SPEC §5 evaluator can
              judge each unit on its own while streaming (every matching rule of §5/§8 stays
              inside a unit).  Entities hold the values as they will be loaded: timestamps are
              whole seconds since the epoch (UTC), dates are days since the epoch, MSISDNs are
              E.164, enums upper case.  `Subscription.status(day)` applies SPEC §3.1.
  writers.py  the rendering.  Turns units into the four input layouts of SPEC §3 (files named as
              `ingest` expects them, SPEC §8), adds the input quirks SPEC §3 says must still load
              (MSISDN spellings, offsets, fractional seconds, case, spaces, CRLF, BOM, column
              order, an unknown column) and a known number of rows that must be rejected, and
              records where each of those is (expected.json).  Quirks never change a loaded
              value: an offset spells the same instant, a fractional second never moves a date
              or the order of two whole-second times; the only quirk that changes a value (a
              bare date) is decided in the world, which then holds midnight.
  config.py   the ottrecon configuration (SPEC §2) describing the generated countries/products.
  cli.py      argument parsing, orchestration, expected.json.
  truth.py    the SPEC §5 ground truth: walks `World(params).units()` again with the same
              parameters and writes expected.json's "discrepancies" (key, category, amount).
"""
