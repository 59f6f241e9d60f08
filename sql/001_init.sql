-- 001_init.sql: the first schema: the load manifest, partner rows and state, BSS snapshots and events.
--
-- Applied by `ottrecon db migrate` inside one transaction (do not add BEGIN/COMMIT here).
-- Tables live in schema ottrecon; schema report holds the views Tableau reads (SPEC §6).
-- Values arrive already validated and normalised by the layout reader (SPEC §3): enums in upper
-- case, timestamps in UTC, MSISDNs in E.164. The checks below restate the SPEC's contract so a
-- loader bug fails loudly; they are all cheap per row, so a 10M-row COPY can live with them.

create schema ottrecon;
comment on schema ottrecon is 'ottrecon: loaded partner and BSS data (tables written by ottrecon only)';

create schema report;
comment on schema report is 'ottrecon: views for reporting tools such as Tableau (read only)';

-- The manifest (SPEC §4): one row per file load attempt. The same content again is a no-op and
-- the same name with other content is refused unless forced, so neither name nor sha256 is unique.
create table ottrecon.load_file (
	file_id         bigint generated always as identity primary key,
	name            text not null,                    -- base name of the file
	path            text,                             -- where it was loaded from
	size_bytes      bigint not null check (size_bytes >= 0),
	sha256          text not null check (sha256 ~ '^[0-9a-f]{64}$'),
	layout          text not null,                    -- docomo_activations, bss_addons, ...
	as_of           date,                             -- --as-of, or the YYYYMMDD in the name
	rows_read       bigint check (rows_read >= 0),
	rows_loaded     bigint check (rows_loaded >= 0),
	rows_rejected   bigint check (rows_rejected >= 0),  -- duplicates included
	rows_duplicate  bigint check (rows_duplicate >= 0), -- duplicate subscriptionCode in the file
	outcome         text not null check (outcome in ('LOADING', 'LOADED', 'REFUSED')),
	reason          text,                             -- why it was refused
	forced          boolean not null default false,   -- loaded with --force
	started_at      timestamptz not null default now(),
	finished_at     timestamptz,
	-- SPEC §4: rows read = rows loaded + rows rejected, always.
	constraint load_file_rows_add_up check (
		outcome <> 'LOADED' or rows_read = rows_loaded + rows_rejected)
);
create index load_file_name_idx on ottrecon.load_file (name);
create index load_file_sha256_idx on ottrecon.load_file (sha256);
comment on table ottrecon.load_file is 'every file ottrecon loaded or refused (SPEC §4)';

-- Every partner activation row ever loaded (SPEC §3.1): the history, one row per file line.
-- Bulk tables (partner_row, partner_subscription, bss_subscriber, bss_addon, bss_churn_event)
-- carry file_id / snapshot_id without a foreign key: a per-row foreign-key check would dominate
-- a 10-million-row load, and only the loader writes them, in the transaction that writes the
-- load_file / bss_snapshot row they point to.
create table ottrecon.partner_row (
	file_id                     bigint not null,
	part                        bigint not null default 0, -- the partition: see below
	line                        bigint not null,      -- physical line where the record starts
	country_code                text not null,
	site_code                   text not null,
	product_name                text not null,
	subscription_code           text not null,
	msisdn                      text,                 -- E.164
	alias                       text,                 -- the telco's service id
	telco_code                  text not null,
	date_created                timestamptz not null,
	date_active                 timestamptz,
	date_pending_unsubscription timestamptz,
	date_unsubscribed           timestamptz,
	unsubscription_source       text,                 -- upper case; unknown values are kept
	flags                       text[] not null default '{}', -- e.g. dates out of order
	is_current                  boolean not null default true, -- the code's latest row
	check (msisdn is not null or alias is not null)
) partition by list (part);
-- (file_id, line) is unique by construction (the loader writes each line of a file once, in one
-- transaction), so no b-tree keeps it, and rows are read by file. Nor is there an index on
-- subscription_code: the current state is found with hash joins.
--
-- Rows of small files (part 0) share partner_row_small, where a BRIN index on file_id (which
-- only grows with the insertion order) finds a file's rows at almost no cost during a bulk load.
-- A large file's rows (part = its file_id) go into a partition of their own, which the load
-- creates in its transaction (ottrecon.create_file_partition, sql/002_load.sql): it needs no
-- index at all (every row in it is of that file), so COPY maintains none, and a server with
-- wal_level = minimal writes no WAL for it (the table is new in the transaction). Small files
-- do not get one: millions of delta files would make millions of tables.
create table ottrecon.partner_row_small partition of ottrecon.partner_row for values in (0);
create index partner_row_small_file_id_brin on ottrecon.partner_row_small using brin (file_id);
comment on table ottrecon.partner_row is 'every docomo_activations row loaded, by file and line';

