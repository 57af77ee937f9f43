//! Quick actions in issue descriptions, found and removed as GitLab does
//! (gitlab-org/gitlab `lib/gitlab/quick_actions/extractor.rb`,
//! `lib/banzai/filter/quick_action_filter.rb`): `\r` is deleted; only
//! top-level Markdown paragraphs whose text has a line starting with `/`
//! are searched (never code blocks, block quotes, `>>>` fences, HTML blocks
//! or list items); in them a line that starts, at its first column, with
//! `/` and a known command name (any case), followed by a space and
//! arguments or by the end of the line, is a command: it is removed with
//! the blank lines after it, and runs; inline code spans are skipped.
//! Trailing whitespace of the whole text is stripped. What the commands do
//! is in `routes::quick_updates`.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Command names GitLab knows (all definitions count, whatever the
/// target: `command_names` in the extractor). `/cc` is a no-op and stays.
/// Substitutions (`/shrug`, `/tableflip`) are not simulated.
const NAMES: &[&str] = &[
    "add_child",
    "add_contacts",
    "add_email",
    "approve",
    "assign",
    "assign_reviewer",
    "award",
    "blocked_by",
    "blocks",
    "board_move",
    "clear_health_status",
    "clear_weight",
    "clone",
    "close",
    "confidential",
    "convert_to_ticket",
    "copy_metadata",
    "create_merge_request",
    "done",
    "draft",
    "due",
    "duplicate",
    "epic",
    "estimate",
    "estimate_time",
    "health_status",
    "iteration",
    "label",
    "labels",
    "lock",
    "merge",
    "milestone",
    "move",
    "promote",
    "promote_to",
    "promote_to_incident",
    "react",
    "ready",
    "rebase",
    "reassign",
    "relabel",
    "relate",
    "remove_child",
    "remove_contacts",
    "remove_due_date",
    "remove_email",
    "remove_epic",
    "remove_estimate",
    "remove_iteration",
    "remove_label",
    "remove_milestone",
    "remove_parent",
    "remove_reviewer",
    "remove_time_estimate",
    "remove_time_spent",
    "remove_zoom",
    "reopen",
    "reply",
    "request_review",
    "reviewer",
    "set_parent",
    "severity",
    "spend",
    "spend_time",
    "spent",
    "submit_review",
    "subscribe",
    "tag",
    "target_branch",
    "timeline",
    "title",
    "todo",
    "type",
    "unapprove",
    "unassign",
    "unassign_reviewer",
    "unlabel",
    "unlock",
    "unrelate",
    "unsubscribe",
    "weight",
    "wip",
    "zoom",
];

/// One command found: its name (lower case) and its arguments, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Command {
    pub name: String,
    pub arg: Option<String>,
}

/// The text as GitLab stores it, and the commands found in it, in order.
pub(crate) fn extract(text: &str) -> (String, Vec<Command>) {
    let content = text.replace('\r', "");
    let mut lines: Vec<String> = content.split_inclusive('\n').map(String::from).collect();
    let mut commands = Vec::new();
    for (start, mut end) in candidate_paragraphs(&content) {
        if lines.get(end + 1).is_some_and(|l| l == "\n") {
            end += 1;
        }
        let paragraph: String = lines[start..=end].concat();
        let kept = remove_commands(&paragraph, &mut commands);
        for line in &mut lines[start..=end] {
            line.clear();
        }
        lines[start] = kept;
    }
    (lines.concat().trim_end().to_string(), commands)
}

