-- 002_load.sql: how a loaded file becomes data (SPEC §3, §4). The loader COPYs each file's valid
-- rows, already normalised (UTC timestamps, E.164 MSISDNs, upper-case enums), into a temporary
-- stage table of text columns (stage_<layout>, dropped at commit), then calls one of these
-- functions in the same transaction: a file loads whole or not at all.

-- Status rank of a partner row judged on all its dates (SPEC §3.1 duplicate rule):
-- PENDING_ACTIVATION 0 < ACTIVE 1 < PENDING_UNSUBSCRIPTION 2 < UNSUBSCRIBED 3.
create function ottrecon.status_rank(date_active anyelement, date_pending anyelement,
                                     date_unsubscribed anyelement)
returns int language sql immutable as $$
	select case when date_unsubscribed is not null then 3
	            when date_pending is not null then 2
	            when date_active is not null then 1
	            else 0 end
$$;

-- Status of a partner subscription as of the end of UTC day d (SPEC §3.1, §1).
create function ottrecon.partner_status(date_active timestamptz, date_pending timestamptz,
                                        date_unsubscribed timestamptz, d date)
returns text language sql immutable as $$
	select case when (date_unsubscribed at time zone 'UTC')::date <= d then 'UNSUBSCRIBED'
	            when (date_pending at time zone 'UTC')::date <= d then 'PENDING_UNSUBSCRIPTION'
	            when (date_active at time zone 'UTC')::date <= d then 'ACTIVE'
	            else 'PENDING_ACTIVATION' end
$$;

-- A subscriptionCode twice in one file: the most advanced status wins, on a tie the later line.
-- Deletes the losers from the stage and returns their lines, for the reject file.
create function ottrecon.stage_activations_dedupe()
returns table (line bigint) language plpgsql as $$
begin
	return query
	with dup_codes as (
		select s.subscription_code from stage_docomo_activations s
		group by s.subscription_code having count(*) > 1
	), ranked as (
		select s.line, row_number() over (
			partition by s.subscription_code
			order by ottrecon.status_rank(s.date_active, s.date_pending_unsubscription,
			                              s.date_unsubscribed) desc, s.line desc) as rn
		from stage_docomo_activations s join dup_codes using (subscription_code)
	), losers as (
		delete from stage_docomo_activations s using ranked r
		where s.line = r.line and r.rn > 1
		returning s.line
	)
	select l.line from losers l order by l.line;
end $$;

-- Loads the stage into history and current state. mode 'DELTA': a later row for a code updates
-- it. mode 'SNAPSHOT': the file is the whole list of its countries, codes of those countries
-- absent from it leave the current state (their history stays).
create function ottrecon.merge_activations(p_file_id bigint, p_mode text,
	out inserted bigint, out updated bigint, out went_backwards bigint,
	out dates_out_of_order bigint, out removed bigint)
language plpgsql as $$
begin
	insert into ottrecon.partner_row (file_id, line, country_code, site_code, product_name,
		subscription_code, msisdn, alias, telco_code, date_created, date_active,
		date_pending_unsubscription, date_unsubscribed, unsubscription_source, flags)
	select p_file_id, s.line, s.country_code, s.site_code, s.product_name, s.subscription_code,
	       s.msisdn, s.alias, s.telco_code, s.date_created::timestamptz,
	       s.date_active::timestamptz, s.date_pending_unsubscription::timestamptz,
	       s.date_unsubscribed::timestamptz, s.unsubscription_source,
	       case when s.date_active::timestamptz < s.date_created::timestamptz
	              or s.date_pending_unsubscription::timestamptz < s.date_active::timestamptz
	              or s.date_unsubscribed::timestamptz < s.date_active::timestamptz
	              or s.date_unsubscribed::timestamptz < s.date_created::timestamptz
	            then array['DATES_OUT_OF_ORDER'] else '{}'::text[] end
	from stage_docomo_activations s;
	get diagnostics inserted = row_count;

	select count(*) into dates_out_of_order from ottrecon.partner_row r
	where r.file_id = p_file_id and 'DATES_OUT_OF_ORDER' = any (r.flags);

	-- A status that goes backwards across files (UNSUBSCRIBED, then ACTIVE again) is applied as
	-- the partner says, and flagged so that it is seen.
	with incoming as (
		select r.* from ottrecon.partner_row r where r.file_id = p_file_id
	), up as (
		insert into ottrecon.partner_subscription as p (subscription_code, country_code,
			site_code, product_name, msisdn, alias, telco_code, date_created, date_active,
			date_pending_unsubscription, date_unsubscribed, unsubscription_source, flags,
			file_id, line, first_seen_file_id, updated_at)
		select i.subscription_code, i.country_code, i.site_code, i.product_name, i.msisdn,
		       i.alias, i.telco_code, i.date_created, i.date_active,
		       i.date_pending_unsubscription, i.date_unsubscribed, i.unsubscription_source,
		       i.flags, i.file_id, i.line, i.file_id, now()
		from incoming i
		on conflict (subscription_code) do update set
			country_code = excluded.country_code, site_code = excluded.site_code,
			product_name = excluded.product_name, msisdn = excluded.msisdn,
			alias = excluded.alias, telco_code = excluded.telco_code,
			date_created = excluded.date_created, date_active = excluded.date_active,
			date_pending_unsubscription = excluded.date_pending_unsubscription,
			date_unsubscribed = excluded.date_unsubscribed,
			unsubscription_source = excluded.unsubscription_source,
			flags = excluded.flags || case
				when ottrecon.status_rank(excluded.date_active,
				         excluded.date_pending_unsubscription, excluded.date_unsubscribed)
				   < ottrecon.status_rank(p.date_active, p.date_pending_unsubscription,
				         p.date_unsubscribed)
				then array['STATUS_BACKWARDS'] else '{}'::text[] end,
			file_id = excluded.file_id, line = excluded.line, updated_at = now()
		returning (xmax = 0) as is_insert, 'STATUS_BACKWARDS' = any (p.flags) as backwards
	)
	select count(*) filter (where not is_insert), count(*) filter (where backwards)
	into updated, went_backwards from up;

	removed := 0;
	if p_mode = 'SNAPSHOT' then
		delete from ottrecon.partner_subscription p
		where p.country_code in (select distinct s.country_code from stage_docomo_activations s)
		  and not exists (select 1 from stage_docomo_activations s
		                  where s.subscription_code = p.subscription_code);
		get diagnostics removed = row_count;
	end if;
