//! How the demo talks: plain lines on stdout, readable without colour;
//! bold headings and green/red marks only when stdout is a terminal.

use std::io::IsTerminal;

/// Prints the story. `colour` is decided once, from stdout.
#[derive(Clone, Copy, Debug)]
pub struct Say {
    colour: bool,
}

impl Default for Say {
    fn default() -> Self {
        Say {
            colour: std::io::stdout().is_terminal(),
        }
    }
}

impl Say {
    /// A numbered step of the story, with a blank line before it.
    pub fn step(&self, n: u32, title: &str) {
        println!();
        if self.colour {
            println!("\x1b[1m{n}. {title}\x1b[0m");
        } else {
            println!("{n}. {title}");
        }
    }

    pub fn blank(&self) {
        println!();
    }

    /// One indented line.
    pub fn line(&self, text: impl AsRef<str>) {
        println!("   {}", text.as_ref());
    }

    /// Something that happened as expected.
    pub fn ok(&self, text: impl AsRef<str>) {
        let mark = if self.colour {
            "\x1b[32mok\x1b[0m"
        } else {
            "ok"
        };
        println!("   {mark}: {}", text.as_ref());
    }

    /// Something that did not happen; the demo will exit 1.
    pub fn missed(&self, text: impl AsRef<str>) {
        let mark = if self.colour {
            "\x1b[31mNOT DONE\x1b[0m"
        } else {
            "NOT DONE"
        };
        println!("   {mark}: {}", text.as_ref());
    }

    /// A block of text (a table) indented like the lines.
    pub fn block(&self, text: &str) {
        for l in text.lines() {
            println!("   {l}");
        }
    }
}

/// An incident as Spira shows it.
pub fn incident(id: impl std::fmt::Display) -> String {
    format!("IN:{id}")
}

/// An issue as GitLab shows it.
pub fn issue(iid: impl std::fmt::Display) -> String {
    format!("#{iid}")
}

/// The first line of a comment, without HTML tags, at most 60 characters.
pub fn gist(text: &str) -> String {
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let first = plain
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if first.chars().count() > 60 {
        let cut: String = first.chars().take(57).collect();
        format!("{cut}...")
    } else {
        first.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gist_strips_tags_and_shortens() {
        assert_eq!(gist("<p>Seen on <b>4G</b> only</p>"), "Seen on 4G only");
        assert_eq!(gist("\n\nsecond line\nthird"), "second line");
        let long = "x".repeat(80);
        assert_eq!(gist(&long).chars().count(), 60);
    }
}
