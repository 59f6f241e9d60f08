-- 004_feed.sql: the files the telco owes the partner (SPEC §3.5 eligibility, §3.6 deactivations).
--
-- The database is the record of what every partner file says, and the file is a rendering of it:
-- `ottrecon eligibility` / `ottrecon churn` compute a file's rows and record them (feed.file plus
-- its rows, and the new state the partner will be in) in one transaction, commit, and only then
-- write the file from those recorded rows (temporary name, fsync, rename, then the .ctl file the
-- same way) and mark it written. A crash before the commit leaves nothing (the next run computes
-- the same file again); a crash after it leaves a recorded file that is not written yet, which
-- the next run writes first, byte for byte the same (the rows are in the database and the order
-- is fixed). So the next delta can neither skip nor repeat a change.
--
-- The rules read the configuration tables of 003_reconcile.sql (recon_country, recon_product,
-- recon_plan), and the deactivations also the temporary tables recon_p and recon_found that
-- recon.find_discrepancies() leaves behind (matched subscriber and §5 category of every P).

create schema feed;
comment on schema feed is 'ottrecon: partner files (eligibility, deactivations) and what they said';

-- One partner file. (kind, country, as_of) has seq 1, or 2, 3, ... for versions written with
-- --force after the earlier one was pushed; the name carries the suffix (_2, _3, ...).
create table feed.file (
	file_id      bigint generated always as identity primary key,
	kind         text not null check (kind in ('eligibility', 'deactivations')),
	country_code text not null,
	as_of        date not null,
	seq          int not null default 1 check (seq >= 1),
	name         text not null unique,
	mode         text check (mode in ('FULL', 'DELTA')),       -- eligibility only
	row_count    bigint not null default 0,
	recorded_at  timestamptz not null default now(),
	written_at   timestamptz,    -- data file and .ctl complete in the outbox (NULL: write pending)
	sha256       text,           -- of the data file, once written
	unique (kind, country_code, as_of, seq)
);
comment on table feed.file is 'partner files recorded and written (SPEC §3.5, §3.6)';

-- What the partner has been told is eligible, per country: the union of every ADD not yet
-- followed by a REMOVE (a full file resets it). msisdn is '' for a service without one.
create table feed.eligibility_pair (
	country_code     text not null,
	telco_code       text not null,
	alias            text not null,
	msisdn           text not null,
	product_name     text not null,
	eligibility_type text not null,
	primary key (country_code, alias, product_name, eligibility_type, msisdn, telco_code)
);
comment on table feed.eligibility_pair is 'eligible pairs as the partner knows them after the last eligibility file';

-- The rows of each eligibility file, and what each did to feed.eligibility_pair (so that a file
-- not yet pushed can be taken back and written again): ADDED / REMOVED / KEPT. A full file's
-- pairs that were known and are no longer eligible are REMOVED without a row in the file
-- (action NULL): the full file replaces the partner's list.
create table feed.eligibility_row (
	file_id          bigint not null references feed.file on delete cascade,
	country_code     text not null,
	telco_code       text not null,
	alias            text not null,
	msisdn           text not null,
	product_name     text not null,
	eligibility_type text not null,
	action           text check (action in ('ADD', 'REMOVE')),
	effect           text not null check (effect in ('ADDED', 'REMOVED', 'KEPT'))
);
create index eligibility_row_file_idx on feed.eligibility_row (file_id);

-- Deactivation (early-churn) requests: the rows of the deactivations files. An open request is
-- closed when the partner reports the subscription PENDING_UNSUBSCRIPTION or UNSUBSCRIBED.
create table feed.deactivation_request (
	file_id           bigint not null references feed.file on delete cascade,
	country_code      text not null,
	telco_code        text not null,
	subscription_code text not null,
	alias             text,
	msisdn            text,
	product_name      text not null,
	reason            text not null check (reason in ('CHURN', 'PLAN_MIGRATION', 'NUMBER_CHANGE',
	                                                  'NON_PAYMENT', 'NOT_ELIGIBLE')),
	request_date      date not null,
	closed_on         date,        -- the as-of date of the run that saw the partner close it
	closed_status     text,
	primary key (file_id, subscription_code)
);
create index deactivation_request_code_idx
	on feed.deactivation_request (country_code, subscription_code, request_date);
comment on table feed.deactivation_request is 'early-churn requests sent to the partner (SPEC §3.6)';

