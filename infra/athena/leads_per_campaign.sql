-- Leads per ad campaign (the extracted field "campaign"; leads whose rule has no such field count as
-- '(no campaign)') and rule, one per event_id (through leads_latest).
-- Parameter 1: the first day to include, 'YYYY-MM-DD'.
SELECT
  coalesce(element_at(fields, 'campaign'), '(no campaign)') AS campaign,
  rule_id,
  count(*) AS leads,
  min(received_at) AS first_received_at,
  max(received_at) AS last_received_at
FROM leads_latest
WHERE dt >= ?
GROUP BY coalesce(element_at(fields, 'campaign'), '(no campaign)'), rule_id
ORDER BY leads DESC, campaign, rule_id
