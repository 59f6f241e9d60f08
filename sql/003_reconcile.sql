-- 003_reconcile.sql: reconciliation runs and discrepancies (SPEC §5, §8 Runs) and their report views (§6).
--
-- `ottrecon reconcile` fills three temporary tables from the configuration (by COPY, never by
-- splicing text into SQL) and calls recon.reconcile_run() once per country:
--   recon_country (country_code, telco_code)
--   recon_product (product_id, country_code, site, partner_product, family, service, kind, sku,
--                  monthly_price, currency)          -- product_id = order in the configuration
--   recon_plan    (product_id, plan_code)            -- the product's eligible_plans
-- The rules are set-wise statements below, each into an analyzed temporary table so that the
-- next is planned on true row counts: every partner subscription with its product, status and
-- matched subscriber (recon_p), the services with several live add-ons in a family
-- (recon_multi), then every category at once (recon_found). No statement sorts a whole table:
-- the subscriber snapshot was deduplicated by the loader (bss_subscriber.superseded), and the
-- few repeats (services with several add-ons or several live P) are found by hashing and only
-- they are ranked.

-- Runs and their discrepancies live in their own schema: they are results, not loaded data.
create schema recon;
comment on schema recon is 'ottrecon: reconciliation runs and discrepancies (written by ottrecon reconcile)';

-- One reconciliation run: a country as of a date. Re-running the same pair replaces it.
create table recon.run (
	run_id        bigint generated always as identity primary key,
	country_code  text not null,
	as_of         date not null,
	started_at    timestamptz not null,
	finished_at   timestamptz,
	n_new         bigint not null default 0,
	n_open        bigint not null default 0,
	n_resolved    bigint not null default 0,
	amount_at_risk numeric(14,4) not null default 0,  -- NEW and OPEN rows
	unique (country_code, as_of)
);
comment on table recon.run is 'reconcile runs (SPEC §5): one per country and as-of date';

-- What a run saw: one row per discrepancy key, NEW / OPEN, plus RESOLVED rows carried from the
-- previous run of the country (its columns repeated, SPEC §8).
create table recon.item (
	run_id                    bigint not null,  -- recon.run; no foreign key (see below)
	key                       text not null,   -- category|subscriptionCode or category|CC|service_id|sku
	category                  text not null,
	state                     text not null check (state in ('NEW', 'OPEN', 'RESOLVED')),
	first_seen                date not null,
	service_type              text,
	family                    text,
	subscription_code         text,
	alias                     text,
	msisdn                    text,
	service_id                text,
	partner_product           text,
	partner_status            text,
	partner_date_active       timestamptz,
	partner_date_unsubscribed timestamptz,
	bss_sku                   text,
	bss_status                text,
	bss_start_date            date,
	plan_code                 text,
	amount_at_risk            numeric(14,4) not null default 0,
	currency                  text,
	primary key (run_id, key)
);
comment on table recon.item is 'discrepancies per run with their state (SPEC §5, §8)';
-- Like the bulk tables of 001_init.sql, recon.item has no foreign key: its per-row check cost
-- more than writing the rows (91k items: 490-530 ms with it, 170 ms without). Only
-- recon.reconcile_run() writes both tables, and it deletes a replaced run's items itself.

-- The latest snapshot of a layout for a country dated <= d (SPEC §3.1 end); NULL when none.
create function recon.latest_snapshot(p_layout text, p_country text, d date)
returns bigint language sql stable as $$
	select s.snapshot_id from ottrecon.bss_snapshot s
	where s.layout = p_layout and s.country_code = p_country and s.as_of <= d
	order by s.as_of desc limit 1
$$;

-- Computes the discrepancies of country p_country as of d into temporary table recon_found
-- (same columns as recon_item, without run_id/state/first_seen). Needs the configuration tables.
-- With p_partner_only, only the partner side's categories that need no add-on (UNMAPPED_PRODUCT,
-- DUPLICATE_PARTNER_SUBSCRIPTION, UNKNOWN_SUBSCRIBER, NOT_ELIGIBLE, PENDING_ASSOCIATION_STALE).
create function recon.find_discrepancies(p_country text, d date, p_tolerance int,
	p_assoc_grace int, p_unsub_grace int, p_partner_only boolean default false)
