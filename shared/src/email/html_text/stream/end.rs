//! End tags: which open elements each one closes, by insertion mode (before the body, in the body, in a table
//! and its parts).

use super::names::is_special;
use super::{Builder, Mode, Phase};
use crate::email::html_text::Emit;
use html5ever::LocalName;

impl Builder {
    /// An end tag.
    pub(super) fn end(&mut self, name: &LocalName) {
        self.charge_stack_walk(name);
        if self.top_is_raw() {
            self.pop();
            return;
        }
        let n = &**name;
        match self.phase {
            // The head is implied and closed at once (no content).
            Phase::Initial | Phase::BeforeHead if n == "head" => self.phase = Phase::AfterHead,
            Phase::Initial | Phase::BeforeHead | Phase::AfterHead => {
                if matches!(n, "body" | "html" | "br") {
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
                self.mark_inexact();
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
                self.charge(self.stack.len());
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
                // Only the form the pointer was set to, and only when it is in scope.
                let Some(form) = self.form.take() else { return };
                if !self.position(form).is_some_and(|at| self.element_in_scope(at)) {
                    return;
                }
                self.generate_implied_end_tags(None);
                if self.stack.last().is_some_and(|o| o.id == form) {
                    self.pop();
                } else if let Some(at) = self.position(form) {
                    // The tree builder takes the form off the stack, leaving what is open inside it.
                    self.mark_inexact();
                    self.take_out(at);
                    if self.skipped == 0 {
                        self.out.close("form");
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
    pub(super) fn any_other_end(&mut self, name: &LocalName) {
        for i in (0..self.stack.len()).rev() {
            self.charge(1);
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
}
