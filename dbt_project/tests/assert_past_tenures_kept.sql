-- Protects the chain of command's past (rules P1, P3, P6 of docs/rules.md): every tenure of the
-- version before it in valid time is kept (same commander key, start and end; the open tenure may
-- be closed), one failing row per tenure lost or rewritten, unless a corrections row accepts it.
-- It replaces assert_commanders_did_not_drop. int_tenures_lost decides.
select *
from {{ ref('int_tenures_lost') }}
where not is_accepted
