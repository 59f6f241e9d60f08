-- 005_ops.sql: the configuration as the database last saw it, monthly KPIs (SPEC §6), and the
-- record of nightly runs and their steps (SPEC §7, for `ottrecon status`).

-- The configured countries, products and settings, saved by every command that applies the
-- rules (from the temporary tables of 003_reconcile.sql, in its transaction), so that the report
-- views an analyst opens in Tableau use the same products as the last run.
create schema conf;
comment on schema conf is 'ottrecon: the configuration (countries, products) as of the last run';

create table conf.country (
	country_code text primary key,
	telco_code   text not null
);
create table conf.product (
	product_id      int primary key,
	country_code    text not null,
	site            text not null,
	partner_product text not null,
	family          text not null,
	service         text not null,
	kind            text not null,
	sku             text not null,
	monthly_price   numeric not null,
	currency        text not null
);
create table conf.plan (
	product_id int not null,
	plan_code  text not null
);
create table conf.setting (
	name  text primary key,
	value text not null
);

-- Replaces conf.* with the temporary configuration tables of this session.
create function conf.save(p_free_period_days int)
returns void language plpgsql as $$
begin
	delete from conf.plan;
	delete from conf.product;
	delete from conf.country;
	insert into conf.country select country_code, telco_code from recon_country;
	insert into conf.product select product_id, country_code, site, partner_product, family,
	                                service, kind, sku, monthly_price, currency
	from recon_product;
	insert into conf.plan select product_id, plan_code from recon_plan;
	insert into conf.setting values ('free_period_days', p_free_period_days::text)
	on conflict (name) do update set value = excluded.value;
end $$;

-- KPIs of month p_month (any date in it) per country, service and family (SPEC §6), from
-- everything loaded so far, every status as of E = the month's last day. Partner rows count only
-- for a configured country with its telco_code and a configured product (unmapped products are
-- left out of every KPI); a subscription created after E does not exist yet. Reads conf.*.
create function report.kpi(p_month date)
returns table (month text, country text, service_type text, family text, sales bigint,
               associations bigint, association_rate numeric, free_period bigint, paying bigint,
               bundled bigint, postpaid_base bigint, penetration numeric, deactivations bigint,
               deactivations_user bigint, deactivations_telco bigint,
               deactivations_partner bigint)
