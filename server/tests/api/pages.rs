//! The admin UI's pages as the server renders them: a signed-in admin's first byte of every page
//! already holds its frame (navigation, heading), not only a "Loading…" placeholder.

use leptos::server_fn::ServerFn;

use crate::both;
use crate::helpers::*;

/// Every page under `/tenants/{tid}/`, as the navigation links them.
const PAGES: [(&str, &str); 9] = [
    ("dashboard", "Dashboard"),
    ("webhooks", "Webhooks"),
    ("event-types", "Event types"),
    ("deliveries", "Deliveries"),
    ("dead-letters", "Dead letters"),
    ("echo", "Echo inspector"),
    ("slack", "Slack"),
    ("api-keys", "API keys"),
    ("audit", "Audit log"),
];

/// Signs in through the UI's own server function, as the login form does; returns the cookie.
async fn sign_in(app: &TestApp) -> String {
    sign_in_with(app, OPERATOR).await
}

async fn sign_in_with(app: &TestApp, token: &str) -> String {
    let response = sign_in_request(app, token).send().await.unwrap();
    assert!(response.status().is_success(), "sign-in answered {}", response.status());
    let cookie = response.headers().get("set-cookie").expect("a session cookie").to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

// Why: a page whose view reads a `LocalResource` inside `Shell`'s <Suspense> makes that Suspense
// give up on the server (a LocalResource is always pending there). The frame was then never
// server-rendered, and leptos 0.8.23 raced its "a local resource was read" signal against its own
// effect: about 2 % of audit page loads panicked ("…has already been disposed") and the HTML came
// in three different shapes. Reading through a Memo owned by the page keeps the Suspense out of it.
both!(every_page_is_rendered_on_the_server_with_its_frame, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Pages").await;
    let cookie = sign_in(&app).await;
    // The Tenants page (`/`) too: its name search reads a LocalResource.
    let pages = PAGES.map(|(path, heading)| (format!("/tenants/{tenant}/{path}"), heading));
    for (path, heading) in std::iter::once(("/".to_string(), "Tenants")).chain(pages) {
        let response = app.http.get(format!("{}{path}", app.url)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains(r#"data-testid="actor""#), "{path}: the navigation is not server-rendered:\n{html}");
        assert!(html.contains(&format!("<h1>{heading}</h1>")), "{path}: the heading is not server-rendered:\n{html}");
    }
});

// Why: leptos finds a UI's routes by rendering it once with resource loading switched off by a
// flag that is global to the process, and a resource first polled meanwhile never loads. Every
// hub built found its routes anew, so a page one hub was rendering while another hub of the same
// process was being built (as the tests do all the time) could stop mid-body for ever: a CI run
// hung 15 minutes on it, and a loop of the test above stalled once in ~700 runs.
both!(a_page_renders_while_another_hub_is_being_built, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Busy").await;
    let cookie = sign_in(&app).await;
    let building = tokio::spawn(async {
        for _ in 0..HUBS_BUILT {
            TestApp::spawn(Backend::Sqlite).await;
        }
    });
    // Several pages at a time, so that each build finds one whose resources are just starting.
    let load = |path: &'static str| {
        let (app, cookie, tenant, building) = (&app, &cookie, &tenant, &building);
        async move {
            let url = format!("{}/tenants/{tenant}/{path}", app.url);
            let mut loads = 0;
            while !building.is_finished() {
                let response = app.http.get(&url).header("cookie", cookie).send().await.unwrap();
                let html = response.text().await.unwrap_or_else(|e| panic!("{path}, load {loads}: {e}"));
                assert!(html.contains("</html>"), "{path}: the page ends before its end:\n{html}");
                loads += 1;
            }
            loads
        }
    };
    let loads = futures::future::join_all(["webhooks", "api-keys", "echo", "webhooks"].map(load)).await;
    building.await.unwrap();
    assert!(loads.iter().all(|&n| n > 0), "every page was loaded while hubs were built: {loads:?}");
});

/// How many hubs `a_page_renders_while_another_hub_is_being_built` builds beside its own.
const HUBS_BUILT: usize = 30;

/// A call to one of the UI's server functions as the page makes it (form-encoded, or JSON).
fn call(app: &TestApp, path: &str, body: impl Into<reqwest::Body>, json: bool) -> reqwest::RequestBuilder {
    let content_type = if json { "application/json" } else { "application/x-www-form-urlencoded" };
    app.http.post(format!("{}{path}", app.url)).header("content-type", content_type).body(body)
}

/// The sign-in, as the login form sends it.
fn sign_in_request(app: &TestApp, token: &str) -> reqwest::RequestBuilder {
    call(app, app::api::SignIn::PATH, format!("token={token}"), false)
}

