//! HTML to text from html5ever's tokens, without building a tree. A small model of the HTML tree builder's
//! stack of open elements (implied end tags of `p`, `li`, `dd`/`dt`, headings, table parts; implied
//! `tbody`/`tr`; raw text elements; the head) decides where each element starts and ends, so the output is the
//! same as the tree walk's. Where the tree builder would move content (table content fostered out of a table,
//! a form closed out of order, formatting elements split across blocks) or where the model is not built
//! (`svg`, `math`, `select`, `template`, framesets, an unclassified doctype in front of `<p><table>`), the
//! text is marked inexact, and goes on close to the tree's; the caller decides whether to use the tree.

use super::{push_text, Emit};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Doctype, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::LocalName;
use std::cell::RefCell;

mod end;
mod formatting;
mod names;
mod start;

use formatting::Entry;
use names::{is_html_space, quirks_of};

/// The text of an HTML document made from its tokens.
pub(super) struct Streamed {
    /// The text, before tidying.
    pub(super) text: String,
    /// Whether it is the tree's text; when not, it is close to it (content the tree builder would move is
    /// where it was in the HTML, and elements the model leaves out are treated as ordinary ones).
    pub(super) exact: bool,
    /// How many elements the HTML has (start tags), which is what its document tree's size goes with.
    pub(super) elements: usize,
}

/// Reads `html`'s tokens into text.
pub(super) fn run(html: &str) -> Streamed {
    let tokenizer = Tokenizer::new(Sink(RefCell::new(Builder::new(html.len()))), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let b = tokenizer.sink.0.into_inner();
    Streamed { text: b.out, exact: !b.unsure, elements: b.elements }
}

struct Sink(RefCell<Builder>);

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut b = self.0.borrow_mut();
        let drop_lf = std::mem::take(&mut b.drop_lf);
        match token {
            Token::TagToken(tag) => match tag.kind {
                TagKind::StartTag => {
                    b.elements += 1;
                    return b.start(&tag);
                }
                TagKind::EndTag => b.end(&tag.name),
            },
            Token::CharacterTokens(text) => {
                let text = if drop_lf { text.strip_prefix('\n').unwrap_or(&text) } else { &text };
                b.text(text)
            }
            Token::DoctypeToken(d) => b.doctype(&d),
            Token::EOFToken => b.finish(),
            Token::CommentToken(_) | Token::NullCharacterToken | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }
}

/// Where the document is, as the tree builder's insertion modes before the body.
#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Initial,
    BeforeHead,
    InHead,
    AfterHead,
    Body,
}

/// The document's quirks mode, as far as it matters here (whether `<table>` closes an open `<p>`).
#[derive(Clone, Copy, PartialEq)]
enum Quirks {
    No,
    Yes,
    Unknown,
}

/// The insertion mode inside the body, from the nearest table part on the stack.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Body,
    Table,
    TableBody,
    Row,
    Cell,
    Caption,
    ColumnGroup,
}

/// An open element; `id` tells apart elements of the same name (the list of active formatting elements refers
/// to them).
struct Open {
    name: LocalName,
    id: u32,
}

struct Builder {
    out: String,
    /// Open elements below `html`.
    stack: Vec<Open>,
    /// The list of active formatting elements.
    formatting: Vec<Entry>,
    next_id: u32,
    /// Open elements whose content is not text (`head`, `script`, ...).
    skipped: usize,
    phase: Phase,
    quirks: Quirks,
    /// The tree builder's form element pointer is set.
    form: bool,
    /// A line feed right after `<pre>`, `<listing>` or `<textarea>` is not content.
    drop_lf: bool,
    /// The tree builder would do something this model does not.
    unsure: bool,
    /// Start tags read.
    elements: usize,
}

impl Builder {
    fn new(len: usize) -> Self {
        Self {
            out: String::with_capacity(len / 2),
            stack: Vec::new(),
            formatting: Vec::new(),
            next_id: 0,
            skipped: 0,
            phase: Phase::Initial,
            quirks: Quirks::Yes,
            form: false,
            drop_lf: false,
            unsure: false,
            elements: 0,
        }
    }

    fn doctype(&mut self, d: &Doctype) {
        if self.phase == Phase::Initial {
            self.quirks = quirks_of(d);
            self.phase = Phase::BeforeHead;
        }
    }

    fn text(&mut self, text: &str) {
        match self.phase {
            Phase::Initial | Phase::BeforeHead | Phase::InHead | Phase::AfterHead => {
                // A raw text element here (`title`, `style`, ...) is in the head, which is skipped.
                if self.top_is_raw() {
                    return;
                }
                let rest = text.trim_start_matches(is_html_space);
                if rest.is_empty() {
                    return;
                }
                self.enter_body();
                self.text(rest)
            }
            Phase::Body => {
                if self.skipped > 0 {
                    return;
                }
                match self.top() {
                    // Only whitespace stays in a table: other text is fostered out of it.
                    "table" | "tbody" | "thead" | "tfoot" | "tr" | "colgroup" => {
                        if !text.chars().all(is_html_space) {
                            self.inexact();
                        }
                        push_text(&mut self.out, text);
                    }
                    _ => {
                        self.reconstruct();
                        push_text(&mut self.out, text);
                    }
                }
            }
        }
    }