returns void language plpgsql
-- hash joins for big sets (the row estimates of fresh temp tables and CTEs are poor, and a
-- merge join sorts a million wide rows); no JIT: compiling these plans costs more than running them
set enable_nestloop = off set enable_mergejoin = off set work_mem = '256MB' set jit = off as $$
declare
	sub_snap bigint := recon.latest_snapshot('bss_subscribers', p_country, d);
	-- p_partner_only (the deactivations file): only the categories up to NOT_ELIGIBLE, which
	-- need no add-on; none is read
	addon_snap bigint := case when not p_partner_only
	                          then recon.latest_snapshot('bss_addons', p_country, d) end;
begin
	drop table if exists recon_p, recon_multi, recon_sku, recon_found;
	-- the configured SKUs of the country (a SKU of two products: the first's family and price)
	create temp table recon_sku as
	select distinct on (sku) sku, family, service, monthly_price, currency
	from recon_product where country_code = p_country order by sku, product_id;

	-- Partner subscriptions that count (SPEC §8): configured country with its telco_code, created
	-- on or before d; their product (NULL = unmapped), status as of d, and matched subscriber S
	-- (alias = service_id when P has an alias, else msisdn; of the product's service; when several
	-- rows match, an ACTIVE one first, then the smallest service_id and file line). Only what
	-- the rules and the deactivations read (a million rows are written and read four times):
	-- the product's family and service (its SKU and price are joined by product_id later), S's
	-- id, plan and whether it is ACTIVE and POSTPAID.
	create temp table recon_p as
	-- (p is not materialized: 1M rows outgrow work_mem and went to a temporary file; the msisdn
	-- lookup reads the few P without an alias again instead)
	with p as (  -- only the columns the rules read
		select p.subscription_code, p.alias, p.msisdn, p.product_name, p.date_created,
		       p.date_active, p.date_pending_unsubscription, p.date_unsubscribed,
		       pr.product_id, pr.family, pr.service
		from ottrecon.partner_subscription p
		join recon_country c on c.country_code = p.country_code and c.telco_code = p.telco_code
		left join recon_product pr on pr.country_code = p.country_code and pr.site = p.site_code
		                          and pr.partner_product = p.product_name
		-- (created on or before d, UTC; a plain comparison, so that the estimate is right)
		where p.country_code = p_country
		  and p.date_created < (d + 1)::timestamp at time zone 'UTC'
	), subs as (  -- one subscriber row per service id (an ACTIVE one first, then file order:
		          -- the loader marked the others superseded)
		select x.service_type, x.service_id, x.status, x.plan_type, x.plan_code
		from ottrecon.bss_subscriber x where x.snapshot_id = sub_snap and not x.superseded
	), subs_by_msisdn as (  -- one per msisdn: ACTIVE first, then the smallest service id; only
		                    -- the msisdns of P without an alias (few) are looked up
		select distinct on (x.msisdn, x.service_type) x.service_type, x.msisdn, x.service_id,
		       x.status, x.plan_type, x.plan_code
		from ottrecon.bss_subscriber x where x.snapshot_id = sub_snap and x.msisdn is not null
		  and x.msisdn in (select p.msisdn from ottrecon.partner_subscription p
		                   where p.alias is null and p.country_code = p_country)
		order by x.msisdn, x.service_type, x.status = 'ACTIVE' desc, x.service_id, x.line
	)
	select p.subscription_code, p.alias, p.msisdn, p.product_name, p.date_created,
	       p.date_active, p.date_unsubscribed,
	       ottrecon.partner_status(p.date_active, p.date_pending_unsubscription,
	                               p.date_unsubscribed, d) as status,
	       p.product_id, p.family, p.service, s.service_id as s_service_id,
	       s.status = 'ACTIVE' and s.plan_type = 'POSTPAID' as s_active_postpaid,
	       s.plan_code as s_plan_code,
	       -- the service P belongs to: the matched S, else its alias, else its msisdn
	       case when s.service_id is not null then 'S|' || s.service_id
	            when p.alias is not null then 'S|' || p.alias
	            else 'M|' || p.msisdn end as svc_key
	from p
	left join subs sa on p.alias is not null and sa.service_type = p.service
	                 and sa.service_id = p.alias
	left join subs_by_msisdn sm on p.alias is null and sm.service_type = p.service
	                           and sm.msisdn = p.msisdn
	cross join lateral (select coalesce(sa.service_id, sm.service_id) as service_id,
	                           coalesce(sa.status, sm.status) as status,
	                           coalesce(sa.plan_type, sm.plan_type) as plan_type,
	                           coalesce(sa.plan_code, sm.plan_code) as plan_code) s;
	analyze recon_p;

	-- Services with several live add-ons (SPEC §3.3) of the SKUs configured for the country in a
	-- family (few): how many, and which one the rules show (the earliest started, then the first
	-- line). A small analyzed table; the other add-ons are read where they are, in the rules.
	create temp table recon_multi as
	with a as materialized (  -- (only the columns the count and the choice need)
		select a.service_id, k.family, k.service, a.start_date, a.line
		from ottrecon.bss_addon a
		join recon_sku k on k.sku = a.sku
		where a.snapshot_id = addon_snap and a.status = 'ACTIVE'
		  and (a.end_date is null or a.end_date > d)
	), m as (
		select a.service_id, a.family, a.service, count(*) as n_addons
		from a group by a.service_id, a.family, a.service having count(*) > 1
	)
	select distinct on (a.service_id, a.family, a.service) a.service_id, a.family, a.service,
	       m.n_addons, a.line
	from a join m on m.service_id = a.service_id and m.family = a.family and m.service = a.service
	order by a.service_id, a.family, a.service, a.start_date, a.line;
	analyze recon_multi;

	-- The rules, one statement. Every P meets its family's add-on group (when live) in one hash
	-- full join, read once for the partner-side categories; the groups left without a live P are
	-- the BSS side's candidates. Only the P with a category and those groups are kept in memory
	-- (a tenth of the rows: 1M rows outgrew work_mem).
	create temp table recon_found as
	with live as not materialized (
		select p.* from recon_p p
		where p.product_id is not null and p.status in ('ACTIVE', 'PENDING_UNSUBSCRIPTION')
	), dup_keys as (  -- services with several live P of a family: few
		select l.svc_key, l.family, l.service from live l
		group by l.svc_key, l.family, l.service having count(*) > 1
	), ranks as (  -- so only their P are ranked
		select l.subscription_code, row_number() over (
			partition by l.family, l.service, l.svc_key
			order by l.date_created, l.subscription_code collate "C") as rank_in_service
		from live l
		join dup_keys k on k.svc_key = l.svc_key and k.family = l.family and k.service = l.service
	), joined as (  -- every P, with its family's add-ons when live (P's service: S, else its
		            -- alias), and the add-on groups with no live P
		select p.*, g.service_id as g_service_id, g.family as g_family, g.service as g_service,
		       coalesce(g.n_addons, 0) as n_addons, g.sku as a_sku, g.status as a_status,
		       g.start_date as a_start, g.monthly_price as sku_price, g.msisdn as a_msisdn,
		       g.currency as a_currency
		from (select p.*, pr.sku, pr.monthly_price, pr.currency, p.product_id is not null
		                  and p.status in ('ACTIVE', 'PENDING_UNSUBSCRIPTION') as live
		      from recon_p p
		      left join recon_product pr on pr.product_id = p.product_id) p
		full join (  -- per service and family, its live add-on, or the one shown of several
			select a.service_id, k.family, k.service, coalesce(m.n_addons, 1) as n_addons,
			       a.sku, a.status, a.start_date, k.monthly_price, a.msisdn, k.currency
			from ottrecon.bss_addon a
			join recon_sku k on k.sku = a.sku
			left join recon_multi m on m.service_id = a.service_id and m.family = k.family
			                       and m.service = k.service
			where a.snapshot_id = addon_snap and a.status = 'ACTIVE'
			  and (a.end_date is null or a.end_date > d)
			  and (m.line is null or m.line = a.line)) g
		  on g.service_id = case when p.live then coalesce(p.s_service_id, p.alias) end
		 and g.family = p.family and g.service = p.service
	), found as materialized (  -- the first category that applies to each P (SPEC §5), if any,
		                        -- and the add-on groups with no live P
		-- (add-on columns matter only once S matched: S's service_id is P's alias when P has one)
		select * from (
			select j.*, case
			       when j.product_id is null then
			            case when j.status <> 'UNSUBSCRIBED' then 'UNMAPPED_PRODUCT' end
			       when j.live then case
			            when r.rank_in_service > 1 then 'DUPLICATE_PARTNER_SUBSCRIPTION'
			            when j.s_service_id is null then 'UNKNOWN_SUBSCRIBER'
			            when not j.s_active_postpaid
			              or not exists (select 1 from recon_plan e
			                             where e.product_id = j.product_id
			                               and e.plan_code = j.s_plan_code)
			              then 'NOT_ELIGIBLE'
			            when p_partner_only then null
			            when j.n_addons = 0 then 'PARTNER_ACTIVE_NOT_BILLED'
			            when j.n_addons > 1 then 'DUPLICATE_BSS_ADDON'
			            when j.a_sku <> j.sku then 'PRODUCT_MISMATCH'
			            when abs(j.a_start - (j.date_active at time zone 'UTC')::date) > p_tolerance
			              then 'DATE_MISMATCH'
			            end
			       when j.status = 'PENDING_ACTIVATION'
			        and d - (j.date_created at time zone 'UTC')::date > p_assoc_grace
			            then 'PENDING_ASSOCIATION_STALE'
			       end as category
			from joined j left join ranks r on r.subscription_code = j.subscription_code
		) f where f.category is not null or f.subscription_code is null
	), live_by_msisdn as (  -- live P with neither S nor alias: UNKNOWN_SUBSCRIBER or duplicates
		select f.msisdn, f.family, f.service from found f where f.live and f.svc_key like 'M|%'
	), dead_groups as (  -- add-on groups with no live P of the service by service id
		select f.g_service_id as service_id, f.g_family as family, f.g_service as service,
		       f.n_addons, f.a_sku as sku, f.a_status as status, f.a_start as start_date,
		       f.sku_price as monthly_price, f.a_msisdn as msisdn, f.a_currency as currency
		from found f where f.subscription_code is null
	), dead_keys as (  -- their add-on keys (service_id, SKU: the earliest started row), unless a
		               -- live P belongs to the service by msisdn
		select k.* from (
			select g.service_id, g.msisdn, g.sku, g.status, g.start_date, g.family, g.service,
			       g.monthly_price, g.currency
			from dead_groups g where g.n_addons = 1  -- (its one add-on is its one key)
			union all
			select * from (  -- (several: the earliest started row of each SKU)
				select distinct on (k.service_id, k.family, k.service, k.sku) k.service_id,
				       k.msisdn, k.sku, k.status, k.start_date, k.family, k.service,
				       k.monthly_price, k.currency
				from dead_groups g
				join lateral (  -- (few: by the index)
					select a.service_id, a.msisdn, a.sku, a.status, a.start_date, a.line,
					       x.family, x.service, x.monthly_price, x.currency
					from ottrecon.bss_addon a join recon_sku x on x.sku = a.sku
					where a.snapshot_id = addon_snap and a.service_id = g.service_id
					  and a.status = 'ACTIVE' and (a.end_date is null or a.end_date > d)
					  and x.family = g.family and x.service = g.service
					offset 0) k on true  -- (offset 0: a loop over the few groups, not a join)
				where g.n_addons > 1
				order by k.service_id, k.family, k.service, k.sku, k.start_date, k.line) m
		) k
		where not exists (select 1 from live_by_msisdn l
		                  where l.msisdn = k.msisdn and l.family = k.family
		                    and l.service = k.service)
	), dead_links as (  -- the service keys (recon_p.svc_key) a P of such a key's service has
		select k.service_id, k.sku, k.family, k.service, 'S|' || k.service_id as svc_key
		from dead_keys k
		union all
		select k.service_id, k.sku, k.family, k.service, 'M|' || k.msisdn
		from dead_keys k where k.msisdn is not null
	), bss_latest as (  -- L: the latest P of each such key's service and family
		select distinct on (k.service_id, k.sku) k.service_id as k_service_id, k.sku as k_sku,
		       p.subscription_code, p.alias, p.msisdn, p.product_name, p.status,
		       p.date_active, p.date_unsubscribed
		from dead_links k
		join recon_p p on p.svc_key = k.svc_key and p.family = k.family and p.service = k.service
		where p.product_id is not null
		  and p.svc_key in (select l.svc_key from dead_links l)  -- (hash the few keys, not P)
		order by k.service_id, k.sku, p.date_created desc, p.subscription_code collate "C" desc
	), bss_l as (
		select k.*, lp.subscription_code, lp.alias, lp.msisdn as p_msisdn, lp.product_name,
		       lp.status as p_status, lp.date_active, lp.date_unsubscribed, pl.plan_code
		from dead_keys k
		left join bss_latest lp on lp.k_service_id = k.service_id and lp.k_sku = k.sku
		left join lateral (  -- the service's plan (few keys: by the index, not a scan)
			select x.plan_code from ottrecon.bss_subscriber x
			where x.snapshot_id = sub_snap and x.service_id = k.service_id
			order by x.status = 'ACTIVE' desc, x.line limit 1) pl on true
	)
	-- Partner side: UNMAPPED_PRODUCT (live or pending activation, product not configured),
	-- the live P's categories, PENDING_ASSOCIATION_STALE (created more than the grace before d)
	select s.category || '|' || s.subscription_code as key, s.category,
	       s.service as service_type, s.family, s.subscription_code, s.alias, s.msisdn,
	       s.s_service_id as service_id, s.product_name as partner_product,
	       s.status as partner_status, s.date_active as partner_date_active,
	       s.date_unsubscribed as partner_date_unsubscribed,
	       case when s.category in ('DUPLICATE_BSS_ADDON', 'PRODUCT_MISMATCH', 'DATE_MISMATCH')
	            then s.a_sku end as bss_sku,
	       case when s.category in ('DUPLICATE_BSS_ADDON', 'PRODUCT_MISMATCH', 'DATE_MISMATCH')
	            then s.a_status end as bss_status,
	       case when s.category in ('DUPLICATE_BSS_ADDON', 'PRODUCT_MISMATCH', 'DATE_MISMATCH')
	            then s.a_start end as bss_start_date,
	       s.s_plan_code as plan_code,
	       case s.category when 'PARTNER_ACTIVE_NOT_BILLED' then s.monthly_price
	                       when 'PRODUCT_MISMATCH' then abs(s.monthly_price - s.sku_price)
	                       else 0 end::numeric as amount_at_risk,
	       s.currency
	from found s where s.subscription_code is not null
	union all
	-- BSS side: billed with no live P of the family for the service
	select c.category || '|' || p_country || '|' || c.service_id || '|' || c.sku, c.category,
	       c.service, c.family, c.subscription_code, c.alias, coalesce(c.p_msisdn, c.msisdn),
	       c.service_id, c.product_name, c.p_status, c.date_active, c.date_unsubscribed,
	       c.sku, c.status, c.start_date, c.plan_code, c.monthly_price, c.currency
	from (
		select b.*, case
		       when b.p_status = 'UNSUBSCRIBED' then
		            case when d - (b.date_unsubscribed at time zone 'UTC')::date > p_unsub_grace
		                 then 'UNSUBSCRIBED_STILL_BILLED' end
		       when d - b.start_date > p_assoc_grace then 'BILLED_NOT_ACTIVE_AT_PARTNER'
		       end as category
		from bss_l b
	) c where c.category is not null;
