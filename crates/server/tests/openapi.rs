//! The OpenAPI document is generated from the code (src/routes/mod.rs: each route
//! is registered with `routes!` together with its `#[utoipa::path]` description).
//! These tests check the result: OpenAPI 3.1 whose `$ref`s all resolve; every
//! described operation answers on the running server and no other method does;
//! security as described; and spot checks that constraints are the code's own.

mod common;

use std::collections::BTreeSet;

use common::TestServer;
use danvan_core::period::PERIOD_PATTERN;
use danvan_core::Period;
use reqwest::{Method, StatusCode};
use serde_json::Value;

const ROUTES_SOURCE: &str = include_str!("../src/routes/mod.rs");
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn document() -> Value {
    serde_json::from_str(danvan_server::routes::openapi_json()).expect("the document is JSON")
}

/// `(path, method, operation)` for every operation of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                out.push((path.clone(), method.clone(), op.clone()));
            }
        }
    }
    out
}

fn is_public(op: &Value) -> bool {
    op["security"].as_array().is_some_and(Vec::is_empty)
}

fn component<'d>(doc: &'d Value, name: &str) -> &'d Value {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "no component schema {name}");
    schema
}

#[test]
fn the_document_is_openapi_3_1_and_every_reference_resolves() {
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
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."), "{}", doc["openapi"]);
    let mut seen = 0;
    walk(&doc, &doc, &mut seen);
    assert!(seen > 50, "{seen} references");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

/// The router has no route of its own: every one goes through `routes!`, which
/// registers it with its description. (A plain `.route(...)` would be routed but
/// undescribed.)
#[test]
fn routes_are_registered_only_with_their_description() {
    let code: String = ROUTES_SOURCE.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
    assert!(!code.contains(".route("), "a route registered without its description in routes/mod.rs");
    assert!(code.matches(".routes(routes!(").count() >= 50);
}

/// A path of the document with its parameters filled in: numbers for integer ones.
fn concrete(path: &str, op: &Value) -> String {
    let mut out = path.to_string();
    for p in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "path") {
        let name = p["name"].as_str().unwrap();
        let value = if p["schema"]["type"] == "integer" { "1" } else { "x" };
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Every described operation is routed (neither the `/api` fallback's 404 nor a
/// 405), signed-in ones answer 401 without a token and public ones do not; every
/// method the document does not list on a path is a 405. With the test above, the
/// router and the document list the same operations.
#[tokio::test]
async fn every_described_operation_is_routed_and_secured_as_described() {
    let (s, _dir) = TestServer::start().await;
    let doc = document();
    let ops = operations(&doc);
    assert!(ops.len() >= 60, "{} operations", ops.len());
    let ids: BTreeSet<&str> = ops.iter().map(|(_, _, op)| op["operationId"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), ops.len(), "operation ids are not unique");
    let mut public = BTreeSet::new();
    for (path, method, op) in &ops {
        let url = s.url(&concrete(path, op));
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = s.client.request(m, &url).header("content-type", "application/json").body("{}").send().await.unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is not routed");
        let fallback =
            status == StatusCode::NOT_FOUND && body["error"]["message"] == danvan_server::error::MSG_NOT_FOUND;
        assert!(!fallback, "{method} {path} is not routed");
        let responses = op["responses"].as_object().unwrap();
        if is_public(op) {
            public.insert(format!("{method} {path}"));
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{method} {path} is described as public");
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} is described as signed-in: {body}");
            assert!(responses.contains_key("401"), "{method} {path}: 401 undescribed");
        }
        assert!(responses.contains_key("503"), "{method} {path}: 503 undescribed");
    }
    let expected: BTreeSet<String> = [
        "get /api/health",
        "get /api/openapi.json",
        "post /api/auth/login",
        "post /api/auth/enrolment",
        "post /api/auth/enrol",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(public, expected);
    // Methods the document does not list on a described path.
    for (path, item) in doc["paths"].as_object().unwrap() {
        let op = item.as_object().unwrap().values().next().unwrap();
        let url = s.url(&concrete(path, op));
        for method in METHODS.iter().filter(|m| !item.as_object().unwrap().contains_key(**m)) {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = s.client.request(m, &url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path} answers but is undescribed");
        }
    }
}

#[tokio::test]
async fn the_document_is_served() {
    let (s, _dir) = TestServer::start().await;
    let res = s.get("/api/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(res.json::<Value>().await.unwrap(), document());
}

/// The period pattern of the document is what `Period::parse_key` accepts.
#[test]
fn the_period_pattern_is_the_parser() {
    let doc = document();
    assert_eq!(component(&doc, "Period")["pattern"], PERIOD_PATTERN);
    let dashboard = &doc["paths"]["/api/dashboard"]["get"]["parameters"];
    let period = dashboard.as_array().unwrap().iter().find(|p| p["name"] == "period").expect("period parameter");
    assert_eq!(period["schema"]["pattern"], PERIOD_PATTERN);
    assert_eq!(period["required"], true, "the dashboard needs a period");
    let models = &doc["paths"]["/api/models"]["get"]["parameters"];
    let period = models.as_array().unwrap().iter().find(|p| p["name"] == "period").expect("period parameter");
    assert_eq!(period["schema"]["pattern"], PERIOD_PATTERN);
    assert_ne!(period["required"], true);

    let re = regex::Regex::new(PERIOD_PATTERN).unwrap();
    let samples = [
        "2024",
        "2024-03",
        "1900",
        "1899",
        "9999",
        "0000",
        "2024-00",
        "2024-13",
        "2024-1",
        "2024-012",
        "24-03",
        "202",
        "20245",
        "2024-",
        "-2024",
        "2024/03",
        " 2024",
        "2024 ",
        "2024-03-01",
        "abcd",
        "",
        "1900-01",
        "9999-12",
        "2099-10",
        "３０２４",
    ];
    for s in samples {
        assert_eq!(re.is_match(s), Period::parse_key(s).is_ok(), "{s:?}");
    }
}

/// Request dates carry a pattern (JSON Schema's `format` only annotates): what it
/// matches chrono reads; chrono also reads a few forms the pattern leaves out.
#[test]
fn the_date_patterns_are_chronos() {
    use danvan_core::time::{DATE_PATTERN, DATE_TIME_PATTERN};
    let doc = document();
    assert_eq!(component(&doc, "ImplementationPlanInput")["properties"]["issued_on"]["pattern"], DATE_PATTERN);
    assert_eq!(component(&doc, "Plan")["properties"]["valid_to"]["pattern"], DATE_PATTERN);
    assert_eq!(component(&doc, "Mutation")["properties"]["device_time"]["pattern"], DATE_TIME_PATTERN);
    let date = regex::Regex::new(DATE_PATTERN).unwrap();
    for s in [
        "2024-02-29",
        "2023-02-29",
        "2000-02-29",
        "1900-02-29",
        "0000-02-29",
        "2024-04-31",
        "2024-12-31",
        "2024-13-01",
        "2024-00-10",
        "",
        "2024-01-01T00:00:00Z",
        "9999-12-31",
    ] {
        assert_eq!(date.is_match(s), s.parse::<chrono::NaiveDate>().is_ok(), "{s:?}");
    }
    for lenient in ["2024-1-01", "24-01-01"] {
        assert!(!date.is_match(lenient) && lenient.parse::<chrono::NaiveDate>().is_ok(), "{lenient:?}");
    }
    let instant = regex::Regex::new(DATE_TIME_PATTERN).unwrap();
    for s in ["2024-03-01T10:00:00Z", "2024-03-01T10:00:00.123+07:00", "2023-02-29T10:00:00Z", "2024-03-01T24:00:00Z"] {
        assert_eq!(instant.is_match(s), s.parse::<chrono::DateTime<chrono::Utc>>().is_ok(), "{s:?}");
    }
}

#[test]
fn constraints_are_the_codes() {
    let doc = document();
    let push = component(&doc, "PushRequest");
    assert_eq!(push["properties"]["client_id"]["pattern"], "^[A-Za-z0-9_-]{1,64}$");
    assert_eq!(push["properties"]["mutations"]["maxItems"], danvan_core::sync::MAX_PUSH_MUTATIONS);
    assert_eq!(push["properties"]["schema_version"]["minimum"], danvan_core::sync::SYNC_SCHEMA_VERSION);
    assert_eq!(push["properties"]["schema_version"]["maximum"], danvan_core::sync::SYNC_SCHEMA_VERSION);
    let mutation = component(&doc, "Mutation");
    assert_eq!(mutation["properties"]["id"]["minimum"], 1);
    assert_eq!(mutation["properties"]["id"]["maximum"], i64::MAX);
    assert_eq!(component(&doc, "NewModel")["properties"]["name"]["maxLength"], 200);
    assert_eq!(component(&doc, "NewModel")["properties"]["description"]["maxLength"], 4000);
    // serde(deny_unknown_fields) on PlanDocument.
    assert_eq!(component(&doc, "PlanDocument")["additionalProperties"], false);
    let enums = |name: &str| -> BTreeSet<String> {
        let schema = component(&doc, name);
        schema["enum"].as_array().unwrap_or_else(|| panic!("{name}: {schema}")).iter().map(|v| v.to_string()).collect()
    };
    let strings = |v: &[&str]| v.iter().map(|s| format!("\"{s}\"")).collect::<BTreeSet<_>>();
    assert_eq!(enums("Role"), strings(&["reporter", "reviewer", "aggregator", "admin"]));
    assert_eq!(enums("ReportStatus"), strings(&["draft", "submitted", "returned", "accepted"]));
    // An externally tagged variant's object takes its tag only (serde reads any
    // other key as an unknown variant).
    let variants = component(&doc, "MutationOp")["oneOf"].as_array().unwrap().clone();
    let save = variants.iter().find(|v| v["required"][0] == "save").expect("the save variant");
    assert_eq!(save["additionalProperties"], false);
    // The mutation ops: two objects and two bare strings.
    let op = component(&doc, "MutationOp").to_string();
    for name in ["save", "submit", "return", "accept"] {
        assert!(op.contains(&format!("\"{name}\"")), "MutationOp lacks {name}: {op}");
    }
    let login = &doc["paths"]["/api/auth/login"]["post"]["responses"];
    for code in ["200", "400", "401", "403", "413", "429", "503"] {
        assert!(login.get(code).is_some(), "login: {code} undescribed");
    }
    let push = &doc["paths"]["/api/sync/push"]["post"]["responses"];
    for code in ["200", "400", "401", "403", "409", "413", "503"] {
        assert!(push.get(code).is_some(), "push: {code} undescribed");
    }
}
