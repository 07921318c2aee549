-- aup.agreement_recorded.v2 says how an answer came to be on record (as given, a paper form, or
-- imported from another system) where v1 said only on_paper: the answers kept here are rewritten as v2.
UPDATE agreements
   SET record = (record - 'on_paper')
             || jsonb_build_object('source', jsonb_build_object('by',
                    CASE WHEN (record ->> 'on_paper')::boolean THEN 'paper_form' ELSE 'as_given' END))
 WHERE record ? 'on_paper';

