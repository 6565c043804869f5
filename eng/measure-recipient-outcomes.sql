-- Size and query times of the recipient outcome store (RecipientOutcomes.cs) at 1,000,000 recipients.
-- psql "$CAMPAIGNS_POSTGRES" -f eng/measure-recipient-outcomes.sql   (works in its own schema, dropped at the end)
-- Rows are written in the layout RecipientOutcomes.Insert produces (ids c0000000000.., 1,000 per batch); the queries
-- are those of LoadRecipientOutcomeAsync and QueryRecipientOutcomesAsync. Two campaigns of the same 1,000,000
-- recipients (the GIN index holds every campaign a recipient was in): A was cancelled at 40% (60% not sent, with
-- addresses and names kept for a remainder), B was sent in full; 0.2% refused with a reason in both.
\timing off
drop schema if exists measure_outcomes cascade;
create schema measure_outcomes;
create table measure_outcomes.cmp_recipient_outcomes (
    tenant_id varchar not null, campaign_id uuid not null, batch_number integer not null, variant varchar not null,
    recorded_at timestamptz not null, delivered integer not null, failed integer not null, not_sent integer not null,
    codes text not null, recipient_ids text[] not null, reasons text[], error text, addresses text[], names text[],
    primary key (tenant_id, campaign_id, batch_number));
create index ix_gin on measure_outcomes.cmp_recipient_outcomes using gin (recipient_ids);
create index ix_rec on measure_outcomes.cmp_recipient_outcomes (tenant_id, recorded_at);

insert into measure_outcomes.cmp_recipient_outcomes
select 'shop', c.id, b, 'A', now(),
    count(*) filter (where code = 'D'), count(*) filter (where code = 'F'), count(*) filter (where code = 'N'),
    string_agg(code, '' order by i), array_agg('c' || lpad(i::text, 10, '0') order by i),
    case when count(*) filter (where code = 'F') > 0 then array_agg(case when code = 'F' then '550 5.1.1 mailbox unavailable' end order by i) end,
    null,
    case when bool_or(code = 'N') then array_agg(case when code = 'N' then 'first.last.' || i || '@example.com' end order by i) end,
    case when bool_or(code = 'N') then array_agg(case when code = 'N' then 'First Last' end order by i) end
from (values ('00000000-0000-0000-0000-00000000000a'::uuid, 400), ('00000000-0000-0000-0000-00000000000b'::uuid, 1000)) as c(id, sent_batches),
     generate_series(1, 1000) b,
     lateral (select i, case when b > c.sent_batches then 'N' when hashint4(i) % 500 = 0 then 'F' else 'D' end as code
              from generate_series((b - 1) * 1000 + 1, b * 1000) i) r
group by c.id, b;
vacuum analyze measure_outcomes.cmp_recipient_outcomes;

select 'bytes per recipient (table + TOAST + indexes, 2,000,000 recipient outcomes)' as figure,
       round(pg_total_relation_size('measure_outcomes.cmp_recipient_outcomes') / 2000000.0, 1) as value
union all select 'of which GIN index', round(pg_relation_size('measure_outcomes.ix_gin') / 2000000.0, 1)
union all select 'heap + TOAST', round(pg_table_size('measure_outcomes.cmp_recipient_outcomes') / 2000000.0, 1);

\timing on
-- did X get Y (LoadRecipientOutcomeAsync): a cold run (output discarded), then warm runs in campaigns A and B
\o /dev/null
select t.batch_number, substr(t.codes, x.o, 1), coalesce(t.reasons[x.o], t.error) from measure_outcomes.cmp_recipient_outcomes t
  cross join lateral (select array_position(t.recipient_ids, 'c0000987654'::text) as o) x
  where t.tenant_id = 'shop' and t.campaign_id = '00000000-0000-0000-0000-00000000000a' and t.recipient_ids @> array['c0000987654'::text];
\o
select t.batch_number, substr(t.codes, x.o, 1) from measure_outcomes.cmp_recipient_outcomes t
  cross join lateral (select array_position(t.recipient_ids, 'c0000987654'::text) as o) x
  where t.tenant_id = 'shop' and t.campaign_id = '00000000-0000-0000-0000-00000000000a' and t.recipient_ids @> array['c0000987654'::text];
select t.batch_number, substr(t.codes, x.o, 1) from measure_outcomes.cmp_recipient_outcomes t
  cross join lateral (select array_position(t.recipient_ids, 'c0000000777'::text) as o) x
  where t.tenant_id = 'shop' and t.campaign_id = '00000000-0000-0000-0000-00000000000b' and t.recipient_ids @> array['c0000000777'::text];

-- not reached, page 1 and page 1000 of 500 (QueryRecipientOutcomesAsync with Outcome = NotSent), and the total
\o /dev/null
\set offset 0
\ir measure-recipient-outcomes-page.sql
\o
\ir measure-recipient-outcomes-page.sql
\set offset 499500
\ir measure-recipient-outcomes-page.sql
select coalesce(sum(t.not_sent), 0) from measure_outcomes.cmp_recipient_outcomes t where tenant_id = 'shop' and campaign_id = '00000000-0000-0000-0000-00000000000a';
\timing off
drop schema measure_outcomes cascade;
