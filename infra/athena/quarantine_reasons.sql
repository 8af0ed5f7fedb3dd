-- Quarantined mails by reason and rule. Source: table quarantine, the metadata JSON that extract writes for each
-- quarantined mail (s3://<quarantine bucket>/quarantine/meta/dt=YYYY-MM-DD/<quarantine_id>.json, one object per
-- line, no personal data); the same mail quarantined again overwrites its own record.
-- Parameter 1: the first day (received, UTC) to include, 'YYYY-MM-DD'.
SELECT
  reason_kind,
  reason,
  coalesce(rule_id, '(no rule)') AS rule_id,
  count(*) AS mails,
  min(received_at) AS first_received_at,
  max(received_at) AS last_received_at
FROM quarantine
WHERE dt >= ?
GROUP BY reason_kind, reason, coalesce(rule_id, '(no rule)')
ORDER BY mails DESC, reason_kind, reason, rule_id