language sql stable
set enable_nestloop = off set work_mem = '256MB' set jit = off as $$
	with bounds as (
		select date_trunc('month', p_month)::date as m0,
		       (date_trunc('month', p_month) + interval '1 month - 1 day')::date as e,
		       coalesce((select s.value::int from conf.setting s
		                 where s.name = 'free_period_days'), 90) as free_days
	), fam as (  -- every configured (country, service, family): a row even when all is zero
		select distinct pr.country_code, pr.service, pr.family from conf.product pr
	), p as (
		select pr.country_code, pr.service, pr.family, pr.kind, x.alias, x.msisdn,
		       (x.date_created at time zone 'UTC')::date as created,
		       (x.date_active at time zone 'UTC')::date as active,
		       (x.date_unsubscribed at time zone 'UTC')::date as unsubscribed,
		       x.unsubscription_source as source,
		       ottrecon.partner_status(x.date_active, x.date_pending_unsubscription,
		                               x.date_unsubscribed, b.e) as status
		from ottrecon.partner_subscription x
		cross join bounds b
		join conf.country c on c.country_code = x.country_code and c.telco_code = x.telco_code
		join conf.product pr on pr.country_code = x.country_code and pr.site = x.site_code
		                    and pr.partner_product = x.product_name
		where (x.date_created at time zone 'UTC')::date <= b.e
	), partner as (
		select p.country_code, p.service, p.family,
		       count(*) filter (where p.created >= b.m0) as sales,
		       count(*) filter (where p.active between b.m0 and b.e) as associations,
		       count(*) filter (where p.created >= b.m0 and p.active <= b.e) as sales_active,
		       count(*) filter (where p.kind = 'ADDON' and p.status in ('ACTIVE',
		                        'PENDING_UNSUBSCRIPTION') and b.e - p.active < b.free_days)
		           as free_period,
		       count(*) filter (where p.kind = 'ADDON' and p.status in ('ACTIVE',
		                        'PENDING_UNSUBSCRIPTION') and b.e - p.active >= b.free_days)
		           as paying,
		       count(*) filter (where p.kind = 'BUNDLE' and p.status in ('ACTIVE',
		                        'PENDING_UNSUBSCRIPTION')) as bundled,
		       count(*) filter (where p.unsubscribed between b.m0 and b.e) as deactivations,
		       count(*) filter (where p.unsubscribed between b.m0 and b.e
		                        and p.source = 'USER') as deactivations_user,
		       count(*) filter (where p.unsubscribed between b.m0 and b.e
		                        and p.source = 'TELCO') as deactivations_telco,
		       count(*) filter (where p.unsubscribed between b.m0 and b.e
		                        and p.source in ('PARTNER', 'DOCOMO', 'AMAZON'))
		           as deactivations_partner
		from p cross join bounds b
		group by p.country_code, p.service, p.family
	), snap as (  -- per country, the latest subscriber snapshot dated <= E
		select distinct on (s.country_code) s.country_code, s.snapshot_id
		from ottrecon.bss_snapshot s cross join bounds b
		where s.layout = 'bss_subscribers' and s.as_of <= b.e
		order by s.country_code, s.as_of desc
	), base as (  -- ACTIVE POSTPAID services of that snapshot: of a service repeated in it,
		          -- only the row that counts (the loader marked the others superseded)
		select distinct x.country_code, x.service_type, x.service_id
		from ottrecon.bss_subscriber x join snap using (snapshot_id)
		where x.status = 'ACTIVE' and x.plan_type = 'POSTPAID' and not x.superseded
	), base_n as (
		select b.country_code, b.service_type, count(distinct b.service_id) as n
		from base b group by b.country_code, b.service_type
	), by_msisdn as (  -- the one subscriber a P without an alias matches, as reconcile picks
		               -- it: an ACTIVE row first, then the smallest service id and file line;
		               -- only the msisdns of those P (few) are looked up
		select distinct on (x.country_code, x.service_type, x.msisdn) x.country_code,
		       x.service_type, x.msisdn, x.service_id
		from ottrecon.bss_subscriber x join snap using (snapshot_id)
		where x.msisdn in (select l.msisdn from p l where l.alias is null)
		order by x.country_code, x.service_type, x.msisdn, x.status = 'ACTIVE' desc,
		         x.service_id, x.line
	), covered as (  -- services of the base with a live P of the family (matched as in §5:
		             -- by alias when P has one, else by msisdn); the base is joined once, on
		             -- the whole key (joined in each branch, the planner's poor estimate of p
		             -- let it pair the base with the P without an alias on country and service)
		select m.country_code, m.service, m.family, count(distinct m.service_id) as n
		from (select l.country_code, l.service, l.family, l.alias as service_id
		      from p l
		      where l.alias is not null and l.status in ('ACTIVE', 'PENDING_UNSUBSCRIPTION')
		      union all
		      select l.country_code, l.service, l.family, s.service_id
		      from p l join by_msisdn s on s.country_code = l.country_code
		                               and s.service_type = l.service and s.msisdn = l.msisdn
		      where l.alias is null and l.status in ('ACTIVE', 'PENDING_UNSUBSCRIPTION')) m
		join base b on b.country_code = m.country_code and b.service_type = m.service
		           and b.service_id = m.service_id
		group by m.country_code, m.service, m.family
	)
	select to_char(b.m0, 'YYYY-MM'), f.country_code, f.service, f.family,
	       coalesce(pa.sales, 0), coalesce(pa.associations, 0),
	       case when coalesce(pa.sales, 0) > 0
	            then round(pa.sales_active::numeric / pa.sales, 4) end,
	       coalesce(pa.free_period, 0), coalesce(pa.paying, 0), coalesce(pa.bundled, 0),
	       coalesce(bn.n, 0),
	       case when coalesce(bn.n, 0) > 0 then round(coalesce(cv.n, 0)::numeric / bn.n, 4) end,
	       coalesce(pa.deactivations, 0), coalesce(pa.deactivations_user, 0),
	       coalesce(pa.deactivations_telco, 0), coalesce(pa.deactivations_partner, 0)
	from fam f cross join bounds b
	left join partner pa on pa.country_code = f.country_code and pa.service = f.service
	                    and pa.family = f.family
	left join base_n bn on bn.country_code = f.country_code and bn.service_type = f.service
	left join covered cv on cv.country_code = f.country_code and cv.service = f.service
	                    and cv.family = f.family
$$;

-- Every month from the first partner subscription to the current one (filter on month to
-- compute one: `select * from report.kpi_monthly where month = '2026-11'`).
create view report.kpi_monthly as
select k.*
from (select to_char(m, 'YYYY-MM') as month, m::date as month_start
      from generate_series(
	      (select date_trunc('month', min(x.date_created at time zone 'UTC'))
	       from ottrecon.partner_subscription x),
	      date_trunc('month', now() at time zone 'UTC'), interval '1 month') m) months
cross join lateral report.kpi(months.month_start) k;
comment on view report.kpi_monthly is 'monthly KPIs per country, service and family (SPEC §6)';

-- Nightly runs (and any other job that records itself) and their steps.
create schema ops;
comment on schema ops is 'ottrecon: nightly runs and their steps (for ottrecon status)';

create table ops.run (
	run_id      bigint generated always as identity primary key,
	command     text not null,
	as_of       date not null,
	started_at  timestamptz not null default now(),
	finished_at timestamptz,
	exit_code   int,
	host        text,
	pid         int
);
create table ops.step (
	run_id      bigint not null references ops.run on delete cascade,
	step        text not null,
	started_at  timestamptz not null,
	finished_at timestamptz,
	exit_code   int,
	outcome     text not null check (outcome in ('OK', 'FAILED', 'SKIPPED')),
	detail      text,
	primary key (run_id, step)
);
comment on table ops.run is 'nightly runs: when, as of what date, how they ended';
comment on table ops.step is 'the steps of each nightly run: outcome, duration, counts';