-- Applies the effect of file p_file_id's rows on feed.eligibility_pair (its REMOVED pairs out,
-- its ADDED pairs in), or with p_undo takes it back (ADDED out, REMOVED in). Only the latest
-- file of a country is ever taken back, so neither direction can meet a pair already there.
create function feed.apply_effects(p_file_id bigint, p_undo boolean)
returns void language plpgsql as $$
begin
	delete from feed.eligibility_pair p
	using feed.eligibility_row r
	where r.file_id = p_file_id
	  and r.effect = case when p_undo then 'ADDED' else 'REMOVED' end
	  and p.country_code = r.country_code and p.alias = r.alias
	  and p.product_name = r.product_name and p.eligibility_type = r.eligibility_type
	  and p.msisdn = r.msisdn and p.telco_code = r.telco_code;
	insert into feed.eligibility_pair (country_code, telco_code, alias, msisdn, product_name,
	                                   eligibility_type)
	select r.country_code, r.telco_code, r.alias, r.msisdn, r.product_name, r.eligibility_type
	from feed.eligibility_row r
	where r.file_id = p_file_id
	  and r.effect = case when p_undo then 'REMOVED' else 'ADDED' end;
end $$;

-- Takes back a file that was recorded but not pushed (it is about to be replaced): undoes its
-- effect on the eligible pairs and forgets it and its rows.
create function feed.revert_file(p_file_id bigint)
returns void language plpgsql as $$
begin
	perform feed.apply_effects(p_file_id, true);
	delete from feed.file where file_id = p_file_id;  -- its rows and requests go with it
end $$;

-- Records the eligibility file p_name of p_country as of d (SPEC §3.5): eligible pairs from the
-- latest subscriber snapshot dated <= d (one row per service id, an ACTIVE one first, as §5
-- matches them): ACTIVE, POSTPAID, of the product's service, plan in eligible_plans. p_full:
-- every pair ADD; else ADD for new pairs and REMOVE for pairs no longer eligible. Returns file_id.
create function feed.record_eligibility(p_country text, d date, p_full boolean, p_name text,
	p_seq int, p_sub_snap bigint)
returns bigint language plpgsql
-- (enable_sort off: the pairs are made unique by hashing; the sort the planner chose for 2.3M
-- pairs at 1M subscribers went to disk, 6.7 s against 4.3 s)
set enable_nestloop = off set enable_sort = off set work_mem = '256MB' set jit = off as $$
declare
	f bigint;
	n bigint;
begin
	drop table if exists feed_new;
	create temp table feed_new as
	with subs as (  -- one row per service: the loader marked the others superseded
		select x.service_type, x.service_id, x.msisdn, x.status, x.plan_type, x.plan_code
		from ottrecon.bss_subscriber x where x.snapshot_id = p_sub_snap and not x.superseded
	)
	select distinct c.country_code, c.telco_code, s.service_id as alias,
	       coalesce(s.msisdn, '') as msisdn, pr.partner_product as product_name,
	       pr.kind as eligibility_type
	from subs s
	join recon_product pr on pr.country_code = p_country and pr.service = s.service_type
	join recon_plan e on e.product_id = pr.product_id and e.plan_code = s.plan_code
	join recon_country c on c.country_code = p_country
	where s.status = 'ACTIVE' and s.plan_type = 'POSTPAID';
	analyze feed_new;

	insert into feed.file (kind, country_code, as_of, seq, name, mode)
	values ('eligibility', p_country, d, p_seq, p_name,
	        case when p_full then 'FULL' else 'DELTA' end)
	returning file_id into f;

	insert into feed.eligibility_row (file_id, country_code, telco_code, alias, msisdn,
	                                  product_name, eligibility_type, action, effect)
	select f, n.country_code, n.telco_code, n.alias, n.msisdn, n.product_name,
	       n.eligibility_type, 'ADD',
	       case when p.alias is null then 'ADDED' else 'KEPT' end
	from feed_new n
	left join feed.eligibility_pair p
	  on p.country_code = n.country_code and p.alias = n.alias and p.product_name = n.product_name
	 and p.eligibility_type = n.eligibility_type and p.msisdn = n.msisdn
	 and p.telco_code = n.telco_code
	where p_full or p.alias is null
	union all
	select f, p.country_code, p.telco_code, p.alias, p.msisdn, p.product_name,
	       p.eligibility_type, case when p_full then null else 'REMOVE' end, 'REMOVED'
	from feed.eligibility_pair p
	where p.country_code = p_country
	  and not exists (select 1 from feed_new n
	                  where p.alias = n.alias and p.product_name = n.product_name
	                    and p.eligibility_type = n.eligibility_type and p.msisdn = n.msisdn
	                    and p.telco_code = n.telco_code);

	perform feed.apply_effects(f, false);

	select count(*) into n from feed.eligibility_row r
	where r.file_id = f and r.action is not null;
	update feed.file set row_count = n where file_id = f;
	drop table feed_new;
	return f;
