//! Links anyone can type in GitLab (issue 16): Spira shows labsync's HTML to
//! every reader, so no `href` or `src` labsync writes there may carry a
//! scheme that runs code; harmless links, images and formatting survive,
//! and the sanitized text read back is not an edit.

use labsync_testkit::world;

use labsync::text::{canonical_markdown, html_to_markdown, markdown_to_html};
use world::World;

const HOSTILE: [&str; 9] = [
    "[here](javascript:alert(1))",
    "[mixed](JaVaScRiPt:alert(1))",
    "[vb](vbscript:msgbox(1))",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    "[ref][r]\n\n[r]: javascript:alert(1)",
    "[entity](java&#115;cript:alert(1))",
    "[angle](<javascript:alert(1)>)",
    "[spaced](java%20script:alert(1)) [tab](jav&#x09;ascript:alert(1))",
];

/// Every URL in an `href` or `src` attribute of `html`.
fn urls(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        for (at, _) in html.match_indices(attribute) {
            let value = &html[at + attribute.len()..];
            found.push(value[..value.find('"').unwrap_or(value.len())].to_string());
        }
    }
    found
}

/// Whether a URL is one a reader's browser only navigates to: http(s),
/// mailto or relative.
fn harmless(url: &str) -> bool {
    let url: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    // A scheme is letters, digits, `+`, `-`, `.` before the first `:`
    // (WHATWG URL "scheme state"); anything else makes the URL relative.
    let scheme = url.split_once(':').map(|(s, _)| s).filter(|s| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    match scheme {
        Some(scheme) => ["http", "https", "mailto"].contains(&scheme),
        None => !url.contains("&#"),
    }
}

fn assert_no_live_scheme(html: &str) {
    for url in urls(html) {
        assert!(harmless(&url), "live URL {url:?} in {html}");
    }
    let lower = html.to_ascii_lowercase();
    for scheme in ["javascript:", "vbscript:", "data:"] {
        for (at, _) in lower.match_indices(scheme) {
            let before = &lower[..at];
            let in_attribute = before.rfind('<') > before.rfind('>');
            assert!(!in_attribute, "{scheme} inside a tag: {html}");
        }
    }
}

#[test]
fn markdown_from_gitlab_never_gives_spira_a_live_scheme() {
    for markdown in HOSTILE {
        let html = markdown_to_html(markdown);
        assert_no_live_scheme(&html);
        // The text people wrote is still there to read.
        let text = markdown.split(['[', ']']).nth(1).unwrap_or("");
        assert!(html.contains(text), "{markdown} → {html}");
    }
}

#[test]
fn harmless_links_images_and_formatting_survive() {
    let markdown = "A [link](https://x.test/a?b=1&c=2), ![img](https://x.test/i.png \"t\"), \
                    [mail](mailto:qa@x.test), [rel](/issues/4), [top](#top), **bold**, \
                    _em_, `code`, ~~gone~~\n\n- [ ] todo\n- [x] done\n\n| a | b |\n|:--|--:|\n| 1 | 2 |";
    let html = markdown_to_html(markdown);
    for kept in [
        r#"href="https://x.test/a?b=1&amp;c=2""#,
        r#"src="https://x.test/i.png""#,
        r#"href="mailto:qa@x.test""#,
        r#"href="/issues/4""#,
        r##"href="#top""##,
        "<strong>bold</strong>",
        "<em>em</em>",
        "<code>code</code>",
        "<del>gone</del>",
        r#"type="checkbox""#,
        "<table>",
    ] {
        assert!(html.contains(kept), "{kept} lost: {html}");
    }
    assert_no_live_scheme(&html);
}

#[test]
fn the_sanitized_form_is_a_fixed_point() {
    for markdown in HOSTILE.iter().chain(&["[ok](https://x.test) ![i](/i.png)"]) {
        let c = canonical_markdown(markdown);
        assert_eq!(canonical_markdown(&c), c, "{markdown}");
        assert_eq!(html_to_markdown(&markdown_to_html(&c)), c, "{markdown}");
    }
}

/// End to end: a description and a note with live schemes reach Spira
/// without them; the next cycle writes nothing.
#[tokio::test]
async fn descriptions_and_comments_reach_spira_sanitized_and_stay_synced() {
    let mut w = World::new("").await;
    let description = "See [docs](https://x.test/docs) and [here](vbscript:msgbox(1)).\n\n\
                       ![shot](data:text/html;base64,PHNjcmlwdD4=) ![ok](https://x.test/ok.png)";
    let iid = w
        .gitlab
        .create_issue_as("alice", "Hostile links", description);
    w.cycle().await;
    w.gitlab.add_note_as(
        "alice",
        iid,
        "Try [this](JaVaScRiPt:alert(document.cookie)) or [that](/wiki)",
    );
    w.cycle().await;

    let incident = w.incident_named("Hostile links");
    assert_no_live_scheme(&incident.description);
    assert!(
        incident
            .description
            .contains(r#"href="https://x.test/docs""#)
    );
    assert!(
        incident
            .description
            .contains(r#"src="https://x.test/ok.png""#)
    );
    let comments = w.spira.comments(incident.incident_id);
    let copied = comments
        .iter()
        .find(|c| c.text.contains("Try"))
        .expect("the note was copied");
    assert_no_live_scheme(&copied.text);
    assert!(copied.text.contains(r#"href="/wiki""#), "{}", copied.text);

    w.spira.reset_counts();
    w.gitlab.reset_counts();
    let r = w.cycle().await;
    assert_eq!(
        r.totals().writes(),
        0,
        "sanitized text read back is no edit: {r:?}"
    );
    assert_eq!(w.spira.request_count("PUT"), 0);
    assert_eq!(w.gitlab.request_count("PUT"), 0);
}