end $$;

-- A BSS subscribers or add-ons file is a full snapshot, as of p_as_of, of every country in it:
-- it replaces that layout's snapshot for those countries and that date; earlier dates stay.
create function ottrecon.merge_bss_snapshot(p_file_id bigint, p_layout text, p_as_of date)
returns table (country_code text, rows_loaded bigint, replaced boolean)
language plpgsql as $$
declare
	c text;
	snap bigint;
	n bigint;
	old_rows bigint;
begin
	for c in execute format('select distinct country_code from %I order by 1', 'stage_' || p_layout)
	loop
		delete from ottrecon.bss_snapshot b
		where b.layout = p_layout and b.country_code = c and b.as_of = p_as_of
		returning b.rows into old_rows;
		insert into ottrecon.bss_snapshot (layout, country_code, as_of, file_id)
		values (p_layout, c, p_as_of, p_file_id) returning snapshot_id into snap;
		if p_layout = 'bss_subscribers' then
			insert into ottrecon.bss_subscriber (snapshot_id, line, country_code, service_type,
				service_id, account_id, msisdn, plan_code, plan_type, status, status_date)
			select snap, s.line, s.country_code, s.service_type, s.service_id, s.account_id,
			       s.msisdn, s.plan_code, s.plan_type, s.status, s.status_date::date
			from stage_bss_subscribers s where s.country_code = c;
		else
			insert into ottrecon.bss_addon (snapshot_id, line, country_code, service_type,
				service_id, account_id, msisdn, sku, status, start_date, end_date,
				monthly_price, currency, channel, updated_at)
			select snap, s.line, s.country_code, s.service_type, s.service_id, s.account_id,
			       s.msisdn, s.sku, s.status, s.start_date::date, s.end_date::date,
			       s.monthly_price::numeric, s.currency, s.channel, s.updated_at::timestamptz
			from stage_bss_addons s where s.country_code = c;
		end if;
		get diagnostics n = row_count;
		update ottrecon.bss_snapshot set rows = n where snapshot_id = snap;
		country_code := c;
		rows_loaded := n;
		replaced := old_rows is not null;
		return next;
	end loop;
end $$;

-- Churn events accumulate; one already loaded (same country, service_id, event_type and
-- event_date) is not added twice. Returns how many were new.
create function ottrecon.merge_churn(p_file_id bigint, out added bigint)
language plpgsql as $$
begin
	insert into ottrecon.bss_churn_event (file_id, line, country_code, service_type, service_id,
		msisdn, event_type, event_date, old_plan, new_plan, new_msisdn)
	select p_file_id, s.line, s.country_code, s.service_type, s.service_id, s.msisdn,
	       s.event_type, s.event_date::date, s.old_plan, s.new_plan, s.new_msisdn
	from stage_bss_churn s
	order by s.line
	on conflict (country_code, service_id, event_type, event_date) do nothing;
	get diagnostics added = row_count;
end $$;
