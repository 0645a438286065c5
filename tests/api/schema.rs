//! `schema.graphql` must be the SDL printed from the code.

/// Regenerate with: `OSP_UPDATE_SCHEMA=1 cargo test --test api schema_file`.
#[test]
fn schema_file_matches_the_code() {
    crate::helpers::assert_matches_committed(
        "schema.graphql",
        &osp_gateway::graphql::sdl(),
        "OSP_UPDATE_SCHEMA",
        "cargo test --test api schema_file",
    );
}
