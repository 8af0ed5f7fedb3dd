//! The HTML-to-text made from tokens gives the same text as the one made from the document tree, on every HTML
//! body and HTML attachment of the fixtures and of the real-world MIME corpus (../shared/corpus/mime), and it
//! is exact (needs no tree) on the fixtures' HTML and nearly all of the corpus's. The pass that makes the text
//! and the tree together gives the tree's text too. None of that HTML is changed by the attribute cap.

use leadpipe_shared::email::html_text::{by_tree_checked, cap_attributes, streamed};
use leadpipe_shared::email::html_to_text;
use leadpipe_shared::email::{Email, ParseLimits};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            files(&p, out);
        } else if !matches!(p.file_name().and_then(|n| n.to_str()), Some("LICENSE" | "README.md")) {
            out.push(p);
        }
    }
}

/// The HTML bodies and HTML attachments of a mail and of its forwarded messages.
fn htmls(e: &Email, out: &mut Vec<String>) {
    out.extend(e.html.clone());
    out.extend(e.attachments.iter().filter(|a| a.content_type == "text/html").filter_map(|a| a.text.clone()));
    for f in &e.forwarded {
        htmls(f, out);
    }
}

/// (HTML texts compared, texts the token model handed back to the tree), failing on any difference.
fn compare(dir: &Path) -> (usize, Vec<String>) {
    let mut paths = Vec::new();
    files(dir, &mut paths);
    paths.sort();
    let (mut compared, mut by_tree_only) = (0, Vec::new());
    for path in &paths {
        let raw = std::fs::read(path).expect("readable mail");
        let Ok(email) = Email::parse(&raw, &ParseLimits::default()) else { continue };
        let mut bodies = Vec::new();
        htmls(&email, &mut bodies);
        for (i, html) in bodies.iter().enumerate() {
            // Ordinary HTML reaches the tokenizer unchanged (no tag has more than 64 attributes).
            assert!(matches!(cap_attributes(html), Cow::Borrowed(_)), "{} (HTML #{i}) capped", path.display());
            compared += 1;
            let Some(tree_text) = by_tree_checked(html) else {
                // ego-tree left the tree inconsistent (see `by_tree_checked`): no reference to compare with.
                eprintln!("{} #{i}: the tree is inconsistent", path.display());
                compared -= 1;
                continue;
            };
            assert_eq!(html_to_text(html), tree_text, "{} (HTML #{i}), tokens and tree in one pass", path.display());
            match streamed(html) {
                Some(text) => assert_eq!(text, tree_text, "{} (HTML #{i})", path.display()),
                None => by_tree_only.push(format!("{} #{i}", path.display())),
            }
        }
    }
    (compared, by_tree_only)
}

#[test]
fn fixtures_text_is_the_same_and_made_from_tokens() {
    let (compared, by_tree_only) = compare(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/emails"));
    assert!(compared >= 10, "the fixtures hold HTML mails, compared {compared}");
    assert!(by_tree_only.is_empty(), "converted from the tree: {by_tree_only:?}");
}

#[test]
fn corpus_text_is_the_same_and_mostly_made_from_tokens() {
    let dir = match std::env::var_os("LEADPIPE_SHARED_DIR") {
        Some(d) => PathBuf::from(d).join("corpus/mime"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/mime"),
    };
    if !dir.is_dir() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but the MIME corpus is missing at {dir:?}");
        eprintln!("SKIPPED: MIME corpus not found at {}", dir.display());
        return;
    }
    let (compared, by_tree_only) = compare(&dir);
    eprintln!("{compared} HTML texts compared, {} made from the tree: {by_tree_only:?}", by_tree_only.len());
    assert!(compared >= 20, "the corpus holds HTML mails, compared {compared}");
    assert!(by_tree_only.len() * 10 <= compared, "more than a tenth made from the tree: {by_tree_only:?}");
}
