//! `search=` on issue lists, as GitLab answers it.
//!
//! For terms of Latin script (`IssuableFinder::FULL_TEXT_SEARCH_TERM_REGEX`,
//! `use_full_text_search?` in gitlab-org/gitlab `app/finders/issuable_finder.rb`)
//! GitLab searches a PostgreSQL tsvector of title (weight A) and description
//! (weight B) (`app/models/concerns/pg_full_text_searchable.rb`,
//! `app/models/issue.rb`). The parser turns HTML tags, comments included
//! (`<!-- tool:marker -->`), into `tag` tokens, which the `english`
//! configuration never indexes: text inside them is never found. Each query
//! term is a prefix match (`term:*`), all terms must match, and characters
//! other than `[a-zA-Z0-9 .@/-"]` are blanked out first (`build_tsquery`).
//! Other scripts fall back to a case-insensitive substring match (`full_search`).
//! Stemming and stop words are left out: they only widen what is found.

/// Which columns `in=` names.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Within {
    pub title: bool,
    pub description: bool,
}

/// True when an issue with this title and description is found by `query`.
pub(crate) fn found(query: &str, within: Within, title: &str, description: Option<&str>) -> bool {
    let description = description.unwrap_or("");
    if !full_text_term(query) {
        let needle = query.to_lowercase();
        return (within.title && title.to_lowercase().contains(&needle))
            || (within.description && description.to_lowercase().contains(&needle));
    }
    let mut indexed = Vec::new();
    if within.title {
        indexed.extend(words(&strip_tags(title)));
    }
    if within.description {
        indexed.extend(words(&strip_tags(description)));
    }
    let terms = query_words(query);
    !terms.is_empty()
        && terms
            .iter()
            .all(|t| indexed.iter().any(|w| w.starts_with(t.as_str())))
}

/// `FULL_TEXT_SEARCH_TERM_PATTERN`: Latin script, spacing and symbols only.
fn full_text_term(query: &str) -> bool {
    query.chars().all(|c| {
        let c = c as u32;
        c <= 0x02FF || (0x1E00..=0x1EFF).contains(&c) || (0x2070..=0x218F).contains(&c)
    })
}

/// The text without HTML tags and comments (the parser's `tag` tokens).
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        let end = if after.starts_with("<!--") {
            after.find("-->").map(|e| e + 3)
        } else if after[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '/') {
            after.find('>').map(|e| e + 1)
        } else {
            None
        };
        match end {
            Some(e) => {
                out.push(' ');
                rest = &after[e..];
            }
            None => {
                out.push('<');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// What the parser indexes of a text: compound tokens (paths, hosts,
/// hyphenated words: runs of letters, digits and `./-@_`) and their plain
/// words, lowercased.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in compounds(text) {
        out.extend(
            token
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty() && w.len() < token.len())
                .map(str::to_string),
        );
        out.push(token);
    }
    out
}

fn compounds(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || "./-@_".contains(c)))
        .map(|t| t.trim_matches(|c| c == '.' || c == '-'))
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .map(str::to_lowercase)
        .collect()
}

/// The query as `build_tsquery` cleans it: URL schemes dropped, other
/// characters than `[a-zA-Z0-9 .@/-"]` blanked, then split into words.
fn query_words(query: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(query.len());
    let mut rest = query;
    while let Some(at) = rest.find("://") {
        let head = &rest[..at];
        let scheme = head
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
            .last()
            .map_or(at, |(i, _)| i);
        cleaned.push_str(&head[..scheme]);
        cleaned.push(' ');
        rest = &rest[at + 3..];
    }
    cleaned.push_str(rest);
    let allowed: String = cleaned
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .@/-\"".contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect();
    // A term is matched whole (`1/42:*`), as the parser reads it.
    compounds(&allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: Within = Within {
        title: true,
        description: true,
    };
    const DESCRIPTION: Within = Within {
        title: false,
        description: true,
    };

    #[test]
    fn a_marker_in_an_html_comment_is_never_found() {
        // pg_full_text_searchable.rb: HTML comments are tag tokens, not indexed.
        let text = "Body\n\n---\n_Synced by labsync._\n<!-- labsync:incident=1/42 -->";
        assert!(!found(
            "<!-- labsync:incident=1/42 -->",
            DESCRIPTION,
            "t",
            Some(text)
        ));
        assert!(!found(
            "labsync:incident=1/42",
            DESCRIPTION,
            "t",
            Some(text)
        ));
        // Words outside the comment are found, by prefix.
        assert!(found("synced lab", DESCRIPTION, "t", Some(text)));
        assert!(!found(
            "Body",
            Within {
                title: true,
                description: false
            },
            "t",
            Some(text)
        ));
    }

    #[test]
    fn every_term_must_match_case_insensitively() {
        assert!(found("WISHLIST heart", BOTH, "Wishlist heart icon", None));
        assert!(!found("wishlist cart", BOTH, "Wishlist heart icon", None));
        assert!(!found("", BOTH, "Wishlist", None));
    }

    #[test]
    fn other_scripts_use_a_substring_match() {
        assert!(found("фото", BOTH, "Нет фотографии", None));
        assert!(found("<!-- 标记 -->", BOTH, "t", Some("x <!-- 标记 --> y")));
    }

    #[test]
    fn url_schemes_are_dropped_from_the_query() {
        assert!(found("https://example", BOTH, "see example.com", None));
        assert!(!found("https", BOTH, "see example.com", None));
    }

    /// PostgreSQL's text-search parser tokenises tags one after another
    /// (no tree), so nesting depth does not matter to GitLab's search.
    #[test]
    fn deeply_nested_html_is_searched_without_overflow() {
        let deep = format!(
            "{}needle{}",
            "<div>".repeat(20_000),
            "</div>".repeat(20_000)
        );
        let hit = labsync_model::text::on_small_stack(move || {
            found("needle", DESCRIPTION, "t", Some(&deep))
        });
        assert!(hit);
    }
}
