-- One page of 500 not-sent recipients of campaign A from row :offset (the query of QueryRecipientOutcomesAsync).
select count(*) from (
with counted as (
    select batch_number, n, coalesce(sum(n) over (order by batch_number rows between unbounded preceding and 1 preceding), 0) as before
    from (select batch_number, t.not_sent as n from measure_outcomes.cmp_recipient_outcomes t
          where tenant_id = 'shop' and campaign_id = '00000000-0000-0000-0000-00000000000a') c where n > 0),
start as (select batch_number, before from counted where before + n > :offset order by batch_number limit 1)
select t.recipient_ids[x.o], t.batch_number
from measure_outcomes.cmp_recipient_outcomes t
cross join start
cross join lateral generate_series(1, cardinality(t.recipient_ids)) as x(o)
where t.tenant_id = 'shop' and t.campaign_id = '00000000-0000-0000-0000-00000000000a' and t.batch_number >= start.batch_number
  and substr(t.codes, x.o, 1) = 'N'
order by t.batch_number, x.o
offset :offset - (select before from start) limit 500) p;
