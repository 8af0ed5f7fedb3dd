-- Pseudonym join: pairs of leads from the same person, matched on the keyed e-mail pseudonym (p1_...), e.g. one
-- customer asking two dealers or writing through two portals. Equal pseudonyms mean the same normalised address
-- under the same key, so pairs are only formed within one key_id; masked or kept values are not joined.
SELECT
  element_at(a.fields, 'email') AS email_pseudonym,
  a.key_id,
  a.event_id AS first_event_id,
  a.rule_id AS first_rule_id,
  a.received_at AS first_received_at,
  b.event_id AS later_event_id,
  b.rule_id AS later_rule_id,
  b.received_at AS later_received_at
FROM leads_latest AS a
JOIN leads_latest AS b
  ON element_at(a.fields, 'email') = element_at(b.fields, 'email')
  AND a.key_id = b.key_id
  AND (a.received_at < b.received_at OR (a.received_at = b.received_at AND a.event_id < b.event_id))
WHERE starts_with(element_at(a.fields, 'email'), 'p1_')
ORDER BY email_pseudonym, first_received_at, later_received_at
