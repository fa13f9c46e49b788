-- Protects the acceptances in the corrections seed from typos and rot (rule P6 of docs/rules.md):
-- a row with fact 'accept' names one of the checks a row may accept, a loaded page version and a
-- reason, and nothing else. int_acceptances says what is wrong with each.
select *
from {{ ref('int_acceptances') }}
where problem is not null
