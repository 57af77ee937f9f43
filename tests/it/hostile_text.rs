//! Text anyone who can file an issue or an incident can write (issue 16):
//! nesting deep enough to overflow a recursive converter must never stop
//! labsync, and each item still syncs.

use labsync_testkit::world;

use labsync::text::{canonical_markdown, html_to_markdown, markdown_to_html};
use world::World;

const DEEP: usize = 20_000;
/// What labsync shows where a text nests too deep to convert.
const NOTE: &str = "nests too deep";

/// Runs `f` on a thread with a small stack: a converter that recursed per
/// level of nesting would overflow it (and abort the test binary).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

fn deep_markdown() -> Vec<(&'static str, String)> {
    vec![
        ("quotes", format!("{}boom", "> ".repeat(DEEP))),
        ("lists", format!("{}boom", "- ".repeat(DEEP))),
        ("ordered lists", format!("{}boom", "1. ".repeat(DEEP))),
        (
            "emphasis",
            format!("{}boom{}", "*a ".repeat(DEEP), " a*".repeat(DEEP)),
        ),
    ]
}

fn deep_html() -> Vec<(&'static str, String)> {
    let nest = |open: &str, close: &str| format!("{}boom{}", open.repeat(DEEP), close.repeat(DEEP));
    vec![
        ("divs", nest("<div>", "</div>")),
        ("unclosed divs", format!("{}boom", "<div>".repeat(DEEP))),
        ("quotes", nest("<blockquote>", "</blockquote>")),
        ("lists", nest("<ul><li>", "</li></ul>")),
        ("emphasis", nest("<em>", "</em>")),
        ("spans", format!("{}boom", "<span><div>".repeat(DEEP))),
        ("tables", format!("{}boom", "<table><tr><td>".repeat(DEEP))),
    ]
}

