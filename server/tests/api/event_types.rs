//! The payload contract's catalogue: built-in types ship with schemas; a tenant registers its own
//! (checked as a JSON Schema, the example against it); publishing validates only where asked,
//! and the 422 names every failing path; archiving keeps a type readable and stops validating;
//! scopes and tenants are sealed.

use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{count, Backend, TestApp};

fn order_paid(validate: bool) -> Value {
    json!({
        "name": "order.paid",
        "description": "An order was paid",
        "schema": {
            "type": "object",
            "required": ["order_id", "amount"],
            "properties": {
                "order_id": { "type": "string" },
                "amount": { "type": "number", "minimum": 0 },
                "lines": { "type": "array", "items": { "type": "object", "required": ["sku"] } }
            }
        },
        "example": { "order_id": "o_1", "amount": 12.5 },
        "validate": validate
    })
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

both!(the_catalogue_ships_schemas_and_takes_a_tenants_types, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let types = format!("/api/v1/tenants/{tenant}/event-types");
    let (status, list) = app.get(&types).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let lead = list["data"].as_array().unwrap().iter().find(|t| t["name"] == "new_lead").unwrap().clone();
    assert_eq!((lead["built_in"].as_bool(), lead["schema"]["type"].as_str()), (Some(true), Some("object")));
    assert_eq!(lead["example"]["lead_id"], "lead_77");
    let dead = list["data"].as_array().unwrap().iter().find(|t| t["name"] == "delivery.dead_lettered").unwrap().clone();
    assert!(dead["schema"]["required"].as_array().unwrap().contains(&json!("delivery_id")), "{dead}");

    let (status, created) = app.post(&types, order_paid(false)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!((created["built_in"].as_bool(), created["validate"].as_bool()), (Some(false), Some(false)));
    let (status, _) = app.post(&types, order_paid(false)).await;
    assert_eq!(status, StatusCode::CONFLICT, "registered once");
    let (status, _) = app.post(&types, json!({ "name": "new_lead" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "built-in names are taken");
    let (status, one) = app.get(&format!("{types}/order.paid")).await;
    assert_eq!((status, &one["example"]), (StatusCode::OK, &json!({ "order_id": "o_1", "amount": 12.5 })));
    let (status, _) = app.get(&format!("{types}/new_lead")).await;
    assert_eq!(status, StatusCode::OK, "a built-in type reads like any");
    let (status, _) = app.get(&format!("{types}/nothing.here")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Bad input: a name, a schema that is not one, an example the schema refuses, validating
    // without a schema, a field that does not exist. Each a 422 naming the field.
    for (body, field) in [
        (json!({ "name": "Bad Name" }), "name"),
        (json!({ "name": "x.bad", "schema": { "type": "nonsense" } }), "schema/type"),
        (json!({ "name": "x.bad", "schema": 7 }), "schema"),
        (json!({ "name": "x.bad", "schema": { "type": "object", "required": ["a"] }, "example": {} }), "example"),
        (json!({ "name": "x.bad", "validate": true }), "validate"),
        (json!({ "name": "x.bad", "colour": "red" }), "colour"),
    ] {
        let (status, problem) = app.post(&types, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
        assert!(fields(&problem).iter().any(|f| f.starts_with(field)), "{body}: {problem}");
    }
    let (status, problem) =
        app.post(&types, json!({ "name": "x.remote", "schema": { "$ref": "https://example.com/s.json" } })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a remote $ref is not fetched: {problem}");

    // PATCH changes only what it is given; a change that breaks the example is refused.
    let (status, patched) = app.patch(&format!("{types}/order.paid"), json!({ "description": null })).await;
    assert_eq!(
        (status, &patched["description"], &patched["example"]["order_id"]),
        (StatusCode::OK, &Value::Null, &json!("o_1"))
    );
    let strict = json!({ "schema": { "type": "object", "required": ["currency"] } });
    let (status, problem) = app.patch(&format!("{types}/order.paid"), strict).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["example"]);
    // A built-in type keeps its schema: only whether the tenant validates it can change, and
    // not for the hub's own types.
    let (status, _) = app.patch(&format!("{types}/new_lead"), json!({ "description": "mine" })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app.patch(&format!("{types}/webhook.created"), json!({ "validate": true })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let events = format!("/api/v1/tenants/{tenant}/events");
    let nameless = json!({ "event_type": "new_lead", "payload": { "name": "Ada" } });
    assert_eq!(app.post(&events, nameless.clone()).await.0, StatusCode::ACCEPTED, "not validated by default");
    let (status, lead) = app.patch(&format!("{types}/new_lead"), json!({ "validate": true })).await;
    assert_eq!((status, &lead["validate"], &lead["built_in"]), (StatusCode::OK, &json!(true), &json!(true)), "{lead}");
    let (status, problem) = app.post(&events, nameless).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem.to_string().contains("lead_id"), "{problem}");
    let (_, listed) = app.get(&types).await;
    let lead = listed["data"].as_array().unwrap().iter().find(|t| t["name"] == "new_lead").unwrap().clone();
    assert_eq!(lead["validate"], true);
    let (status, _, _) =
        app.request(Method::DELETE, &format!("{types}/new_lead"), Some(crate::helpers::OPERATOR), None).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // DELETE archives: listed only on request, still readable, restorable.
    let (status, _, _) =
        app.request(Method::DELETE, &format!("{types}/order.paid"), Some(crate::helpers::OPERATOR), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let names = |list: &Value| list["data"].as_array().unwrap().iter().map(|t| t["name"].clone()).collect::<Vec<_>>();
    assert!(!names(&app.get(&types).await.1).contains(&json!("order.paid")));
    let (_, all) = app.get(&format!("{types}?archived=true")).await;
    assert!(names(&all).contains(&json!("order.paid")));
    let (_, archived) = app.get(&format!("{types}/order.paid")).await;
    assert_eq!(archived["archived"], true);
    let (_, restored) = app.patch(&format!("{types}/order.paid"), json!({ "archived": false })).await;
    assert_eq!(restored["archived"], false);
    let actions = "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'event_type.%'";
    assert_eq!(count(&app, actions).await, 5, "created, changed, new_lead validated, archived, restored");
});

both!(publishing_validates_only_where_asked_and_names_every_failing_path, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;
    let types = format!("/api/v1/tenants/{tenant}/event-types");
    let events = format!("/api/v1/tenants/{tenant}/events");
    let bad = json!({ "event_type": "order.paid", "payload": { "amount": -3, "lines": [{ "sku": "a" }, {}] } });

    // Registered without `validate`: nothing changes for publishers.
    app.post(&types, order_paid(false)).await;
    let (status, _) = app.post(&events, bad.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let (status, _) = app.patch(&format!("{types}/order.paid"), json!({ "validate": true })).await;
    assert_eq!(status, StatusCode::OK);
    let stored = count(&app, "SELECT COUNT(*) FROM events").await;
    let (status, problem) = app.post(&events, bad.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let mut failed = fields(&problem);
    failed.sort();
    assert_eq!(failed, ["payload", "payload/amount", "payload/lines/1"], "{problem}");
    assert!(problem.to_string().contains("order_id"), "the missing property is named: {problem}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM events").await, stored, "nothing stored");
    let good = json!({ "event_type": "order.paid", "payload": { "order_id": "o_2", "amount": 3 } });
    let (status, _) = app.post(&events, good.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // The integrator route (the key's tenant) validates too; another tenant's same name does not.
    let (_, key) =
        app.post(&format!("/api/v1/tenants/{tenant}/api-keys"), json!({ "name": "pub", "role": "admin" })).await;
    let key = key["key"].as_str().unwrap().to_string();
    let (status, _, _) = app.request(Method::POST, "/api/v1/events", Some(&key), Some(bad.clone())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.post(&format!("/api/v1/tenants/{other}/events"), bad.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "the other tenant has no such type");
    let (status, _, _) =
        app.request(Method::GET, &format!("/api/v1/tenants/{other}/event-types/order.paid"), Some(&key), None).await;
    assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{status}");
    let (status, _, _) = app
        .request(Method::POST, &format!("/api/v1/tenants/{other}/event-types"), Some(&key), Some(order_paid(true)))
        .await;
    assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{status}");

    // A read-only key reads the catalogue but cannot change it.
    let (_, reader) =
        app.post(&format!("/api/v1/tenants/{tenant}/api-keys"), json!({ "name": "r", "role": "read_only" })).await;
    let reader = reader["key"].as_str().unwrap().to_string();
    let (status, _, _) = app.request(Method::GET, &types, Some(&reader), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = app.request(Method::POST, &types, Some(&reader), Some(json!({ "name": "x.y" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Archived: no longer validated.
    app.request(Method::DELETE, &format!("{types}/order.paid"), Some(crate::helpers::OPERATOR), None).await;
    let (status, _) = app.post(&events, bad).await;
    assert_eq!(status, StatusCode::ACCEPTED, "an archived type does not validate");
});

both!(the_openapi_document_lists_every_built_in_webhook_with_its_schema, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let (_, doc) = app.get("/api-docs/openapi.json").await;
    let webhooks = doc["webhooks"].as_object().unwrap();
    let (_, catalogue) = app.get(&format!("/api/v1/tenants/{}/event-types", app.create_tenant("Acme").await)).await;
    let built_in: Vec<&Value> =
        catalogue["data"].as_array().unwrap().iter().filter(|t| t["built_in"] == true).collect();
    assert_eq!(webhooks.len(), built_in.len());
    for t in built_in {
        let name = t["name"].as_str().unwrap();
        let post = &webhooks[name]["post"];
        let body = &post["requestBody"]["content"]["application/json"];
        assert_eq!(body["schema"]["properties"]["type"]["const"], name);
        assert_eq!(body["schema"]["properties"]["data"]["required"], t["schema"]["required"], "{name}");
        let headers: Vec<&str> =
            post["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert!(headers.contains(&"webhook-signature") && headers.contains(&"webhook-id"), "{name}: {headers:?}");
    }
    assert_eq!(
        webhooks["new_lead"]["post"]["requestBody"]["content"]["application/json"]["example"]["data"]["lead_id"],
        "lead_77"
    );
});