    /// Closes or implies the head and opens the body, as content that belongs in the body does.
    fn enter_body(&mut self) {
        if self.phase == Phase::InHead {
            self.pop();
        }
        if self.phase != Phase::Body {
            self.phase = Phase::Body;
            self.push(LocalName::from("body"));
        }
    }

    fn finish(&mut self) {
        while !self.stack.is_empty() {
            self.pop();
        }
    }

    fn top(&self) -> &str {
        self.stack.last().map_or("html", |n| &n.name)
    }

    fn top_is_raw(&self) -> bool {
        matches!(
            self.top(),
            "title" | "style" | "script" | "noscript" | "noframes" | "textarea" | "iframe" | "noembed" | "xmp"
        )
    }

    fn mode(&self) -> Mode {
        let mode = |n: &str| match n {
            "td" | "th" => Some(Mode::Cell),
            "tr" => Some(Mode::Row),
            "tbody" | "thead" | "tfoot" => Some(Mode::TableBody),
            "caption" => Some(Mode::Caption),
            "colgroup" => Some(Mode::ColumnGroup),
            "table" => Some(Mode::Table),
            _ => None,
        };
        self.stack.iter().rev().find_map(|n| mode(&n.name)).unwrap_or(Mode::Body)
    }

    /// Notes that the tree builder would do something this model does not; the text goes on, close to the
    /// tree's.
    fn inexact(&mut self) {
        self.unsure = true;
    }

    /// Opens a raw text element and switches the tokenizer to its kind of content.
    fn push_raw(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        self.push(tag.name.clone());
        let kind = match &*tag.name {
            "script" => RawKind::ScriptData,
            "title" | "textarea" => RawKind::Rcdata,
            _ => RawKind::Rawtext,
        };
        self.drop_lf = &*tag.name == "textarea";
        TokenSinkResult::RawData(kind)
    }

    /// Opens an element; returns its id.
    fn push(&mut self, name: LocalName) -> u32 {
        if self.skipped == 0 {
            self.out.open(&name);
        }
        if super::SKIPPED.contains(&&*name) {
            self.skipped += 1;
        }
        self.next_id += 1;
        self.stack.push(Open { name, id: self.next_id });
        self.next_id
    }

    fn pop(&mut self) {
        let Some(Open { name, .. }) = self.stack.pop() else { return };
        if super::SKIPPED.contains(&&*name) {
            self.skipped -= 1;
        }
        if self.skipped == 0 {
            self.out.close(&name);
        }
    }

    /// A void element: opened and closed at once.
    fn emit_void(&mut self, name: &str) {
        if self.skipped == 0 {
            self.out.open(name);
            self.out.close(name);
        }
    }

    /// Pops elements up to and including the nearest one named in `names`.
    fn pop_until(&mut self, names: &[&str]) {
        while let Some(top) = self.stack.last() {
            let done = names.contains(&&*top.name);
            self.pop();
            if done {
                break;
            }
        }
    }

    /// Generates implied end tags and pops up to and including `name`.
    fn close(&mut self, name: &str) {
        self.generate_implied_end_tags(Some(name));
        self.pop_until(&[name]);
    }

    /// [`Builder::close`] for an element that put a marker in the list of active formatting elements.
    fn close_marked(&mut self, name: &str) {
        self.close(name);
        self.clear_to_marker();
    }

    fn close_p(&mut self) {
        if self.in_scope(&["p"], &["button"]) {
            self.close("p");
        }
    }

    fn close_cell(&mut self) {
        self.generate_implied_end_tags(None);
        self.pop_until(&["td", "th"]);
        self.clear_to_marker();
    }

    fn generate_implied_end_tags(&mut self, except: Option<&str>) {
        while matches!(self.top(), "dd" | "dt" | "li" | "optgroup" | "option" | "p" | "rb" | "rp" | "rt" | "rtc")
            && Some(self.top()) != except
        {
            self.pop();
        }
    }

    /// Pops up to a table part named in `names` (or the table), which stays open.
    fn clear_back_to(&mut self, names: &[&str]) {
        while !matches!(self.top(), "table" | "html" | "template") && !names.contains(&self.top()) {
            self.pop();
        }
    }

    /// Whether an element named in `names` is open in scope; `extra` adds scope boundaries (button and list
    /// item scopes).
    fn in_scope(&self, names: &[&str], extra: &[&str]) -> bool {
        for n in self.stack.iter().rev() {
            let n = &*n.name;
            if names.contains(&n) {
                return true;
            }
            if matches!(n, "applet" | "caption" | "table" | "td" | "th" | "marquee" | "object" | "template")
                || extra.contains(&n)
            {
                return false;
            }
        }
        false
    }

    fn in_table_scope(&self, names: &[&str]) -> bool {
        for n in self.stack.iter().rev() {
            if names.contains(&&*n.name) {
                return true;
            }
            if matches!(&*n.name, "table" | "template") {
                return false;
            }
        }
        false
    }
}
