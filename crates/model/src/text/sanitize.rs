//! What labsync writes into Spira's HTML is sanitized: Spira shows that HTML
//! to every reader, and Markdown anyone can type in GitLab may carry links
//! such as `[here](javascript:alert(1))`, `JaVaScRiPt:`, `vbscript:` or
//! `![x](data:text/html,…)`. ammonia (html5ever's parser, an allow-list of
//! tags, attributes and URL schemes) keeps what labsync's Markdown → HTML
//! produces and drops the rest: a link or image with another scheme loses
//! its `href`/`src` and keeps its text.

use std::collections::HashSet;
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};

/// URL schemes a link or image may keep; relative URLs (`/path`, `#top`,
/// `page.html`) are kept too.
pub const URL_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::default();
    builder
        .url_schemes(HashSet::from(URL_SCHEMES))
        .url_relative(UrlRelative::PassThrough)
        // Task-list checkboxes and table alignment, as pulldown-cmark writes them.
        .add_tags(["input"])
        .add_tag_attributes("input", ["checked", "disabled"])
        .add_tag_attribute_values("input", "type", ["checkbox"])
        .add_tag_attributes("th", ["style"])
        .add_tag_attributes("td", ["style"])
        .filter_style_properties(HashSet::from(["text-align"]))
        // The fence's language (`class="language-rust"`).
        .add_tag_attributes("code", ["class"]);
    builder
});

/// `html` with only the allowed tags, attributes and URL schemes left.
pub(super) fn sanitize(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_schemes_lose_their_url_and_keep_their_text() {
        assert_eq!(
            sanitize(r#"<a href="JaVaScRiPt:alert(1)">here</a>"#),
            r#"<a rel="noopener noreferrer">here</a>"#
        );
        assert_eq!(
            sanitize(r#"<img src="data:text/html,x" alt="x">"#),
            r#"<img alt="x">"#
        );
    }

    #[test]
    fn what_markdown_renders_is_kept() {
        for html in [
            "<p>a <strong>b</strong> <em>c</em> <code>d</code> <del>e</del></p>",
            "<ul>\n<li><input disabled=\"\" type=\"checkbox\">\ntodo</li>\n</ul>",
            "<pre><code class=\"language-rust\">fn main() {}\n</code></pre>",
            "<ol start=\"3\">\n<li>x</li>\n</ol>",
            "<blockquote>\n<p>q</p>\n</blockquote>\n<hr>\n<h2>t</h2>",
        ] {
            assert_eq!(sanitize(html), html);
        }
        // Alignment stays; ammonia writes the style without the space.
        assert_eq!(
            sanitize("<table><tr><th style=\"text-align: left\">a</th></tr></table>"),
            "<table><tbody><tr><th style=\"text-align:left\">a</th></tr></tbody></table>"
        );
    }
}
