//! A linear estimate of how deep HTML nests, read off its tags before any
//! parser sees it. html5ever checks element scope by walking its stack of
//! open elements, so a document 20,000 elements deep costs it minutes; this
//! scan keeps such a document away from it. The estimate follows the HTML
//! parser's rules for closing elements where they are simple and otherwise
//! closes less than a parser would, so it errs on the deep side; the parsed
//! tree is measured again afterwards (see `nesting::dom_too_deep`).

use super::spira_clean::{tag_len, tag_name};

/// Elements that never have content.
#[rustfmt::skip]
const VOID: [&str; 16] = [
    "area", "base", "br", "col", "embed", "frame", "hr", "img", "input", "keygen", "link", "meta",
    "param", "source", "track", "wbr",
];
/// Elements whose content is text up to their end tag.
#[rustfmt::skip]
const RAW_TEXT: [&str; 9] = [
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext",
];
/// Formatting elements: their end tags run the adoption agency algorithm,
/// which this scan does not model; it only closes one when it is innermost.
#[rustfmt::skip]
const FORMATTING: [&str; 14] = [
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];
/// The parser's "special" elements (HTML spec, 13.2.4.1): an end tag for an
/// element outside them is ignored rather than closing through them.
#[rustfmt::skip]
const SPECIAL: [&str; 41] = [
    "address", "applet", "article", "aside", "blockquote", "body", "button", "caption", "center",
    "dd", "details", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
    "form", "header", "html", "li", "main", "marquee", "menu", "nav", "object", "ol", "p", "pre",
    "section", "select", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "ul",
];
/// Start tags that close a `p` left open (when it is innermost, here).
#[rustfmt::skip]
const CLOSES_P: [&str; 16] = [
    "address", "article", "aside", "blockquote", "div", "dl", "fieldset", "figure", "footer",
    "header", "main", "nav", "ol", "p", "section", "ul",
];

/// Whether `html`'s elements may nest deeper than `limit`.
pub(super) fn deeper_than(html: &str, limit: usize) -> bool {
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some(len) = tag_len(rest) else {
            // `<!doctype …>`, `<?…>` or a lone `<`: no element.
            rest = &rest[1..];
            continue;
        };
        let tag = &rest[..len];
        rest = &rest[len..];
        let name = tag_name(tag);
        if tag.starts_with("</") {
            close(&mut open, &name);
            continue;
        }
        if VOID.contains(&name.as_str()) {
            continue;
        }
        if RAW_TEXT.contains(&name.as_str()) {
            rest = skip_raw_text(rest, &name);
            continue;
        }
        start(&mut open, &name);
        if open.len() > limit {
            return true;
        }
    }
    false
}

fn heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

fn special(name: &str) -> bool {
    SPECIAL.contains(&name) || heading(name)
}

/// What a start tag closes, then the element it opens.
fn start(open: &mut Vec<String>, name: &str) {
    if name == "li" || name == "dd" || name == "dt" {
        // A new item closes the open one (spec: "A start tag whose tag name is "li"").
        let siblings: &[&str] = if name == "li" { &["li"] } else { &["dd", "dt"] };
        let found = open.iter().rposition(|e| siblings.contains(&e.as_str()));
        let passable = |e: &String| !special(e) || matches!(e.as_str(), "address" | "div" | "p");
        if let Some(at) = found
            && open[at + 1..].iter().all(passable)
        {
            open.truncate(at);
        }
    }
    if (CLOSES_P.contains(&name) || heading(name)) && open.last().is_some_and(|e| e == "p") {
        open.pop();
    }
    open.push(name.to_string());
}

/// Elements an end tag of a special element does not close through (the
/// spec's "has an element in scope"; list items and paragraphs have more).
fn scope_boundary(element: &str, closing: &str) -> bool {
    matches!(
        element,
        "applet" | "caption" | "html" | "table" | "td" | "th" | "marquee" | "object" | "template"
    ) || (closing == "li" && matches!(element, "ul" | "ol"))
        || (closing == "p" && element == "button")
}

/// What an end tag closes. A special element's end tag closes it and what
/// is inside when it is in scope; any other end tag closes the nearest open
/// element of its name unless a special element stands between (then the
/// parser ignores it). `body`, `html` and `form` end tags close nothing
/// the next elements would not be nested in.
fn close(open: &mut Vec<String>, name: &str) {
    if FORMATTING.contains(&name) || matches!(name, "body" | "html" | "form") {
        if open.last().is_some_and(|e| e == name) {
            open.pop();
        }
        return;
    }
    let closes_special = special(name);
    for at in (0..open.len()).rev() {
        if open[at] == name {
            open.truncate(at);
            return;
        }
        let stops = if closes_special {
            scope_boundary(&open[at], name)
        } else {
            special(&open[at])
        };
        if stops {
            return;
        }
    }
}

/// The text after a raw-text element's end tag.
fn skip_raw_text<'a>(rest: &'a str, name: &str) -> &'a str {
    let end_tag = format!("</{name}");
    match rest.to_ascii_lowercase().find(&end_tag) {
        Some(at) => {
            let after = &rest[at..];
            after.find('>').map_or("", |gt| &after[gt + 1..])
        }
        None => "",
    }
}

/// The text of `html` without its tags (entities kept, so still HTML),
/// a line break where a tag was: what is shown of a text too deep to parse.
pub(super) fn text_without_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some(len) = tag_len(rest) else {
            out.push_str("&lt;");
            rest = &rest[1..];
            continue;
        };
        let name = tag_name(&rest[..len]);
        rest = &rest[len..];
        if RAW_TEXT.contains(&name.as_str()) && !rest.is_empty() {
            rest = skip_raw_text(rest, &name);
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push_str(rest);
    out.replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_html_is_as_deep_as_it_looks() {
        let html = "<div><p>a <b>b</b></p><ul><li>one<li>two<li>three</ul><p>x<p>y<p>z</div>";
        assert!(!deeper_than(html, 3));
        assert!(deeper_than(html, 2));
        assert!(!deeper_than(&"<p>para".repeat(1000), 1));
        assert!(!deeper_than(&"<li>item".repeat(1000), 1));
        assert!(!deeper_than(&"<br><img src=x><hr>".repeat(1000), 0));
        assert!(!deeper_than(
            &"<!-- <div> --><script><div></script>".repeat(1000),
            0
        ));
    }

    #[test]
    fn end_tags_the_parser_ignores_close_nothing() {
        // `</span>` cannot close through a `div`: the parser nests these.
        assert!(deeper_than(&"<span><div></span>".repeat(100), 64));
        assert!(deeper_than(&"<div></nothing>".repeat(100), 64));
        assert!(deeper_than(&"<b><i></b>".repeat(100), 64));
        assert!(deeper_than(&"<li><ul></li>".repeat(100), 64));
        assert!(deeper_than(&"<div></body><div>".repeat(100), 64));
    }

    #[test]
    fn text_without_tags_stays_html_safe() {
        assert_eq!(
            text_without_tags("<div>a &amp; b<div>c < d > e</div><script>x()</script></div>"),
            "\na &amp; b\nc &lt; d &gt; e\n"
        );
    }
}
