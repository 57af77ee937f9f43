//! What Spira keeps of an incident description: its API strips dangerous
//! HTML on write (spira-documentation release notes v5, IN:3204: "creating
//! an incident through the API … fails to strip out potentially dangerous
//! HTML", fixed): `<script>` elements, event attributes (`onclick`, …) and
//! `javascript:` URLs. The Spira simulator cleans with this function; the
//! engine uses it to recognise Spira's cleaning of what labsync wrote, which
//! is not an edit.

/// `html` as Spira stores it.
pub fn spira_kept(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let tag_and_after = &rest[open..];
        let Some(len) = tag_len(tag_and_after) else {
            // Not a tag: a lone '<' stays text.
            out.push('<');
            rest = &tag_and_after[1..];
            continue;
        };
        let tag = &tag_and_after[..len];
        rest = &tag_and_after[len..];
        let name = tag_name(tag);
        if name == "script" && !tag.starts_with("</") {
            // The element and everything up to its end tag go.
            rest = match find_ignore_case(rest, "</script") {
                Some(end) => {
                    let after = &rest[end..];
                    after.find('>').map_or("", |gt| &after[gt + 1..])
                }
                None => "",
            };
            continue;
        }
        if name == "script" {
            continue;
        }
        out.push_str(&clean_tag(tag));
    }
    out.push_str(rest);
    out
}

/// Length of the tag at the start of `text` (`<` … `>`, quotes respected),
/// if it is one.
pub(super) fn tag_len(text: &str) -> Option<usize> {
    let second = text[1..].chars().next()?;
    if !(second.is_ascii_alphabetic() || second == '/') {
        return None;
    }
    let mut quote = None;
    for (i, c) in text.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i + 1),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

pub(super) fn tag_name(tag: &str) -> String {
    tag.trim_start_matches('<')
        .trim_start_matches('/')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn find_ignore_case(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(needle)
}

/// The tag without event attributes and `javascript:` URLs; a tag with
/// nothing to remove is kept byte for byte.
fn clean_tag(tag: &str) -> String {
    if tag.starts_with("</") {
        return tag.to_string();
    }
    let inner = tag.trim_start_matches('<').trim_end_matches('>');
    let (inner, self_closing) = match inner.strip_suffix('/') {
        Some(i) => (i, true),
        None => (inner, false),
    };
    let name_end = inner
        .find(|c: char| c.is_whitespace())
        .unwrap_or(inner.len());
    let attributes = attributes(&inner[name_end..]);
    if !attributes.iter().any(|a| dangerous(a)) {
        return tag.to_string();
    }
    let mut out = format!("<{}", &inner[..name_end]);
    for a in attributes.iter().filter(|a| !dangerous(a)) {
        out.push(' ');
        out.push_str(a);
    }
    if self_closing {
        out.push_str(" /");
    }
    out.push('>');
    out
}

/// The attributes of a tag, each as written (`name`, `name=value`,
/// `name="value"`).
fn attributes(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        let mut quote = None;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None if b == b'"' || b == b'\'' => quote = Some(b),
                None if b.is_ascii_whitespace() => break,
                None => {}
            }
            i += 1;
        }
        if i > start {
            found.push(&text[start..i]);
        }
    }
    found
}

fn dangerous(attribute: &str) -> bool {
    let (name, value) = attribute.split_once('=').unwrap_or((attribute, ""));
    let name = name.trim().to_ascii_lowercase();
    let value: String = value
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    name.starts_with("on") || value.to_ascii_lowercase().starts_with("javascript:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_event_attributes_and_javascript_urls_go() {
        assert_eq!(
            spira_kept("<p>a<script>alert(1)</script>b</p>"),
            "<p>ab</p>"
        );
        assert_eq!(
            spira_kept(r#"<img src="x.png" onerror="alert(1)">"#),
            r#"<img src="x.png">"#
        );
        assert_eq!(
            spira_kept(r#"<a href="javascript:alert(1)">x</a>"#),
            "<a>x</a>"
        );
        assert_eq!(
            spira_kept(r#"<a href=" JavaScript:alert(1)" title="t">x</a>"#),
            r#"<a title="t">x</a>"#
        );
    }

    #[test]
    fn harmless_html_is_kept_byte_for_byte() {
        for html in [
            "<p>1 &lt; 2 and a <b>bold</b> <a href=\"https://x.example/?a=1&amp;b=2\">link</a></p>",
            "<ul>\n<li>one</li>\n</ul>",
            "a < b",
            "<p>only text</p>",
        ] {
            assert_eq!(spira_kept(html), html);
        }
    }

    /// Spira stores the text it is sent; its cleaning (and the simulator's)
    /// reads tags one after another, whatever their depth.
    #[test]
    fn deep_html_is_cleaned_without_overflow() {
        let deep = format!(
            "{}<a href=\"javascript:x\">boom</a>",
            "<div>".repeat(20_000)
        );
        let kept = crate::text::on_small_stack(move || spira_kept(&deep));
        assert!(kept.ends_with("<a>boom</a>"));
    }
}