/// Line ranges (first, last; 0-based) of the top-level paragraphs whose
/// text has a line starting with `/`.
fn candidate_paragraphs(content: &str) -> Vec<(usize, usize)> {
    let fenced = legacy_quote_fences(content);
    let newlines: Vec<usize> = content.match_indices('\n').map(|(at, _)| at).collect();
    let line_of = |offset: usize| newlines.partition_point(|&nl| nl < offset);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut current: Option<(usize, String)> = None;
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    for (event, range) in Parser::new_ext(content, options).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                if depth == 0 && tag == Tag::Paragraph {
                    current = Some((range.start, String::new()));
                }
                depth += 1;
            }
            Event::End(tag) => {
                depth = depth.saturating_sub(1);
                if depth == 0
                    && tag == TagEnd::Paragraph
                    && let Some((start, text)) = current.take()
                {
                    let last = range.end.max(start + 1) - 1;
                    let (first, last) = (line_of(start), line_of(last));
                    let inside_fence = fenced.iter().any(|(a, b)| *a < first && last < *b);
                    if !inside_fence && text.lines().any(|l| l.starts_with('/')) {
                        out.push((first, last));
                    }
                }
            }
            Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) | Event::Html(t) => {
                if let Some((_, text)) = &mut current {
                    text.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some((_, text)) = &mut current {
                    text.push('\n');
                }
            }
            _ => {}
        }
    }
    out
}

/// Line pairs (opening, closing) of GitLab's `>>>` block-quote fences.
fn legacy_quote_fences(content: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open = None;
    for (n, line) in content.lines().enumerate() {
        if line.trim_end() == ">>>" {
            match open.take() {
                Some(start) => out.push((start, n)),
                None => open = Some(n),
            }
        }
    }
    out
}

/// Removes the command lines of one paragraph, skipping inline code spans
/// and inline HTML on lines of their own.
fn remove_commands(paragraph: &str, commands: &mut Vec<Command>) -> String {
    let mut out = String::with_capacity(paragraph.len());
    let mut i = 0;
    while i < paragraph.len() {
        let rest = &paragraph[i..];
        let line_start = i == 0 || paragraph.as_bytes()[i - 1] == b'\n';
        if let Some(len) = inline_code(rest).or_else(|| html_lines(rest, line_start)) {
            out.push_str(&rest[..len]);
            i += len;
            continue;
        }
        if line_start && let Some((command, len)) = command_at(rest) {
            commands.push(command);
            i += len;
            continue;
        }
        let ch = rest.chars().next().map_or(1, char::len_utf8);
        out.push_str(&rest[..ch]);
        i += ch;
    }
    out
}

/// `` `…` `` with at least one character inside, across lines too.
fn inline_code(rest: &str) -> Option<usize> {
    let inner = rest.strip_prefix('`')?;
    let first = inner.chars().next()?.len_utf8();
    let close = inner[first..].find('`')?;
    Some(1 + first + close + 1)
}

/// A line `<tag>`, anything, and a line `</tag>`.
fn html_lines(rest: &str, line_start: bool) -> Option<usize> {
    if !line_start || !rest.starts_with('<') {
        return None;
    }
    let open_end = rest[1..].find('>')? + 1;
    if open_end < 2 || rest.as_bytes().get(open_end + 1) != Some(&b'\n') {
        return None;
    }
    let body_start = open_end + 2;
    let mut from = body_start + 1;
    while let Some(k) = rest.get(from..).and_then(|s| s.find("\n</")) {
        let at = from + k;
        let tag = at + 3;
        if let Some(close) = rest.get(tag + 1..).and_then(|s| s.find('>')) {
            let end = tag + 1 + close + 1;
            if rest[tag..end - 1].contains('>') {
                from = at + 1;
                continue;
            }
            if end == rest.len() || rest.as_bytes()[end] == b'\n' {
                return Some(end);
            }
        }
        from = at + 1;
    }
    None
}

