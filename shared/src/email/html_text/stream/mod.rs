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

mod formatting;
mod names;

use formatting::Entry;
use names::{is_heading, is_hidden_input, is_html_space, is_special, is_table_part, quirks_of};

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

    fn start(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name = &*tag.name;
        match self.phase {
            Phase::Initial | Phase::BeforeHead => {
                self.phase = Phase::InHead;
                match name {
                    "html" => self.phase = Phase::BeforeHead,
                    "head" => {
                        self.push(tag.name.clone());
                    }
                    _ => {
                        self.push(LocalName::from("head"));
                        return self.start(tag);
                    }
                }
                TokenSinkResult::Continue
            }
            Phase::InHead => match name {
                "html" | "head" | "base" | "basefont" | "bgsound" | "link" | "meta" => TokenSinkResult::Continue,
                "title" | "noscript" | "noframes" | "style" | "script" => self.push_raw(tag),
                "template" => {
                    self.inexact();
                    self.enter_body();
                    self.start(tag)
                }
                _ => {
                    self.pop();
                    self.phase = Phase::AfterHead;
                    self.start(tag)
                }
            },
            Phase::AfterHead => match name {
                "html" | "head" | "base" | "basefont" | "bgsound" | "link" | "meta" => TokenSinkResult::Continue,
                // These go back into the head, where `title`, `style` and `script` are skipped anyway.
                "title" | "style" | "script" => self.push_raw(tag),
                "noframes" | "template" | "frameset" => {
                    self.inexact();
                    self.enter_body();
                    self.start(tag)
                }
                "body" => {
                    self.phase = Phase::Body;
                    self.push(tag.name.clone());
                    TokenSinkResult::Continue
                }
                _ => {
                    self.enter_body();
                    self.start(tag)
                }
            },
            Phase::Body => self.body_start(tag),
        }
    }

    fn body_start(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name = &*tag.name;
        match self.mode() {
            Mode::Body => {}
            Mode::ColumnGroup => {
                if name == "col" {
                    return TokenSinkResult::Continue;
                }
                self.pop();
                return self.body_start(tag);
            }
            Mode::Caption => {
                if is_table_part(name) && name != "table" && self.in_table_scope(&["caption"]) {
                    self.close_marked("caption");
                    return self.body_start(tag);
                }
            }
            Mode::Cell => {
                if is_table_part(name) && name != "table" {
                    self.close_cell();
                    return self.body_start(tag);
                }
            }
            Mode::Row => match name {
                "td" | "th" => {
                    self.clear_back_to(&["tr"]);
                    self.push(tag.name.clone());
                    self.formatting.push(Entry::Marker);
                    return TokenSinkResult::Continue;
                }
                "caption" | "col" | "colgroup" | "tbody" | "tfoot" | "thead" | "tr" => {
                    self.clear_back_to(&["tr"]);
                    self.pop();
                    return self.body_start(tag);
                }
                _ => return self.table_start(tag),
            },
            Mode::TableBody => match name {
                "tr" | "td" | "th" => {
                    self.clear_back_to(&["tbody", "thead", "tfoot"]);
                    self.push(LocalName::from("tr"));
                    return if name == "tr" { TokenSinkResult::Continue } else { self.body_start(tag) };
                }
                "caption" | "col" | "colgroup" | "tbody" | "tfoot" | "thead" => {
                    self.clear_back_to(&["tbody", "thead", "tfoot"]);
                    self.pop();
                    return self.body_start(tag);
                }
                _ => return self.table_start(tag),
            },
            Mode::Table => return self.table_start(tag),
        }
        self.in_body_start(tag)
    }

    /// A start tag in a table (the "in table" insertion mode).
    fn table_start(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name = &*tag.name;
        match name {
            "caption" | "colgroup" | "tbody" | "tfoot" | "thead" => {
                self.clear_back_to(&[]);
                self.push(tag.name.clone());
                if name == "caption" {
                    self.formatting.push(Entry::Marker);
                }
            }
            "col" => {
                self.clear_back_to(&[]);
                self.push(LocalName::from("colgroup"));
            }
            "td" | "th" | "tr" => {
                self.clear_back_to(&[]);
                self.push(LocalName::from("tbody"));
                return self.body_start(tag);
            }
            "table" => {
                if self.in_table_scope(&["table"]) {
                    self.pop_until(&["table"]);
                    return self.body_start(tag);
                }
            }
            "style" | "script" => return self.push_raw(tag),
            "input" if is_hidden_input(tag) => {}
            "form" => {
                if !self.form {
                    self.form = true;
                    self.push(tag.name.clone());
                    self.pop();
                }
            }
            _ => {
                // Fostered out of the table by the tree builder; kept in place here.
                self.inexact();
                return self.in_body_start(tag);
            }
        }
        TokenSinkResult::Continue
    }

    /// A start tag in the body (the "in body" insertion mode).
    fn in_body_start(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name = &*tag.name;
        match name {
            "html" | "body" | "head" | "base" | "basefont" | "bgsound" | "link" | "meta" | "input" | "area"
            | "embed" | "img" | "image" | "keygen" | "wbr" | "param" | "source" | "track" | "caption" | "col"
            | "colgroup" | "frame" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr" => {
                if matches!(name, "input" | "area" | "embed" | "img" | "image" | "keygen" | "wbr") {
                    self.reconstruct();
                }
            }
            "br" => {
                self.reconstruct();
                self.emit_void("br");
            }
            "hr" => {
                self.close_p();
                self.emit_void("hr");
            }
            "title" | "style" | "script" | "noframes" | "noscript" | "textarea" | "iframe" | "noembed" => {
                return self.push_raw(tag);
            }
            "xmp" => {
                self.close_p();
                self.reconstruct();
                return self.push_raw(tag);
            }
            "template" | "frameset" | "select" | "svg" | "math" => {
                self.inexact();
                self.reconstruct();
                self.push(tag.name.clone());
            }
            "address" | "article" | "aside" | "blockquote" | "center" | "details" | "dialog" | "dir" | "div" | "dl"
            | "fieldset" | "figcaption" | "figure" | "footer" | "header" | "hgroup" | "main" | "menu" | "nav"
            | "ol" | "p" | "search" | "section" | "summary" | "ul" => {
                self.close_p();
                self.push(tag.name.clone());
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.close_p();
                if is_heading(self.top()) {
                    self.pop();
                }
                self.push(tag.name.clone());
            }
            "pre" | "listing" => {
                self.close_p();
                self.push(tag.name.clone());
                self.drop_lf = true;
            }
            "form" => {
                if !self.form {
                    self.close_p();
                    self.form = true;
                    self.push(tag.name.clone());
                }
            }
            "li" | "dd" | "dt" => {
                let closes: &[&str] = if name == "li" { &["li"] } else { &["dd", "dt"] };
                for i in (0..self.stack.len()).rev() {
                    let node = &*self.stack[i].name;
                    if closes.contains(&node) {
                        let node = self.stack[i].name.clone();
                        self.close(&node);
                        break;
                    }
                    if is_special(node) && !matches!(node, "address" | "div" | "p") {
                        break;
                    }
                }
                self.close_p();
                self.push(tag.name.clone());
            }
            "plaintext" => {
                self.close_p();
                self.push(tag.name.clone());
                return TokenSinkResult::Plaintext;
            }
            "button" => {
                if self.in_scope(&["button"], &[]) {
                    self.close("button");
                }
                self.reconstruct();
                self.push(tag.name.clone());
            }
            "a" => {
                // An `a` still active is closed first.
                if let Some(id) = self.active("a") {
                    self.adoption_agency(&tag.name);
                    self.forget(id);
                }
                self.reconstruct();
                self.push_formatting(tag);
            }
            "nobr" => {
                self.reconstruct();
                if self.in_scope(&["nobr"], &[]) {
                    self.adoption_agency(&tag.name);
                    self.reconstruct();
                }
                self.push_formatting(tag);
            }
            "b" | "big" | "code" | "em" | "font" | "i" | "s" | "small" | "strike" | "strong" | "tt" | "u" => {
                self.reconstruct();
                self.push_formatting(tag);
            }
            "applet" | "marquee" | "object" => {
                self.reconstruct();
                self.push(tag.name.clone());
                self.formatting.push(Entry::Marker);
            }
            "table" => {
                if self.in_scope(&["p"], &["button"]) {
                    match self.quirks {
                        Quirks::No => self.close_p(),
                        Quirks::Yes => {}
                        Quirks::Unknown => {
                            self.inexact();
                            self.close_p();
                        }
                    }
                }
                self.push(tag.name.clone());
            }
            "optgroup" | "option" => {
                if self.top() == "option" {
                    self.pop();
                }
                self.reconstruct();
                self.push(tag.name.clone());
            }
            _ => {
                self.reconstruct();
                self.push(tag.name.clone());
            }
        }
        TokenSinkResult::Continue
    }

    fn end(&mut self, name: &LocalName) {
        if self.top_is_raw() {
            self.pop();
            return;
        }
        let n = &**name;
        match self.phase {
            Phase::Initial | Phase::BeforeHead | Phase::AfterHead => {
                if matches!(n, "head" | "body" | "html" | "br") {
                    self.enter_body();
                    self.end(name);
                }
            }
            Phase::InHead => match n {
                "head" => {
                    self.pop();
                    self.phase = Phase::AfterHead;
                }
                "body" | "html" | "br" => {
                    self.enter_body();
                    self.end(name);
                }
                _ => {}
            },
            Phase::Body => self.body_end(name),
        }
    }

    fn body_end(&mut self, name: &LocalName) {
        let n = &**name;
        match self.mode() {
            Mode::Body => {}
            Mode::ColumnGroup => {
                match n {
                    "colgroup" => self.pop(),
                    "col" => {}
                    _ => {
                        self.pop();
                        self.body_end(name);
                    }
                }
                return;
            }
            Mode::Caption => match n {
                "caption" => {
                    if self.in_table_scope(&["caption"]) {
                        self.close_marked("caption");
                    }
                    return;
                }
                "table" => {
                    if self.in_table_scope(&["caption"]) {
                        self.close_marked("caption");
                        self.body_end(name);
                    }
                    return;
                }
                "body" | "col" | "colgroup" | "html" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr" => return,
                _ => {}
            },
            Mode::Cell => match n {
                "td" | "th" => {
                    if self.in_table_scope(&[n]) {
                        self.close_marked(n);
                    }
                    return;
                }
                "body" | "caption" | "col" | "colgroup" | "html" => return,
                "table" | "tbody" | "tfoot" | "thead" | "tr" => {
                    if self.in_table_scope(&[n]) {
                        self.close_cell();
                        self.body_end(name);
                    }
                    return;
                }
                _ => {}
            },
            Mode::Row => {
                match n {
                    "tr" | "table" | "tbody" | "tfoot" | "thead" => {
                        if self.in_table_scope(&[n]) && self.in_table_scope(&["tr"]) {
                            self.clear_back_to(&["tr"]);
                            self.pop();
                            if n != "tr" {
                                self.body_end(name);
                            }
                        }
                    }
                    "body" | "caption" | "col" | "colgroup" | "html" | "td" | "th" => {}
                    _ => self.table_end(name),
                }
                return;
            }
            Mode::TableBody => {
                match n {
                    "tbody" | "tfoot" | "thead" => {
                        if self.in_table_scope(&[n]) {
                            self.clear_back_to(&["tbody", "thead", "tfoot"]);
                            self.pop();
                        }
                    }
                    "table" => {
                        if self.in_table_scope(&["tbody", "thead", "tfoot"]) {
                            self.clear_back_to(&["tbody", "thead", "tfoot"]);
                            self.pop();
                            self.body_end(name);
                        }
                    }
                    "body" | "caption" | "col" | "colgroup" | "html" | "td" | "th" | "tr" => {}
                    _ => self.table_end(name),
                }
                return;
            }
            Mode::Table => return self.table_end(name),
        }
        self.in_body_end(name)
    }

    /// An end tag in a table (the "in table" insertion mode).
    fn table_end(&mut self, name: &LocalName) {
        match &**name {
            "table" => {
                if self.in_table_scope(&["table"]) {
                    self.pop_until(&["table"]);
                }
            }
            "body" | "caption" | "col" | "colgroup" | "html" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr" => {}
            // These insert an element, which would be fostered out of the table; kept in place here.
            "p" | "br" => {
                self.inexact();
                self.in_body_end(name);
            }
            _ => self.in_body_end(name),
        }
    }

    /// An end tag in the body (the "in body" insertion mode).
    fn in_body_end(&mut self, name: &LocalName) {
        let n = &**name;
        match n {
            "body" | "html" => {}
            // Only opened when the text is inexact anyway.
            "template" => {
                if self.stack.iter().any(|o| &*o.name == "template") {
                    self.pop_until(&["template"]);
                }
            }
            "address" | "article" | "aside" | "blockquote" | "button" | "center" | "details" | "dialog" | "dir"
            | "div" | "dl" | "fieldset" | "figcaption" | "figure" | "footer" | "header" | "hgroup" | "listing"
            | "main" | "menu" | "nav" | "ol" | "pre" | "search" | "section" | "summary" | "ul" => {
                if self.in_scope(&[n], &[]) {
                    self.close(n);
                }
            }
            "applet" | "marquee" | "object" => {
                if self.in_scope(&[n], &[]) {
                    self.close_marked(n);
                }
            }
            "form" => {
                self.form = false;
                if self.in_scope(&["form"], &[]) {
                    self.generate_implied_end_tags(None);
                    if self.top() == "form" {
                        self.pop();
                    } else if let Some(at) = self.stack.iter().rposition(|o| &*o.name == "form") {
                        // The tree builder takes the form off the stack, leaving what is open inside it.
                        self.inexact();
                        self.stack.remove(at);
                        if self.skipped == 0 {
                            self.out.close("form");
                        }
                    }
                }
            }
            "p" => {
                if self.in_scope(&["p"], &["button"]) {
                    self.close("p");
                } else {
                    self.push(name.clone());
                    self.pop();
                }
            }
            "li" => {
                if self.in_scope(&["li"], &["ol", "ul"]) {
                    self.close("li");
                }
            }
            "dd" | "dt" => {
                if self.in_scope(&[n], &[]) {
                    self.close(n);
                }
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                const HEADINGS: [&str; 6] = ["h1", "h2", "h3", "h4", "h5", "h6"];
                if self.in_scope(&HEADINGS, &[]) {
                    self.generate_implied_end_tags(None);
                    self.pop_until(&HEADINGS);
                }
            }
            "br" => {
                self.reconstruct();
                self.emit_void("br");
            }
            "a" | "b" | "big" | "code" | "em" | "font" | "i" | "nobr" | "s" | "small" | "strike" | "strong" | "tt"
            | "u" => self.adoption_agency(name),
            _ => self.any_other_end(name),
        }
    }

    /// An end tag with no rule of its own: closes the nearest open element of that name unless a special
    /// element is open above it.
    fn any_other_end(&mut self, name: &LocalName) {
        for i in (0..self.stack.len()).rev() {
            if self.stack[i].name == *name {
                self.generate_implied_end_tags(Some(name));
                while self.stack.len() > i {
                    self.pop();
                }
                return;
            }
            if is_special(&self.stack[i].name) {
                return;
            }
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
