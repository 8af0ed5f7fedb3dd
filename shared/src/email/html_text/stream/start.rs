//! Start tags: where each one opens, closes or implies elements, by insertion mode (before the body, in the
//! body, in a table and its parts).

use super::names::{is_heading, is_hidden_input, is_special, is_table_part};
use super::{Builder, Entry, Mode, Phase, Quirks};
use html5ever::tokenizer::{Tag, TokenSinkResult};
use html5ever::LocalName;

impl Builder {
    /// A start tag.
    pub(super) fn start(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name = &*tag.name;
        self.charge_stack_walk(name);
        if matches!(name, "html" | "body") && !tag.attrs.is_empty() {
            // The tree builder adds their attributes to the first `html` or `body` element, each into a sorted
            // list of all the ones added before.
            self.merged_attributes += tag.attrs.len();
            self.charge(tag.attrs.len().saturating_mul(self.merged_attributes));
        }
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
                    self.mark_inexact();
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
                    self.mark_inexact();
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
                if self.form.is_none() {
                    self.form = Some(self.push(tag.name.clone()));
                    self.pop();
                }
            }
            _ => {
                // Fostered out of the table by the tree builder; kept in place here.
                self.mark_inexact();
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
                self.mark_inexact();
                self.reconstruct();
                // `<svg/>` and `<math/>` close at once; other self-closing elements stay open.
                if !(tag.self_closing && matches!(name, "svg" | "math")) {
                    self.push(tag.name.clone());
                }
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
                if self.form.is_none() {
                    self.close_p();
                    self.form = Some(self.push(tag.name.clone()));
                }
            }
            "li" | "dd" | "dt" => {
                let closes: &[&str] = if name == "li" { &["li"] } else { &["dd", "dt"] };
                for i in (0..self.stack.len()).rev() {
                    self.charge(1);
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
                            self.mark_inexact();
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
            "rb" | "rtc" | "rp" | "rt" => {
                if self.in_scope(&["ruby"], &[]) {
                    self.generate_implied_end_tags(matches!(name, "rp" | "rt").then_some("rtc"));
                }
                self.push(tag.name.clone());
            }
            _ => {
                self.reconstruct();
                self.push(tag.name.clone());
            }
        }
        TokenSinkResult::Continue
    }
}