/// `/name`, then ` arguments` or nothing, then the end of the line and the
/// blank lines after it. Returns the command and the length it covers.
fn command_at(rest: &str) -> Option<(Command, usize)> {
    let after_slash = rest.strip_prefix('/')?;
    for name in NAMES {
        let Some(head) = after_slash.get(..name.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(name) {
            continue;
        }
        let tail = &after_slash[name.len()..];
        let (arg, after) = match tail.strip_prefix(' ') {
            Some(a) => {
                let eol = a.find('\n').unwrap_or(a.len());
                (Some(&a[..eol]), &a[eol..])
            }
            None => (None, tail),
        };
        // Then `\s*\n` (up to the last newline of the blank run) or the end.
        let blank = after.len() - after.trim_start().len();
        let consumed = match after[..blank].rfind('\n') {
            Some(nl) => nl + 1,
            None if after.len() == blank => blank,
            None => continue,
        };
        let len = 1 + name.len() + (tail.len() - after.len()) + consumed;
        let arg = arg
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(String::from);
        let name = name.to_string();
        return Some((Command { name, arg }, len));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> (String, Vec<String>) {
        let (kept, cmds) = extract(text);
        (kept, cmds.into_iter().map(|c| c.name).collect())
    }

    /// Cases of gitlab-org/gitlab `spec/lib/gitlab/quick_actions/extractor_spec.rb`.
    #[test]
    fn commands_are_found_where_gitlab_finds_them() {
        assert_eq!(
            names("/reopen\nworld"),
            ("world".into(), vec!["reopen".into()])
        );
        assert_eq!(
            names("hello\n/reopen\nworld"),
            ("hello\nworld".into(), vec!["reopen".into()])
        );
        assert_eq!(names("hello\nworld /reopen").1, Vec::<String>::new());
        assert_eq!(names("hello\n/assign@joe\nworld").1, Vec::<String>::new());
        assert_eq!(names("hello\n/PoWer x\n/CLOSE").0, "hello\n/PoWer x");
        let (kept, cmds) = extract("/assign @joe / @jane\nworld");
        assert_eq!(kept, "world");
        assert_eq!(cmds[0].arg.as_deref(), Some("@joe / @jane"));
        assert_eq!(
            names("/reopen\n`some inline code`\n/label ~a\n`more inline code`"),
            (
                "`some inline code`\n`more inline code`".into(),
                vec!["reopen".into(), "label".into()]
            )
        );
        assert_eq!(
            names("hello\n/cc @joe").0,
            "hello\n/cc @joe",
            "a no-op stays"
        );
        assert_eq!(
            names("/close\n\n\nText").0,
            "\nText",
            "one blank line after goes too"
        );
    }

    #[test]
    fn commands_in_code_quotes_html_and_lists_stay() {
        for text in [
            "Hello\r\n<div>\r\nText\r\n/close\r\n/assign @user\r\n</div>\r\n\r\nWorld",
            "Text\r\n<b>\r\n/close\r\n</b>",
            "<!--\n/assign @user\n-->",
            "> Text\r\n/reopen",
            "Hello\r\n\r\n>>>\r\nText\r\n/close\r\n/assign @user\r\n>>>\r\n\r\nWorld",
            "Hello\r\n```\r\nText\r\n/close\r\n/assign @user\r\n```\r\n\r\nWorld",
            "Hello `Text\r\n/close\r\n/assign @user\r\n`\r\n\r\nWorld",
            "- item\n/close",
            "    /close",
            " /close",
            "\\/close",
        ] {
            let (kept, cmds) = extract(text);
            assert!(cmds.is_empty(), "{text:?}: {cmds:?}");
            assert_eq!(kept, text.replace('\r', ""), "{text:?}");
        }
    }

    #[test]
    fn trailing_whitespace_and_carriage_returns_go() {
        assert_eq!(extract("a\r\nb  \n\n").0, "a\nb");
    }

    /// GitLab's extractor reads line by line with regular expressions
    /// (gitlab-org/gitlab `lib/gitlab/quick_actions/extractor.rb`): nesting
    /// costs it nothing, and the simulator must not overflow on it either.
    #[test]
    fn deeply_nested_text_is_read_without_overflow() {
        let deep = format!(
            "{}quoted\n\n/close\n\n{}item",
            "> ".repeat(20_000),
            "- ".repeat(20_000)
        );
        let (kept, commands) = labsync_model::text::on_small_stack(move || names(&deep));
        assert_eq!(commands, ["close"]);
        assert!(kept.ends_with("item"));
    }
}
