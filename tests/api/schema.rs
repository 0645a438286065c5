//! `schema.graphql` must be the SDL printed from the code.

/// Regenerate with: `OSP_UPDATE_SCHEMA=1 cargo test --test api schema_file`.
#[test]
fn schema_file_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let printed = osp_gateway::graphql::sdl();
    if std::env::var("OSP_UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(path, &printed).expect("write schema.graphql");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == printed,
        "schema.graphql differs from the schema in the code; regenerate it with\n  \
         OSP_UPDATE_SCHEMA=1 cargo test --test api schema_file\nand commit the result"
    );
}
