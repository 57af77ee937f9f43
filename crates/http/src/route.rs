//! A request's route: its method and path with the ids taken out, so that
//! every issue creation is one route whichever project or item it is for.
//! The breaker counts timeouts per route (a server can hang one route and
//! answer the rest), and errors name the route in words an operator reads.

/// `POST /api/v4/projects/{id}/issues`, and what it does: "issue creation".
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Route {
    /// Method and path template: the breaker's key, and shown in errors.
    pub(crate) template: String,
    /// In words: "issue creation", "incident update", "note listing".
    pub(crate) operation: String,
}

impl Route {
    pub(crate) fn of(method: &str, path: &str) -> Route {
        let segments: Vec<Segment<'_>> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(Segment::of)
            .collect();
        let mut template = format!("{method} ");
        for s in &segments {
            template.push('/');
            template.push_str(match s {
                Segment::Id => "{id}",
                Segment::Name(n) => n,
            });
        }
        Route {
            operation: operation(method, &segments).unwrap_or_else(|| template.clone()),
            template,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Segment<'a> {
    /// A number, or a percent-encoded project path (`group%2Fproject`).
    Id,
    Name(&'a str),
}

impl<'a> Segment<'a> {
    fn of(s: &'a str) -> Segment<'a> {
        if s.bytes().all(|b| b.is_ascii_digit()) || s.contains('%') {
            Segment::Id
        } else {
            Segment::Name(s)
        }
    }
}

/// REST paths name a collection (`…/issues`), one of its items
/// (`…/issues/{id}`) or an action on one of them (`…/incidents/search`,
/// `…/issues/{id}/move`). `None` when the path says none of that.
fn operation(method: &str, segments: &[Segment<'_>]) -> Option<String> {
    let (last, before) = segments.split_last()?;
    let previous_name = || {
        before.iter().rev().find_map(|s| match s {
            Segment::Name(n) => Some(*n),
            Segment::Id => None,
        })
    };
    match last {
        Segment::Id => {
            let Segment::Name(collection) = before.last()? else {
                return None;
            };
            let verb = match method {
                "GET" => "reading",
                "PUT" | "PATCH" | "POST" => "update",
                "DELETE" => "deletion",
                _ => return None,
            };
            Some(format!("{} {verb}", singular(collection)))
        }
        Segment::Name(name) if name.ends_with('s') => {
            let verb = match method {
                "GET" => "listing",
                "POST" => "creation",
                "PUT" | "PATCH" => "update",
                "DELETE" => "deletion",
                _ => return None,
            };
            Some(format!("{} {verb}", singular(name)))
        }
        Segment::Name(action) => match previous_name() {
            Some(collection) if collection.ends_with('s') => {
                Some(format!("{} {action}", singular(collection)))
            }
            _ if method == "GET" => Some(format!("{action} reading")),
            _ => None,
        },
    }
}

fn singular(collection: &str) -> &str {
    collection.strip_suffix('s').unwrap_or(collection)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(method: &str, path: &str) -> (String, String) {
        let r = Route::of(method, path);
        (r.template, r.operation)
    }

    #[test]
    fn ids_and_project_paths_are_taken_out_and_the_operation_is_named() {
        assert_eq!(
            named("POST", "/api/v4/projects/qa%2Fwebshop/issues"),
            (
                "POST /api/v4/projects/{id}/issues".into(),
                "issue creation".into()
            )
        );
        assert_eq!(
            Route::of("POST", "/api/v4/projects/7/issues"),
            Route::of("POST", "/api/v4/projects/qa%2Fwebshop/issues"),
            "one route whichever project"
        );
        let svc = "/Services/v7_0/RestService.svc";
        assert_eq!(
            named("PUT", &format!("{svc}/projects/1/incidents/42")),
            (
                format!("PUT {svc}/projects/{{id}}/incidents/{{id}}"),
                "incident update".into()
            )
        );
        let op = |m: &str, p: &str| Route::of(m, p).operation;
        assert_eq!(
            op("POST", &format!("{svc}/projects/1/incidents/search")),
            "incident search"
        );
        assert_eq!(
            op("POST", "/api/v4/projects/3/issues/9/notes"),
            "note creation"
        );
        assert_eq!(
            op("GET", "/api/v4/projects/3/issues/9/notes"),
            "note listing"
        );
        assert_eq!(op("POST", "/api/v4/projects/3/issues/9/move"), "issue move");
        assert_eq!(op("GET", "/api/v4/user"), "user reading");
        assert_eq!(op("DELETE", "/api/v4/projects/3/hooks/4"), "hook deletion");
        // Nothing to name: the template stands for itself.
        assert_eq!(op("OPTIONS", "/"), "OPTIONS ");
    }
}
