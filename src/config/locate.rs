//! Finds the line of a key in plugins.toml, so that every error can say where
//! to look. Figment reports key paths ("plugins.0.projects.1.statuses"); this
//! walks the same path through a span-keeping parse of the file.

use toml_edit::{ImDocument, Item, Value};

pub(crate) struct Locator {
    doc: Option<ImDocument<String>>,
}

impl Locator {
    pub(crate) fn new(text: &str) -> Self {
        Locator {
            doc: ImDocument::parse(text.to_string()).ok(),
        }
    }

    /// 1-based line of the deepest element of `path` that exists in the file.
    pub(crate) fn line(&self, path: &[String]) -> Option<usize> {
        let doc = self.doc.as_ref()?;
        let mut best: Option<usize> = None;
        let mut node = Node::Item(doc.as_item());
        for seg in path {
            let (next, span) = match node.child(seg) {
                Some(found) => found,
                None => break,
            };
            if let Some(start) = span {
                best = Some(start);
            }
            node = next;
        }
        best.map(|offset| line_of(doc.raw(), offset))
    }

    /// The string value at `path`, e.g. a plugin's name for an error message.
    pub(crate) fn string(&self, path: &[String]) -> Option<String> {
        let doc = self.doc.as_ref()?;
        let mut node = Node::Item(doc.as_item());
        for seg in path {
            node = node.child(seg)?.0;
        }
        match node {
            Node::Item(Item::Value(v)) | Node::Value(v) => v.as_str().map(String::from),
            _ => None,
        }
    }
}

#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a Item),
    Table(&'a toml_edit::Table),
    Value(&'a Value),
}

impl<'a> Node<'a> {
    /// The child named `seg` and the byte offset where it starts.
    fn child(self, seg: &str) -> Option<(Node<'a>, Option<usize>)> {
        match self {
            Node::Item(Item::Table(t)) | Node::Table(t) => {
                let (key, item) = t.get_key_value(seg)?;
                let at = key.span().or_else(|| item.span()).map(|s| s.start);
                Some((Node::Item(item), at))
            }
            Node::Item(Item::ArrayOfTables(a)) => {
                let i: usize = seg.parse().ok()?;
                let t = a.get(i)?;
                Some((Node::Table(t), t.span().map(|s| s.start)))
            }
            Node::Item(Item::Value(v)) | Node::Value(v) => match v {
                Value::InlineTable(t) => {
                    let (key, item) = t.get_key_value(seg)?;
                    let at = key.span().or_else(|| item.span()).map(|s| s.start);
                    Some((Node::Item(item), at))
                }
                Value::Array(a) => {
                    let i: usize = seg.parse().ok()?;
                    let value = a.get(i)?;
                    Some((Node::Value(value), value.span().map(|s| s.start)))
                }
                _ => None,
            },
            Node::Item(Item::None) => None,
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn finds_keys_in_arrays_of_tables_and_inline_arrays() {
        let text = "\
[[plugins]]
name = \"a\"

[[plugins]]
name = \"b\"
schedule = \"5x\"

[[plugins.projects]]
spira_project = 1
statuses = [
  { spira = \"New\", gitlab = \"opened\" },
  { spira = \"Done\", gitlab = \"shut\" },
]
";
        let loc = Locator::new(text);
        assert_eq!(loc.line(&path("plugins.1.schedule")), Some(6));
        assert_eq!(
            loc.line(&path("plugins.1.projects.0.statuses.1.gitlab")),
            Some(12)
        );
        // A key that does not exist points at its nearest parent.
        assert_eq!(loc.line(&path("plugins.1.projects.0.users")), Some(8));
    }
}
