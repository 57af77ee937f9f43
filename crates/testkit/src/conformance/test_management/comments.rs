//! Comments: copied in order, each once, with their authors.

use super::{create, id};
use crate::conformance::TmSubject;

/// The engine copies comments in order and remembers the highest id it
/// copied, so comments come oldest first with growing ids; the author it
/// names is kept (spira §4: oldest first; the POST's UserId sets the
/// author, v7.0 OpenAPI `RemoteComment`).
pub async fn comments_come_oldest_first_with_their_authors(s: &TmSubject) {
    let setup = s.ready().await;
    let item = create(s, "commented").await;
    let author = setup.users.last().unwrap().id;
    let first = s
        .connector
        .add_comment(s.project, id(&item), "<p>first</p>", None)
        .await
        .unwrap();
    s.clock.tick().await;
    let second = s
        .connector
        .add_comment(s.project, id(&item), "<p>second</p>", Some(author))
        .await
        .unwrap();
    assert!(
        first.id.is_some() && second.id > first.id,
        "ids do not grow"
    );
    let listed = s.connector.comments(s.project, id(&item)).await.unwrap();
    let texts: Vec<&str> = listed.iter().map(|c| c.html.as_str()).collect();
    assert_eq!(texts, ["<p>first</p>", "<p>second</p>"]);
    assert_eq!(listed[1].id, second.id);
    assert_eq!(
        listed[1].author_id,
        Some(author),
        "the author named is not kept"
    );
}
