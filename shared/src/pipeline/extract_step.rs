//! The extract step: raw mail + delivery facts -> lead events, or a quarantine record. Shared by the extract
//! function and the local replay; it does no I/O.

use super::mailboxes::Mailboxes;
use super::quarantine::QuarantineRecord;
use crate::anonymize::{Anonymizer, KnownValues};
use crate::email::{Email, ParseLimits, Verdict};
use crate::event::{LeadEvent, Receipt};
use crate::extraction::{extract_raw, quarantine_for, Outcome, QuarantineReason};
use crate::rules::RuleSet;
use crate::ses::SesVerdicts;
use chrono::{DateTime, Utc};

/// What to do with mail SES judged to be spam.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SpamPolicy {
    /// Quarantine it with reason `spam` (default: portals' notifications pass SES spam checks).
    #[default]
    Quarantine,
    /// Process it like any other mail.
    Process,
}

/// Settings of the extract step.
#[derive(Debug, Clone, Default)]
pub struct ExtractSettings {
    /// Size and nesting limits.
    pub limits: ParseLimits,
    /// Recipient -> mailbox id.
    pub mailboxes: Mailboxes,
    /// Spam handling.
    pub spam: SpamPolicy,
}

/// Facts about a mail's delivery from outside the mail (SES in AWS; none for a local .eml file).
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// SES message id.
    pub ses_message_id: Option<String>,
    /// When SES received it.
    pub received_at: Option<DateTime<Utc>>,
    /// Envelope recipients (else the To header is used for the mailbox id).
    pub recipients: Vec<String>,
    /// SES verdicts (else authentication comes from the mail's `Authentication-Results` header).
    pub verdicts: Option<SesVerdicts>,
}

/// The result of extracting one mail.
#[derive(Debug, Clone)]
pub enum ExtractOutput {
    /// One event per lead in the mail.
    Leads(Vec<LeadEvent>),
    /// Not a lead we can extract.
    Quarantined(Box<QuarantineRecord>),
}

/// Rules, anonymizer and settings, built once per process.
#[derive(Debug)]
pub struct ExtractStep {
    /// The extraction rules.
    pub rules: RuleSet,
    /// The anonymizer (holds the pseudonym key).
    pub anonymizer: Anonymizer,
    /// Limits, mailboxes and spam policy.
    pub settings: ExtractSettings,
}

impl ExtractStep {
    /// Extracts one mail. Never fails: every mail ends as leads or as a quarantine record.
    pub fn process(&self, raw: &[u8], delivery: &Delivery, now: DateTime<Utc>) -> ExtractOutput {
        if let Some(v) = &delivery.verdicts {
            let verdict_reason = match (v.virus, v.spam, self.settings.spam) {
                (Some(Verdict::Fail), _, _) => Some((QuarantineReason::Virus, "SES virus verdict FAIL")),
                (_, Some(Verdict::Fail), SpamPolicy::Quarantine) => {
                    Some((QuarantineReason::Spam, "SES spam verdict FAIL"))
                }
                _ => None,
            };
            if let Some((reason, detail)) = verdict_reason {
                let email = Email::parse(raw, &self.settings.limits).ok();
                return self.quarantined(raw, email.as_ref(), quarantine_for(reason, detail), delivery, now);
            }
        }
        // SES verdicts decide authentication in AWS; without them the mail's own header does.
        let auth = delivery.verdicts.as_ref().map(SesVerdicts::auth);
        let (email, outcome) = extract_raw(raw, &self.rules, &self.settings.limits, auth.as_ref());
        match (email, outcome) {
            (Some(email), Outcome::Lead(x)) => {
                let policy = &self.rules.get(&x.rule_id).expect("a selected rule is in the set").policy;
                let lead = self.anonymizer.anonymize(&x, policy, email.subject.as_deref());
                let receipt = self.receipt(&email, delivery);
                ExtractOutput::Leads(vec![LeadEvent::new(&email, &receipt, &x, lead, 0, now)])
            }
            (email, outcome) => self.quarantined(raw, email.as_ref(), outcome, delivery, now),
        }
    }

    fn receipt(&self, email: &Email, delivery: &Delivery) -> Receipt {
        let to: Vec<&str> = email.to.iter().map(|m| m.address.as_str()).collect();
        let recipients: Vec<&str> =
            if delivery.recipients.is_empty() { to } else { delivery.recipients.iter().map(String::as_str).collect() };
        Receipt {
            received_at: delivery.received_at,
            ses_message_id: delivery.ses_message_id.clone(),
            mailbox: self.settings.mailboxes.id_for(recipients.iter().copied()),
        }
    }

    fn quarantined(
        &self,
        raw: &[u8],
        email: Option<&Email>,
        outcome: Outcome,
        delivery: &Delivery,
        now: DateTime<Utc>,
    ) -> ExtractOutput {
        let Outcome::Quarantined(q) = outcome else { unreachable!("leads are handled by the caller") };
        let known = KnownValues::from_fields(&q.found);
        let subject = email.and_then(|e| e.subject.as_deref()).map(|s| self.anonymizer.scrub(s, &known).text);
        let receipt = email.map(|e| self.receipt(e, delivery)).unwrap_or_else(|| Receipt {
            received_at: delivery.received_at,
            ses_message_id: delivery.ses_message_id.clone(),
            mailbox: self.settings.mailboxes.id_for(delivery.recipients.iter().map(String::as_str)),
        });
        ExtractOutput::Quarantined(Box::new(QuarantineRecord::new(
            raw,
            email,
            &q,
            subject,
            &receipt,
            self.anonymizer.key_id(),
            now,
        )))
    }
}
