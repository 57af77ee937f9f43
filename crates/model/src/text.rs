//! Descriptions and titles between Spira's HTML and GitLab's Markdown.
//!
//! The neutral record keeps Markdown in a *canonical* form: what comes back
//! after a trip through Spira's HTML. Comparing canonical forms is what makes
//! a round trip stable (no growth, no drift). The link-back footer that
//! labsync adds to a GitLab description is split off before anything is
//! compared, so it is never duplicated and never copied to Spira.

mod code_span;
mod html_depth;
mod nesting;
mod sanitize;
mod spira_clean;

pub use nesting::on_small_stack;
pub use nesting::{HTML_WRAPPING, MAX_NESTING, NOTE as NESTING_NOTE};
pub use sanitize::URL_SCHEMES;
pub use spira_clean::spira_kept;

use pulldown_cmark::{Event, Options, Parser, Tag, html};

/// GitLab's limit on an issue title, in characters.
pub const GITLAB_TITLE_MAX: usize = 255;
/// GitLab's limit on a description: 1 MiB in *bytes* (the docs say
/// characters; gitlab-org/gitlab `app/models/concerns/issuable.rb` checks
/// `bytesize`).
pub const GITLAB_DESCRIPTION_MAX_BYTES: usize = 1_048_576;
/// Bytes kept free beside a cut body for the cut note and the footer.
const FOOTER_ROOM_BYTES: usize = 2048;

const FOOTER_RULE: &str = "\n\n---\n";
const INCIDENT_MARKER: &str = "<!-- labsync:incident=";

/// Markdown → HTML for Spira. Raw HTML in the Markdown is shown as text, so
/// a `<script>` typed into GitLab never becomes markup in Spira, and the
/// result is sanitized (only [`URL_SCHEMES`] and relative URLs keep their
/// link). Markdown nesting deeper than [`MAX_NESTING`] is shown as plain
/// text under a note.
pub fn markdown_to_html(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options)
        .map(|event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            other => other,
        })
        .collect();
    if nesting::events_too_deep(&events) {
        return sanitize::sanitize(&nesting::plain_text_html(&escape_html(markdown)));
    }
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    sanitize::sanitize(out.trim_end())
}

/// HTML from Spira → Markdown. Scripts and styles are dropped. HTML nesting
/// deeper than its Markdown may (see [`HTML_WRAPPING`]) becomes its text,
/// shown as plain text under a note.
pub fn html_to_markdown(html: &str) -> String {
    let converter = htmd::HtmlToMarkdown::builder()
        .skip_tags(vec!["script", "style", "head"])
        .add_handler(vec!["code"], code_span::handle)
        .build();
    let limit = MAX_NESTING + HTML_WRAPPING;
    let plain = if html_depth::deeper_than(html, limit) {
        // Too deep to hand to the parser at all (it would take minutes).
        Some(nesting::plain_text_html(&html_depth::text_without_tags(
            html,
        )))
    } else {
        None
    };
    let source = plain.as_deref().unwrap_or(html);
    // htmd only fails on I/O of its in-memory buffers; keep the text rather than lose it.
    let Ok(mut document) = converter.html_to_tree(source) else {
        return tidy(source);
    };
    if nesting::dom_too_deep(&document) {
        let text = nesting::dom_text(&document);
        match converter.html_to_tree(&nesting::plain_text_html(&escape_html(&text))) {
            Ok(shallow) => document = shallow,
            Err(_) => return tidy(&text),
        }
    }
    tidy(&converter.tree_to_markdown(&document))
}

/// `text` safe as HTML element content or a quoted attribute value.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The canonical form of Markdown: a trip through HTML and back, repeated
/// until it no longer changes, so that `canonical(canonical(x)) ==
/// canonical(x)`. A text that has not settled within a few trips is shown
/// as plain text under a note (a form that does settle), so that labsync
/// never sees a change where there is none.
pub fn canonical_markdown(markdown: &str) -> String {
    settled(markdown, CANONICAL_TRIPS)
}

/// Trips through HTML a text may take to settle. Texts people write
/// settle in one or two.
const CANONICAL_TRIPS: usize = 4;

/// What labsync shows above a text that did not settle.
const UNSETTLED_NOTE: &str =
    "labsync: this text changes on every trip through Spira's HTML; it is shown as plain text.";

