//! Inline code from HTML as a Markdown code span that reads back as the
//! same code (CommonMark 0.31 §6.1). htmd writes a `<code>` holding only
//! spaces as ` `` ` (no code span at all: two backticks that open a span
//! with the next such pair), so a line of them halved on every trip through
//! Spira's HTML and its canonical form never settled. Here the fence is a
//! backtick run whose length does not occur inside, and the content is
//! padded with one space each side exactly where a reader strips one.

use std::rc::Rc;

use htmd::Node;
use htmd::element_handler::{HandlerResult, Handlers};
use markup5ever_rcdom::NodeData;

/// The handler for `code`: code blocks (`pre > code`) are htmd's own.
pub(super) fn handle(handlers: &dyn Handlers, element: htmd::Element) -> Option<HandlerResult> {
    if parent_is_pre(element.node) {
        return handlers.fallback(element);
    }
    let content = handlers.walk_children(element.node).content;
    Some(code_span(&content).into())
}

/// Markdown that CommonMark reads as a code span holding `code` (a line
/// ending inside one reads as a space, so it is written as one).
pub(super) fn code_span(code: &str) -> String {
    let code = code.replace("\r\n", " ").replace(['\n', '\r'], " ");
    if code.is_empty() {
        return code;
    }
    let fence = "`".repeat(shortest_absent_run(&code));
    // A reader strips one space each side when both are there and the
    // content is not only spaces; a backtick at either end would join the fence.
    let all_spaces = code.bytes().all(|b| b == b' ');
    let pad = code.starts_with('`')
        || code.ends_with('`')
        || (!all_spaces && code.starts_with(' ') && code.ends_with(' '));
    let pad = if pad { " " } else { "" };
    format!("{fence}{pad}{code}{pad}{fence}")
}

/// The shortest run of backticks that does not occur in `code`: a code
/// span ends only at a run of exactly its opening length.
fn shortest_absent_run(code: &str) -> usize {
    let mut runs = std::collections::BTreeSet::new();
    let mut run = 0;
    for b in code.bytes().chain(std::iter::once(b'.')) {
        if b == b'`' {
            run += 1;
        } else if run > 0 {
            runs.insert(run);
            run = 0;
        }
    }
    (1..).find(|n| !runs.contains(n)).unwrap_or(1)
}

fn parent_is_pre(node: &Rc<Node>) -> bool {
    // rcdom keeps the parent in a `Cell`: take it to look, then put it back.
    let weak = node.parent.take();
    let parent = weak.as_ref().and_then(|w| w.upgrade());
    node.parent.set(weak);
    parent
        .is_some_and(|p| matches!(&p.data, NodeData::Element { name, .. } if &name.local == "pre"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulldown_cmark::{Event, Parser};

    /// The code CommonMark reads from `markdown` (a single code span).
    fn read_back(markdown: &str) -> Vec<String> {
        Parser::new(markdown)
            .filter_map(|e| match e {
                Event::Code(c) => Some(c.to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_code_reads_back_as_itself() {
        for code in [
            "a", " ", "  ", "   ", " a ", "  a  ", " a", "a ", "`", "``", "a`b", "a``b`c", "` a `",
            " `` ", "`a", "a`", "\ta\t", "*x*", "\\",
        ] {
            assert_eq!(
                read_back(&code_span(code)),
                vec![code.to_string()],
                "{code:?}"
            );
        }
    }

    #[test]
    fn line_ends_become_spaces_and_empty_code_is_nothing() {
        assert_eq!(read_back(&code_span("a\nb")), vec!["a b".to_string()]);
        assert_eq!(code_span(""), "");
    }
}
