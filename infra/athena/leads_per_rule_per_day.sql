-- Leads per rule and day received (UTC), one per event_id (through leads_latest).
-- Parameter 1: the first day to include, 'YYYY-MM-DD'.
SELECT dt AS received_day, rule_id, count(*) AS leads
FROM leads_latest
WHERE dt >= ?
GROUP BY dt, rule_id
ORDER BY received_day DESC, leads DESC, rule_id
