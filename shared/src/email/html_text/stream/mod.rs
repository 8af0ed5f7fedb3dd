//! HTML to text from html5ever's tokens. A model of the HTML tree builder's stack of open elements (the states
//! before the body, implied end tags, tables and their implied parts, raw text elements, quirks, the active
//! formatting elements and the adoption agency algorithm) decides where each element starts and ends, so the text
//! is the tree walk's. Where the tree builder would move content (table content fostered out of a table, a form
//! closed out of order) or the model does not go (`svg`, `math`, `select`, `template`, framesets, an
//! unclassified doctype in front of `<p><table>`), the text is marked inexact and goes on close to the tree's.
//!
//! The same tokens can also build html5ever's document tree (one tokenizer pass for both), until its nodes pass
//! a limit: then the tree is dropped, and the model alone goes on.

use super::{cap_attributes, push_text, Emit};
use ego_tree::NodeId;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Doctype, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{TreeBuilder, TreeBuilderOpts, TreeSink};
use html5ever::{LocalName, TokenizerResult};
use scraper::{Html, HtmlTreeSink};
use std::cell::{Cell, RefCell};

mod end;
mod formatting;
mod names;
mod start;

use formatting::Entry;
use names::{is_html_space, is_raw_text, quirks_of};

/// The text of an HTML document made from its tokens.
pub(super) struct Streamed {
    /// The text, before tidying.
    pub(super) text: String,
    /// Whether it is the tree's text; when not, it is close to it (content the tree builder would move is
    /// where it was in the HTML, and elements the model leaves out are treated as ordinary ones).
    pub(super) exact: bool,
    /// The document tree, when one was asked for and stayed within its limit.
    pub(super) tree: Option<Html>,
    /// Whether the tree was dropped for the work it would take (see [`max_steps`], [`MAX_TREE_FORMATTING`]).
    pub(super) overworked: bool,
    /// Whether the model passed [`max_steps`] and stopped modelling (a tree would have been dropped).
    pub(super) flat: bool,
}

/// Steps of the tree builder (elements its scope checks and searches pass, elements it reopens) that `len` bytes
/// of HTML may take: the tree builder's work grows with the depth of the stack of open elements and the length
/// of the list of active formatting elements for every tag, so nested or reopened elements make it quadratic
/// (40,000 nested `<div>`s took 13 s, and 10 MB of them would take hours). Past it, the model stops modelling
/// ([`Builder::flat`]) and the document tree is dropped. The HTML bodies of the fixtures and the MIME corpus take
/// at most 0.53 steps per byte.
pub fn max_steps(len: usize) -> usize {
    STEPS_PER_BYTE.saturating_mul(len).saturating_add(STEPS_BASE)
}

/// See [`max_steps`].
const STEPS_PER_BYTE: usize = 8;
/// See [`max_steps`].
const STEPS_BASE: usize = 1_000_000;

/// The most active formatting elements a document tree is built with. html5ever compares each new one with every
/// one in its list (copying and sorting their attributes), at a cost the model's steps do not reflect; email HTML
/// leaves a handful open.
const MAX_TREE_FORMATTING: usize = 100;

/// Reads `html`'s tokens into text and, with `tree_limit`, into a document tree while it has at most that many
/// nodes (elements, text and comments).
pub(super) fn run(html: &str, tree_limit: Option<usize>) -> Streamed {
    read(html, tree_limit, false).expect("read to the end")
}

/// The model's text of `html` (no tree), or `None` once the model finds that its text would not be the tree's
/// (the HTML is read in pieces of [`PIECE`] bytes, and what follows the piece where that was found is not
/// read). A model that went flat reads on: it is marked inexact, but no tree would be kept for it anyway.
pub(super) fn run_while_exact(html: &str) -> Option<Streamed> {
    read(html, None, true)
}

/// See [`run_while_exact`].
const PIECE: usize = 8 << 10;

