//! Bounded nesting. Anyone who can file an issue or an incident can nest
//! block quotes, lists, emphasis or HTML elements thousands deep; htmd walks
//! its DOM recursively, so such a text would overflow the stack and abort
//! labsync on every cycle. The depth is measured here without recursion,
//! before any recursive converter runs; a text past the limit is shown as
//! plain text under a note instead of converted.

use std::rc::Rc;

use htmd::Node;
use markup5ever_rcdom::NodeData;
use pulldown_cmark::Event;

/// How deep Markdown may nest (block quotes, lists, items, emphasis, links …).
pub const MAX_NESTING: usize = 64;
/// How many more levels HTML may have than the Markdown it stands for: the
/// document, `html` and `body`, and the elements rendering adds (`pre` +
/// `code`, table sections). Spira HTML deeper than this is not converted.
pub const HTML_WRAPPING: usize = 8;

/// The note above a text shown as plain text.
pub const NOTE: &str = "labsync: this text nests too deep to convert (more than 64 levels); it is shown as plain text.";

/// Whether Markdown's events nest deeper than [`MAX_NESTING`].
pub(super) fn events_too_deep(events: &[Event<'_>]) -> bool {
    let mut depth = 0usize;
    for event in events {
        match event {
            Event::Start(_) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return true;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Whether a parsed HTML document nests deeper than its Markdown may.
pub(super) fn dom_too_deep(document: &Rc<Node>) -> bool {
    let mut to_visit = vec![(Rc::clone(document), 0usize)];
    while let Some((node, depth)) = to_visit.pop() {
        if depth > MAX_NESTING + HTML_WRAPPING {
            return true;
        }
        to_visit.extend(
            node.children
                .borrow()
                .iter()
                .map(|child| (Rc::clone(child), depth + 1)),
        );
    }
    false
}

/// Elements whose content people do not read as text.
const HIDDEN: [&str; 4] = ["script", "style", "head", "template"];
/// Elements that sit inside a line of text; every other element starts a new line.
const INLINE: [&str; 22] = [
    "a", "abbr", "b", "big", "cite", "code", "del", "em", "font", "i", "ins", "kbd", "mark", "q",
    "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
];

/// The text a reader sees in a document, in order, a line break between
/// blocks; found without recursion.
pub(super) fn dom_text(document: &Rc<Node>) -> String {
    enum Step {
        Visit(Rc<Node>),
        LineBreak,
    }
    let mut out = String::new();
    let mut to_do = vec![Step::Visit(Rc::clone(document))];
    while let Some(step) = to_do.pop() {
        let node = match step {
            Step::LineBreak => {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                continue;
            }
            Step::Visit(node) => node,
        };
        let block = match &node.data {
            NodeData::Text { contents } => {
                out.push_str(&contents.borrow());
                continue;
            }
            NodeData::Element { name, .. } => {
                let name: &str = &name.local;
                if HIDDEN.contains(&name) {
                    continue;
                }
                !INLINE.contains(&name)
            }
            NodeData::Document => false,
            _ => continue,
        };
        if block {
            to_do.push(Step::LineBreak);
        }
        to_do.extend(
            node.children
                .borrow()
                .iter()
                .rev()
                .map(|child| Step::Visit(Rc::clone(child))),
        );
        if block {
            to_do.push(Step::LineBreak);
        }
    }
    out
}

/// Text (already escaped for HTML) as HTML that shows it verbatim, under
/// [`NOTE`]: two levels deep whatever the text holds.
pub(super) fn plain_text_html(escaped_text: &str) -> String {
    plain_text_html_under(NOTE, escaped_text)
}

/// Text (already escaped for HTML) as HTML that shows it verbatim, under `note`.
pub(super) fn plain_text_html_under(note: &str, escaped_text: &str) -> String {
    format!(
        "<p><em>{note}</em></p>\n<pre><code>{}\n</code></pre>",
        escaped_text.trim_matches('\n')
    )
}

/// Runs `f` on a thread with a small stack (256 KiB): code that recursed
/// once per level of a deep text would overflow it and abort the tests.
/// A test helper, public for the simulators' tests (they read deep texts too).
#[doc(hidden)]
pub fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .expect("a thread")
        .join()
        .expect("no panic")
}