/// How deep `html`'s elements nest, counted on its tags (enough for what
/// labsync writes: well formed).
fn tag_depth(html: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for piece in html.split('<').skip(1) {
        if piece.starts_with('/') {
            depth = depth.saturating_sub(1);
        } else if piece.starts_with(|c: char| c.is_ascii_alphabetic())
            && !piece.starts_with("br")
            && !piece.starts_with("hr")
            && !piece.starts_with("img")
            && !piece.starts_with("input")
        {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
}

#[test]
fn deep_markdown_becomes_shallow_html_with_a_note_and_its_text() {
    for (what, markdown) in deep_markdown() {
        let html = on_small_stack(move || markdown_to_html(&markdown));
        assert!(html.contains("boom"), "{what}: the text is kept");
        assert!(
            html.contains(NOTE),
            "{what}: a note says why it looks plain"
        );
        assert!(tag_depth(&html) < 100, "{what}: {}", tag_depth(&html));
    }
}

#[test]
fn deep_html_becomes_markdown_with_a_note_and_its_text() {
    for (what, html) in deep_html() {
        let markdown = on_small_stack(move || html_to_markdown(&html));
        assert!(markdown.contains("boom"), "{what}: the text is kept");
        assert!(markdown.contains(NOTE), "{what}: a note says why");
        assert!(markdown.len() < 200_000, "{what}: {}", markdown.len());
    }
}

#[test]
fn the_canonical_form_of_deep_markdown_is_stable() {
    for (what, markdown) in deep_markdown() {
        let (once, twice) = on_small_stack(move || {
            let once = canonical_markdown(&markdown);
            let twice = canonical_markdown(&once);
            (once, twice)
        });
        assert!(once == twice, "{what}: not stable");
        assert!(once.contains("boom") && once.contains(NOTE), "{what}");
    }
}

#[test]
fn nesting_within_the_limit_keeps_its_structure() {
    let quotes = format!("{}ten deep", "> ".repeat(10));
    let html = markdown_to_html(&quotes);
    assert_eq!(html.matches("<blockquote>").count(), 10, "{html}");
    assert!(!html.contains(NOTE));
    assert_eq!(canonical_markdown(&quotes), html_to_markdown(&html));
    let divs = format!("{}ten deep{}", "<div>".repeat(10), "</div>".repeat(10));
    assert_eq!(html_to_markdown(&divs), "ten deep");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Openers of every kind of nesting, repeated thousands of times.
    fn deep_text() -> impl Strategy<Value = String> {
        let openers = prop::sample::select(vec![
            "> ",
            "- ",
            "1. ",
            "* ",
            "*a ",
            "_a ",
            "**",
            "[",
            "<div>",
            "<em>",
            "<ul><li>",
            "<blockquote>",
            "<table><tr><td>",
            "<span>",
            "<p>",
            "  ",
            "\n",
            "`",
            "`  ",
            "<code> </code>",
        ]);
        let closers = prop::sample::select(vec![
            "", " a*", "](x)", "</div>", "</em>", "</span>", "\n", "boom", "`", "``",
        ]);
        (
            prop::collection::vec(openers, 1..4),
            1_000usize..5_000,
            prop::collection::vec(closers, 0..3),
        )
            .prop_map(|(open, times, close)| {
                format!(
                    "{}boom{}",
                    open.concat().repeat(times),
                    close.concat().repeat(times)
                )
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Whatever nests how deep, both conversions finish on a small
        /// stack, and the canonical form is a fixed point.
        #[test]
        fn converters_survive_any_nesting_on_a_small_stack(text in deep_text()) {
            let (stable, kept) = on_small_stack(move || {
                let html = html_to_markdown(&text);
                let c = canonical_markdown(&text);
                let back = html_to_markdown(&markdown_to_html(&c));
                (back == c, html.contains("boom") || html.is_empty())
            });
            prop_assert!(stable);
            prop_assert!(kept);
        }
    }
}

/// End to end: a deep issue and a deep incident sync (with the note) beside
/// ordinary items, and the next cycle writes nothing.
#[tokio::test]
async fn deep_items_sync_beside_the_others_and_stay_synced() {
    let mut w = World::new("").await;
    let deep_quotes = format!("{}boom", "> ".repeat(DEEP));
    w.gitlab
        .create_issue_as("alice", "Deep issue", &deep_quotes);
    w.gitlab
        .create_issue_as("alice", "Plain issue", "Just *text*");
    let deep = w.spira.add_incident(1, "Deep incident", 1);
    w.spira.edit_incident(deep, |i| {
        i.description = format!("{}boom", "<div>".repeat(DEEP));
    });
    w.spira.add_incident(1, "Plain incident", 1);
    let r = w.cycle().await;
    let t = r.totals();
    assert_eq!(
        (t.created_incidents, t.created_issues, t.failed),
        (2, 2, 0),
        "{r:?}"
    );

    let incident = w.incident_named("Deep issue");
    assert!(incident.description.contains("boom"));
    assert!(incident.description.contains(NOTE));
    assert!(tag_depth(&incident.description) < 100);
    let issue = w.issue_titled("Deep incident");
    let description = issue["description"].as_str().unwrap();
    assert!(description.contains("boom") && description.contains(NOTE));
    assert!(
        w.incident_named("Plain issue")
            .description
            .contains("<em>text</em>")
    );
    w.issue_titled("Plain incident");

    w.spira.reset_counts();
    let r = w.cycle().await;
    assert_eq!(r.totals().writes(), 0, "the fallback is not an edit: {r:?}");
    assert_eq!(w.spira.request_count("PUT"), 0);
}

/// The real binary, whose main thread and workers have their usual stacks,
/// does not abort on a deep comment either way and exits 0.
#[tokio::test]
async fn sync_now_does_not_abort_on_deep_comments() {
    let mut w = World::new("").await;
    let iid = w.gitlab.create_issue_as("alice", "Commented", "Body");
    w.cycle().await;
    w.gitlab
        .add_note_as("alice", iid, &format!("{}boom", "- ".repeat(DEEP)));
    let incident = w.incident_named("Commented").incident_id;
    w.spira
        .add_comment(incident, 1, &format!("{}boom", "<blockquote>".repeat(DEEP)));
    let out = w.labsync(&["--sync-now"]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("overflow"), "{}", out.stderr);
    let comments = w.spira.comments(incident);
    assert!(
        comments
            .iter()
            .any(|c| c.text.contains("boom") && c.text.contains(NOTE))
    );
    let notes = w.gitlab.notes(iid);
    assert!(notes.iter().any(|n| {
        let body = n["body"].as_str().unwrap_or("");
        body.contains("boom") && body.contains(NOTE)
    }));
}

/// Lines of code spans that hold only spaces, beside stray backticks: each
/// trip through Spira's HTML used to halve them (`` `  ` `` read back as
/// ``` `` ```, which opens a code span with the next one), so their
/// canonical form took more trips to settle than labsync makes.
fn backtick_lines() -> Vec<String> {
    vec![
        "` ` ` ` `` ` ` ``".to_string(),
        "`  ".repeat(16),
        "`  ".repeat(3_000),
    ]
}

#[test]
fn the_canonical_form_of_code_spans_of_spaces_is_stable() {
    for text in backtick_lines() {
        let once = canonical_markdown(&text);
        let twice = canonical_markdown(&once);
        assert!(once == twice, "not stable: {:.40?}…", text);
        assert_eq!(
            html_to_markdown(&markdown_to_html(&once)),
            once,
            "drifts through HTML: {:.40?}…",
            text
        );
    }
}

/// End to end: issues whose description is such a line, and an incident
/// whose HTML is a row of such code, sync once; the next two cycles write
/// nothing, and neither does relinking them after the database was lost
/// (no base to compare with: only canonical forms).
#[tokio::test]
async fn code_spans_of_spaces_sync_once_and_stay_synced() {
    let mut w = World::new("").await;
    for (n, text) in backtick_lines().iter().enumerate() {
        w.gitlab
            .create_issue_as("alice", &format!("Backticks {n}"), text);
    }
    let id = w.spira.add_incident(1, "Code of spaces", 1);
    w.spira.edit_incident(id, |i| {
        i.description = format!("<p>{}</p>", "<code> </code> ".repeat(3_000));
    });
    let r = w.cycle().await;
    let t = r.totals();
    assert_eq!(
        (t.created_incidents, t.created_issues, t.failed),
        (3, 1, 0),
        "{r:?}"
    );
    for round in 2..=3 {
        w.spira.reset_counts();
        w.gitlab.reset_counts();
        let r = w.cycle().await;
        assert_eq!(r.totals().writes(), 0, "cycle {round} wrote: {r:?}");
        assert_eq!(w.spira.request_count("PUT"), 0, "cycle {round}");
        assert_eq!(w.gitlab.request_count("PUT"), 0, "cycle {round}");
    }
    w.forget_database().await;
    let r = w.cycle().await;
    assert_eq!(r.totals().linked, 4, "{r:?}");
    assert_eq!(r.totals().writes(), 0, "relinking is not an edit: {r:?}");
}