end $$;

-- Records the deactivations file p_name of p_country as of d (SPEC §3.6, §8 Deactivations), from
-- recon_p / recon_found of recon.find_discrepancies(p_country, d, ...) run just before in the
-- same transaction. First closes the open requests the partner has acted on. Returns file_id.
create function feed.record_deactivations(p_country text, d date, p_name text, p_seq int)
returns bigint language plpgsql
set enable_nestloop = off set work_mem = '256MB' set jit = off as $$
declare
	f bigint;
	n bigint;
begin
	update feed.deactivation_request q set closed_on = d, closed_status = p.status
	from recon_p p
	where q.country_code = p_country and q.closed_on is null and q.request_date <= d
	  and p.subscription_code = q.subscription_code
	  and p.status in ('PENDING_UNSUBSCRIPTION', 'UNSUBSCRIBED');

	insert into feed.file (kind, country_code, as_of, seq, name)
	values ('deactivations', p_country, d, p_seq, p_name)
	returning file_id into f;

	insert into feed.deactivation_request (file_id, country_code, telco_code, subscription_code,
		alias, msisdn, product_name, reason, request_date)
	with p as (  -- ACTIVE as of d (not pending unsubscription: already leaving), mapped product
		select p.* from recon_p p where p.product_id is not null and p.status = 'ACTIVE'
	), links as (  -- how a churn event belongs to P: the matched S, else the alias, else msisdn
		select p.subscription_code, p.product_id, p.service, p.date_created,
		       coalesce(p.s_service_id, p.alias) as link_service_id,
		       case when p.s_service_id is null and p.alias is null then p.msisdn end as link_msisdn
		from p
	), events as (
		select l.subscription_code, l.product_id, e.event_type, e.event_date, e.new_plan
		from links l join ottrecon.bss_churn_event e
		  on e.country_code = p_country and e.service_type = l.service
		 and e.service_id = l.link_service_id
		where e.event_date > (l.date_created at time zone 'UTC')::date and e.event_date <= d
		union all
		select l.subscription_code, l.product_id, e.event_type, e.event_date, e.new_plan
		from links l join ottrecon.bss_churn_event e
		  on e.country_code = p_country and e.service_type = l.service
		 and e.msisdn = l.link_msisdn
		where e.event_date > (l.date_created at time zone 'UTC')::date and e.event_date <= d
	), latest as (  -- the latest event; on one date CHURN, NUMBER_CHANGE, PLAN_MIGRATION, NON_PAYMENT
		select distinct on (v.subscription_code) v.subscription_code, v.event_type
		from events v
		where v.event_type <> 'PLAN_MIGRATION'
		   or not exists (select 1 from recon_plan x
		                  where x.product_id = v.product_id and x.plan_code = v.new_plan)
		order by v.subscription_code, v.event_date desc,
		         array_position(array['CHURN', 'NUMBER_CHANGE', 'PLAN_MIGRATION', 'NON_PAYMENT'],
		                        v.event_type)
	), not_eligible as (
		select f2.subscription_code from recon_found f2 where f2.category = 'NOT_ELIGIBLE'
	)
	select f, p_country, c.telco_code, p.subscription_code, p.alias, p.msisdn, p.product_name,
	       coalesce(l.event_type, 'NOT_ELIGIBLE'), d
	from p
	join recon_country c on c.country_code = p_country
	left join latest l on l.subscription_code = p.subscription_code
	where (l.subscription_code is not null
	       or p.subscription_code in (select ne.subscription_code from not_eligible ne))
	  and not exists (select 1 from feed.deactivation_request q  -- not again within 7 days
	                  where q.country_code = p_country and q.subscription_code = p.subscription_code
	                    and q.request_date <= d and d - q.request_date < 7);

	get diagnostics n = row_count;
	update feed.file set row_count = n where file_id = f;
	return f;
end $$;

-- For analysts and ops: every partner file with its state.
create view report.partner_files as
select f.name, f.kind, f.country_code as country, f.as_of, f.seq, f.mode, f.row_count,
       f.recorded_at, f.written_at, f.sha256
from feed.file f;
comment on view report.partner_files is 'eligibility and deactivation files recorded and written';
