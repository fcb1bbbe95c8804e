//! The service's layout, checked from its source: no two files of `api` import each
//! other, directly or around a circle; the request's stages only use what stages before
//! them produced (admit → route → write | plan → decide → publish → record); the modules
//! the stages share use no stage; and nothing but the HTTP glue uses the pipeline's
//! orchestrator.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, by its module path (`["pipeline", "admit"]`).
fn modules(dir: &Path, prefix: &[String], out: &mut BTreeMap<Vec<String>, PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_stem().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if path.is_dir() {
            let mut inner = prefix.to_vec();
            inner.push(path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned());
            modules(&path, &inner, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut module = prefix.to_vec();
            if name != "mod" && name != "lib" {
                module.push(name);
            }
            out.insert(module, path);
        }
    }
}

/// The paths a use tree or path expression starting at `text` names, braces expanded
/// (`a::{b, c::{d}}` → `a::b`, `a::c::d`).
fn expand(text: &str) -> Vec<Vec<String>> {
    let mut path: Vec<String> = Vec::new();
    let mut rest = text;
    loop {
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        rest = &rest[name.len()..];
        if !name.is_empty() {
            path.push(name);
        }
        if let Some(after) = rest.strip_prefix("::") {
            rest = after;
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 1;
                let end = group
                    .char_indices()
                    .find(|(_, c)| {
                        depth += match c {
                            '{' => 1,
                            '}' => -1,
                            _ => 0,
                        };
                        depth == 0
                    })
                    .map_or(group.len(), |(i, _)| i);
                let (mut items, mut depth, mut from) = (Vec::new(), 0, 0);
                for (i, c) in group[..end].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            items.push(&group[from..i]);
                            from = i + 1;
                        }
                        _ => {}
                    }
                }
                items.push(&group[from..end]);
                return items
                    .into_iter()
                    .flat_map(|item| expand(item.trim()))
                    .map(|inner| path.iter().cloned().chain(inner).collect())
                    .collect();
            }
            continue;
        }
        return vec![path];
    }
}

/// The module paths a file's code names: `crate::…`, `super::…`, `self::…` and its own
/// child modules, outside comments and test modules.
fn references(here: &[String], text: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = code.as_bytes();
    let word =
        |i: usize| i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b':');
    let parent = here[..here.len().saturating_sub(1)].to_vec();
    let mut roots: Vec<(String, Vec<String>)> =
        vec![("crate::".into(), Vec::new()), ("super::".into(), parent), ("self::".into(), here.to_vec())];
    // A file's own child modules, used by name (`admit::admit(…)` in `pipeline/mod.rs`).
    for child in children {
        let mut base = here.to_vec();
        base.push(child.clone());
        roots.push((format!("{child}::"), base));
    }
    let mut found = Vec::new();
    for (start, base) in roots {
        for (i, _) in code.match_indices(&start) {
            if word(i) {
                for path in expand(&code[i + start.len()..]) {
                    found.push(base.iter().cloned().chain(path).collect());
                }
            }
        }
    }
    found
}

/// The file a module path lands in: the longest prefix that is a file.
fn file_of<'m>(path: &[String], files: &'m BTreeMap<Vec<String>, PathBuf>) -> Option<&'m Vec<String>> {
    (1..=path.len()).rev().find_map(|n| files.get_key_value(&path[..n]).map(|(k, _)| k))
}

/// `module`'s place in the request's path, when it belongs to a stage.
fn stage(module: &[String]) -> Option<u8> {
    if module.first().map(String::as_str) != Some("pipeline") {
        return None;
    }
    match module.get(1).map(String::as_str) {
        Some("admit") => Some(1),
        Some("route") => Some(2),
        Some("write" | "plan") => Some(3),
        Some("decide") => Some(4),
        Some("publish") => Some(5),
        Some("record") => Some(6),
        _ => None,
    }
}

fn edges() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src");
    let mut files = BTreeMap::new();
    modules(&src, &[], &mut files);
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path).expect("read a source file");
        let is_mod_file = path.file_name().is_some_and(|n| n == "mod.rs" || n == "lib.rs");
        let children: BTreeSet<String> = files
            .keys()
            .filter(|other| other.len() == module.len() + 1 && other.starts_with(module) && is_mod_file)
            .filter_map(|other| other.last().cloned())
            .collect();
        let targets = edges.entry(module.clone()).or_default();
        for reference in references(module, &text, &children) {
            if let Some(target) = file_of(&reference, &files) {
                if target != module && !target.is_empty() {
                    targets.insert(target.clone());
                }
            }
        }
    }
    edges
}

#[test]
fn no_two_files_of_the_service_import_each_other_around_a_circle() {
    let edges = edges();
    assert!(edges.len() > 40, "the source was not found: {} files", edges.len());
    // Depth-first search for a back edge.
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        state.insert(node.clone(), 1);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|n| n == next).unwrap_or(0);
                    return Some(stack[from..].to_vec());
                }
                0 => {
                    if let Some(circle) = visit(next, edges, state, stack) {
                        return Some(circle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if state.get(node).copied().unwrap_or(0) == 0 {
            if let Some(circle) = visit(node, &edges, &mut state, &mut Vec::new()) {
                let names: Vec<String> = circle.iter().map(|m| m.join("::")).collect();
                panic!("an import circle: {}", names.join(" → "));
            }
        }
    }
}

#[test]
fn each_stage_uses_only_the_stages_before_it_and_only_the_glue_uses_the_orchestrator() {
    let shared = ["exchange", "context", "release", "reply"];
    for (module, targets) in edges() {
        for target in targets {
            let (from, to) = (stage(&module), stage(&target));
            if let (Some(from), Some(to)) = (from, to) {
                assert!(to <= from, "{} (a stage) uses {}, a stage after it", module.join("::"), target.join("::"));
            }
            let module_is_shared = module.first().map(String::as_str) == Some("pipeline")
                && module.get(1).is_some_and(|m| shared.contains(&m.as_str()));
            assert!(
                !(module_is_shared && to.is_some()),
                "{} is shared by the stages but uses {}",
                module.join("::"),
                target.join("::")
            );
            let orchestrator = target == ["pipeline".to_owned()];
            let allowed = module.first().is_some_and(|m| m == "http" || m == "pipeline");
            assert!(!orchestrator || allowed, "{} uses the pipeline's orchestrator", module.join("::"));
        }
    }
}
