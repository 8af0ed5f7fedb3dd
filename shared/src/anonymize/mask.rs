//! Masks: values partly hidden for people who need a hint, not the value (`j***@example.com`).

use super::detect::phone_metadata::METADATA;
use crate::fields::PiiClass;

/// Masks a normalised value of `class`.
pub fn mask(class: PiiClass, value: &str) -> String {
    match class {
        PiiClass::Email => mask_email(value),
        PiiClass::Phone => mask_phone(value),
        PiiClass::PaymentCard | PiiClass::IdNumber => keep_last(value, 4),
        _ => mask_words(value),
    }
}

/// `jane.doe@example.net` -> `j***@example.net`.
fn mask_email(value: &str) -> String {
    match value.rsplit_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => mask_words(value),
    }
}

/// `+12125550142` -> `+1******0142`: the country code and the last four digits stay.
fn mask_phone(value: &str) -> String {
    let cc_len = METADATA.parse(None, value).map(|p| p.code().value().to_string().len()).unwrap_or(1);
    let chars: Vec<char> = value.chars().collect();
    let head = if value.starts_with('+') { 1 + cc_len } else { 0 };
    if chars.len() <= head + 4 {
        return "*".repeat(chars.len());
    }
    let tail = chars.len() - 4;
    chars.iter().enumerate().map(|(i, c)| if i < head || i >= tail { *c } else { '*' }).collect()
}

/// All but the last `n` alphanumeric characters become `*` (separators dropped).
fn keep_last(value: &str, n: usize) -> String {
    let chars: Vec<char> = value.chars().filter(char::is_ascii_alphanumeric).collect();
    let cut = chars.len().saturating_sub(n);
    chars.iter().enumerate().map(|(i, c)| if i < cut { '*' } else { *c }).collect()
}

/// Each word keeps its first character: `Jane Doe` -> `J*** D***`.
fn mask_words(value: &str) -> String {
    value.split_whitespace().map(|w| format!("{}***", w.chars().next().unwrap_or('*'))).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_by_class() {
        assert_eq!(mask(PiiClass::Email, "jane.doe@example.net"), "j***@example.net");
        assert_eq!(mask(PiiClass::Phone, "+12125550142"), "+1******0142");
        assert_eq!(mask(PiiClass::Phone, "+442079460123"), "+44******0123");
        assert_eq!(mask(PiiClass::PaymentCard, "4111 1111 1111 1111"), "************1111");
        assert_eq!(mask(PiiClass::Name, "Zoë Müller"), "Z*** M***");
        assert_eq!(mask(PiiClass::Phone, "+1"), "**");
    }
}
