//! Offset pagination as GitLab's `OffsetHeaderBuilder` does it.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::params::Params;
use super::reply::json_response;

pub(crate) const DEFAULT_PER_PAGE: usize = 20;
pub(crate) const MAX_PER_PAGE: usize = 100;
/// Above this many items GitLab stops counting: no totals, no `rel="last"`.
pub(crate) const COUNT_LIMIT: usize = 10_000;
/// GitLab's default plan limit `offset_pagination_limit`.
pub(crate) const MAX_OFFSET: usize = 50_000;

/// The 405 GitLab answers when a page would end past `limit` items
/// (gitlab-org/gitlab `lib/api/helpers/pagination_strategies.rb`,
/// `offset_limit_exceeded?`: `page * per_page > limit`). GitLab applies it
/// to resources that support keyset pagination, per version: issues got
/// keyset pagination in 18.3 (`doc/api/rest/index.md`); which of them are
/// enforced varies, so the harder answer is the default.
pub(crate) fn past_max_offset(params: &Params, limit: usize, type_name: &str) -> Option<Response> {
    let (page, per_page) = page_and_size(params);
    if limit == 0 || page.saturating_mul(per_page) <= limit {
        return None;
    }
    let message = format!(
        "Offset pagination has a maximum allowed offset of {limit} for requests that return objects of type {type_name}. Remaining records can be retrieved using keyset pagination."
    );
    Some(json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &serde_json::json!({ "error": message }),
    ))
}

fn page_and_size(params: &Params) -> (usize, usize) {
    let per_page = params
        .str("per_page")
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map_or(DEFAULT_PER_PAGE, |n| n.min(MAX_PER_PAGE));
    let page = params
        .str("page")
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    (page, per_page)
}

/// One page of `items`, with X-* and Link headers whose URLs repeat the
/// request's parameters on `base` + `path`.
pub(crate) fn page(items: Vec<Value>, params: &Params, base: &str, path: &str) -> Response {
    page_of(items, |v| v, params, base, path)
}

/// Like [`page`], rendering only the items of the page asked for.
pub(crate) fn page_of<T>(
    items: Vec<T>,
    mut render: impl FnMut(T) -> Value,
    params: &Params,
    base: &str,
    path: &str,
) -> Response {
    page_then_filter(items, |t| Some(render(t)), params, base, path)
}

/// Like [`page_of`], but `render` may drop an item of the page after
/// paging, as GitLab drops notes the caller may not read (`lib/api/notes.rb`:
/// "the current page can have less elements than :per_page even if there's
/// more than one page"): the headers count what was paged, so a page may be
/// short, or empty, while `X-Next-Page` names the next.
pub(crate) fn page_then_filter<T>(
    items: Vec<T>,
    render: impl FnMut(T) -> Option<Value>,
    params: &Params,
    base: &str,
    path: &str,
) -> Response {
    let (page, per_page) = page_and_size(params);
    let total = items.len();
    let total_pages = total.div_ceil(per_page).max(1);
    let start = (page - 1).saturating_mul(per_page);
    let body: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(per_page)
        .filter_map(render)
        .collect();
    let next = (page < total_pages).then_some(page + 1);
    let prev = (page > 1).then(|| (page - 1).min(total_pages));
    let counted = total <= COUNT_LIMIT;

    let link_to = |n: usize| {
        let mut pairs = params.link_pairs();
        pairs.push(("page".into(), n.to_string()));
        pairs.push(("per_page".into(), per_page.to_string()));
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{base}{path}?{query}")
    };
    let mut links = Vec::new();
    if let Some(p) = prev {
        links.push(format!("<{}>; rel=\"prev\"", link_to(p)));
    }
    if let Some(n) = next {
        links.push(format!("<{}>; rel=\"next\"", link_to(n)));
    }
    links.push(format!("<{}>; rel=\"first\"", link_to(1)));
    if counted {
        links.push(format!("<{}>; rel=\"last\"", link_to(total_pages)));
    }

    let mut response = json_response(StatusCode::OK, &Value::Array(body));
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set("x-page", page.to_string());
    set("x-per-page", per_page.to_string());
    set(
        "x-next-page",
        next.map_or_else(String::new, |n| n.to_string()),
    );
    set(
        "x-prev-page",
        prev.map_or_else(String::new, |n| n.to_string()),
    );
    if counted {
        set("x-total", total.to_string());
        set("x-total-pages", total_pages.to_string());
    }
    set("link", links.join(", "));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(r: &Response, name: &str) -> Option<String> {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    #[test]
    fn last_page_has_empty_next_and_no_next_link() {
        let items: Vec<Value> = (0..45).map(Value::from).collect();
        let params = Params::from_query(Some("state=all&page=3&per_page=20"));
        let r = page(items, &params, "http://h:1", "/api/v4/x");
        assert_eq!(header(&r, "x-next-page").as_deref(), Some(""));
        assert_eq!(header(&r, "x-prev-page").as_deref(), Some("2"));
        assert_eq!(header(&r, "x-total").as_deref(), Some("45"));
        assert_eq!(header(&r, "x-total-pages").as_deref(), Some("3"));
        let link = header(&r, "link").unwrap();
        assert!(!link.contains("rel=\"next\""));
        assert!(link.contains("<http://h:1/api/v4/x?page=2&per_page=20&state=all>; rel=\"prev\""));
    }

    #[test]
    fn totals_are_dropped_above_ten_thousand() {
        let items: Vec<Value> = (0..10_001).map(Value::from).collect();
        let params = Params::from_query(Some("per_page=500"));
        let r = page(items, &params, "http://h:1", "/x");
        assert_eq!(header(&r, "x-per-page").as_deref(), Some("100"));
        assert_eq!(header(&r, "x-total"), None);
        assert_eq!(header(&r, "x-total-pages"), None);
        assert_eq!(header(&r, "x-next-page").as_deref(), Some("2"));
        assert!(!header(&r, "link").unwrap().contains("rel=\"last\""));
    }
}
