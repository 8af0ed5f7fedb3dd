//! Extract throughput bench (issue 8, item 1). Plain `fn main` bench target, no harness:
//!
//!     cargo bench --bench extract                 # both corpora, 3 s per measurement
//!     BENCH_SECS=5 cargo bench --bench extract     # longer runs
//!     BENCH_PASSES=20 valgrind --tool=cachegrind --cache-sim=no <bench binary>  # fixed work: instruction counts
//!     cargo bench --bench extract -- --tsv         # machine-readable rows (used by benches/run.sh)
//!     BENCH_ONLY=extract LEADPIPE_MIME_CORPUS=/nonexistent perf record ... # profile extract on the fixtures
//!
//! For each corpus (the 45 fixture mails, the real-world MIME corpus at ../shared/corpus/mime) it measures on
//! one thread, after a warm-up, repeating the whole corpus for at least BENCH_SECS seconds:
//!   (a) `extract`: ExtractStep::process (parse + rule selection + field extraction + anonymization + event
//!       assembly) + serde_json::to_string of the lead event(s) or the quarantine record;
//!   (b) `ceiling`: mail_parser::MessageParser::default().parse(raw) + body_text(0) alone.
//! and checks that two passes over the corpus give byte-identical serialized output (determinism).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use leadpipe_shared::anonymize::detect::DetectorConfig;
use leadpipe_shared::anonymize::{Anonymizer, PseudonymKey};
use leadpipe_shared::pipeline::{Delivery, ExtractOutput, ExtractSettings, ExtractStep};
use leadpipe_shared::RuleSet;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load_corpus(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            // Skip the corpus' licence and readme files: everything else is a mail sample.
            if name.starts_with("LICENSE") || name.ends_with(".md") {
                continue;
            }
            out.push((p.strip_prefix(dir).unwrap().to_string_lossy().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

fn step() -> ExtractStep {
    let rules = RuleSet::load(&root().join("fixtures/rules/default.toml")).expect("rules");
    let key = PseudonymKey::new("test-bench", vec![7; 32]).expect("key");
    ExtractStep {
        rules,
        anonymizer: Anonymizer::new(key, DetectorConfig::default()),
        settings: ExtractSettings::default(),
    }
}

/// Full extract + JSON serialization of the output; returns the serialized bytes (lead events or quarantine).
fn extract_one(step: &ExtractStep, raw: &[u8], delivery: &Delivery, now: chrono::DateTime<Utc>) -> (bool, String) {
    match step.process(raw, delivery, now) {
        ExtractOutput::Leads(events) => {
            let mut s = String::new();
            for ev in &events {
                s.push_str(&serde_json::to_string(ev).expect("event json"));
                s.push('\n');
            }
            (true, s)
        }
        ExtractOutput::Quarantined(q) => (false, serde_json::to_string(&*q).expect("quarantine json")),
    }
}

fn ceiling_one(raw: &[u8]) -> usize {
    match mail_parser::MessageParser::default().parse(raw) {
        Some(m) => m.body_text(0).map(|t| t.len()).unwrap_or(0),
        None => 0,
    }
}

struct Measured {
    mails: u64,
    bytes: u64,
    elapsed: Duration,
}

impl Measured {
    fn mails_per_s(&self) -> f64 {
        self.mails as f64 / self.elapsed.as_secs_f64()
    }
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64()
    }
}

fn measure(corpus: &[(String, Vec<u8>)], secs: f64, mut f: impl FnMut(&[u8])) -> Measured {
    // BENCH_PASSES: exactly this many passes over the corpus (after one warm-up pass) instead of BENCH_SECS seconds.
    let passes: Option<u64> = std::env::var("BENCH_PASSES").ok().and_then(|s| s.parse().ok());
    // Warm-up: one pass, plus up to 0.5 s.
    let w = Instant::now();
    loop {
        for (_, raw) in corpus {
            f(raw);
        }
        if w.elapsed() > Duration::from_millis(500) || passes.is_some() {
            break;
        }
    }
    let corpus_bytes: u64 = corpus.iter().map(|(_, r)| r.len() as u64).sum();
    let (mut mails, mut bytes, mut done) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    loop {
        for (_, raw) in corpus {
            f(raw);
        }
        mails += corpus.len() as u64;
        bytes += corpus_bytes;
        done += 1;
        if passes.map_or(start.elapsed().as_secs_f64() >= secs, |p| done >= p) {
            break;
        }
    }
    Measured { mails, bytes, elapsed: start.elapsed() }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tsv = args.iter().any(|a| a == "--tsv");
    let secs: f64 = std::env::var("BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let mime_dir = std::env::var("LEADPIPE_MIME_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("../shared/corpus/mime"));
    let corpora = [("fixtures", root().join("fixtures/emails")), ("mime", mime_dir)];

    let step = step();
    let delivery = Delivery::default();
    // A fixed `now` so that two passes are comparable byte for byte.
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();

    if !tsv {
        println!("extract bench: one thread, >= {secs} s per measurement after warm-up");
        println!(
            "{:<10} {:>6} {:>10} {:>6} {:<9} {:>12} {:>10} {:>14}",
            "corpus", "mails", "bytes", "leads", "what", "mails/s", "MB/s", "deterministic"
        );
    }
    for (name, dir) in &corpora {
        let corpus = load_corpus(dir);
        if corpus.is_empty() {
            eprintln!("corpus {name}: no files under {}", dir.display());
            continue;
        }
        let corpus_bytes: usize = corpus.iter().map(|(_, r)| r.len()).sum();
        // Determinism: two independent passes, byte-identical output.
        let pass = || corpus.iter().map(|(_, r)| extract_one(&step, r, &delivery, now)).collect::<Vec<_>>();
        let (p1, p2) = (pass(), pass());
        let leads = p1.iter().filter(|(l, _)| *l).count();
        let det = p1 == p2;
        let c1: Vec<usize> = corpus.iter().map(|(_, r)| ceiling_one(r)).collect();
        let c2: Vec<usize> = corpus.iter().map(|(_, r)| ceiling_one(r)).collect();
        let det_c = c1 == c2;

        let ex = measure(&corpus, secs, |raw| {
            black_box(extract_one(&step, black_box(raw), &delivery, now));
        });
        // BENCH_ONLY=extract skips the ceiling (for profiling the extract path alone with perf).
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        // Skipped, not even warmed up, so that a profile holds only the extract path.
        let skipped = Measured { mails: 0, bytes: 0, elapsed: Duration::from_secs(1) };
        let ce = if only == "extract" {
            skipped
        } else {
            measure(&corpus, secs, |raw| {
                black_box(ceiling_one(black_box(raw)));
            })
        };
        for (what, m, d) in [("extract", &ex, det), ("ceiling", &ce, det_c)] {
            if tsv {
                println!(
                    "rust\t{name}\t{what}\t{}\t{corpus_bytes}\t{leads}\t{:.1}\t{:.3}\t{d}",
                    corpus.len(),
                    m.mails_per_s(),
                    m.mb_per_s()
                );
            } else {
                println!(
                    "{:<10} {:>6} {:>10} {:>6} {:<9} {:>12.0} {:>10.2} {:>14}",
                    name,
                    corpus.len(),
                    corpus_bytes,
                    leads,
                    what,
                    m.mails_per_s(),
                    m.mb_per_s(),
                    if d { "yes" } else { "NO" }
                );
            }
        }
        if !tsv && ce.mails > 0 {
            println!("{:<10} extract / ceiling throughput = {:.2}", name, ex.mb_per_s() / ce.mb_per_s());
        }
        if !det || !det_c {
            eprintln!("corpus {name}: output differs between two passes (not deterministic)");
        }
    }
}
