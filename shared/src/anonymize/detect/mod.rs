//! Pattern detectors for PII hiding in free text (written by the detectors work; placeholder until then).