/// Calls one of the UI's server functions as the page does, with the session cookie.
async fn server_fn(app: &TestApp, cookie: &str, path: &str, body: reqwest::Body, json: bool) -> serde_json::Value {
    let response = call(app, path, body, json).header("cookie", cookie).send().await.unwrap();
    assert!(response.status().is_success(), "{path} answered {}", response.status());
    response.json().await.unwrap()
}

// Why: the API Keys and Webhooks pages read the first page of 500 only; the 501st key or
// endpoint was nowhere in the UI.
both!(the_ui_lists_every_key_and_endpoint_past_the_first_500, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Many").await;
    for n in 0..501 {
        let (status, body) = app
            .post(
                &format!("/api/v1/tenants/{tenant}/api-keys"),
                serde_json::json!({ "name": format!("k{n}"), "role": "read_only" }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        app.create_webhook(&tenant, serde_json::json!({ "url": format!("https://example.com/{n}"), "events": ["*"] }))
            .await;
    }
    let cookie = sign_in(&app).await;
    let keys = serde_json::json!({ "tenant_id": tenant }).to_string();
    let keys = server_fn(&app, &cookie, app::api::ListApiKeys::PATH, keys.into(), true).await;
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 501);
    assert_eq!(keys[500]["key"]["name"], "k500");
    let endpoints = format!("tenant_id={tenant}");
    let endpoints = server_fn(&app, &cookie, app::api::ListWebhooks::PATH, endpoints.into(), false).await;
    assert_eq!(endpoints.as_array().unwrap().len(), 501);
});

// Why: behind the documented TLS proxy, the UI audited the proxy's address for every sign-in (the
// REST API believed the proxy, the UI did not), and its session cookie lacked `Secure`, so a
// browser would also send it over plain HTTP.
both!(behind_a_trusted_proxy_the_ui_audits_the_client_and_its_cookie_is_secure, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let direct = TestApp::spawn_on(ScratchDir::new(), app.database_url.clone(), |_| {}).await;
    let tenant = app.create_tenant("Proxied").await;
    let keys = format!("/api/v1/tenants/{tenant}/api-keys");
    let (_, key) = app.post(&keys, serde_json::json!({ "name": "ui", "role": "admin" })).await;
    let key = key["key"].as_str().unwrap();
    let sign_in = |app: &TestApp| {
        let request = sign_in_request(app, key);
        request.header("x-forwarded-for", "203.0.113.7").header("x-forwarded-proto", "https").send()
    };
    let proxied = sign_in(&app).await.unwrap();
    let cookie = proxied.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("ih_session=") && cookie.ends_with("; Secure"), "{cookie}");
    // The same headers from a peer that is no trusted proxy are not believed.
    let unproxied = sign_in(&direct).await.unwrap();
    let cookie = unproxied.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("ih_session=") && !cookie.contains("Secure"), "{cookie}");
    let (_, log) = app.get(&format!("/api/v1/tenants/{tenant}/audit-log")).await;
    let sign_ins: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "session.signed_in")
        .map(|entry| entry["source_ip"].as_str().unwrap())
        .collect();
    assert_eq!(sign_ins, ["203.0.113.7", "127.0.0.1"], "{log}");
});

/// A new admin key of `tenant` (the kind that may sign in to the UI), as the create answers it.
async fn admin_key(app: &TestApp, tenant: &str) -> serde_json::Value {
    let (status, key) = app
        .post(&format!("/api/v1/tenants/{tenant}/api-keys"), serde_json::json!({ "name": "ui", "role": "admin" }))
        .await;
    assert_eq!(status, 201, "{key}");
    key
}

/// What the UI's session server function answers for a cookie: its status and body.
async fn session_of(app: &TestApp, cookie: &str) -> (u16, String) {
    let response = call(app, app::api::CurrentSession::PATH, "", false).header("cookie", cookie).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

// Why: an operator session outlived the operator token it was signed in with, so after a leaked
// token was replaced (a new IH_ADMIN_TOKEN), whoever had signed in with it kept the operator's
// powers in the UI for up to 12 hours.
both!(a_new_operator_token_ends_the_sessions_of_the_old_one, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Sessions").await;
    let key = admin_key(&app, &tenant).await;
    let operator = sign_in(&app).await;
    let key_session = sign_in_with(&app, key["key"].as_str().unwrap()).await;
    assert_eq!(session_of(&app, &operator).await.0, 200);
    // The same database, now with a new operator token (as after a restart with it).
    let renewed = TestApp::spawn_on(ScratchDir::new(), app.database_url.clone(), |c| {
        c.admin_token = Some("a-new-operator-token-9876543210".into())
    })
    .await;
    let (status, body) = session_of(&renewed, &operator).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("sign in again"), "{body}");
    // A key's session depends on its key, not on the operator token.
    assert_eq!(session_of(&renewed, &key_session).await.0, 200);
    // The new token signs in.
    let fresh = sign_in_with(&renewed, "a-new-operator-token-9876543210").await;
    assert_eq!(session_of(&renewed, &fresh).await.0, 200);
});

