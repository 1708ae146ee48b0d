//! The Webhooks page: endpoints with their state; a create/edit modal with the event catalogue;
//! the enable toggle; the signing secret (reveal, copy, rotate); a Test modal; delete.

use std::collections::BTreeMap;

use leptos::prelude::*;

use super::dashboard::{health_badge, percent};
use super::layout::{
    copy_to_clipboard, latest, short_time, tenant_param, toggle_event, EventChoices, FieldMessage, FormProblem,
    ProblemBox, ProblemWithFields, Shell,
};
use crate::api::{
    event_type_catalogue, event_types, list_webhooks, tenant_stats, CreateWebhook, DeleteWebhook, EchoRequests,
    RotateWebhookSecret, SetWebhookPaused, TestWebhook, TryTransformation, UpdateWebhook, WebhookSecret,
};
use crate::models::*;

#[derive(Clone)]
enum Dialog {
    Create,
    Edit(WebhookOut),
    Test(WebhookOut),
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let tenant = tenant_param();
    let refresh = RwSignal::new(0u32);
    let webhooks = Resource::new(
        {
            let tenant = tenant.clone();
            move || (tenant(), refresh.get())
        },
        |(t, _)| list_webhooks(t),
    );
    // Each endpoint's last 24 hours, from the analytics roll-ups (the Dashboard's figures).
    let health = LocalResource::new(move || tenant_stats(tenant(), StatsWindow::Day));
    let health = latest(health);
    let dialog = RwSignal::new(None::<Dialog>);
    let reload = move || refresh.update(|n| *n += 1);
    let close = move || dialog.set(None);
    let saved = move || {
        dialog.set(None);
        reload();
    };
    view! {
        <Shell>
            <div class="toolbar">
                <h1>"Webhooks"</h1>
                <span class="spacer"></span>
                <button on:click=move |_| dialog.set(Some(Dialog::Create))>"Add endpoint"</button>
            </div>
            {move || dialog.get().map(|d| match d {
                Dialog::Create => view! { <EndpointForm existing=None on_close=close on_saved=saved/> }.into_any(),
                Dialog::Edit(w) => view! { <EndpointForm existing=Some(w) on_close=close on_saved=saved/> }.into_any(),
                Dialog::Test(w) => view! { <TestDialog webhook=w on_close=close/> }.into_any(),
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || webhooks.get().map(|result| match result {
                    Err(problem) => view! { <ProblemBox problem/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No endpoint yet. Add one, or point one at the echo inspector to try things out."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="table" data-testid="webhooks">
                            <thead><tr>
                                <th>"URL"</th><th>"Events"</th><th>"Enabled"</th><th>"Last 24 h"</th><th>"Created"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|webhook| view! {
                                    <EndpointRow webhook health on_changed=reload on_dialog=move |d| dialog.set(Some(d))/>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
        </Shell>
    }
}

#[component]
fn EndpointRow(
    webhook: WebhookOut,
    health: Memo<Option<Result<StatsOut, Problem>>>,
    on_changed: impl Fn() + Copy + Send + Sync + 'static,
    on_dialog: impl Fn(Dialog) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let toggle = ServerAction::<UpdateWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let pause = ServerAction::<SetWebhookPaused>::new();
    let show_secret = RwSignal::new(false);
    let confirm_delete = RwSignal::new(false);
    Effect::new(move |_| {
        if matches!(toggle.value().get(), Some(Ok(_)))
            || matches!(delete.value().get(), Some(Ok(())))
            || matches!(pause.value().get(), Some(Ok(_)))
        {
            on_changed();
        }
    });
    let error = move || {
        toggle
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| delete.value().get().and_then(|r| r.err()))
            .or_else(|| pause.value().get().and_then(|r| r.err()))
            .map(|problem| view! { <ProblemBox problem/> })
    };
    let (tenant, id) = (webhook.tenant_id.clone(), webhook.id.clone());
    let (t2, i2) = (tenant.clone(), id.clone());
    let own_id = webhook.id.clone();
    let enabled = webhook.enabled;
    let (for_edit, for_test) = (webhook.clone(), webhook.clone());
    let (t3, i3) = (tenant.clone(), id.clone());
    let paused_by_hand = webhook.maintenance.reason.as_deref() == Some("manual");
    view! {
        <tr data-id=webhook.id.clone()>
            <td>
                {webhook.name.clone().map(|n| view! { <strong class="endpoint-name" data-testid="endpoint-name">{n}</strong> })}
                <code class="url">{webhook.url.clone()}</code>
                {webhook.description.clone().map(|d| view! { <div class="muted">{d}</div> })}
                {webhook.rate_limit_per_second.map(|n| view! { <div class="muted" data-testid="rate-limit">{format!("at most {n} a second")}</div> })}
                {webhook.filter.clone().map(|f| view! { <div class="muted mono" data-testid="filter">{format!("only if {f}")}</div> })}
                {webhook.transformation.is_some().then(|| view! { <div class="muted" data-testid="transformed">"transformed (jq)"</div> })}
                {(webhook.ordering == DeliveryOrdering::Fifo).then(|| view! { <div class="muted" data-testid="ordering">"FIFO: one at a time, in publish order"</div> })}
                <CircuitBadge circuit=webhook.circuit.clone()/>
                <MaintenanceBadge maintenance=webhook.maintenance.clone()/>
                {webhook.secret_rotation.clone().map(|r| view! {
                    <div class="muted" data-testid="secret-rotation">{format!(
                        "Secret rotates every {} days; next {}", r.every_days, short_time(&r.next_at)
                    )}</div>
                })}
                {webhook.disabled_reason.clone().map(|r| view! { <div class="warning" data-testid="disabled-reason">{format!("Disabled: {r}")}</div> })}
            </td>
            <td>{webhook.events.join(", ")}</td>
            <td>
                <input type="checkbox" role="switch" aria-label="Enabled" prop:checked=enabled
                    disabled=move || toggle.pending().get()
                    on:change=move |ev| {
                        let patch = WebhookPatch { enabled: Some(event_target_checked(&ev)), ..Default::default() };
                        toggle.dispatch(UpdateWebhook { tenant_id: tenant.to_string(), id: id.to_string(), patch });
                    }/>
            </td>
            <td data-testid="endpoint-24h">{move || health.with(|stats| {
                let stats = match stats {
                    None => return view! { <span class="muted">"…"</span> }.into_any(),
                    Some(Err(problem)) => return view! { <span class="muted" title=problem.detail.clone()>"unavailable"</span> }.into_any(),
                    Some(Ok(stats)) => stats,
                };
                match stats.endpoints.iter().find(|e| e.webhook_id == own_id) {
                    Some(e) if e.stats.attempts > 0 => view! {
                        <span class=health_badge(e)>{format!("{} of {}", percent(e.stats.success_rate), e.stats.attempts)}</span>
                    }.into_any(),
                    _ => view! { <span class="muted">"no attempt"</span> }.into_any(),
                }
            })}</td>
            <td class="time">{short_time(&webhook.created_at)}</td>
            <td class="actions">
                <a class="button secondary" href=format!("/tenants/{}/deliveries?webhook_id={}", webhook.tenant_id, webhook.id)>"Deliveries"</a>
                <button class="secondary" on:click=move |_| on_dialog(Dialog::Edit(for_edit.clone()))>"Edit"</button>
                <button class="secondary" on:click=move |_| on_dialog(Dialog::Test(for_test.clone()))>"Test"</button>
                <button class="secondary" on:click=move |_| show_secret.update(|s| *s = !*s)>"Secret"</button>
                <button class="secondary" disabled=move || pause.pending().get() on:click=move |_| {
                    pause.dispatch(SetWebhookPaused { tenant_id: t3.to_string(), id: i3.to_string(), paused: !paused_by_hand });
                }>{if paused_by_hand { "Resume" } else { "Pause" }}</button>
                {move || if confirm_delete.get() {
                    let (t, i) = (t2.clone(), i2.clone());
                    view! {
                        <span>"Delete this endpoint? Its pending deliveries are dead-lettered. "</span>
                        <button class="danger" on:click=move |_| {
                            delete.dispatch(DeleteWebhook { tenant_id: t.to_string(), id: i.to_string() });
                            confirm_delete.set(false);
                        }>"Yes, delete"</button>
                        <button class="secondary" on:click=move |_| confirm_delete.set(false)>"Cancel"</button>
                    }.into_any()
                } else {
                    view! { <button class="secondary danger" on:click=move |_| confirm_delete.set(true)>"Delete"</button> }.into_any()
                }}
                {error}
            </td>
        </tr>
        {move || show_secret.get().then(|| view! {
            <tr class="detail"><td colspan="6"><SecretPanel webhook=webhook.clone()/></td></tr>
        })}
    }
}

/// Paused by hand or in a maintenance window: deliveries wait, without attempts; and the
/// endpoint's windows.
#[component]
pub fn MaintenanceBadge(maintenance: MaintenanceOut) -> impl IntoView {
    let until = maintenance.until.as_deref().map(short_time);
    let state = maintenance.reason.as_deref().map(|reason| {
        let text = match (reason, until) {
            ("manual", Some(until)) => format!("Paused until {until}: deliveries wait"),
            ("manual", None) => "Paused until resumed: deliveries wait".to_string(),
            (_, until) => format!("In a maintenance window until {}: deliveries wait", until.unwrap_or_default()),
        };
        view! { <div class="warning" data-testid="paused" data-reason=reason.to_string()>{text}</div> }
    });
    let windows = (!maintenance.windows.is_empty()).then(|| {
        let list = maintenance
            .windows
            .iter()
            .map(|w| {
                format!("{} – {}{}", short_time(&w.start), short_time(&w.end), if w.weekly { ", weekly" } else { "" })
            })
            .collect::<Vec<_>>()
            .join("; ");
        view! { <div class="muted" data-testid="maintenance-windows">{format!("Maintenance: {list}")}</div> }
    });
    view! { {state} {windows} }
}

/// The circuit breaker's state, when it is not closed: deliveries wait until the probe.
#[component]
pub fn CircuitBadge(circuit: CircuitOut) -> impl IntoView {
    let text = match circuit.state {
        CircuitState::Closed => return None,
        CircuitState::Open => format!(
            "Circuit open: deliveries wait until {} (opened {} time{})",
            circuit.until.as_deref().map(short_time).unwrap_or_default(),
            circuit.opens,
            if circuit.opens == 1 { "" } else { "s" }
        ),
        CircuitState::HalfOpen => "Circuit half-open: a probe delivery decides".to_string(),
    };
    Some(view! { <div class="warning" data-testid="circuit" data-state=circuit.state.as_str()>{text}</div> })
}

/// The signing secret: revealed on request, copyable, rotatable with a grace period during
/// which deliveries carry both signatures.
#[component]
fn SecretPanel(webhook: WebhookOut) -> impl IntoView {
    let reveal = ServerAction::<WebhookSecret>::new();
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    let grace = RwSignal::new("86400".to_string());
    let copied = RwSignal::new(false);
    let (tenant, id) = (webhook.tenant_id.clone(), webhook.id.clone());
    let (t2, i2) = (tenant.clone(), id.clone());
    reveal.dispatch(WebhookSecret { tenant_id: tenant.to_string(), id: id.to_string() });
    // The newest secret known: a rotation's answer beats the first reveal.
    let secret =
        move || rotate.value().get().and_then(Result::ok).or_else(|| reveal.value().get().and_then(Result::ok));
    let problem =
        move || rotate.value().get().and_then(|r| r.err()).or_else(|| reveal.value().get().and_then(|r| r.err()));
    view! {
        <div class="secret-panel" data-testid="secret-panel">
            {move || problem().map(|problem| view! { <ProblemBox problem/> })}
            <div class="toolbar">
                <label for=format!("secret-{}", webhook.id)>"Signing secret"</label>
                <input id=format!("secret-{}", webhook.id) type="text" readonly class="key" data-testid="secret-value"
                    prop:value=move || secret().unwrap_or_else(|| "…".into())/>
                <button on:click=move |_| if let Some(s) = secret() { copy_to_clipboard(&s); copied.set(true); }>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
            <div class="toolbar">
                <label class="inline">"Old secret keeps signing for (seconds) "
                    <input type="number" min="0" class="narrow" prop:value=move || grace.get() on:input=move |ev| grace.set(event_target_value(&ev))/>
                </label>
                <button class="secondary" disabled=move || rotate.pending().get() on:click=move |_| {
                    copied.set(false);
                    let input = RotateSecretIn { grace_period_seconds: grace.get_untracked().parse().ok() };
                    rotate.dispatch(RotateWebhookSecret { tenant_id: t2.to_string(), id: i2.to_string(), input });
                }>"Rotate secret"</button>
                {move || matches!(rotate.value().get(), Some(Ok(_))).then(|| view! {
                    <span class="muted" role="status">"Rotated. Deliveries carry both signatures until the grace period ends."</span>
                })}
            </div>
        </div>
    }
}

/// Create or edit an endpoint. Events come from the tenant's catalogue; the URL gets feedback as
/// it is typed; the server's field errors appear under their fields.
#[component]
fn EndpointForm(
    existing: Option<WebhookOut>,
    on_close: impl Fn() + Copy + Send + Sync + 'static,
    on_saved: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let tenant = tenant_param()();
    let create = ServerAction::<CreateWebhook>::new();
    let update = ServerAction::<UpdateWebhook>::new();
    let echo = ServerAction::<EchoRequests>::new();
    let editing = existing.clone();
    let url = RwSignal::new(existing.as_ref().map(|w| w.url.clone()).unwrap_or_default());
    let description = RwSignal::new(existing.as_ref().and_then(|w| w.description.clone()).unwrap_or_default());
    let name = RwSignal::new(existing.as_ref().and_then(|w| w.name.clone()).unwrap_or_default());
    let events = RwSignal::new(existing.as_ref().map(|w| w.events.clone()).unwrap_or_default());
    let secret = RwSignal::new(String::new());
    let max_attempts =
        RwSignal::new(existing.as_ref().and_then(|w| w.max_attempts).map(|n| n.to_string()).unwrap_or_default());
    let timeout =
        RwSignal::new(existing.as_ref().and_then(|w| w.timeout_seconds).map(|n| n.to_string()).unwrap_or_default());
    let backoff = RwSignal::new(
        existing.as_ref().and_then(|w| w.backoff_base_seconds).map(|n| n.to_string()).unwrap_or_default(),
    );
    let rate = RwSignal::new(
        existing.as_ref().and_then(|w| w.rate_limit_per_second).map(|n| n.to_string()).unwrap_or_default(),
    );
    let headers = RwSignal::new(existing.as_ref().map(|w| headers_text(&w.headers)).unwrap_or_default());
    let filter = RwSignal::new(existing.as_ref().and_then(|w| w.filter.clone()).unwrap_or_default());
    let transformation = RwSignal::new(existing.as_ref().and_then(|w| w.transformation.clone()).unwrap_or_default());
    let try_it = ServerAction::<TryTransformation>::new();
    let ordering = RwSignal::new(existing.as_ref().map(|w| w.ordering).unwrap_or_default());
    let local_error = RwSignal::new(None::<Problem>);
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) || matches!(update.value().get(), Some(Ok(_))) {
            on_saved();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok((echo_url, _))) = echo.value().get() {
            url.set(echo_url);
        }
    });
    let problem = Signal::derive(move || {
        local_error
            .get()
            .or_else(|| create.value().get().and_then(|r| r.err()))
            .or_else(|| update.value().get().and_then(|r| r.err()))
            .or_else(|| echo.value().get().and_then(|r| r.err()))
    });
    let all_events = move || events.with(|e| e.iter().any(|t| t == "*"));
    let submit = {
        let tenant = tenant.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let mut bad = Problem::new(422, "Unprocessable Entity", "check the fields");
            let mut number = |field: &str, text: String| match text.trim() {
                "" => None,
                t => t
                    .parse::<i64>()
                    .map_err(|_| {
                        bad.errors.push(FieldError { field: field.into(), message: "must be a whole number".into() })
                    })
                    .ok(),
            };
            let max = number("max_attempts", max_attempts.get_untracked());
            let timeout_seconds = number("timeout_seconds", timeout.get_untracked());
            let backoff_base_seconds = number("backoff_base_seconds", backoff.get_untracked());
            let rate_limit_per_second = number("rate_limit_per_second", rate.get_untracked());
            let custom_headers = parse_headers(&headers.get_untracked())
                .map_err(|message| bad.errors.push(FieldError { field: "headers".into(), message }))
                .unwrap_or_default();
            if !bad.errors.is_empty() {
                local_error.set(Some(bad));
                return;
            }
            local_error.set(None);
            let description = Some(description.get_untracked()).filter(|d| !d.trim().is_empty());
            let name = Some(name.get_untracked()).filter(|n| !n.trim().is_empty());
            let payload_filter = Some(filter.get_untracked()).filter(|f| !f.trim().is_empty());
            let program = Some(transformation.get_untracked()).filter(|p| !p.trim().is_empty());
            match &editing {
                None => {
                    let input = WebhookIn {
                        url: url.get_untracked().trim().to_string(),
                        events: events.get_untracked(),
                        secret: Some(secret.get_untracked()).filter(|s| !s.is_empty()),
                        name,
                        description,
                        max_attempts: max,
                        timeout_seconds,
                        backoff_base_seconds,
                        rate_limit_per_second,
                        headers: Some(custom_headers).filter(|h| !h.is_empty()),
                        ordering: Some(ordering.get_untracked()),
                        filter: payload_filter,
                        transformation: program,
                        ..Default::default()
                    };
                    create.dispatch(CreateWebhook { tenant_id: tenant.clone(), input });
                }
                Some(w) => {
                    let patch = WebhookPatch {
                        url: Some(url.get_untracked().trim().to_string()),
                        events: Some(events.get_untracked()),
                        // Every field of the form is sent: one emptied goes back to its default.
                        description: Some(description),
                        name: Some(name),
                        max_attempts: Some(max),
                        timeout_seconds: Some(timeout_seconds),
                        backoff_base_seconds: Some(backoff_base_seconds),
                        rate_limit_per_second: Some(rate_limit_per_second),
                        // An emptied box removes every custom header.
                        headers: Some(custom_headers),
                        ordering: Some(ordering.get_untracked()),
                        filter: Some(payload_filter),
                        transformation: Some(program),
                        ..Default::default()
                    };
                    update.dispatch(UpdateWebhook { tenant_id: tenant.clone(), id: w.id.to_string(), patch });
                }
            }
        }
    };
    let pending = move || create.pending().get() || update.pending().get();
    let is_new = existing.is_none();
    let echo_tenant = tenant.clone();
    view! {
        <div class="modal-backdrop">
            <form class="modal" on:submit=submit aria-label=if is_new { "Add endpoint" } else { "Edit endpoint" }>
                <h2>{if is_new { "Add endpoint" } else { "Edit endpoint" }}</h2>
                <label for="wh-url">"URL"</label>
                <input id="wh-url" type="text" placeholder="https://example.com/webhooks" prop:value=move || url.get()
                    on:input=move |ev| url.set(event_target_value(&ev))/>
                {move || url_feedback(&url.get()).map(|(ok, message)| view! {
                    <p class=if ok { "field-ok" } else { "field-error" } data-testid="url-feedback">{message}</p>
                })}
                <FieldMessage problem field="url"/>
                <button type="button" class="link" on:click=move |_| { echo.dispatch(EchoRequests { tenant_id: echo_tenant.clone() }); }>
                    "Use the built-in echo inspector"
                </button>
                <label for="wh-name">"Name (optional)"</label>
                <input id="wh-name" type="text" placeholder="CRM sync" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <FieldMessage problem field="name"/>
                <label for="wh-description">"Description (optional)"</label>
                <input id="wh-description" type="text" prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))/>
                <FieldMessage problem field="description"/>
                <fieldset class="events">
                    <legend>"Events"</legend>
                    <label class="inline">
                        <input type="checkbox" prop:checked=all_events on:change=move |ev| toggle_event(events, "*".into(), event_target_checked(&ev))/>
                        "All events (*)"
                    </label>
                    <EventChoices tenant=tenant.clone() events/>
                </fieldset>
                <FieldMessage problem field="events"/>
                {is_new.then(|| view! {
                    <label for="wh-secret">"Signing secret (optional; at least 16 characters, or leave empty to generate one)"</label>
                    <input id="wh-secret" type="text" prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev))/>
                    <FieldMessage problem field="secret"/>
                })}
                <div class="row">
                    <div>
                        <label for="wh-attempts">"Max attempts (optional)"</label>
                        <input id="wh-attempts" type="text" inputmode="numeric" prop:value=move || max_attempts.get() on:input=move |ev| max_attempts.set(event_target_value(&ev))/>
                        <FieldMessage problem field="max_attempts"/>
                    </div>
                    <div>
                        <label for="wh-timeout">"Timeout in seconds (optional)"</label>
                        <input id="wh-timeout" type="text" inputmode="numeric" prop:value=move || timeout.get() on:input=move |ev| timeout.set(event_target_value(&ev))/>
                        <FieldMessage problem field="timeout_seconds"/>
                    </div>
                    <div>
                        <label for="wh-backoff">"Retry backoff base in seconds (optional)"</label>
                        <input id="wh-backoff" type="text" inputmode="numeric" prop:value=move || backoff.get() on:input=move |ev| backoff.set(event_target_value(&ev))/>
                        <FieldMessage problem field="backoff_base_seconds"/>
                    </div>
                    <div>
                        <label for="wh-rate">"Rate limit, sends a second (optional)"</label>
                        <input id="wh-rate" type="text" inputmode="numeric" prop:value=move || rate.get() on:input=move |ev| rate.set(event_target_value(&ev))/>
                        <FieldMessage problem field="rate_limit_per_second"/>
                    </div>
                    <div>
                        <label for="wh-ordering">"Ordering"</label>
                        <select id="wh-ordering" data-testid="ordering" prop:value=move || ordering.get().as_str()
                            on:change=move |ev| ordering.set(DeliveryOrdering::parse(&event_target_value(&ev)))>
                            <option value="parallel">"Parallel (fastest)"</option>
                            <option value="fifo">"FIFO: one at a time, in publish order"</option>
                        </select>
                        <FieldMessage problem field="ordering"/>
                    </div>
                </div>
                <label for="wh-headers">"Custom headers (optional; one Name: value per line, sent with every delivery)"</label>
                <textarea id="wh-headers" rows="3" spellcheck="false" placeholder="Authorization: Bearer …" prop:value=move || headers.get()
                    on:input=move |ev| headers.set(event_target_value(&ev))></textarea>
                <FieldMessage problem field="headers"/>
                <label for="wh-filter">"Payload filter (optional; e.g. data.amount > 100 and data.country == \"DE\")"</label>
                <input id="wh-filter" type="text" spellcheck="false" class="mono" data-testid="payload-filter" prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))/>
                <FieldMessage problem field="filter"/>
                <label for="wh-transformation">"Transformation (optional; a jq program from the event {id, type, timestamp, data} to the body sent, e.g. {event: .type, payload: .data})"</label>
                <textarea id="wh-transformation" rows="4" spellcheck="false" class="mono" data-testid="transformation"
                    prop:value=move || transformation.get() on:input=move |ev| transformation.set(event_target_value(&ev))></textarea>
                <FieldMessage problem field="transformation"/>
                <button type="button" class="secondary" disabled=move || try_it.pending().get() on:click={
                    let tenant = tenant.clone();
                    move |_| {
                        // The latest events of the first type the endpoint names (any, for "*").
                        let event_type = events.get_untracked().into_iter().find(|e| !e.contains('*'));
                        let input = TransformTryIn { program: transformation.get_untracked(), event_type };
                        try_it.dispatch(TryTransformation { tenant_id: tenant.clone(), input });
                    }
                }>{move || if try_it.pending().get() { "Trying…" } else { "Try it on the latest events" }}</button>
                {move || try_it.value().get().map(|result| match result {
                    Err(problem) => view! { <ProblemWithFields problem/> }.into_any(),
                    Ok(tried) => view! {
                        <ul class="try-results" data-testid="try-results">
                            {tried.into_iter().map(|t| view! {
                                <li>
                                    <span class="mono">{format!("{} {}", t.event_type, t.event_id)}</span>" → "
                                    {match (t.error, t.dropped, t.body) {
                                        (Some(error), _, _) => view! { <span class="field-error">{error}</span> }.into_any(),
                                        (None, true, _) => view! { <span class="muted">"dropped: nothing would be sent"</span> }.into_any(),
                                        (None, false, body) => view! {
                                            <pre class="body">{body.unwrap_or_default()}</pre>
                                            {(!t.headers.is_empty()).then(|| view! { <p class="muted mono">{t.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")}</p> })}
                                        }.into_any(),
                                    }}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
                <FormProblem problem fields=&["url", "name", "description", "events", "secret", "max_attempts", "timeout_seconds", "backoff_base_seconds", "rate_limit_per_second", "ordering", "headers", "filter", "transformation"]/>
                <div class="toolbar">
                    <button type="submit" disabled=pending>{move || if pending() { "Saving…" } else { "Save" }}</button>
                    <button type="button" class="secondary" on:click=move |_| on_close()>"Cancel"</button>
                </div>
            </form>
        </div>
    }
}

/// What the URL field says while it is typed: `(looks right, message)`. The server checks again.
fn url_feedback(url: &str) -> Option<(bool, String)> {
    let url = url.trim();
    if url.is_empty() {
        return None;
    }
    let Some(rest) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) else {
        return Some((false, "must start with https:// or http://".into()));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || url.contains(char::is_whitespace) {
        return Some((false, "needs a host name and no spaces".into()));
    }
    if host.contains('@') {
        return Some((false, "must not contain a user name or password".into()));
    }
    Some((true, if url.starts_with("http://") { "valid; consider https in production".into() } else { "valid".into() }))
}

/// The custom headers as the form's text box shows them: one `Name: value` per line.
fn headers_text(headers: &BTreeMap<String, String>) -> String {
    headers.iter().map(|(name, value)| format!("{name}: {value}\n")).collect()
}

/// Reads the text box back: blank lines are skipped; a line without a colon or a name given twice
/// is refused here, with its line number. Whether a name or value is allowed is the server's call.
fn parse_headers(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut headers = BTreeMap::new();
    for (n, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("line {}: write it as Name: value", n + 1));
        };
        let name = name.trim();
        if headers.keys().any(|seen: &String| seen.eq_ignore_ascii_case(name)) {
            return Err(format!("line {}: {name} is given twice", n + 1));
        }
        headers.insert(name.to_string(), value.trim().to_string());
    }
    Ok(headers)
}

/// Sends a sample event now: pick the type, edit the JSON, see the answer and whether the
/// signature verified (the echo inspector says so in its answer).
#[component]
fn TestDialog(webhook: WebhookOut, on_close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let tenant = webhook.tenant_id.clone();
    let catalogue = LocalResource::new({
        let tenant = tenant.clone();
        move || event_types(tenant.to_string())
    });
    let first = webhook
        .events
        .iter()
        .find(|e| valid_event_type(e))
        .cloned()
        .unwrap_or_else(|| BUILTIN_EVENT_TYPES[0].to_string());
    // The types with their examples: a type's example is where its payload starts (the
    // server then checks the payload against the type's schema before sending).
    let examples = LocalResource::new({
        let tenant = tenant.clone();
        move || event_type_catalogue(tenant.to_string())
    });
    let example_of = move |name: &str| {
        examples
            .get_untracked()
            .and_then(|r| r.ok())
            .and_then(|types| types.into_iter().find(|t| t.name == name).and_then(|t| t.example))
            .unwrap_or_else(|| sample_payload(name))
    };
    let event_type = RwSignal::new(first.clone());
    let payload = RwSignal::new(pretty(&sample_payload(&first)));
    Effect::new({
        let first = first.clone();
        move |_| {
            // Once the catalogue is in, a type of the tenant's own starts from its example.
            if examples.get().is_some() && event_type.get_untracked() == first {
                payload.set(pretty(&example_of(&first)));
            }
        }
    });
    let send = ServerAction::<TestWebhook>::new();
    let parsed = move || payload.with(|text| serde_json::from_str::<serde_json::Value>(text));
    let json_error = move || parsed().err().map(|e| format!("Not valid JSON: {e}"));
    let id = webhook.id.clone();
    let on_send = move |_| {
        let Ok(value) = parsed() else { return };
        let input = TestSendIn { event_type: Some(event_type.get_untracked()), payload: Some(value) };
        send.dispatch(TestWebhook { tenant_id: tenant.to_string(), id: id.to_string(), input });
    };
    view! {
        <div class="modal-backdrop">
            <div class="modal wide" role="dialog" aria-label="Send a test event">
                <h2>"Send a test event"</h2>
                <p class="muted">{webhook.name.clone().map(|n| format!("{n}: "))}<code class="url">{webhook.url.clone()}</code></p>
                <label for="test-type">"Event type"</label>
                <select id="test-type" on:change=move |ev| {
                    let chosen = event_target_value(&ev);
                    payload.set(pretty(&example_of(&chosen)));
                    event_type.set(chosen);
                }>
                    <Suspense fallback=|| ()>
                        {move || catalogue.get().map(|types| types.map(|types| types.into_iter().map(|t| {
                            let (selected, label) = (t == event_type.get_untracked(), t.clone());
                            view! { <option value=t selected=selected>{label}</option> }
                        }).collect_view()))}
                    </Suspense>
                </select>
                <label for="test-payload">"Payload (the event's data, JSON)"</label>
                <textarea id="test-payload" rows="10" spellcheck="false" prop:value=move || payload.get()
                    on:input=move |ev| payload.set(event_target_value(&ev))></textarea>
                {move || json_error().map(|e| view! { <p class="field-error" data-testid="json-error">{e}</p> })}
                <div class="toolbar">
                    <button disabled=move || json_error().is_some() || send.pending().get() on:click=on_send>
                        {move || if send.pending().get() { "Sending…" } else { "Send" }}
                    </button>
                    <button type="button" class="secondary" on:click=move |_| on_close()>"Close"</button>
                </div>
                {move || send.value().get().map(|result| match result {
                    Err(problem) => view! { <ProblemWithFields problem/> }.into_any(),
                    Ok(sent) => view! { <TestResult sent/> }.into_any(),
                })}
            </div>
        </div>
    }
}

#[component]
fn TestResult(sent: DeliveryWithAttempts) -> impl IntoView {
    let attempt = sent.attempts.last().cloned();
    let verdict = attempt
        .as_ref()
        .and_then(|a| a.response_body.as_deref())
        .and_then(|body| serde_json::from_str::<serde_json::Value>(body).ok())
        .and_then(|v| v.get("signature_verified").and_then(|b| b.as_bool()));
    let (class, text) = match verdict {
        Some(true) => ("ok", "Signature verified by the echo inspector"),
        Some(false) => ("bad", "The echo inspector could NOT verify the signature"),
        None => ("muted", "Signature not checked: only the echo inspector reports it"),
    };
    view! {
        <div class="test-result" data-testid="test-result">
            <p>
                <span class=format!("badge {}", sent.delivery.status.as_str())>{sent.delivery.status.as_str()}</span>" "
                {attempt.as_ref().map(|a| match a.status_code {
                    Some(code) => format!("HTTP {code} in {} ms", a.duration_ms),
                    None => format!("{}: {}", a.error_kind.clone().unwrap_or_default(), a.error_message.clone().unwrap_or_default()),
                })}
            </p>
            <p class=class data-testid="signature-verdict">{text}</p>
            {attempt.and_then(|a| a.response_body).filter(|b| !b.is_empty()).map(|body| view! { <pre class="body">{body}</pre> })}
        </div>
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{headers_text, parse_headers};

    #[test]
    fn the_headers_box_reads_back_what_it_shows_and_names_the_bad_line() {
        let headers = parse_headers("X-Team: desk\n\n  Authorization :  Bearer a:b \n").unwrap();
        assert_eq!(headers.get("Authorization").map(String::as_str), Some("Bearer a:b"));
        assert_eq!(headers.get("X-Team").map(String::as_str), Some("desk"));
        assert_eq!(parse_headers(&headers_text(&headers)).unwrap(), headers);
        assert!(parse_headers(" \n").unwrap().is_empty());
        assert_eq!(parse_headers("X-Team: a\nno colon").unwrap_err(), "line 2: write it as Name: value");
        assert_eq!(parse_headers("X-Team: a\nx-team: b").unwrap_err(), "line 2: x-team is given twice");
    }
}