-- The current state of each partner subscription: the latest row loaded for its code.
-- Current state per subscriptionCode (SPEC §3.1 delta/snapshot): the latest row of each code.
-- One copy of every row (the history) and a flag, rather than a second table: a 10-million-row
-- file is written once.
create view ottrecon.partner_subscription as
select subscription_code, country_code, site_code, product_name, msisdn, alias, telco_code,
       date_created, date_active, date_pending_unsubscription, date_unsubscribed,
       unsubscription_source, flags, file_id, line
from ottrecon.partner_row
where is_current;
comment on view ottrecon.partner_subscription is 'current state per subscriptionCode (SPEC §3.1)';

-- A BSS full snapshot: one per (layout, country, date); loading again replaces it (SPEC §3.1).
-- Its rows go with it (on delete cascade); earlier dates are kept.
create table ottrecon.bss_snapshot (
	snapshot_id   bigint generated always as identity primary key,
	layout        text not null check (layout in ('bss_subscribers', 'bss_addons')),
	country_code  text not null,
	as_of         date not null,
	file_id       bigint not null references ottrecon.load_file,
	rows          bigint check (rows >= 0),
	unique (layout, country_code, as_of)
);
create index bss_snapshot_file_id_idx on ottrecon.bss_snapshot (file_id);
comment on table ottrecon.bss_snapshot is 'BSS snapshots; "as of D" uses the latest dated <= D per country';

-- The subscriber base (SPEC §3.2).
create table ottrecon.bss_subscriber (
	snapshot_id   bigint not null,
	line          bigint not null,
	country_code  text not null,
	service_type  text not null check (service_type in ('MOBILE', 'HOME')),
	service_id    text not null,
	account_id    text,
	msisdn        text,
	plan_code     text not null,
	plan_type     text not null check (plan_type in ('POSTPAID', 'PREPAID', 'HYBRID')),
	status        text not null check (status in ('ACTIVE', 'SUSPENDED', 'CHURNED')),
	status_date   date,
	-- another row of the snapshot with this service_id and service_type counts instead (SPEC
	-- silent; ours: an ACTIVE row first, then the first line); set by merge_bss_snapshot
	superseded    boolean not null default false,
	primary key (snapshot_id, line)
);
create index bss_subscriber_service_id_idx on ottrecon.bss_subscriber (snapshot_id, service_id);
create index bss_subscriber_msisdn_idx on ottrecon.bss_subscriber (snapshot_id, msisdn);
comment on table ottrecon.bss_subscriber is 'bss_subscribers rows, by snapshot and file line';

-- The add-on inventory (SPEC §3.3). No key of its own: several live rows for one
-- (country, service_id, sku) are several add-ons (SPEC §8).
create table ottrecon.bss_addon (
	snapshot_id   bigint not null,
	line          bigint not null,
	country_code  text not null,
	service_type  text not null check (service_type in ('MOBILE', 'HOME')),
	service_id    text not null,
	account_id    text,
	msisdn        text,
	sku           text not null,
	status        text not null check (status in ('ACTIVE', 'SUSPENDED', 'INACTIVE')),
	start_date    date not null,
	end_date      date,
	monthly_price numeric(14,4),
	currency      text,
	channel       text check (channel in ('SELF_SERVICE', 'AGENT', 'MANUAL', 'BUNDLE')),
	updated_at    timestamptz,
	primary key (snapshot_id, line)
);
create index bss_addon_service_id_idx on ottrecon.bss_addon (snapshot_id, service_id);
comment on table ottrecon.bss_addon is 'bss_addons rows, by snapshot and file line';

-- Early-churn events (SPEC §3.4): they accumulate; one event is loaded once.
create table ottrecon.bss_churn_event (
	event_id      bigint generated always as identity primary key,
	file_id       bigint not null,
	line          bigint not null,
	country_code  text not null,
	service_type  text not null check (service_type in ('MOBILE', 'HOME')),
	service_id    text not null,
	msisdn        text,
	event_type    text not null
	              check (event_type in ('CHURN', 'PLAN_MIGRATION', 'NUMBER_CHANGE', 'NON_PAYMENT')),
	event_date    date not null,
	old_plan      text,
	new_plan      text,
	new_msisdn    text,
	unique (country_code, service_id, event_type, event_date)
);
create index bss_churn_event_file_id_idx on ottrecon.bss_churn_event (file_id);
comment on table ottrecon.bss_churn_event is 'bss_churn events; the same (country, service, type, date) is kept once';
