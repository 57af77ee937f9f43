//! The engine against what GitLab does to its writes: descriptions limited
//! in bytes, quick actions in descriptions, assignees GitLab drops, text
//! typed below labsync's footer (../shared/reference/gitlab-api.md §16).

mod world;

use world::World;

/// GitLab limits a description to 1,048,576 bytes (`bytesize`,
/// gitlab-org/gitlab `app/models/concerns/issuable.rb`): a multibyte text
/// under the limit in characters but over it in bytes is cut, not refused.
#[tokio::test]
async fn a_multibyte_description_over_the_byte_limit_is_cut_at_a_character() {
    let mut w = World::new("").await;
    // 700,000 characters, 1,400,000 bytes.
    let description = format!("<p>{}</p>", "é".repeat(700_000));
    let id = w.spira.add_incident(1, "Accents everywhere", 1);
    w.spira
        .edit_incident(id, |i| i.description = description.clone());
    let r = w.cycle().await;
    assert_eq!(
        (r.totals().created_issues, r.totals().failed),
        (1, 0),
        "{r:?}"
    );
    let issue = w.issue_titled("Accents everywhere");
    let gl_desc = issue["description"].as_str().unwrap();
    assert!(gl_desc.len() <= 1_048_576, "{} bytes", gl_desc.len());
    assert!(gl_desc.contains("the description was cut here"));
    assert!(
        gl_desc
            .trim_end()
            .ends_with(&format!("labsync:incident=1/{id} -->"))
    );
    // The cut copy is not an edit: Spira keeps the whole text.
    w.advance(chrono::Duration::minutes(5));
    let r = w.cycle().await;
    assert_eq!(r.totals().writes(), 0, "{r:?}");
    assert_eq!(w.spira.incident(id).unwrap().description, description);
}