fn read(html: &str, tree_limit: Option<usize>, while_exact: bool) -> Option<Streamed> {
    let tree =
        tree_limit.map(|_| TreeBuilder::new(HtmlTreeSink::new(Html::new_document()), TreeBuilderOpts::default()));
    let sink = Sink {
        model: RefCell::new(Builder::new(html.len())),
        tree: RefCell::new(tree),
        tree_limit: tree_limit.unwrap_or(0),
        overworked: Cell::new(false),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    let capped = cap_attributes(html);
    let mut rest: &str = &capped;
    while !rest.is_empty() {
        let mut end = if while_exact { PIECE.min(rest.len()) } else { rest.len() };
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (piece, after) = rest.split_at(end);
        rest = after;
        input.push_back(StrTendril::from_slice(piece));
        // A `</script>` hands back its element (for a browser to run it): go on, as html5ever's own driver does.
        while let TokenizerResult::Script(_) = tokenizer.feed(&input) {}
        let model = tokenizer.sink.model.borrow();
        if while_exact && model.inexact && !model.flat {
            return None;
        }
    }
    tokenizer.end();
    let Sink { model, tree, overworked, .. } = tokenizer.sink;
    let b = model.into_inner();
    if while_exact && b.inexact && !b.flat {
        return None;
    }
    let tree = tree.into_inner().map(|t| t.sink.finish());
    Some(Streamed { text: b.out, exact: !b.inexact, tree, overworked: overworked.get(), flat: b.flat })
}

/// The tokenizer's sink: every token goes to the model, and to the tree builder while there is one. The tree
/// builder, when there is one, decides the tokenizer's state (raw text after `<script>`, ...); it is dropped as
/// soon as its tree has more nodes than the limit, so that no tree grows past it, or when the model's steps pass
/// [`max_steps`] (they count the tree builder's walks of its stack and list), or its list of active formatting
/// elements [`MAX_TREE_FORMATTING`].
struct Sink {
    model: RefCell<Builder>,
    tree: RefCell<Option<TreeBuilder<NodeId, HtmlTreeSink>>>,
    tree_limit: usize,
    /// The tree was dropped for the work it would take (see [`max_steps`], [`MAX_TREE_FORMATTING`]).
    overworked: Cell<bool>,
}

impl TokenSink for Sink {
    /// The tree's script element (`None` for the model's).
    type Handle = Option<NodeId>;

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<Option<NodeId>> {
        let own = self.model.borrow_mut().process(&token);
        let mut tree = self.tree.borrow_mut();
        let model = self.model.borrow();
        if tree.is_some() && (model.flat || model.formatting.len() > MAX_TREE_FORMATTING) {
            self.overworked.set(true);
            *tree = None;
        }
        drop(model);
        let Some(builder) = tree.as_ref() else {
            return match own {
                TokenSinkResult::Continue => TokenSinkResult::Continue,
                TokenSinkResult::Script(()) => TokenSinkResult::Script(None),
                TokenSinkResult::Plaintext => TokenSinkResult::Plaintext,
                TokenSinkResult::RawData(kind) => TokenSinkResult::RawData(kind),
            };
        };
        let result = match builder.process_token(token, line) {
            TokenSinkResult::Continue => TokenSinkResult::Continue,
            TokenSinkResult::Script(node) => TokenSinkResult::Script(Some(node)),
            TokenSinkResult::Plaintext => TokenSinkResult::Plaintext,
            TokenSinkResult::RawData(kind) => TokenSinkResult::RawData(kind),
        };
        if builder.sink.0.borrow().tree.nodes().len() > self.tree_limit {
            *tree = None;
        }
        result
    }

    fn end(&self) {
        if let Some(tree) = self.tree.borrow().as_ref() {
            tree.end();
        }
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.tree.borrow().as_ref().is_some_and(|t| t.adjusted_current_node_present_but_not_in_html_namespace())
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

/// An open element; `id` tells apart elements of the same name (the list of active formatting elements and the
/// form element pointer refer to them).
struct Open {
    name: LocalName,
    id: u32,
    /// The insertion mode while this element is the current node.
    mode: Mode,
}

/// The model of the tree builder, and the text it has made so far.
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
    /// The tree builder's form element pointer: the id of the form it was set to.
    form: Option<u32>,
    /// A line feed right after `<pre>`, `<listing>` or `<textarea>` is not content.
    drop_lf: bool,
    /// The tree builder would do something this model does not.
    inexact: bool,
    /// Attributes `html` and `body` start tags brought so far (the tree builder merges them into one element).
    merged_attributes: usize,
    /// Steps taken (see [`max_steps`]), counted where the tree builder walks its stack or list.
    steps: Cell<usize>,
    /// [`max_steps`] of the HTML.
    max_steps: usize,
    /// The steps passed `max_steps`: from then on, start and end tags only put their line breaks into the text,
    /// and raw text elements (`script`, `style`, ...), `svg` and `template` are still skipped; no more stack,
    /// scopes or formatting.
    flat: bool,
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
            form: None,
            drop_lf: false,
            inexact: false,
            merged_attributes: 0,
            steps: Cell::new(0),
            max_steps: max_steps(len),
            flat: false,
        }
    }

    /// A token; the result tells the tokenizer which state to go on in.
    fn process(&mut self, token: &Token) -> TokenSinkResult<()> {
        if !self.flat && self.steps.get() > self.max_steps {
            self.go_flat();
        }
        if self.flat {
            return self.process_flat(token);
        }
        let drop_lf = std::mem::take(&mut self.drop_lf);
        match token {
            Token::TagToken(tag) => match tag.kind {
                TagKind::StartTag => return self.start(tag),
                TagKind::EndTag => {
                    // The tree builder hands back a script element when its end tag closes it.
                    let script = self.top() == "script";
                    self.end(&tag.name);
                    if script {
                        return TokenSinkResult::Script(());
                    }
                }
            },
            Token::CharacterTokens(text) => {
                let text: &str = text;
                self.text(if drop_lf { text.strip_prefix('\n').unwrap_or(text) } else { text })
            }
            Token::DoctypeToken(d) => self.doctype(d),
            Token::EOFToken => self.finish(),
            Token::NullCharacterToken => self.null_character(),
            Token::CommentToken(_) | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }

    /// A doctype: the quirks mode, when it comes first.
    fn doctype(&mut self, d: &Doctype) {
        if self.phase == Phase::Initial {
            self.quirks = quirks_of(d);
            self.phase = Phase::BeforeHead;
        }
    }

    /// Character tokens.
    fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
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
                if self.top_is_raw() {
                    return push_text(&mut self.out, text);
                }
                match self.top() {
                    // Only whitespace stays in a table: other text is fostered out of it.
                    "table" | "tbody" | "thead" | "tfoot" | "tr" | "colgroup" => {
                        if !text.chars().all(is_html_space) {
                            self.mark_inexact();
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

    /// Stops modelling (see [`max_steps`]): closes what is open, except a raw text element being read; an `svg`
    /// or `template` still open stays skipped until its end tag.
    fn go_flat(&mut self) {
        self.flat = true;
        self.mark_inexact();
        let raw = self.top_is_raw().then(|| self.stack.pop()).flatten();
        let open_skipped = self.stack.iter().filter(|o| is_skipped_container(&o.name)).count();
        while !self.stack.is_empty() {
            self.pop();
        }
        self.skipped = open_skipped;
        if let Some(raw) = raw {
            self.skipped += usize::from(super::is_skipped(&raw.name));
            self.stack.push(raw);
        }
    }

    /// A token once the model is flat: tags put their line breaks into the text; raw text elements are still
    /// read as raw text (and skipped where they are not text), since the tokenizer goes by what this says.
    fn process_flat(&mut self, token: &Token) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) if tag.kind == TagKind::StartTag => {
                if is_raw_text(&tag.name) {
                    return self.push_raw(tag);
                }
                if self.skipped == 0 {
                    self.out.open(&tag.name);
                }
                if is_skipped_container(&tag.name) && !tag.self_closing {
                    self.skipped += 1;
                }
                if tag.name == *"plaintext" {
                    return TokenSinkResult::Plaintext;
                }
            }
            Token::TagToken(tag) => {
                if self.top_is_raw() {
                    let script = self.top() == "script";
                    self.pop();
                    if script {
                        return TokenSinkResult::Script(());
                    }
                } else if is_skipped_container(&tag.name) {
                    self.skipped = self.skipped.saturating_sub(1);
                } else if self.skipped == 0 {
                    self.out.close(&tag.name);
                }
            }
            Token::CharacterTokens(text) if self.skipped == 0 => push_text(&mut self.out, text),
            Token::EOFToken => self.finish(),
            _ => {}
        }
        TokenSinkResult::Continue
    }

    /// Counts the walk html5ever's tree builder makes over its whole stack of open elements for a tag named
    /// `name`, where the model walks none: the template check of `html`, `body` and `form` tags, the form owner
    /// of a form-associated element while a form is open, and resetting the insertion mode around `select`.
    fn charge_stack_walk(&self, name: &str) {
        let walks = matches!(name, "html" | "body" | "form" | "select" | "input" | "textarea" | "keygen")
            || (self.form.is_some() && matches!(name, "button" | "fieldset" | "img" | "object" | "output"));
        if walks {
            self.charge(self.stack.len());
        }
    }

    /// Counts `n` steps of the tree builder's work (see [`max_steps`]).
    fn charge(&self, n: usize) {
        self.steps.set(self.steps.get().saturating_add(n));
    }

    /// A NUL character: ignored in the body; before it, content that opens the body.
    fn null_character(&mut self) {
        if self.phase != Phase::Body && !self.top_is_raw() {
            self.enter_body();
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

    /// The end of the document: everything still open ends.
    fn finish(&mut self) {
        while !self.stack.is_empty() {
            self.pop();
        }
    }

    /// The current node's name (`html` when nothing else is open).
    fn top(&self) -> &str {
        self.stack.last().map_or("html", |n| &n.name)
    }

    /// The current node holds raw text (the tokenizer reads everything up to its end tag as text).
    fn top_is_raw(&self) -> bool {
        is_raw_text(self.top())
    }

    /// The insertion mode in the body: that of the nearest table part open.
    fn mode(&self) -> Mode {
        self.stack.last().map_or(Mode::Body, |o| o.mode)
    }

    /// An element named `name` with id `id`, to be put on the stack above the element at `below` (if any).
    fn open_at(&self, name: LocalName, id: u32, below: Option<usize>) -> Open {
        let mode = match &*name {
            "td" | "th" => Mode::Cell,
            "tr" => Mode::Row,
            "tbody" | "thead" | "tfoot" => Mode::TableBody,
            "caption" => Mode::Caption,
            "colgroup" => Mode::ColumnGroup,
            "table" => Mode::Table,
            _ => below.map_or(Mode::Body, |i| self.stack[i].mode),
        };
        Open { name, id, mode }
    }

    /// Notes that the tree builder would do something this model does not; the text goes on, close to the
    /// tree's.
    fn mark_inexact(&mut self) {
        self.inexact = true;
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
        if super::is_skipped(&name) {
            self.skipped += 1;
        }
        self.next_id += 1;
        let open = self.open_at(name, self.next_id, self.stack.len().checked_sub(1));
        self.stack.push(open);
        self.next_id
    }

    /// Takes the element at `at` off the stack, with no line break: the tree builder moved or removed it.
    fn take_out(&mut self, at: usize) -> Open {
        let open = self.stack.remove(at);
        if super::is_skipped(&open.name) {
            self.skipped = self.skipped.saturating_sub(1);
        }
        open
    }

    /// Closes the current node.
    fn pop(&mut self) {
        let Some(Open { name, .. }) = self.stack.pop() else { return };
        if super::is_skipped(&name) {
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

    /// Closes an open `p` in button scope.
    fn close_p(&mut self) {
        if self.in_scope(&["p"], &["button"]) {
            self.close("p");
        }
    }

    /// Closes the open table cell.
    fn close_cell(&mut self) {
        self.generate_implied_end_tags(None);
        self.pop_until(&["td", "th"]);
        self.clear_to_marker();
    }

    /// Closes the elements whose end tag may be left out (`p`, `li`, `option`, ...), except `except`.
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
        self.scan_scope(names, |n| {
            matches!(n, "applet" | "caption" | "table" | "td" | "th" | "marquee" | "object" | "template")
                || extra.contains(&n)
        })
    }

    /// Whether an element named in `names` is open in table scope.
    fn in_table_scope(&self, names: &[&str]) -> bool {
        self.scan_scope(names, |n| matches!(n, "table" | "template"))
    }

    /// Walks the stack down from the current node: true at an element named in `names`, false at a boundary.
    fn scan_scope(&self, names: &[&str], boundary: impl Fn(&str) -> bool) -> bool {
        let mut steps = 0;
        let mut found = false;
        for n in self.stack.iter().rev() {
            steps += 1;
            let n = &*n.name;
            if names.contains(&n) {
                found = true;
                break;
            }
            if boundary(n) {
                break;
            }
        }
        self.charge(steps);
        found
    }

    /// Whether the open element at `at` is in (default) scope: no scope boundary above it.
    fn element_in_scope(&self, at: usize) -> bool {
        self.charge(self.stack.len() - at);
        !self.stack[at + 1..].iter().any(|o| {
            matches!(&*o.name, "applet" | "caption" | "table" | "td" | "th" | "marquee" | "object" | "template")
        })
    }

    /// Where the element `id` is on the stack.
    fn position(&self, id: u32) -> Option<usize> {
        let at = self.stack.iter().rposition(|o| o.id == id);
        self.charge(self.stack.len() - at.unwrap_or(0));
        at
    }
}

/// Skipped elements that hold elements, not raw text, and that the flat model still skips up to their end tags
/// (`head` is left out: in the body the tree builder ignores it, and it is rarely closed).
fn is_skipped_container(name: &str) -> bool {
    matches!(name, "svg" | "template")
}
