-- leads_latest: one row per event_id, the latest revision of each lead (the archive may hold several rows per
-- event: a retried batch, the same mail received twice, or a re-extraction after a rule change).
-- Latest = highest rule_version; on a tie the latest extracted_at; then revision and dt, so the choice is
-- deterministic. A filter on dt applies after the dedup: a query on this view reads every day of the archive
-- (only the columns it uses), which the workgroup's bytes-scanned cutoff bounds.
CREATE OR REPLACE VIEW leads_latest AS
SELECT
  event_id, revision, "schema", rule_id, rule_version, lead_index, received_at, extracted_at, sender_domain,
  ses_message_id, mailbox, forwarded, subject, key_id, fields, field_errors, pii_summary, dt
FROM (
  SELECT
    leads.*,
    row_number() OVER (
      PARTITION BY event_id
      ORDER BY rule_version DESC, extracted_at DESC, revision DESC, dt DESC
    ) AS revision_rank
  FROM leads
) AS ranked
WHERE revision_rank = 1
