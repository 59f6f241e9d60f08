#!/usr/bin/env python3
"""derive_bss.py SRC DST DAY LAST: BSS exports for an earlier day, derived from the last day's.

tools/gen-data writes the BSS exports (bss_subscribers_, bss_addons_, bss_churn_<CC>_<LAST>.csv)
of its last day only. For tools/demo and tools/soak, which run the nightly job day by day, this
writes into DST the exports of DAY (YYYY-MM-DD, on or before LAST, YYYYMMDD): the same files
renamed to DAY's date, leaving out the subscribers whose status_date, the add-ons whose
start_date and the churn events whose event_date are after DAY. An approximation of the base on
DAY (a subscriber whose status changed later is missing rather than in its earlier state), good
enough to show and exercise several nights; for DAY == LAST the files are copied unchanged.
Rows with another number of fields than the header (the generator's bad rows) are kept as they
are, so each file still has its rejects.
"""
import csv
import os
import shutil
import sys

DATE_COLUMN = {'bss_subscribers': 'status_date', 'bss_addons': 'start_date',
               'bss_churn': 'event_date'}


def main():
    src, dst, day, last = sys.argv[1:5]
    ymd = day.replace('-', '')
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        suffix = '_%s.csv' % last
        layout = name.rsplit('_', 2)[0]
        if not name.endswith(suffix) or layout not in DATE_COLUMN:
            continue
        out = os.path.join(dst, name[:-len(suffix)] + '_%s.csv' % ymd)
        if ymd == last:
            shutil.copyfile(os.path.join(src, name), out)
            continue
        with open(os.path.join(src, name), newline='', encoding='utf-8-sig') as f:
            rows = list(csv.reader(f))
        head, body = rows[0], rows[1:]
        i = head.index(DATE_COLUMN[layout])
        body = [r for r in body if len(r) != len(head) or r[i].strip()[:10] <= day]
        with open(out, 'w', newline='', encoding='utf-8') as f:
            csv.writer(f, lineterminator='\n').writerows([head] + body)


if __name__ == '__main__':
    main()
