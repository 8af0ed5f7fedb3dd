//! The tree builder's list of active formatting elements (`b`, `font`, `a`, ...): reopening them after a block
//! closed them, and the adoption agency algorithm for their end tags. They never put line breaks into the text,
//! but they are on the stack of open elements, so they decide what "the current node" is for later tags.

use super::names::is_special;
use super::Builder;
use html5ever::tokenizer::Tag;
use html5ever::{Attribute, LocalName};
use std::collections::HashSet;

/// An entry of the list of active formatting elements.
pub(super) enum Entry {
    /// Put in by a table cell, a caption, `applet`, `marquee` or `object`: the list's entries before it are not
    /// reopened inside them.
    Marker,
    /// A formatting element, by the id of the element that stands for it now.
    Element { name: LocalName, attrs: Vec<Attribute>, id: u32 },
}

impl Entry {
    /// The element's id (`None` for a marker).
    fn id(&self) -> Option<u32> {
        match self {
            Self::Marker => None,
            Self::Element { id, .. } => Some(*id),
        }
    }
}

/// How many times the adoption agency algorithm's outer and inner loops run at most (as the spec says).
const OUTER_LOOPS: usize = 8;
const INNER_LOOPS: usize = 3;

impl Builder {
    /// Opens a formatting element and adds it to the list (at most three equal ones after the last marker).
    pub(super) fn push_formatting(&mut self, tag: &Tag) {
        // Each entry's attributes are compared (html5ever copies and sorts both lists for it).
        self.charge(self.formatting.len().saturating_mul(1 + tag.attrs.len()));
        let mut attrs = tag.attrs.clone();
        attrs.sort();
        let equal: Vec<usize> = self
            .after_marker()
            .filter(|&i| {
                matches!(&self.formatting[i], Entry::Element { name, attrs: a, .. } if *name == tag.name && *a == attrs)
            })
            .collect();
        if equal.len() >= 3 {
            self.formatting.remove(equal[equal.len() - 1]);
        }
        let id = self.push(tag.name.clone());
        self.formatting.push(Entry::Element { name: tag.name.clone(), attrs, id });
    }

