//! Payload filters: an endpoint's condition on the event, evaluated at fan-out; an event it
//! refuses gets no delivery there and is counted; a filter that does not parse is a 422 with the
//! position of the problem, on create, PUT and PATCH.

use axum::http::StatusCode;
use serde_json::json;

use crate::both;
use crate::helpers::{Backend, Receiver, TestApp};

both!(a_filter_decides_which_events_an_endpoint_gets, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let filtered = Receiver::start().await;
    let everything = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let filter = r#"data.amount > 100 and data.country == "DE""#;
    let hook =
        app.create_webhook(&tenant, json!({ "url": filtered.url, "events": ["order.*"], "filter": filter })).await;
    assert_eq!(hook["filter"], filter);
    app.create_webhook(&tenant, json!({ "url": everything.url, "events": ["order.*"] })).await;

    let mut deliveries = Vec::new();
    for payload in [
        json!({ "amount": 150, "country": "DE" }),
        json!({ "amount": 50, "country": "DE" }),
        json!({ "amount": 150, "country": "FR" }),
        json!({ "country": "DE" }),
    ] {
        let accepted = app.publish(&tenant, "order.paid", payload).await;
        deliveries.push(accepted["deliveries"].as_array().unwrap().len());
    }
    assert_eq!(deliveries, [2, 1, 1, 1], "only the first passes the filter");
    app.drain().await;
    let got = filtered.received();
    assert_eq!(got.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["data"], json!({ "amount": 150, "country": "DE" }), "{body}");
    assert_eq!(everything.received().len(), 4);

    // Counted per endpoint in the analytics.
    let (_, stats) = app.get(&format!("/api/v1/tenants/{tenant}/stats")).await;
    let endpoint =
        stats["endpoints"].as_array().unwrap().iter().find(|e| e["webhook_id"] == hook["id"]).unwrap().clone();
    assert_eq!((endpoint["filtered"].as_i64(), endpoint["attempts"].as_i64()), (Some(3), Some(1)), "{endpoint}");
    assert_eq!(stats["overall"]["filtered"], 3);

    // Removing the filter lets everything through again.
    let path = format!("/api/v1/tenants/{tenant}/webhooks/{}", hook["id"].as_str().unwrap());
    let (status, changed) = app.patch(&path, json!({ "filter": null })).await;
    assert_eq!((status, &changed["filter"]), (StatusCode::OK, &serde_json::Value::Null));
    let accepted = app.publish(&tenant, "order.paid", json!({ "amount": 1 })).await;
    assert_eq!(accepted["deliveries"].as_array().unwrap().len(), 2);
});

both!(a_filter_that_does_not_parse_is_refused_with_its_position, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let hooks = format!("/api/v1/tenants/{tenant}/webhooks");
    for (filter, position) in [
        ("data.amount = 100", 13),
        ("data.amount >", 14),
        ("amount > 1", 1),
        ("(data.a == 1", 13),
        ("data.a == \"open", 11),
    ] {
        let (status, problem) =
            app.post(&hooks, json!({ "url": receiver.url, "events": ["*"], "filter": filter })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{filter}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "filter", "{problem}");
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("at character {position}:")), "{filter}: {message}");
    }
    let hook = app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    let path = format!("{hooks}/{}", hook["id"].as_str().unwrap());
    let (status, problem) = app.patch(&path, json!({ "filter": "data.x >" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, _, problem) = app
        .request(
            reqwest::Method::PUT,
            &path,
            Some(crate::helpers::OPERATOR),
            Some(json!({ "url": receiver.url, "events": ["*"], "filter": "not" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (_, unchanged) = app.get(&path).await;
    assert_eq!(unchanged["filter"], serde_json::Value::Null);
});