end $$;

-- Records the run of p_country as of d (replacing one of the same pair): its discrepancies with
-- NEW / OPEN against the run of the country with the greatest earlier as-of, and that run's
-- NEW / OPEN items no longer seen as RESOLVED (columns repeated, amount kept). Returns run_id.
create function recon.reconcile_run(p_country text, d date, p_tolerance int,
	p_assoc_grace int, p_unsub_grace int)
returns bigint language plpgsql as $$
declare
	started timestamptz := clock_timestamp();
	run bigint;
	prev bigint;
begin
	delete from recon.item i using recon.run r
	where i.run_id = r.run_id and r.country_code = p_country and r.as_of = d;
	delete from recon.run r where r.country_code = p_country and r.as_of = d;
	perform recon.find_discrepancies(p_country, d, p_tolerance, p_assoc_grace, p_unsub_grace);
	select r.run_id into prev from recon.run r
	where r.country_code = p_country and r.as_of < d order by r.as_of desc limit 1;
	insert into recon.run (country_code, as_of, started_at)
	values (p_country, d, started) returning run_id into run;

	-- (in key order: the primary key's b-tree then only appends, ~30% faster than in any order)
	insert into recon.item (run_id, key, category, state, first_seen, service_type,
		family, subscription_code, alias, msisdn, service_id, partner_product, partner_status,
		partner_date_active, partner_date_unsubscribed, bss_sku, bss_status, bss_start_date,
		plan_code, amount_at_risk, currency)
	select * from (
		select run, f.key, f.category, case when o.key is null then 'NEW' else 'OPEN' end,
		       coalesce(o.first_seen, d), f.service_type, f.family, f.subscription_code, f.alias,
		       f.msisdn, f.service_id, f.partner_product, f.partner_status, f.partner_date_active,
		       f.partner_date_unsubscribed, f.bss_sku, f.bss_status, f.bss_start_date, f.plan_code,
		       f.amount_at_risk, f.currency
		from recon_found f
		left join recon.item o on o.run_id = prev and o.key = f.key
		                               and o.state in ('NEW', 'OPEN')
		union all
		select run, o.key, o.category, 'RESOLVED', o.first_seen, o.service_type, o.family,
		       o.subscription_code, o.alias, o.msisdn, o.service_id, o.partner_product,
		       o.partner_status, o.partner_date_active, o.partner_date_unsubscribed, o.bss_sku,
		       o.bss_status, o.bss_start_date, o.plan_code, o.amount_at_risk, o.currency
		from recon.item o
		where o.run_id = prev and o.state in ('NEW', 'OPEN')
		  and not exists (select 1 from recon_found f where f.key = o.key)
	) i order by i.key;

	update recon.run r set finished_at = clock_timestamp(),
		n_new = c.n_new, n_open = c.n_open, n_resolved = c.n_resolved,
		amount_at_risk = c.amount
	from (select count(*) filter (where state = 'NEW') as n_new,
	             count(*) filter (where state = 'OPEN') as n_open,
	             count(*) filter (where state = 'RESOLVED') as n_resolved,
	             coalesce(sum(amount_at_risk) filter (where state <> 'RESOLVED'), 0) as amount
	      from recon.item where run_id = run) c
	where r.run_id = run;
	drop table if exists recon_p, recon_multi, recon_sku, recon_found;
	return run;
end $$;

-- Report views (SPEC §6), raw values (timestamps in UTC): the CSV writer adds masking and
-- formula escaping.
create view report.discrepancies as
select r.as_of, r.country_code as country, i.category, i.state, i.first_seen,
       r.as_of - i.first_seen as days_open, i.service_type, i.family, i.subscription_code,
       i.alias, i.msisdn, i.service_id, i.partner_product, i.partner_status,
       -- (UTC timestamps truncated to whole seconds, as in the CSV: SPEC §6, §8; a Tableau
       -- session in another time zone shows the same as the report)
       date_trunc('second', i.partner_date_active at time zone 'UTC') as partner_date_active,
       date_trunc('second', i.partner_date_unsubscribed at time zone 'UTC')
         as partner_date_unsubscribed,
       i.bss_sku, i.bss_status,
       i.bss_start_date, i.plan_code, i.amount_at_risk, i.currency, i.key
from recon.run r join recon.item i using (run_id);
comment on view report.discrepancies is 'discrepancies of every reconcile run (SPEC §6)';

create view report.recon_summary as
select d.as_of, d.country, d.service_type, d.family, d.category,
       count(*) filter (where d.state = 'NEW') as new,
       count(*) filter (where d.state = 'OPEN') as open,
       count(*) filter (where d.state = 'RESOLVED') as resolved,
       coalesce(sum(d.amount_at_risk) filter (where d.state <> 'RESOLVED'), 0) as amount_at_risk,
       d.currency
from report.discrepancies d
group by d.as_of, d.country, d.service_type, d.family, d.category, d.currency;
comment on view report.recon_summary is 'discrepancy counts and amount at risk per run (SPEC §6)';

-- Formula-injection guard for report text from input files (SPEC §6).
create function report.csv_safe(t text) returns text language sql immutable as $$
	select case when t ~ '^[=+\-@\t\r]' then '''' || t else t end
$$;

-- mask_pii: only the last 4 characters (SPEC §6).
create function report.mask(t text, masked boolean) returns text language sql immutable as $$
	select case when masked and t is not null then right(t, 4) else t end
$$;