/// `markdown` tripped through HTML until it no longer changes, or, when it
/// still changes after `trips`, the last form as plain text under a note.
fn settled(markdown: &str, trips: usize) -> String {
    let trip = |text: &str| html_to_markdown(&markdown_to_html(text));
    let mut current = tidy(markdown);
    for _ in 0..trips {
        let next = trip(&current);
        if next == current {
            return current;
        }
        current = next;
    }
    let html = nesting::plain_text_html_under(UNSETTLED_NOTE, &escape_html(&current));
    // A code block reads back as itself after one trip (its fence is
    // longer than any run inside).
    trip(&html_to_markdown(&html))
}

/// Trailing spaces off every line, at most one blank line in a row, no
/// leading or trailing blank lines, `\n` line ends.
fn tidy(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_matches('\n').to_string()
}

/// What labsync writes under a GitLab description it manages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Footer {
    pub spira_project: i64,
    pub incident_id: i64,
    /// Link to the incident in Spira, shown to people.
    pub incident_url: String,
}

impl Footer {
    /// The machine-readable marker: how a crashed create is found again.
    pub fn marker(&self) -> String {
        format!(
            "{INCIDENT_MARKER}{}/{} -->",
            self.spira_project, self.incident_id
        )
    }

    fn render(&self) -> String {
        format!(
            "{FOOTER_RULE}_Synced with [Spira incident IN:{id}]({url}) by labsync._\n{marker}",
            id = self.incident_id,
            url = self.incident_url,
            marker = self.marker()
        )
    }
}

/// Splits a GitLab description into the text people wrote and labsync's
/// footer, if any (the marker identifies the incident). The footer is
/// recognised wherever it stands: text typed below it (GitLab's editor
/// adds new text at the end) is part of what people wrote.
pub fn split_footer(description: &str) -> (String, Option<(i64, i64)>) {
    let Some(marker_at) = description.rfind(INCIDENT_MARKER) else {
        return (description.to_string(), None);
    };
    let rest = &description[marker_at + INCIDENT_MARKER.len()..];
    let (ids, below) = match rest.split_once(" -->") {
        Some((ids, below)) => (ids, below),
        None => ("", ""),
    };
    let ids = ids
        .split_once('/')
        .and_then(|(p, i)| Some((p.parse().ok()?, i.parse().ok()?)));
    let before = &description[..marker_at];
    // The rule and the "Synced with" line above the marker are labsync's.
    let above = match before.rfind(FOOTER_RULE) {
        Some(rule_at) if is_footer_line(&before[rule_at + FOOTER_RULE.len()..]) => {
            &before[..rule_at]
        }
        _ => before,
    };
    let (above, below) = (above.trim_end(), below.trim_matches(['\n', ' ']).trim_end());
    let body = match (above.is_empty(), below.is_empty()) {
        (_, true) => above.to_string(),
        (true, false) => below.to_string(),
        (false, false) => format!("{above}\n\n{below}"),
    };
    (body, ids)
}

/// The line labsync writes between the footer's rule and its marker.
fn is_footer_line(text: &str) -> bool {
    let line = text.trim_end_matches('\n');
    !line.contains('\n') && line.starts_with("_Synced with ") && line.ends_with(" by labsync._")
}

/// A description body cut to fit GitLab beside the footer, with a visible
/// note where it was cut. Cut by bytes, at a character boundary. Unchanged
/// when it fits.
fn cut_for_gitlab(body: &str) -> String {
    let room = GITLAB_DESCRIPTION_MAX_BYTES - FOOTER_ROOM_BYTES;
    if body.len() <= room {
        return body.to_string();
    }
    let mut end = room;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n\n_[labsync: the description was cut here: it is longer than GitLab allows. The full text is in Spira.]_",
        &body[..end]
    )
}

/// The body labsync writes into a GitLab description for `markdown`:
/// command lines defused, cut to GitLab's limit.
pub fn gitlab_body(markdown: &str) -> String {
    cut_for_gitlab(&defuse_quick_actions(markdown))
}

