//! The schema against the last released one (`tests/schema/check.mjs`, graphql-inspector's
//! diff): the checked-in schema passes with its changelog, and the check fails on a
//! breaking change the changelog does not declare and on a field removed without a
//! deprecation, even when declared.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::missing;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema")
}

/// The check's exit status over `released`, `schema` and `changelog`, and what it said.
fn check(released: &Path, schema: &Path, changelog: &Path) -> (i32, String) {
    let run = Command::new("node")
        .arg(dir().join("check.mjs"))
        .args(["--released".as_ref(), released.as_os_str(), "--schema".as_ref(), schema.as_os_str()])
        .args(["--changelog".as_ref(), changelog.as_os_str()])
        .output()
        .expect("run node");
    let said = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    (run.status.code().unwrap_or(-1), said)
}

#[test]
fn a_breaking_change_needs_a_changelog_entry_and_a_removal_a_deprecation_first() {
    if !dir().join("node_modules/@graphql-inspector/core").exists() {
        missing("tests/schema (npm ci --prefix tests/schema): the schema check");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let (status, said) =
        check(&dir().join("released.graphql"), &root.join("schema.graphql"), &root.join("CHANGELOG.md"));
    assert_eq!(status, 0, "the checked-in schema and changelog: {said}");

    let scratch = tempfile::tempdir().expect("scratch");
    let write = |name: &str, text: &str| {
        let path = scratch.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let released =
        write("released.graphql", "type Query { count: Int! old: Int @deprecated(reason: \"use count\") kept: Int }");
    let nullable =
        write("nullable.graphql", "type Query { count: Int old: Int @deprecated(reason: \"use count\") kept: Int }");
    let silent = write("silent.md", "# Changelog\n\n## Unreleased\n\n- Nothing breaking.\n");
    let declared = write("declared.md", "# Changelog\n\n## Unreleased\n\n- Breaking: `Query.count` is nullable.\n");
    let (status, said) = check(&released, &nullable, &silent);
    assert_eq!(status, 1, "undeclared: {said}");
    assert!(said.contains("Query.count"), "{said}");
    assert_eq!(check(&released, &nullable, &declared).0, 0, "declared");
    // A deprecated field may go; one that was not deprecated may not, declared or not.
    let without_old = write("without_old.graphql", "type Query { count: Int! kept: Int }");
    let without_kept =
        write("without_kept.graphql", "type Query { count: Int! old: Int @deprecated(reason: \"use count\") }");
    let declared_both = write(
        "declared_both.md",
        "## Unreleased\n\n- Breaking: `Query.old` removed.\n- Breaking: `Query.kept` removed.\n",
    );
    assert_eq!(check(&released, &without_old, &declared_both).0, 0, "a deprecated field removed, declared");
    let (status, said) = check(&released, &without_kept, &declared_both);
    assert_eq!(status, 1, "removed without a deprecation: {said}");
    assert!(said.contains("without a deprecation"), "{said}");
}
