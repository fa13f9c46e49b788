-- Protects the corrections seed from rot: every correction must match a fact of a loaded page
-- version whose field still says page_value; one that matches nothing fails the build.
-- Acceptances (fact 'accept') correct no fact: assert_acceptances_name_a_check checks them (P6).
select * from {{ ref('fct_correction') }} where not is_applied and fact <> 'accept'
