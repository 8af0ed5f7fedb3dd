//! Sender authentication: DKIM/SPF verdicts, from SES (in AWS) or the receiving server's
//! `Authentication-Results` header (local replay), and whether they vouch for the From domain.
//! Rules with `require_auth` rely on this because a From address alone is trivially forged.

use super::Email;

/// One DKIM or SPF outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The check passed.
    Pass,
    /// The check failed, or gave any result other than pass (softfail, neutral, temperror, ...).
    Fail,
}

/// The authentication results for one mail: each passing check with the domain it vouches for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthVerdicts {
    /// DKIM results: verdict and signing domain (`header.d`/`header.i`); `None` domain means "the From domain"
    /// (SES reports a verdict without the domain, after checking alignment itself).
    pub dkim: Vec<(Verdict, Option<String>)>,
    /// SPF results: verdict and the `smtp.mailfrom` domain, same convention.
    pub spf: Vec<(Verdict, Option<String>)>,
}

impl AuthVerdicts {
    /// Verdicts as SES reports them in a receipt notification (`dkimVerdict`, `spfVerdict`).
    pub fn from_ses(dkim: Option<Verdict>, spf: Option<Verdict>) -> Self {
        Self { dkim: dkim.map(|v| (v, None)).into_iter().collect(), spf: spf.map(|v| (v, None)).into_iter().collect() }
    }

    /// Reads the topmost `Authentication-Results` header (the one the receiving server added; lower ones may
    /// come from the sender and are not trusted).
    pub fn from_headers(email: &Email) -> Self {
        let mut out = Self::default();
        let Some(header) = email.header("Authentication-Results") else {
            return out;
        };
        // "authserv-id; method=result prop=value ...; method=result ..."
        for clause in header.split(';').skip(1) {
            let mut words = clause.split_whitespace();
            let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else {
                continue;
            };
            let verdict = if result.eq_ignore_ascii_case("pass") { Verdict::Pass } else { Verdict::Fail };
            let props: Vec<(&str, &str)> = words.filter_map(|w| w.split_once('=')).collect();
            let prop = |names: &[&str]| {
                props.iter().find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n))).map(|(_, v)| domain_of(v))
            };
            match method.to_ascii_lowercase().as_str() {
                "dkim" => out.dkim.push((verdict, prop(&["header.d", "header.i"]))),
                "spf" => out.spf.push((verdict, prop(&["smtp.mailfrom", "smtp.helo"]))),
                _ => {}
            }
        }
        out
    }

    /// True when a passing DKIM or SPF result vouches for `domain` (relaxed alignment: the same domain, or one
    /// is a subdomain of the other).
    pub fn authenticates(&self, domain: &str) -> bool {
        let domain = domain.to_ascii_lowercase();
        self.dkim
            .iter()
            .chain(&self.spf)
            .any(|(verdict, d)| *verdict == Verdict::Pass && d.as_deref().is_none_or(|d| aligned(d, &domain)))
    }
}

fn domain_of(value: &str) -> String {
    let v = value.trim_matches(|c| c == '"' || c == '(' || c == ')');
    v.rsplit_once('@').map_or(v, |(_, d)| d).to_ascii_lowercase()
}

fn aligned(a: &str, b: &str) -> bool {
    a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(value: &str) -> Email {
        Email { headers: vec![("Authentication-Results".into(), value.into())], ..Email::default() }
    }

    #[test]
    fn passing_dkim_or_spf_authenticates_the_aligned_domain() {
        let e = with_header("mx.example.net; dkim=pass header.d=cars.example; spf=fail smtp.mailfrom=x@evil.example");
        let v = AuthVerdicts::from_headers(&e);
        assert!(v.authenticates("cars.example"));
        assert!(v.authenticates("mail.cars.example"));
        assert!(!v.authenticates("evil.example"));
        assert!(!v.authenticates("othercars.example"));
        let spf = AuthVerdicts::from_headers(&with_header("mx; spf=pass smtp.mailfrom=leads@homes.example"));
        assert!(spf.authenticates("homes.example"));
    }

    #[test]
    fn failures_and_missing_results_do_not_authenticate() {
        let v =
            AuthVerdicts::from_headers(&with_header("mx.example.net; dkim=fail header.d=cars.example; spf=softfail"));
        assert!(!v.authenticates("cars.example"));
        assert!(!AuthVerdicts::from_headers(&Email::default()).authenticates("cars.example"));
    }

    #[test]
    fn ses_verdicts_apply_to_the_from_domain() {
        assert!(AuthVerdicts::from_ses(Some(Verdict::Pass), None).authenticates("cars.example"));
        assert!(!AuthVerdicts::from_ses(Some(Verdict::Fail), Some(Verdict::Fail)).authenticates("cars.example"));
    }
}