/// A GitLab description: the body (command lines defused, cut to GitLab's
/// limit with a visible note if needed), and exactly one footer.
pub fn gitlab_description(body: &str, footer: &Footer) -> String {
    let (body, _) = split_footer(body);
    format!("{}{}", gitlab_body(&body), footer.render())
}

/// Escapes every line GitLab could run as a quick action (`/close`,
/// `/assign @x` …: a `/` in the first column, outside code and HTML), so
/// that text copied to GitLab is only ever text. `\/` shows as `/` and
/// reads back through HTML as `/`, so the escape is never seen as an edit.
/// Lines in code are left alone: there GitLab runs nothing and a backslash
/// would show.
pub fn defuse_quick_actions(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut verbatim: Vec<std::ops::Range<usize>> = Vec::new();
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_) | Tag::HtmlBlock) | Event::Code(_) => {
                verbatim.push(range)
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(markdown.len() + 16);
    let mut at = 0;
    for line in markdown.split_inclusive('\n') {
        if line.starts_with('/') && !verbatim.iter().any(|r| r.contains(&at)) {
            out.push('\\');
        }
        out.push_str(line);
        at += line.len();
    }
    out
}

/// A title that fits GitLab: cut at 255 characters, ending in "…" if cut.
pub fn gitlab_title(title: &str) -> String {
    let title = title.trim();
    if title.chars().count() <= GITLAB_TITLE_MAX {
        return title.to_string();
    }
    let mut cut: String = title.chars().take(GITLAB_TITLE_MAX - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spira_html_becomes_markdown() {
        let md = html_to_markdown(
            "<p>Steps:</p><ol><li>Open <b>cart</b></li><li>Pay</li></ol><p><a href=\"https://x.test/a\">log</a></p>",
        );
        assert!(md.contains("**cart**"), "{md}");
        assert!(
            md.lines()
                .any(|l| l.starts_with("1.") && l.ends_with("Open **cart**")),
            "{md}"
        );
        assert!(md.contains("[log](https://x.test/a)"), "{md}");
    }

    #[test]
    fn markdown_becomes_html_without_passing_raw_html() {
        let html = markdown_to_html(
            "Hello **world**\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>",
        );
        assert!(html.contains("<strong>world</strong>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn script_from_spira_is_dropped() {
        assert_eq!(html_to_markdown("<p>ok</p><script>alert(1)</script>"), "ok");
    }

    #[test]
    fn round_trips_are_stable() {
        let samples = [
            "Plain text",
            "# Title\n\nSome *emphasis* and `code`.\n\n- a\n- b\n\n1. one\n2. two",
            "Line with trailing spaces   \n\n\n\nand many blank lines",
            "A [link](https://example.com) and an ![image](https://example.com/i.png)",
            "```\nfn main() {}\n```",
            "Émojis 🎉 and RTL: שלום עולם",
            "> quoted\n> text",
            "<b>raw html</b> in markdown",
            "| a | b |\n|---|---|\n| 1 | 2 |",
        ];
        for s in samples {
            let once = canonical_markdown(s);
            assert_eq!(canonical_markdown(&once), once, "not stable: {s:?}");
            // Spira → GitLab → Spira: the HTML we write, read back, gives the same Markdown.
            assert_eq!(
                html_to_markdown(&markdown_to_html(&once)),
                once,
                "drifts through HTML: {s:?}"
            );
        }
    }

    #[test]
    fn a_text_that_does_not_settle_in_time_is_shown_plain_and_settles() {
        // Raw HTML takes one trip to become escaped text and one more to
        // show it is settled: with a budget of one trip it has not settled.
        let text = "<b>raw</b> and `code`";
        let plain = settled(text, 1);
        assert!(plain.contains(UNSETTLED_NOTE), "{plain}");
        assert!(plain.contains("raw") && plain.contains("`code`"), "{plain}");
        assert_eq!(settled(&plain, 1), plain, "the plain form is settled");
        assert_eq!(html_to_markdown(&markdown_to_html(&plain)), plain);
        // Given its trips, the same text keeps its form.
        assert!(!settled(text, CANONICAL_TRIPS).contains(UNSETTLED_NOTE));
    }

    #[test]
    fn command_lines_are_defused_outside_code() {
        assert_eq!(
            defuse_quick_actions("please\n/close\n  /assign @me\n\\/done"),
            "please\n\\/close\n  /assign @me\n\\/done"
        );
        let code = "```\n/usr/bin/env\n```\n\n`a\n/close`\n\n<div>\n/close\n</div>";
        assert_eq!(defuse_quick_actions(code), code);
        // The escaped line reads back through Spira's HTML as the original.
        let md = "Steps\n\n/close\n\n/assign @bob";
        let defused = defuse_quick_actions(md);
        assert_eq!(canonical_markdown(&defused), canonical_markdown(md));
        assert_eq!(defuse_quick_actions(&defused), defused, "idempotent");
    }

    #[test]
    fn footer_is_added_once_and_split_off() {
        let footer = Footer {
            spira_project: 1,
            incident_id: 42,
            incident_url: "https://spira.test/1/Incident/42.aspx".into(),
        };
        let once = gitlab_description("Body text", &footer);
        let twice = gitlab_description(&once, &footer);
        assert_eq!(once, twice, "the footer must never be duplicated");
        assert_eq!(once.matches("labsync:incident=1/42").count(), 1);
        assert_eq!(
            split_footer(&once),
            ("Body text".to_string(), Some((1, 42)))
        );
        assert_eq!(split_footer("no footer"), ("no footer".to_string(), None));
        // Text typed below the footer belongs to the body; the footer goes back to the end.
        let typed = format!("{once}\nAdded below.\n");
        assert_eq!(
            split_footer(&typed),
            ("Body text\n\nAdded below.".to_string(), Some((1, 42)))
        );
        let rewritten = gitlab_description(&typed, &footer);
        assert!(rewritten.starts_with("Body text\n\nAdded below.\n\n---\n"));
        assert!(rewritten.ends_with(&footer.marker()));
        // A rule people wrote above a bare marker is theirs.
        assert_eq!(
            split_footer("Mine\n\n---\nalso mine\n<!-- labsync:incident=1/42 -->"),
            ("Mine\n\n---\nalso mine".to_string(), Some((1, 42)))
        );
    }

    #[test]
    fn a_description_longer_than_gitlab_allows_is_cut_with_a_note() {
        let footer = Footer {
            spira_project: 1,
            incident_id: 7,
            incident_url: "u".into(),
        };
        let huge = "x".repeat(GITLAB_DESCRIPTION_MAX_BYTES + 10);
        let d = gitlab_description(&huge, &footer);
        assert!(d.len() <= GITLAB_DESCRIPTION_MAX_BYTES);
        // Multibyte text is cut by bytes, at a character boundary.
        let wide = "é€🎉".repeat(GITLAB_DESCRIPTION_MAX_BYTES / 9 + 10);
        let d = gitlab_description(&wide, &footer);
        assert!(d.len() <= GITLAB_DESCRIPTION_MAX_BYTES, "{}", d.len());
        assert!(d.contains("the description was cut here"));
        assert!(d.ends_with(&footer.marker()));
    }

    #[test]
    fn long_titles_are_cut_at_255_characters() {
        let t = gitlab_title(&"é".repeat(300));
        assert_eq!(t.chars().count(), 255);
        assert!(t.ends_with('…'));
        assert_eq!(gitlab_title("  short  "), "short");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Text built from the pieces people type in descriptions.
    fn descriptions() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "word",
            " ",
            "\n",
            "\n\n",
            "*",
            "**",
            "_",
            "`",
            "``",
            "` ",
            "<code> </code>",
            "# ",
            "- ",
            "1. ",
            "> ",
            "[",
            "]",
            "(",
            ")",
            "https://x.test/p?q=1&r=2",
            "JaVaScRiPt:alert(1)",
            "data:text/html,x",
            "mailto:a@x.test",
            "![",
            "<b>",
            "</b>",
            "&",
            "<",
            ">",
            "|",
            "---",
            "\\",
            "é",
            "🎉",
            "שלום",
            "\t",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Whatever is typed, its canonical form survives a trip through
        /// Spira's HTML unchanged: no drift, no growth.
        #[test]
        fn canonical_form_is_a_fixed_point(text in descriptions()) {
            let c = canonical_markdown(&text);
            prop_assert_eq!(html_to_markdown(&markdown_to_html(&c)), c.clone());
            prop_assert_eq!(canonical_markdown(&c), c);
        }
    }
}
