-- 002_load.sql: how a loaded file becomes data (SPEC §3, §4). The loader COPYs each file's valid
-- rows, already normalised (UTC timestamps, E.164 MSISDNs, upper-case enums): partner rows
-- straight into ottrecon.partner_row, BSS rows into a temporary stage table of text columns
-- (stage_<layout>, dropped at commit). Then it calls one of these functions in the same
-- transaction: a file loads whole or not at all.

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
-- The loader COPYs activation rows straight into ottrecon.partner_row (no stage: it is the one
-- big write), and the codes that a Bloom filter saw twice while reading (a superset of the codes
-- that repeat, usually a small one) into the temporary table dup_candidates; this deletes the
-- losers of file p_file_id among those and returns their lines, for the rejects.
-- The planner cannot know how many rows a file just COPYed has (statistics lag behind; after an
-- ANALYZE of older data it guesses 1) and would pick nested loops that rerun a scan per row:
-- these functions are meant for hash joins and say so.
-- p_part is the file's partition key (0, or its file_id when it has a partition of its own).
create function ottrecon.dedupe_activations(p_file_id bigint, p_part bigint)
returns table (line bigint) language plpgsql
set enable_nestloop = off set work_mem = '256MB' as $$
begin
	return query
	with dup_codes as (
		select r.subscription_code from ottrecon.partner_row r
		join (select distinct code from dup_candidates) c on c.code = r.subscription_code
		where r.part = p_part and r.file_id = p_file_id
		group by r.subscription_code having count(*) > 1
	), ranked as (
		select r.line, row_number() over (
			partition by r.subscription_code
			order by ottrecon.status_rank(r.date_active, r.date_pending_unsubscription,
			                              r.date_unsubscribed) desc, r.line desc) as rn
		from ottrecon.partner_row r join dup_codes using (subscription_code)
		where r.part = p_part and r.file_id = p_file_id
	), losers as (
		delete from ottrecon.partner_row r using ranked k
		where r.part = p_part and r.file_id = p_file_id and r.line = k.line and k.rn > 1
		returning r.line
	)
	select l.line from losers l order by l.line;
end $$;

-- Applies file p_file_id's rows (already in ottrecon.partner_row, one per code, is_current) to
-- the current state. mode 'DELTA': a later row for a code supersedes the earlier one. mode
-- 'SNAPSHOT': the file is the whole list of its countries; codes of those countries absent from
-- it stop being current (their history stays). Set-wise: hash joins, no index on the code.
create function ottrecon.merge_activations(p_file_id bigint, p_part bigint, p_mode text,
	out superseded bigint, out went_backwards bigint, out removed bigint)
language plpgsql set enable_nestloop = off set work_mem = '256MB' as $$
begin
	superseded := 0;
	went_backwards := 0;
	removed := 0;
	-- Loads take turns (the loader's advisory lock) and file ids grow, so what this file may
	-- supersede is in older files; on a first load there is none, and the manifest says so
	-- without reading partner_row (BRIN cannot skip the pages this load just wrote: they are not
	-- summarised yet, so asking partner_row would read the whole file's rows again).
	if not exists (select 1 from ottrecon.load_file f
	               where f.file_id < p_file_id and f.layout = 'docomo_activations'
	                 and f.outcome = 'LOADED') then
		return;
	end if;

	-- A status that goes backwards across files (UNSUBSCRIBED, then ACTIVE again) is applied as
	-- the partner says, and flagged so that it is seen.
	update ottrecon.partner_row n set flags = n.flags || array['STATUS_BACKWARDS']
	from ottrecon.partner_row o
	where n.part = p_part and n.file_id = p_file_id and o.subscription_code = n.subscription_code
	  and o.is_current and o.file_id < p_file_id
	  and ottrecon.status_rank(n.date_active, n.date_pending_unsubscription, n.date_unsubscribed)
	    < ottrecon.status_rank(o.date_active, o.date_pending_unsubscription, o.date_unsubscribed);
	get diagnostics went_backwards = row_count;

	update ottrecon.partner_row o set is_current = false
	from ottrecon.partner_row n
	where n.part = p_part and n.file_id = p_file_id and o.subscription_code = n.subscription_code
	  and o.is_current and o.file_id < p_file_id;
	get diagnostics superseded = row_count;

	if p_mode = 'SNAPSHOT' then
		update ottrecon.partner_row o set is_current = false
		where o.is_current and o.file_id < p_file_id
		  and o.country_code in (select distinct r.country_code from ottrecon.partner_row r
		                         where r.part = p_part and r.file_id = p_file_id);
		get diagnostics removed = row_count;
	end if;
end $$;

-- A partition of ottrecon.partner_row of its own for the rows of the large file p_file_id (see
-- sql/001_init.sql), created in the load's transaction: it goes with the load if that rolls back.
-- Created apart and then attached, because CREATE TABLE ... PARTITION OF would lock partner_row
-- against readers until the load commits; ATTACH takes a lock that lets them (and the merge's
-- updates) through, and has nothing to check in an empty table. Returns the table to COPY into.
create function ottrecon.create_file_partition(p_file_id bigint)
returns text language plpgsql as $$
declare
	t text := format('ottrecon.%I', 'partner_row_' || p_file_id);
begin
	execute format('create table %s (like ottrecon.partner_row including defaults'
	               ' including constraints)', t);
	execute format('alter table %s alter column part set default %s', t, p_file_id);
	execute format('alter table ottrecon.partner_row attach partition %s for values in (%s)',
	               t, p_file_id);
	return t;
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
		snap := null;
		old_rows := null;
		delete from ottrecon.bss_snapshot b
		where b.layout = p_layout and b.country_code = c and b.as_of = p_as_of
		returning b.snapshot_id, b.rows into snap, old_rows;
		if snap is not null then
			delete from ottrecon.bss_subscriber x where x.snapshot_id = snap;
			delete from ottrecon.bss_addon x where x.snapshot_id = snap;
		end if;
		insert into ottrecon.bss_snapshot (layout, country_code, as_of, file_id)
		values (p_layout, c, p_as_of, p_file_id) returning snapshot_id into snap;
		if p_layout = 'bss_subscribers' then
			-- One row counts per service (service_id, service_type): an ACTIVE one first,
			-- then the first line; the others are marked superseded. Only the service ids the
			-- loader saw twice (dup_candidates, few) can repeat, so only those are ranked.
			insert into ottrecon.bss_subscriber (snapshot_id, line, country_code, service_type,
				service_id, account_id, msisdn, plan_code, plan_type, status, status_date,
				superseded)
			with ranked as (
				select s.line, row_number() over (
					partition by s.service_id, s.service_type
					order by s.status = 'ACTIVE' desc, s.line) as rn
				from stage_bss_subscribers s
				where s.country_code = c
				  and s.service_id in (select d.code from dup_candidates d)
			)
			select snap, s.line, s.country_code, s.service_type, s.service_id, s.account_id,
			       s.msisdn, s.plan_code, s.plan_type, s.status, s.status_date::date,
			       r.line is not null
			from stage_bss_subscribers s
			left join ranked r on r.line = s.line and r.rn > 1
			where s.country_code = c;
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
