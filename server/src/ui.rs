//! The admin UI: Leptos routes rendered on the server, and the [`AdminPort`] the UI's server
//! functions call, implemented on the domain service.

use std::net::SocketAddr;
use std::sync::Arc;

use app::models::*;
use app::port::{Admin, AdminPort, ClientIp, OverHttps, UiRequest, PAGE_SIZE};
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::delivery::Worker;
use crate::domain::auth::{Actor, Principal};
use crate::domain::deliveries::DeliveryQuery;
use crate::domain::sessions::SessionRow;
use crate::domain::{every_page, Hub};
use crate::error::Error;
use crate::state::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    let admin = Admin(Arc::new(UiPort(state.hub.clone(), state.worker.clone())));
    let options = LeptosOptions::clone(&state.leptos);
    let context = move || provide_context(admin.clone());
    Router::new()
        .route("/ui-api/live", axum::routing::get(live))
        .route("/admin", axum::routing::get(admin_page))
        .route("/admin/{page}", axum::routing::get(admin_page))
        .leptos_routes_with_context(state, ROUTES.clone(), context, move || app::shell(options.clone()))
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), client))
        .layer(axum::middleware::from_fn(problem_status))
        .layer(axum::middleware::from_fn(same_origin_only))
        .layer(axum::middleware::from_fn(browser_hardening))
}

/// The UI's routes, found once per process. leptos finds them by rendering the app with resource
/// loading switched off by a flag global to the process (leptos_server's `SuppressResourceLoad`),
/// and a resource first polled meanwhile never loads: a page that another hub of the same process
/// rendered while this one was being built stalled mid-body for ever. Found once, before any hub
/// of the process can serve a page, the flag is never up while one renders.
static ROUTES: std::sync::LazyLock<Vec<leptos_axum::AxumRouteListing>> =
    std::sync::LazyLock::new(|| generate_route_list(app::App));

/// The admin UI is never framed by another page (clickjacking on Revoke or Delete), its files
/// are not sniffed as another type, and its addresses (tenant and key ids) are not sent to other
/// sites as the referrer. No script policy: hydration runs inline scripts.
async fn browser_hardening(request: Request, next: Next) -> axum::response::Response {
    use http::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
    use http::HeaderValue;
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Unknown `/api/` paths answer a problem document; everything else is a static file or the
/// UI's own "not found" page.
async fn fallback(
    uri: axum::http::Uri,
    state: axum::extract::State<AppState>,
    request: Request,
) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        return axum::response::IntoResponse::into_response(Error::NotFound("route"));
    }
    leptos_axum::file_and_error_handler::<AppState, _>(app::shell)(uri, state, request).await
}

/// Tells the server functions who the client is: its address (for the audit log) and whether it
/// came over HTTPS (for the session cookie), believing a trusted proxy as the REST API does.
async fn client(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: Request,
    next: Next,
) -> axum::response::Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if let Some(ip) = crate::client::client_ip(&state.hub, request.headers(), peer) {
        request.extensions_mut().insert(ClientIp(ip));
    }
    if crate::client::over_https(&state.hub, request.headers(), peer) {
        request.extensions_mut().insert(OverHttps);
    }
    next.run(request).await
}

/// Server functions answer only the UI's own pages. The session cookie (SameSite=Strict) already
/// keeps other sites from acting as a signed-in admin, but not from signing a browser in: a form
/// on another site could post an attacker's admin key to the sign-in and leave the victim
/// working in the attacker's tenant. Browsers say where a request comes from
/// (`Sec-Fetch-Site`): a call from another site is refused, and so is one from a sibling of the
/// hub's own host (`same-site`), which may serve content the operator does not control.
async fn same_origin_only(request: Request, next: Next) -> axum::response::Response {
    let site = request.headers().get("sec-fetch-site").map(|v| v.as_bytes());
    let elsewhere = matches!(site, Some(b"cross-site" | b"same-site"));
    if elsewhere && request.method() == http::Method::POST && request.uri().path().starts_with("/ui-api/") {
        return axum::response::IntoResponse::into_response(Error::Forbidden(
            "the admin UI's calls are taken only from its own pages".into(),
        ));
    }
    next.run(request).await
}

