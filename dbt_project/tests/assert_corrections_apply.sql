-- Protects the corrections seed from rot: every correction must match a fact of a loaded page
-- version whose field still says page_value; one that matches nothing fails the build.
select * from {{ ref('fct_correction') }} where not is_applied
