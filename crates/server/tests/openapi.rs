//! `openapi.json` is hand-written: check that it parses, is OpenAPI 3.1, that it
//! describes exactly the routes `routes/mod.rs` registers (with their methods),
//! and that every `$ref` resolves.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::TestServer;
use reqwest::StatusCode;
use serde_json::Value;

const ROUTES_SOURCE: &str = include_str!("../src/routes/mod.rs");

/// `path → methods` from the `.route("...", get(..).put(..))` calls of the source
/// (on one line or, as rustfmt wraps long ones, over several).
fn registered_routes() -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for call in ROUTES_SOURCE.split(".route(").skip(1) {
        let rest = call.trim_start().strip_prefix('"').expect("a quoted path");
        let (path, rest) = rest.split_once('"').expect("a closed path");
        if !path.starts_with('/') {
            continue; // `.route("...")` in a comment
        }
        // The handlers: up to the call's closing parenthesis.
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(rest.len(), |(i, _)| i);
        let handlers = rest[..end].trim_start_matches([',', ' ', '\n']);
        let methods: BTreeSet<String> = ["get", "post", "put", "patch", "delete"]
            .iter()
            .filter(|m| {
                handlers.match_indices(&format!("{m}(")).any(|(i, _)| {
                    // `get(` or `.get(`, not `forms::get(`.
                    i == 0 || matches!(handlers.as_bytes()[i - 1], b' ' | b'.' | b',' | b'\n')
                })
            })
            .map(|m| m.to_string())
            .collect();
        assert!(!methods.is_empty(), "no method found on {path:?}");
        out.insert(format!("/api{path}"), methods);
    }
    out
}

fn document() -> Value {
    serde_json::from_str(danvan_server::routes::OPENAPI_JSON).expect("openapi.json is valid JSON")
}

#[test]
fn the_document_is_openapi_3_1_and_lists_every_route() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."), "{}", doc["openapi"]);
    let routes = registered_routes();
    assert!(routes.len() >= 13, "{routes:?}");
    let paths = doc["paths"].as_object().expect("paths");
    let documented: BTreeMap<String, BTreeSet<String>> = paths
        .iter()
        .map(|(p, item)| {
            let methods = item
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .cloned()
                .collect();
            (p.clone(), methods)
        })
        .collect();
    assert_eq!(documented, routes, "openapi.json paths vs routes/mod.rs");
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}: no responses"));
            assert!(!responses.is_empty());
            let secured = op.get("security").is_none_or(|s| s.as_array().is_some_and(|a| !a.is_empty()));
            if secured {
                assert!(responses.contains_key("401"), "{method} {path}: 401 undocumented");
            }
        }
    }
    let push = &paths["/api/sync/push"]["post"]["responses"];
    for code in ["200", "400", "401", "403", "409", "413", "503"] {
        assert!(push.get(code).is_some(), "push: {code} undocumented");
    }
}

#[test]
fn every_reference_resolves() {
    fn walk(v: &Value, doc: &Value, seen: &mut usize) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {r}"));
                    assert!(doc.pointer(pointer).is_some(), "unresolved $ref {r}");
                    *seen += 1;
                }
                map.values().for_each(|x| walk(x, doc, seen));
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, doc, seen)),
            _ => {}
        }
    }
    let doc = document();
    let mut seen = 0;
    walk(&doc, &doc, &mut seen);
    assert!(seen > 20);
}

#[tokio::test]
async fn the_document_is_served() {
    let (s, _dir) = TestServer::start().await;
    let res = s.get("/api/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(res.json::<Value>().await.unwrap(), document());
}