/// server_fn answers every error of a server function with `500`, while the problem in its body
/// knows the real status: a `401` for an ended session, a `422` for a bad field. That status is
/// what the browser, the proxy's log and monitoring should see; the UI's own client reads any
/// 4xx or 5xx answer as an error, as it did the 500.
async fn problem_status(request: Request, next: Next) -> axum::response::Response {
    let response = next.run(request).await;
    if response.status() != http::StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return axum::response::IntoResponse::into_response(Error::Internal(
            "a server function's error was lost".into(),
        ));
    };
    let status = serde_json::from_slice::<Problem>(&bytes).ok().and_then(|p| http::StatusCode::from_u16(p.status).ok());
    if let Some(status) = status.filter(|s| s.is_client_error() || s.is_server_error()) {
        parts.status = status;
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Server-sent events for the admin UI's live views: a `change` event whenever the followed
/// tenant's deliveries, events or echo requests were committed on this instance (at most one per
/// 250 ms), and one every 5 s anyway so that work done by other instances shows up too. The page
/// refetches on each. Its data is the followed tenant's change count, so it tells nothing of
/// other tenants; their changes send nothing.
///
/// The session is checked again every few seconds: once it has ended (signed out, expired, its
/// key revoked or the operator token replaced) the stream sends `ended` with the reason and
/// closes, so an open tab stops following the hub and tells its admin to sign in again.
async fn live(
    axum::extract::State(state): axum::extract::State<AppState>,
    crate::input::Query(query): crate::input::Query<LiveQuery>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use axum::response::IntoResponse;
    use tokio::time::{sleep_until, Instant};
    let token = app::api::session_cookie(&headers).unwrap_or_default();
    let port = UiPort(state.hub.clone(), state.worker.clone());
    let cx = UiRequest { session: Some(token.clone()), client_ip: None };
    let Ok((principal, _)) = port.session_of(&cx).await else {
        return Error::Unauthorized.into_response();
    };
    let tenant = match query.tenant {
        Some(tenant) => match principal.require_tenant(&tenant) {
            Ok(()) => Some(tenant),
            Err(e) => return e.into_response(),
        },
        None => principal.tenant_id().map(TenantId::to_string),
    };
    let mut changes = state.hub.changes.subscribe();
    let stream = async_stream(move |tx| async move {
        let mut checked = Instant::now();
        let mut seen = changes.borrow_and_update().version(tenant.as_deref());
        // A deadline, not a fresh 5 s per wake: other tenants' changes wake the loop often.
        let mut quiet_until = Instant::now() + QUIET_TICK;
        loop {
            let woken_by_change = tokio::select! {
                r = changes.changed() => match r {
                    Ok(()) => true,
                    Err(_) => return, // the hub is shutting down
                },
                _ = sleep_until(quiet_until) => false,
            };
            let version = changes.borrow_and_update().version(tenant.as_deref());
            let ended = session_ended(&port, &token, &mut checked).await;
            let event = match &ended {
                Some(reason) => Some(Event::default().event("ended").data(reason)),
                // Another tenant's change: nothing to tell.
                None if woken_by_change && version == seen => None,
                None => Some(Event::default().event("change").data(version.to_string())),
            };
            if let Some(event) = event {
                seen = version;
                quiet_until = Instant::now() + QUIET_TICK;
                if tx.send(Ok::<_, std::convert::Infallible>(event)).await.is_err() || ended.is_some() {
                    return;
                }
            }
            // Changes during this pause are coalesced into the next wake: a stream wakes at most
            // four times a second however busy the hub (or its other tenants) may be.
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

/// `/admin` and `/admin/{api-keys,webhooks,deliveries}`, the admin addresses of the system the
/// hub replaces: a tenant admin's session goes to that page of its tenant; the operator (who
/// picks a tenant first) and a browser not signed in go to the start, which asks for a sign-in.
async fn admin_page(
    axum::extract::State(state): axum::extract::State<AppState>,
    page: Option<axum::extract::Path<String>>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::{IntoResponse, Redirect};
    let page = page.map(|p| p.0);
    let known = match page.as_deref() {
        None => None,
        Some(page @ ("api-keys" | "webhooks" | "deliveries")) => Some(page),
        Some(_) => return Error::NotFound("page").into_response(),
    };
    let port = UiPort(state.hub.clone(), state.worker.clone());
    let cx = UiRequest { session: app::api::session_cookie(&headers), client_ip: None };
    let tenant = match port.session_of(&cx).await {
        Ok((principal, _)) => principal.tenant_id().cloned(),
        Err(_) => None,
    };
    match (tenant, known) {
        (Some(tenant), Some(page)) => Redirect::to(&format!("/tenants/{tenant}/{page}")).into_response(),
        _ => Redirect::to("/").into_response(),
    }
}

/// `/ui-api/live?tenant=<id>`: the tenant whose changes a page follows. Without it (or empty) an
/// operator's page follows every tenant's, and a tenant admin's its own; another tenant's id
/// answers 404.
#[derive(serde::Deserialize)]
struct LiveQuery {
    tenant: Option<String>,
}

/// How long a live stream stays silent at most: the changes of other instances show up so.
const QUIET_TICK: std::time::Duration = std::time::Duration::from_secs(5);

/// How often an open live stream checks that its session still stands (two small reads).
const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(3);

/// The reason a live stream's session has ended, checked at most once per `SESSION_RECHECK`.
/// A failed read (the database unreachable for a moment) is not an ended session.
async fn session_ended(port: &UiPort, token: &str, checked: &mut tokio::time::Instant) -> Option<String> {
    if checked.elapsed() < SESSION_RECHECK {
        return None;
    }
    *checked = tokio::time::Instant::now();
    let cx = UiRequest { session: Some(token.to_string()), client_ip: None };
    match port.session_of(&cx).await {
        Err(problem) if problem.status == 401 => Some(problem.detail),
        _ => None,
    }
}
/// A stream fed by a task: simpler to read than a hand-written `Stream`, and the task ends
/// when the client goes away (its sends fail).
fn async_stream<T: Send + 'static, F: std::future::Future<Output = ()> + Send + 'static>(
    produce: impl FnOnce(tokio::sync::mpsc::Sender<T>) -> F,
) -> impl futures::Stream<Item = T> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(produce(tx));
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}

struct UiPort(Hub, Arc<Worker>);

impl UiPort {
    /// The session's principal and its row, or 401 once the session has ended.
    async fn session_of(&self, cx: &UiRequest) -> Result<(Principal, SessionRow), Problem> {
        let ended = || Problem::new(401, "Unauthorized", "your session has ended; sign in again");
        let token = cx.session.as_deref().ok_or_else(|| Problem::new(401, "Unauthorized", "sign in first"))?;
        let row = self.0.live_session(token).await.map_err(Problem::from)?.ok_or_else(ended)?;
        let principal = self.0.session_principal(&row).await.map_err(|_| {
            Problem::new(401, "Unauthorized", "the token or key of this session is no longer valid; sign in again")
        })?;
        Ok((principal, row))
    }

    /// Who is acting in this call: the session's principal, from the client's address.
    async fn actor(&self, cx: &UiRequest) -> Result<Actor, Problem> {
        let (principal, _) = self.session_of(cx).await?;
        Ok(acting(principal, cx))
    }
}

/// `principal` acting through this call of the UI (its address goes into the audit log).
fn acting(principal: Principal, cx: &UiRequest) -> Actor {
    Actor { principal, source_ip: cx.client_ip.clone() }
}

/// An id from the UI's request, checked as the REST API checks a path's: another kind is a 404.
fn parse<T: TypedId>(id: &str) -> Result<T, Problem> {
    T::parse(id).ok_or_else(|| Error::NotFound(T::NAMES).into())
}

#[async_trait::async_trait]
impl AdminPort for UiPort {
    async fn sign_in(&self, cx: &UiRequest, secret: &str) -> Result<String, Problem> {
        let principal = self.0.authenticate(secret).await.map_err(|e| match e {
            Error::Unauthorized => Problem::new(401, "Unauthorized", "that token or key is not valid"),
            other => other.into(),
        })?;
        if !principal.is_admin() {
            return Err(Problem::new(403, "Forbidden", "only the operator token or an admin key may sign in"));
        }
        let token = self.0.start_session(&principal).await.map_err(Problem::from)?;
        let who = acting(principal, cx);
        self.0.audit(&who, who.tenant_id(), "session.signed_in", None).await?;
        Ok(token)
    }

    async fn sign_out(&self, cx: &UiRequest) -> Result<(), Problem> {
        match &cx.session {
            Some(token) => Ok(self.0.end_session(token).await?),
            None => Ok(()),
        }
    }

    async fn session(&self, cx: &UiRequest) -> Result<Session, Problem> {
        let (principal, row) = self.session_of(cx).await?;
        let who = acting(principal, cx);
        let tenants = match who.tenant_id() {
            None => self.0.list_tenants(&who, None, Some(500), None).await?.data,
            Some(tenant_id) => vec![self.0.get_tenant(&who, tenant_id).await?],
        };
        Ok(Session { actor: row.actor, tenants, retention: self.0.config.retention })
    }

    async fn find_tenants(&self, cx: &UiRequest, name: &str) -> Result<Page<TenantOut>, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.list_tenants(&who, None, Some(PAGE_SIZE), Some(name)).await?)
    }

    async fn create_tenant(&self, cx: &UiRequest, input: TenantIn) -> Result<TenantOut, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.create_tenant(&who, input).await?)
    }

    async fn rename_tenant(&self, cx: &UiRequest, tenant_id: &str, input: TenantIn) -> Result<TenantOut, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.rename_tenant(&who, &parse(tenant_id)?, input).await?)
    }

    /// Every endpoint, a page of 500 at a time: the Webhooks page and the log's endpoint filter
    /// list them all (they read only the first 500).
    async fn list_webhooks(&self, cx: &UiRequest, tenant_id: &str) -> Result<Vec<WebhookOut>, Problem> {
        let (who, tenant_id) = (&self.actor(cx).await?, &parse(tenant_id)?);
        let all =
            every_page(
                |cursor| async move { self.0.list_webhooks(who, tenant_id, cursor.as_deref(), Some(500)).await },
            );
        Ok(all.await?)
    }

    async fn list_api_keys(&self, cx: &UiRequest, tenant_id: &str) -> Result<Vec<ApiKeyView>, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.key_views(&who, &parse(tenant_id)?).await?)
    }

    async fn create_api_key(&self, cx: &UiRequest, tenant_id: &str, input: ApiKeyIn) -> Result<ApiKeyCreated, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.create_key(&who, &parse(tenant_id)?, input).await?)
    }

    async fn rotate_api_key(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        id: &str,
        input: RotateIn,
    ) -> Result<ApiKeyCreated, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.rotate_key(&who, &parse(tenant_id)?, &parse(id)?, input).await?)
    }

    async fn update_api_key(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        id: &str,
        patch: ApiKeyPatch,
    ) -> Result<ApiKeyOut, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.update_key(&who, &parse(tenant_id)?, &parse(id)?, patch).await?)
    }

    async fn revoke_api_key(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<(), Problem> {
        let who = self.actor(cx).await?;
        self.0.revoke_key(&who, &parse(tenant_id)?, &parse(id)?).await?;
        Ok(())
    }

    async fn delete_api_key(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<(), Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.delete_key(&who, &parse(tenant_id)?, &parse(id)?).await?)
    }

    async fn api_key_usage(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<UsageOut, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.key_usage(&who, &parse(tenant_id)?, &parse(id)?).await?)
    }

    async fn list_deliveries(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        filter: DeliveryFilter,
        cursor: Option<String>,
    ) -> Result<Page<DeliveryOut>, Problem> {
        let who = self.actor(cx).await?;
        let query = DeliveryQuery {
            status: filter.status.map(|s| s.as_str().to_string()),
            webhook_id: filter.webhook_id,
            event_type: filter.event_type,
            event_id: filter.event_id,
            since: filter.since,
            until: filter.until,
            cursor,
            limit: Some(PAGE_SIZE),
        };
        Ok(self.0.list_deliveries(&who, &parse(tenant_id)?, &query).await?)
    }

    async fn get_delivery(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<DeliveryWithAttempts, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.get_delivery(&who, &parse(tenant_id)?, &parse(id)?).await?)
    }

    async fn replay_delivery(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<DeliveryOut, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.replay_delivery(&who, &parse(tenant_id)?, &parse(id)?, false).await?)
    }

    async fn get_event(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<EventOut, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.get_event(&who, &parse(tenant_id)?, &parse(id)?).await?)
    }

    async fn retry_delivery(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<DeliveryOut, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.retry_delivery(&who, &parse(tenant_id)?, &parse(id)?).await?)
    }

    async fn bulk_replay(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        input: BulkReplayIn,
    ) -> Result<BulkReplayOut, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.bulk_replay(&who, &parse(tenant_id)?, input).await?)
    }

    async fn event_types(&self, cx: &UiRequest, tenant_id: &str) -> Result<Vec<String>, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.event_types(&who, Some(&parse(tenant_id)?)).await?)
    }

    async fn try_transformation(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        input: TransformTryIn,
    ) -> Result<Vec<TransformTryOut>, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.try_transformation(&who, &parse(tenant_id)?, input).await?)
    }

    async fn event_type_catalogue(&self, cx: &UiRequest, tenant_id: &str) -> Result<Vec<EventTypeOut>, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.list_event_types(&who, &parse(tenant_id)?, true).await?)
    }

    async fn save_event_type(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        input: EventTypeIn,
        existing: bool,
    ) -> Result<EventTypeOut, Problem> {
        let who = self.actor(cx).await?;
        let tenant_id = parse(tenant_id)?;
        if !existing {
            return Ok(self.0.create_event_type(&who, &tenant_id, input).await?);
        }
        let built_in = self.0.get_event_type(&who, &tenant_id, &input.name).await?.built_in;
        let patch = if built_in {
            EventTypePatch { validate: input.validate, ..EventTypePatch::default() }
        } else {
            EventTypePatch {
                description: Some(input.description),
                schema: Some(input.schema),
                example: Some(input.example),
                validate: input.validate,
                archived: None,
            }
        };
        Ok(self.0.patch_event_type(&who, &tenant_id, &input.name, patch).await?)
    }

    async fn archive_event_type(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        name: &str,
        archived: bool,
    ) -> Result<EventTypeOut, Problem> {
        let who = self.actor(cx).await?;
        let patch = EventTypePatch { archived: Some(archived), ..EventTypePatch::default() };
        Ok(self.0.patch_event_type(&who, &parse(tenant_id)?, name, patch).await?)
    }

    async fn create_webhook(&self, cx: &UiRequest, tenant_id: &str, input: WebhookIn) -> Result<WebhookOut, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.create_webhook(&who, &parse(tenant_id)?, input).await?)
    }

    async fn update_webhook(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        id: &str,
        patch: WebhookPatch,
    ) -> Result<WebhookOut, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.patch_webhook(&who, &parse(tenant_id)?, &parse(id)?, patch).await?)
    }

    async fn delete_webhook(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<(), Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.delete_webhook(&who, &parse(tenant_id)?, &parse(id)?).await?)
    }

    async fn webhook_secret(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<String, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.webhook_secret(&who, &parse(tenant_id)?, &parse(id)?).await?)
    }

    async fn rotate_webhook_secret(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        id: &str,
        input: RotateSecretIn,
    ) -> Result<String, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.rotate_webhook_secret(&who, &parse(tenant_id)?, &parse(id)?, input).await?)
    }

    async fn set_webhook_paused(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        id: &str,
        paused: bool,
    ) -> Result<WebhookOut, Problem> {
        let who = self.actor(cx).await?;
        let (tenant_id, id) = (parse(tenant_id)?, parse(id)?);
        Ok(match paused {
            true => self.0.pause_webhook(&who, &tenant_id, &id, Default::default()).await?,
            false => self.0.resume_webhook(&who, &tenant_id, &id).await?,
        })
    }

    async fn test_webhook(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        id: &str,
        input: TestSendIn,
    ) -> Result<DeliveryWithAttempts, Problem> {
        let who = self.actor(cx).await?;
        let tenant_id = parse(tenant_id)?;
        // The Test dialog checks the payload against its type's schema before sending, validated
        // on publish or not (the REST test route sends what it is given, as it always has).
        if let (Some(event_type), Some(payload)) = (&input.event_type, &input.payload) {
            self.0.check_against_schema(&who, &tenant_id, event_type, payload).await?;
        }
        Ok(self.1.test_send(&who, &tenant_id, &parse(id)?, input).await?)
    }

    async fn echo_requests(&self, cx: &UiRequest, tenant_id: &str) -> Result<(String, Vec<EchoRequestOut>), Problem> {
        let who = self.actor(cx).await?;
        let received = self.0.echo_requests(&who, &parse(tenant_id)?).await?;
        Ok((self.0.new_echo_url(tenant_id), received))
    }

    async fn stats(&self, cx: &UiRequest, tenant_id: &str, window: StatsWindow) -> Result<StatsOut, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.stats(&who, &parse(tenant_id)?, window).await?)
    }

    async fn audit_log(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        filter: AuditFilter,
        cursor: Option<String>,
    ) -> Result<Page<AuditEntryOut>, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.audit_log(&who, &parse(tenant_id)?, &filter, true, cursor.as_deref(), Some(PAGE_SIZE)).await?)
    }

    async fn slack_connector(&self, cx: &UiRequest, tenant_id: &str) -> Result<Option<SlackConnectorOut>, Problem> {
        let who = self.actor(cx).await?;
        match self.0.slack_connector(&who, &parse(tenant_id)?).await {
            Ok(connector) => Ok(Some(connector)),
            Err(Error::NotFound("slack connector")) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn save_slack_connector(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        input: SlackConnectorIn,
    ) -> Result<SlackConnectorOut, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.put_slack_connector(&who, &parse(tenant_id)?, input).await?.0)
    }

    async fn delete_slack_connector(&self, cx: &UiRequest, tenant_id: &str) -> Result<(), Problem> {
        let who = self.actor(cx).await?;
        Ok(self.0.delete_slack_connector(&who, &parse(tenant_id)?).await?)
    }

    async fn test_slack(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        input: TestSendIn,
    ) -> Result<DeliveryWithAttempts, Problem> {
        let who = self.actor(cx).await?;
        Ok(self.1.slack_test(&who, &parse(tenant_id)?, input).await?)
    }
}