// Why: server_fn answers every error with 500, so a bad field or an ended session in the UI showed
// as a server error to the browser, the proxy's log and monitoring.
both!(a_server_function_answers_with_the_status_of_its_problem, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let cookie = sign_in(&app).await;
    let create = |cookie: &str, name: &str| {
        let input = serde_json::json!({ "input": { "name": name } }).to_string();
        call(&app, app::api::CreateTenant::PATH, input, true).header("cookie", cookie).send()
    };
    let invalid = create(&cookie, "").await.unwrap();
    assert_eq!(invalid.status(), 422);
    let problem: serde_json::Value = invalid.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "name", "{problem}");
    assert_eq!(create("ih_session=ended", "Acme").await.unwrap().status(), 401);
    assert_eq!(create(&cookie, "Acme").await.unwrap().status(), 200);
});

// The API Keys page's edit form changes a key through the same domain operation as `PATCH`:
// its `null` (back to the default) survives the server function's JSON, its refusals keep
// their status and field, and the change is audited.
both!(the_ui_changes_a_key_as_the_rest_api_does, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Edit").await;
    let (_, key) = app
        .post(
            &format!("/api/v1/tenants/{tenant}/api-keys"),
            serde_json::json!({ "name": "crm", "role": "read_only", "allowed_ips": ["10.0.0.0/8"] }),
        )
        .await;
    let cookie = sign_in(&app).await;
    let update = |patch: serde_json::Value| {
        let body = serde_json::json!({ "tenant_id": tenant, "id": key["id"], "patch": patch }).to_string();
        call(&app, app::api::UpdateApiKey::PATH, body, true).header("cookie", &cookie).send()
    };
    let changed = update(serde_json::json!({ "name": "crm-sync", "rate_limit_per_minute": 30, "allowed_ips": null }));
    let changed: serde_json::Value = changed.await.unwrap().json().await.unwrap();
    assert_eq!((changed["name"].as_str(), changed["rate_limit_per_minute"].as_i64()), (Some("crm-sync"), Some(30)));
    assert_eq!((&changed["allowed_ips"], &changed["role"]), (&serde_json::json!([]), &key["role"]), "{changed}");
    let refused = update(serde_json::json!({ "name": "" })).await.unwrap();
    assert_eq!(refused.status(), 422);
    assert_eq!(refused.json::<serde_json::Value>().await.unwrap()["errors"][0]["field"], "name");
    app.post(
        &format!("/api/v1/tenants/{tenant}/api-keys/{}/revoke", key["id"].as_str().unwrap()),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(update(serde_json::json!({ "name": "late" })).await.unwrap().status(), 409);
    let (_, log) = app.get(&format!("/api/v1/tenants/{tenant}/audit-log?action=api_key.updated")).await;
    assert_eq!(log["data"].as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log["data"][0]["source_ip"], "127.0.0.1");
});

// Why: a form on another site could post an attacker's admin key to the sign-in (the session
// cookie's SameSite=Strict guards its use, not its setting) and leave the victim signed in to
// the attacker's tenant.
both!(another_site_cannot_sign_a_browser_in, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let from = |site: &'static str| sign_in_request(&app, OPERATOR).header("sec-fetch-site", site).send();
    for elsewhere in ["cross-site", "same-site"] {
        let refused = from(elsewhere).await.unwrap();
        assert_eq!(refused.status(), 403, "{elsewhere}");
        assert!(!refused.headers().contains_key("set-cookie"), "{elsewhere}");
    }
    let own_page = from("same-origin").await.unwrap();
    assert!(own_page.status().is_success(), "{}", own_page.status());
    assert!(own_page.headers()["set-cookie"].to_str().unwrap().starts_with("ih_session="));
});

// Why: another site could show the admin UI in a frame and trick a click on Revoke or Delete.
both!(the_ui_is_not_framed_by_other_sites, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let cookie = sign_in(&app).await;
    for path in ["/login", "/"] {
        let response = app.http.get(format!("{}{path}", app.url)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["content-security-policy"], "frame-ancestors 'none'", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
    }
});