    /// Indexes of the list's entries after its last marker, last first.
    fn after_marker(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.formatting.len()).rev().take_while(|&i| !matches!(self.formatting[i], Entry::Marker))
    }

    /// The id of the last active formatting element named `name` after the last marker.
    pub(super) fn active(&self, name: &str) -> Option<u32> {
        self.charge(self.formatting.len());
        self.after_marker().find_map(|i| match &self.formatting[i] {
            Entry::Element { name: n, id, .. } if &**n == name => Some(*id),
            _ => None,
        })
    }

    /// Removes the element `id` from the list and from the stack, wherever it is.
    pub(super) fn forget(&mut self, id: u32) {
        self.charge(self.formatting.len() + self.stack.len());
        self.formatting.retain(|e| e.id() != Some(id));
        if let Some(i) = self.position(id) {
            self.take_out(i);
        }
    }

    /// Reopens the formatting elements a block closed, before content is inserted.
    pub(super) fn reconstruct(&mut self) {
        let Some(last) = self.formatting.len().checked_sub(1) else { return };
        if self.formatting[last].id().is_none_or(|id| self.position(id).is_some()) {
            return;
        }
        // One pass over the stack, not one per entry (the list's length times the stack's, for every text).
        let on_stack: HashSet<u32> = self.stack.iter().map(|o| o.id).collect();
        let mut first = last;
        while first > 0 && self.formatting[first - 1].id().is_some_and(|id| !on_stack.contains(&id)) {
            first -= 1;
        }
        // html5ever's tree builder does walk the stack once per entry.
        self.charge((last - first + 2) * self.stack.len());
        for i in first..=last {
            if let Entry::Element { name, .. } = &self.formatting[i] {
                let id = self.push(name.clone());
                if let Entry::Element { id: entry, .. } = &mut self.formatting[i] {
                    *entry = id;
                }
            }
        }
    }

    /// Drops the list's entries up to and including its last marker.
    pub(super) fn clear_to_marker(&mut self) {
        while let Some(entry) = self.formatting.pop() {
            if matches!(entry, Entry::Marker) {
                break;
            }
        }
    }

    /// The adoption agency algorithm, for the end tag of formatting element `subject` (or an `<a>` while one
    /// is active). Where it moves a block out of the formatting element, the text keeps its order and its
    /// block boundaries; only the stack changes, and that is what is modelled here.
    pub(super) fn adoption_agency(&mut self, subject: &LocalName) {
        if self.stack.last().is_some_and(|o| o.name == *subject && !self.in_list(o.id)) {
            self.pop();
            return;
        }
        for _ in 0..OUTER_LOOPS {
            self.charge(self.stack.len() + self.formatting.len());
            let Some(fe_id) = self.active(subject) else {
                return self.any_other_end(subject);
            };
            let Some(fe) = self.formatting.iter().position(|e| e.id() == Some(fe_id)) else { return };
            let Some(fe_at) = self.position(fe_id) else {
                self.formatting.remove(fe);
                return;
            };
            if !self.element_in_scope(fe_at) {
                return;
            }
            let Some(fb_at) = (fe_at + 1..self.stack.len()).find(|&i| is_special(&self.stack[i].name)) else {
                while self.stack.len() > fe_at {
                    self.pop();
                }
                self.formatting.remove(fe);
                return;
            };
            let common_ancestor = fe_at.checked_sub(1).map_or("html", |i| &*self.stack[i].name);
            if matches!(common_ancestor, "table" | "tbody" | "tfoot" | "thead" | "tr") {
                // The block would be fostered out of the table.
                return self.mark_inexact();
            }
            let fb_id = self.stack[fb_at].id;
            // Where the formatting element's clone goes in the list: its own place, or after a node's clone.
            let mut bookmark_after = None;
            let mut node_at = fb_at;
            let mut inner = 0;
            loop {
                self.charge(self.formatting.len());
                inner += 1;
                node_at -= 1;
                if node_at == fe_at {
                    break;
                }
                let node_id = self.stack[node_at].id;
                let mut entry = self.formatting.iter().position(|e| e.id() == Some(node_id));
                if let Some(e) = entry.filter(|_| inner > INNER_LOOPS) {
                    self.formatting.remove(e);
                    entry = None;
                }
                let Some(e) = entry else {
                    self.take_out(node_at);
                    continue;
                };
                // The node is replaced by a clone (a new id), which becomes the parent of the last node.
                self.next_id += 1;
                self.stack[node_at].id = self.next_id;
                if let Entry::Element { id, .. } = &mut self.formatting[e] {
                    *id = self.next_id;
                }
                // While the last node is the furthest block, the bookmark moves after the first clone.
                if bookmark_after.is_none() {
                    bookmark_after = Some(self.next_id);
                }
            }
            // A clone of the formatting element takes the furthest block's children, just above it on the stack.
            let Some(fe) = self.formatting.iter().position(|e| e.id() == Some(fe_id)) else { return };
            let Entry::Element { name, attrs, .. } = self.formatting.remove(fe) else { return };
            let at = match bookmark_after {
                Some(id) => self.formatting.iter().position(|e| e.id() == Some(id)).map_or(fe, |i| i + 1),
                None => fe,
            };
            self.next_id += 1;
            let entry = Entry::Element { name: name.clone(), attrs, id: self.next_id };
            self.formatting.insert(at.min(self.formatting.len()), entry);
            self.stack.remove(fe_at);
            let fb_at = self.position(fb_id).unwrap_or(self.stack.len() - 1);
            let clone = self.open_at(name, self.next_id, Some(fb_at));
            self.stack.insert(fb_at + 1, clone);
        }
    }

    /// Whether the element `id` is in the list of active formatting elements.
    fn in_list(&self, id: u32) -> bool {
        self.charge(self.formatting.len());
        self.formatting.iter().any(|e| e.id() == Some(id))
    }
}
