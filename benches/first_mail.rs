//! What the first mails after a cold start cost (issue 8, item 2: work left out of init is paid later). Plain
//! `fn main` bench target, no harness:
//!
//!     cargo bench --bench first_mail              # 5 runs, medians
//!     BENCH_ONLY_FIRST=1 valgrind --tool=callgrind --collect-atstart=no \
//!         '--toggle-collect=*ExtractStep*process*' <bench binary>   # instructions of the first mail alone
//!
//! Each run is a fresh start of what extract does at init, in process: the scrubber's warm-up, then the rules
//! loaded and the step built (timed: "load"). Then the fixture mails are extracted in file order twice: the first
//! pass pays for whatever is built on first use (rule regexes, the phone parsing database of a region), the second
//! shows the steady cost of the same mails. It prints the first mail's time in both passes and both passes' totals.

use leadpipe_shared::anonymize::detect::DetectorConfig;
use leadpipe_shared::anonymize::{Anonymizer, PseudonymKey};
use leadpipe_shared::pipeline::{Delivery, ExtractSettings, ExtractStep};
use leadpipe_shared::RuleSet;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The fixture mails, in file order.
fn mails() -> Vec<Vec<u8>> {
    let dir = root().join("fixtures/emails");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/emails")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).expect("fixture mail")).collect()
}

/// One cold start in this process: milliseconds for the load, the first mail in each pass, each pass.
fn run(only_first: bool) -> [f64; 5] {
    let mails = mails();
    Anonymizer::warm_up();
    let started = Instant::now();
    let rules = RuleSet::load(&root().join("fixtures/rules/default.toml")).expect("rules");
    let key = PseudonymKey::new("bench", vec![7; 32]).expect("key");
    let step = ExtractStep {
        rules,
        anonymizer: Anonymizer::new(key, DetectorConfig::default()),
        settings: ExtractSettings::default(),
    };
    let load = ms(started);
    let (delivery, now) = (Delivery::default(), chrono::Utc::now());
    if only_first {
        black_box(step.process(&mails[0], &delivery, now));
        return [load, 0.0, 0.0, 0.0, 0.0];
    }
    let pass = || {
        let started = Instant::now();
        let mut first = 0.0;
        for (i, mail) in mails.iter().enumerate() {
            let t = Instant::now();
            black_box(step.process(mail, &delivery, now));
            if i == 0 {
                first = ms(t);
            }
        }
        (first, ms(started))
    };
    let (first_cold, pass_cold) = pass();
    let (first_warm, pass_warm) = pass();
    [load, first_cold, first_warm, pass_cold, pass_warm]
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    if std::env::var_os("BENCH_ONLY_FIRST").is_some() {
        run(true);
        return;
    }
    // A run per process, so that every run starts cold.
    if std::env::args().nth(1).as_deref() == Some("--one") {
        let r = run(false);
        println!("{} {} {} {} {}", r[0], r[1], r[2], r[3], r[4]);
        return;
    }
    let me = std::env::current_exe().expect("own path");
    let runs: Vec<[f64; 5]> = (0..5)
        .map(|_| {
            let out = Command::new(&me).arg("--one").output().expect("runs itself");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8_lossy(&out.stdout);
            let v: Vec<f64> = text.split_whitespace().filter_map(|x| x.parse().ok()).collect();
            [v[0], v[1], v[2], v[3], v[4]]
        })
        .collect();
    let median = |i: usize| {
        let mut v: Vec<f64> = runs.iter().map(|r| r[i]).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("first mails after a cold start, {} fixture mails, medians of {} runs", mails().len(), runs.len());
    println!("rules load and step: {:.2} ms", median(0));
    println!("first mail: {:.3} ms cold, {:.3} ms warm", median(1), median(2));
    println!("all mails: {:.2} ms cold, {:.2} ms warm", median(3), median(4));
}