/// Opens the UI's live stream (`/ui-api/live{query}`) with a session cookie.
async fn live_stream(app: &TestApp, cookie: &str, query: &str) -> reqwest::Response {
    app.http.get(format!("{}/ui-api/live{query}", app.url)).header("cookie", cookie).send().await.unwrap()
}

/// Reads a server-sent event stream until `marker` has arrived (within 20 s); returns the text.
async fn read_until(stream: &mut reqwest::Response, marker: &str) -> String {
    let mut text = String::new();
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while !text.contains(marker) {
            let chunk = stream.chunk().await.unwrap().unwrap_or_else(|| panic!("the stream closed first:\n{text}"));
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {marker:?} within 20 s:\n{text}"));
    text
}

// Why: the UI's live stream checked its session only when it opened. A tab left open kept
// following the hub (and said "live") after its admin signed out in another tab, or after the
// key it was signed in with was revoked.
both!(a_live_stream_ends_when_its_session_does, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let tenant = app.create_tenant("Live").await;
    let key = admin_key(&app, &tenant).await;
    let (operator, key_session) = (sign_in(&app).await, sign_in_with(&app, key["key"].as_str().unwrap()).await);
    let (mut operator_stream, mut key_stream) =
        (live_stream(&app, &operator, "").await, live_stream(&app, &key_session, "").await);
    assert_eq!((operator_stream.status().as_u16(), key_stream.status().as_u16()), (200, 200));
    // Both follow the hub while their sessions stand.
    app.publish(&tenant, "new_lead", serde_json::json!({})).await;
    read_until(&mut key_stream, "event: change").await;
    // The key is revoked: its session's stream says why, then closes.
    let key_id = key["id"].as_str().unwrap();
    app.post(&format!("/api/v1/tenants/{tenant}/api-keys/{key_id}/revoke"), serde_json::json!({})).await;
    let ended = read_until(&mut key_stream, "event: ended").await;
    assert!(ended.contains("no longer valid; sign in again"), "{ended}");
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), key_stream.chunk()).await;
    assert!(matches!(closed, Ok(Ok(None))), "the stream stayed open: {closed:?}");
    // The operator signs out (in another tab): that session's stream ends too.
    let signed_out = call(&app, app::api::SignOut::PATH, "", false).header("cookie", &operator).send().await.unwrap();
    assert!(signed_out.status().is_success() || signed_out.status().is_redirection(), "{}", signed_out.status());
    let ended = read_until(&mut operator_stream, "event: ended").await;
    assert!(ended.contains("your session has ended; sign in again"), "{ended}");
});

// Why: the live stream followed one counter for the whole hub. A tenant's open page refetched on
// every other tenant's event and delivery, and the count each event carried told every tenant
// admin how busy the other tenants were.
both!(a_live_stream_follows_only_its_own_tenant, |backend: Backend| async move {
    let app = TestApp::spawn(backend).await;
    let (ours, theirs) = (app.create_tenant("Ours").await, app.create_tenant("Theirs").await);
    for _ in 0..5 {
        app.publish(&theirs, "new_lead", serde_json::json!({})).await;
    }
    let key = admin_key(&app, &ours).await;
    let (admin, operator) = (sign_in_with(&app, key["key"].as_str().unwrap()).await, sign_in(&app).await);
    let refused = live_stream(&app, &admin, &format!("?tenant={theirs}")).await;
    assert_eq!(refused.status(), 404, "a tenant admin follows another tenant");
    // A query it cannot read is a problem naming the parameter, as on every other route.
    let unreadable = live_stream(&app, &operator, &format!("?tenant={ours}&tenant={theirs}")).await;
    assert_eq!(unreadable.status(), 422);
    assert_eq!(unreadable.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = unreadable.json().await.unwrap();
    assert!(problem["errors"].to_string().contains("tenant"), "{problem}");
    // A tenant admin follows their own tenant without naming it; the operator names it.
    let mut streams =
        [live_stream(&app, &admin, "").await, live_stream(&app, &operator, &format!("?tenant={ours}")).await];
    for _ in 0..3 {
        app.publish(&theirs, "new_lead", serde_json::json!({})).await;
    }
    app.publish(&ours, "new_lead", serde_json::json!({})).await;
    for stream in &mut streams {
        assert_eq!(stream.status(), 200);
        // The first change sent is ours, counted among our changes alone (a quiet stream also
        // sends its count every 5 s: 0 before ours).
        let text = read_until(stream, "event: change\ndata: 1\n").await;
        let counts: Vec<&str> = text.lines().filter_map(|line| line.strip_prefix("data: ")).collect();
        assert!(counts.iter().all(|&n| n == "0" || n == "1"), "another tenant's changes were sent: {counts:?}");
    }
});
