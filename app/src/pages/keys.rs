//! The API Keys page: list with status, prefix, expiry, last use and usage; a key's name opens
//! its settings (with an edit form) and its requests by outcome; a create modal; the new key
//! shown once with a copy button; rotate, revoke and delete with confirmation.

use leptos::prelude::*;

use super::layout::{copy_to_clipboard, short_time, tenant_param, FieldMessage, FormProblem, ProblemBox, Shell};
use crate::api::{api_key_usage, list_api_keys, CreateApiKey, DeleteApiKey, RevokeApiKey, RotateApiKey, UpdateApiKey};
use crate::models::{
    ApiKeyCreated, ApiKeyIn, ApiKeyOut, ApiKeyPatch, ApiKeyView, FieldError, Problem, RateLimit, RateWindow, RotateIn,
    UsageOut, ROLES, SCOPES,
};

#[component]
pub fn KeysPage() -> impl IntoView {
    let tenant = tenant_param();
    let refresh = RwSignal::new(0u32);
    let keys = Resource::new(move || (tenant(), refresh.get()), |(t, _)| list_api_keys(t));
    let creating = RwSignal::new(false);
    // The plaintext of a key just created or rotated: shown once, then gone.
    let revealed = RwSignal::new(None::<ApiKeyCreated>);
    let reload = move || refresh.update(|n| *n += 1);
    // Rotations leave old keys behind (expired, revoked): the list can be narrowed to a status.
    let status = RwSignal::new(String::new());
    view! {
        <Shell>
            <div class="toolbar">
                <h1>"API keys"</h1>
                <span class="spacer"></span>
                <label for="key-status-filter">"Status"</label>
                <select id="key-status-filter" on:change=move |ev| status.set(event_target_value(&ev))>
                    <option value="">"all"</option>
                    {["active", "expired", "revoked"].map(|s| view! { <option value=s>{s}</option> }).collect_view()}
                </select>
                <button on:click=move |_| creating.set(true)>"Create key"</button>
            </div>
            {move || revealed.get().map(|created| view! { <NewKey created on_close=move || revealed.set(None)/> })}
            {move || creating.get().then(|| view! {
                <CreateModal
                    tenant=tenant_param()()
                    on_close=move || creating.set(false)
                    on_created=move |created| { creating.set(false); revealed.set(Some(created)); reload(); }
                />
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || keys.get().map(|result| match result {
                    Err(problem) => view! { <ProblemBox problem/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No key yet."</p> }.into_any(),
                    Ok(mut list) => {
                        let wanted = status.get();
                        list.retain(|v| wanted.is_empty() || v.key.status == wanted);
                        if list.is_empty() {
                            return view! { <p class="muted" data-testid="keys-none">{format!("No {wanted} key.")}</p> }.into_any();
                        }
                        view! {
                        <table class="table" data-testid="api-keys">
                            <thead><tr>
                                <th>"Name"</th><th>"Prefix"</th><th>"Access"</th><th>"Status"</th>
                                <th>"Expires"</th><th>"Last used"</th><th>"Requests (7 d)"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|view| view! {
                                    <KeyRow view on_changed=reload on_revealed=move |c| revealed.set(Some(c))/>
                                }).collect_view()}
                            </tbody>
                        </table>
                        }.into_any()
                    }
                })}
            </Transition>
        </Shell>
    }
}

#[component]
fn KeyRow(
    view: ApiKeyView,
    on_changed: impl Fn() + Copy + Send + Sync + 'static,
    on_revealed: impl Fn(ApiKeyCreated) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    // The row's copy of the key: an edit updates it in place, so the open settings stay open
    // with their feedback (reloading the list would build every row afresh, closed).
    let key = RwSignal::new(view.key);
    let (tenant, id, status, prefix, rotated_to, last_used) = key.with_untracked(|k| {
        let last_used = k.last_used_at.as_deref().map(short_time).unwrap_or_else(|| "never".into());
        (k.tenant_id.clone(), k.id.clone(), k.status.clone(), k.prefix.clone(), k.rotated_to.clone(), last_used)
    });
    // Which confirmation is open: "revoke", "delete" or "rotate".
    let confirming = RwSignal::new(None::<&'static str>);
    let revoke = ServerAction::<RevokeApiKey>::new();
    let delete = ServerAction::<DeleteApiKey>::new();
    let rotate = ServerAction::<RotateApiKey>::new();
    let grace = RwSignal::new("3600".to_string());
    let new_expiry = RwSignal::new(String::new());
    Effect::new(move |_| {
        if matches!(revoke.value().get(), Some(Ok(()))) || matches!(delete.value().get(), Some(Ok(()))) {
            on_changed();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(created)) = rotate.value().get() {
            on_revealed(created);
            on_changed();
        }
    });
    let error = move || {
        [
            revoke.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err),
            rotate.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|problem| view! { <ProblemBox problem/> })
    };
    let open = RwSignal::new(false);
    let active = status == "active";
    // A key rotated once is in its grace period: its successor is the one to rotate.
    let rotatable = active && rotated_to.is_none();
    let name = move || key.with(|k| k.name.clone());
    let access = move || key.with(|k| k.role.clone().unwrap_or_else(|| k.scopes.join(" ")));
    let expires = move || key.with(|k| k.expires_at.as_deref().map(short_time).unwrap_or_else(|| "never".into()));
    let (t1, i1, t2, i2, t3, i3) = (tenant.clone(), id.clone(), tenant.clone(), id.clone(), tenant, id.clone());
    view! {
        <tr data-id=id data-name=name>
            <td>
                <button class="link" aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
                    {name}
                </button>
            </td>
            <td><code>{prefix}"…"</code></td>
            <td>{access}</td>
            <td><span class=format!("badge key-{status}") data-testid="key-status">{status.clone()}</span></td>
            <td data-testid="key-expires">{expires}</td>
            <td data-testid="key-last-used">{last_used}</td>
            <td>{view.requests_7d}</td>
            <td class="actions">
                {move || match confirming.get() {
                    None => view! {
                        <button class="secondary" disabled=!rotatable on:click=move |_| confirming.set(Some("rotate"))>"Rotate"</button>
                        <button class="secondary" disabled=!active on:click=move |_| confirming.set(Some("revoke"))>"Revoke"</button>
                        <button class="secondary danger" on:click=move |_| confirming.set(Some("delete"))>"Delete"</button>
                    }.into_any(),
                    Some("rotate") => {
                        let (t, i) = (t1.clone(), i1.clone());
                        view! {
                            <label class="inline">"Old key works for (seconds) "
                                <input type="number" min="0" class="narrow" prop:value=move || grace.get()
                                    on:input=move |ev| grace.set(event_target_value(&ev))/>
                            </label>
                            <label class="inline">"New key expires (UTC, optional) "
                                <input type="datetime-local" aria-label="New key expires" prop:value=move || new_expiry.get()
                                    on:input=move |ev| new_expiry.set(event_target_value(&ev))/>
                            </label>
                            <button on:click=move |_| {
                                let expires_at = expiry_from_input(&new_expiry.get_untracked());
                                let input = RotateIn { grace_period_seconds: grace.get_untracked().parse().ok(), expires_at };
                                rotate.dispatch(RotateApiKey { tenant_id: t.to_string(), id: i.to_string(), input });
                                confirming.set(None);
                            }>"Rotate now"</button>
                            <button class="secondary" on:click=move |_| confirming.set(None)>"Cancel"</button>
                        }.into_any()
                    }
                    Some(action) => {
                        let (t, i) = if action == "revoke" { (t2.clone(), i2.clone()) } else { (t3.clone(), i3.clone()) };
                        view! {
                            <span>{format!("Really {action} this key? Clients using it fail at once. ")}</span>
                            <button class="danger" on:click=move |_| {
                                if action == "revoke" {
                                    revoke.dispatch(RevokeApiKey { tenant_id: t.to_string(), id: i.to_string() });
                                } else {
                                    delete.dispatch(DeleteApiKey { tenant_id: t.to_string(), id: i.to_string() });
                                }
                                confirming.set(None);
                            }>{format!("Yes, {action}")}</button>
                            <button class="secondary" on:click=move |_| confirming.set(None)>"Cancel"</button>
                        }.into_any()
                    }
                }}
                {error}
            </td>
        </tr>
        {move || open.get().then(|| view! {
            <tr class="detail"><td colspan="8"><KeyDetail key/></td></tr>
        })}
    }
}

/// A key's settings, an edit form for them, and its requests over the last 7 days by outcome:
/// whether its clients are being refused, and why.
#[component]
fn KeyDetail(key: RwSignal<ApiKeyOut>) -> impl IntoView {
    let k = key.get_untracked();
    let usage = LocalResource::new({
        let (tenant, id) = (k.tenant_id.to_string(), k.id.to_string());
        move || api_key_usage(tenant.clone(), id.clone())
    });
    let rate = move || {
        key.with(|k| {
            k.rate_limit.map_or_else(|| "the hub's default".into(), |r| format!("{} {}", r.limit, r.window.per()))
        })
    };
    let ips = move || key.with(|k| if k.allowed_ips.is_empty() { "any".into() } else { k.allowed_ips.join(", ") });
    let editing = RwSignal::new(false);
    let saved = RwSignal::new(false);
    let active = k.status == "active";
    view! {
        <div class="key-detail" data-testid="key-detail">
            <p>
                "Rate limit: "<strong data-testid="key-rate">{rate}</strong>
                " · Allowed IPs: "<strong data-testid="key-ips">{ips}</strong>
                " · Created "{short_time(&k.created_at)}
                {k.rotation.clone().map(|r| view! {
                    " · Rotation due every "{r.every_days}" days, next "
                    <span data-testid="key-rotation-next">{short_time(&r.next_at)}</span>
                })}
                {k.rotated_to.clone().map(|to| view! { " · Rotated to "<code>{to}</code> })}
                {k.revoked_at.as_deref().map(|at| format!(" · Revoked {}", short_time(at)))}
                " · "<a href=format!("/tenants/{}/audit?target={}", k.tenant_id, k.id)>"Its audit log"</a>
            </p>
            {move || match editing.get() {
                true => view! {
                    <EditKey key on_done=move |changed| { editing.set(false); saved.set(changed); }/>
                }.into_any(),
                // Only a live key can be changed (the server refuses a revoked or expired one).
                false => view! {
                    {active.then(|| view! {
                        <button class="secondary" on:click=move |_| { saved.set(false); editing.set(true); }>"Edit"</button>
                    })}
                    {move || saved.get().then(|| view! {
                        <span class="muted" role="status" data-testid="key-saved">" Saved: the key's next request follows the new settings."</span>
                    })}
                }.into_any(),
            }}
            <Suspense fallback=|| view! { <p class="muted">"Loading usage…"</p> }>
                {move || usage.get().map(|r| match r {
                    Err(problem) => view! { <ProblemBox problem/> }.into_any(),
                    Ok(usage) => view! { <UsageTotals usage/> }.into_any(),
                })}
            </Suspense>
        </div>
    }
}

/// The edit form of a key's settings. Only what was changed is sent, so a rotated key keeps the
/// expiry of its grace period (its field is disabled) while its other settings change. The
/// server's field errors appear under their fields; `on_done(true)` after a save.
#[component]
fn EditKey(key: RwSignal<ApiKeyOut>, on_done: impl Fn(bool) + Copy + Send + Sync + 'static) -> impl IntoView {
    let was = key.get_untracked();
    let update = ServerAction::<UpdateApiKey>::new();
    let name = RwSignal::new(was.name.clone());
    let role = RwSignal::new(was.role.clone().unwrap_or_else(|| "custom".into()));
    let scopes = RwSignal::new(was.scopes.clone());
    let was_expiry = was.expires_at.as_deref().map(expiry_to_input).unwrap_or_default();
    let expires = RwSignal::new(was_expiry.clone());
    let rate = RwSignal::new(was.rate_limit.map(|r| r.limit.to_string()).unwrap_or_default());
    let window = RwSignal::new(was.rate_limit.map(|r| r.window).unwrap_or_default());
    let ips = RwSignal::new(was.allowed_ips.join(", "));
    let local_error = RwSignal::new(None::<Problem>);
    let unchanged = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(changed)) = update.value().get() {
            key.set(changed);
            on_done(true);
        }
    });
    let problem = Signal::derive(move || local_error.get().or_else(|| update.value().get().and_then(|r| r.err())));
    let id = was.id.to_string();
    let rotated = was.rotated_to.is_some();
    let field = move |name: &str| format!("key-edit-{name}-{id}");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(rate_limit) = rate_field(rate, window, local_error) else { return };
        let mut patch = ApiKeyPatch::default();
        let new_name = name.get_untracked();
        if new_name != was.name {
            patch.name = Some(new_name);
        }
        match role.get_untracked() {
            custom if custom == "custom" => {
                let mut chosen = scopes.get_untracked();
                chosen.sort();
                if was.role.is_some() || chosen != was.scopes {
                    patch.scopes = Some(chosen);
                }
            }
            chosen if was.role.as_deref() != Some(chosen.as_str()) => patch.role = Some(chosen),
            _ => {}
        }
        let new_expiry = expires.get_untracked();
        if new_expiry != was_expiry {
            patch.expires_at = Some(expiry_from_input(&new_expiry));
        }
        if rate_limit != was.rate_limit {
            patch.rate_limit = Some(rate_limit);
        }
        let new_ips = ip_list(&ips.get_untracked());
        if new_ips != was.allowed_ips {
            patch.allowed_ips = Some(Some(new_ips).filter(|list| !list.is_empty()));
        }
        unchanged.set(patch == ApiKeyPatch::default());
        if !unchanged.get_untracked() {
            update.dispatch(UpdateApiKey { tenant_id: was.tenant_id.to_string(), id: was.id.to_string(), patch });
        }
    };
    view! {
        <form class="key-edit" on:submit=submit aria-label="Edit API key">
            <label for=field("name")>"Name"</label>
            <input id=field("name") type="text" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            <FieldMessage problem field="name"/>
            <AccessFields id=field("role") role scopes problem/>
            <label for=field("expires")>{if rotated { "Expires (UTC; the end of the rotation's grace period)" } else { "Expires (UTC, empty for never)" }}</label>
            <input id=field("expires") type="datetime-local" disabled=rotated prop:value=move || expires.get() on:input=move |ev| expires.set(event_target_value(&ev))/>
            <FieldMessage problem field="expires_at"/>
            <RateFields id=field("rate") label="Rate limit (empty for the hub's default)" rate window problem/>
            <label for=field("ips")>"Allowed IPs or CIDRs (comma-separated, empty for any)"</label>
            <input id=field("ips") type="text" prop:value=move || ips.get() on:input=move |ev| ips.set(event_target_value(&ev))/>
            <FieldMessage problem field="allowed_ips"/>
            <FormProblem problem fields=KEY_FIELDS/>
            {move || unchanged.get().then(|| view! { <p class="muted" role="status">"Nothing was changed."</p> })}
            <div class="toolbar">
                <button type="submit" disabled=move || update.pending().get()>
                    {move || if update.pending().get() { "Saving…" } else { "Save" }}
                </button>
                <button type="button" class="secondary" on:click=move |_| on_done(false)>"Cancel"</button>
            </div>
        </form>
    }
}

/// The fields of the create and edit forms, as the server names them in its refusals.
const KEY_FIELDS: &[&str] = &[
    "name",
    "role",
    "scopes",
    "expires_at",
    "rate_limit",
    "rate_limit.limit",
    "rate_limit.window",
    "rate_limit_per_minute",
    "allowed_ips",
];

/// A key's rate limit: how many requests, and per second, minute or hour (the sliding window).
#[component]
fn RateFields(
    #[prop(into)] id: String,
    label: &'static str,
    rate: RwSignal<String>,
    window: RwSignal<RateWindow>,
    problem: Signal<Option<Problem>>,
) -> impl IntoView {
    let window_id = format!("{id}-window");
    view! {
        <label for=id.clone()>{label}</label>
        <div class="inline-fields">
            <input id=id type="text" inputmode="numeric" placeholder="requests" prop:value=move || rate.get()
                on:input=move |ev| rate.set(event_target_value(&ev))/>
            <label for=window_id.clone() class="inline">"per"</label>
            <select id=window_id on:change=move |ev| {
                if let Some(w) = RateWindow::parse(&event_target_value(&ev)) { window.set(w) }
            }>
                {RateWindow::ALL.into_iter().map(|w| view! {
                    <option value=w.as_str() selected=move || window.get() == w>{w.as_str()}</option>
                }).collect_view()}
            </select>
        </div>
        <FieldMessage problem field="rate_limit.limit"/>
        <FieldMessage problem field="rate_limit.window"/>
        <FieldMessage problem field="rate_limit"/>
    }
}

/// A role, or "custom" with a checkbox per scope: the access fields of the create and edit forms.
#[component]
fn AccessFields(
    #[prop(into)] id: String,
    role: RwSignal<String>,
    scopes: RwSignal<Vec<String>>,
    problem: Signal<Option<Problem>>,
) -> impl IntoView {
    view! {
        <label for=id.clone()>"Role"</label>
        <select id=id on:change=move |ev| role.set(event_target_value(&ev))>
            {ROLES.into_iter().map(|r| view! { <option value=r selected=move || role.get() == r>{r}</option> }).collect_view()}
            <option value="custom" selected=move || role.get() == "custom">"custom scopes"</option>
        </select>
        <FieldMessage problem field="role"/>
        {move || (role.get() == "custom").then(|| view! {
            <fieldset class="scopes">
                {SCOPES.into_iter().map(|scope| view! {
                    <label class="inline">
                        <input type="checkbox" value=scope prop:checked=move || scopes.with(|list| list.iter().any(|s| s == scope))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                scopes.update(|list| { list.retain(|s| s != scope); if on { list.push(scope.to_string()); } });
                            }/>
                        {scope}
                    </label>
                }).collect_view()}
            </fieldset>
        })}
        <FieldMessage problem field="scopes"/>
    }
}

/// The rate limit typed into a form: a whole number per the chosen window, or `None` when left
/// empty. Anything else is refused under its field like the server's own refusals
/// (`local_error`, cleared otherwise), and the answer is `None` then, so that the form is not sent.
fn rate_field(
    rate: RwSignal<String>,
    window: RwSignal<RateWindow>,
    local_error: RwSignal<Option<Problem>>,
) -> Option<Option<RateLimit>> {
    let text = rate.get_untracked();
    let limit = match text.trim() {
        "" => None,
        text => match text.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                let mut problem = Problem::new(422, "Unprocessable Entity", "check the fields");
                let message = "must be a whole number".into();
                problem.errors.push(FieldError { field: "rate_limit.limit".into(), message });
                local_error.set(Some(problem));
                return None;
            }
        },
    };
    local_error.set(None);
    Some(limit.map(|limit| RateLimit { limit, window: window.get_untracked() }))
}

/// A `datetime-local` value ("2026-12-01T10:00", read as UTC) as the API's RFC 3339; `None` when empty.
fn expiry_from_input(text: &str) -> Option<String> {
    Some(text).filter(|t| !t.is_empty()).map(|t| format!("{t}:00Z"))
}

/// An RFC 3339 time of the API as a `datetime-local` value (to the minute, UTC).
fn expiry_to_input(rfc3339: &str) -> String {
    rfc3339.get(..16).unwrap_or(rfc3339).to_string()
}

/// The addresses typed into an allow-list box, separated by commas, spaces or lines.
fn ip_list(text: &str) -> Vec<String> {
    text.split([',', '\n', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The 7-day totals of a key's hourly usage, one counter per outcome.
#[component]
fn UsageTotals(usage: UsageOut) -> impl IntoView {
    let total = |count: fn(&crate::models::UsageBucket) -> i64| usage.data.iter().map(count).sum::<i64>();
    let outcomes = [
        ("ok", "Served", total(|b| b.ok)),
        ("unauthorized", "Unauthorized (expired or revoked)", total(|b| b.unauthorized)),
        ("forbidden", "Forbidden (scope missing, IP not allowed)", total(|b| b.forbidden)),
        ("rate_limited", "Rate limited", total(|b| b.rate_limited)),
    ];
    view! {
        <section class="counters" aria-label="Requests over the last 7 days">
            {outcomes.into_iter().map(|(outcome, label, count)| view! {
                <div class="counter"><span class="label">{label}</span><strong data-testid=format!("usage-{outcome}")>{count}</strong></div>
            }).collect_view()}
        </section>
    }
}

/// The create form. Server-side validation errors appear next to their field.
#[component]
fn CreateModal(
    tenant: String,
    on_close: impl Fn() + Copy + Send + Sync + 'static,
    on_created: impl Fn(ApiKeyCreated) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let name = RwSignal::new(String::new());
    let role = RwSignal::new("read_write".to_string());
    let scopes = RwSignal::new(Vec::<String>::new());
    let expires = RwSignal::new(String::new());
    let rate = RwSignal::new(String::new());
    let window = RwSignal::new(RateWindow::Minute);
    let ips = RwSignal::new(String::new());
    let local_error = RwSignal::new(None::<Problem>);
    Effect::new(move |_| {
        if let Some(Ok(created)) = create.value().get() {
            on_created(created);
        }
    });
    let problem = Signal::derive(move || local_error.get().or_else(|| create.value().get().and_then(|r| r.err())));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(rate_limit) = rate_field(rate, window, local_error) else { return };
        let custom = role.get_untracked() == "custom";
        let input = ApiKeyIn {
            name: name.get_untracked(),
            role: (!custom).then(|| role.get_untracked()),
            scopes: custom.then(|| scopes.get_untracked()),
            expires_at: expiry_from_input(&expires.get_untracked()),
            rate_limit_per_minute: None,
            rate_limit,
            allowed_ips: Some(ip_list(&ips.get_untracked())),
        };
        create.dispatch(CreateApiKey { tenant_id: tenant.clone(), input });
    };
    view! {
        <div class="modal-backdrop">
            <form class="modal" on:submit=submit aria-label="Create API key">
                <h2>"Create API key"</h2>
                <label for="key-name">"Name"</label>
                <input id="key-name" type="text" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <FieldMessage problem field="name"/>
                <AccessFields id="key-role" role scopes problem/>
                <label for="key-expires">"Expires (UTC, optional)"</label>
                <input id="key-expires" type="datetime-local" prop:value=move || expires.get() on:input=move |ev| expires.set(event_target_value(&ev))/>
                <FieldMessage problem field="expires_at"/>
                <RateFields id="key-rate" label="Rate limit (optional)" rate window problem/>
                <label for="key-ips">"Allowed IPs or CIDRs (optional, comma-separated)"</label>
                <input id="key-ips" type="text" placeholder="10.0.0.0/8, 2001:db8::/32" prop:value=move || ips.get() on:input=move |ev| ips.set(event_target_value(&ev))/>
                <FieldMessage problem field="allowed_ips"/>
                <FormProblem problem fields=KEY_FIELDS/>
                <div class="toolbar">
                    <button type="submit" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create" }}
                    </button>
                    <button type="button" class="secondary" on:click=move |_| on_close()>"Cancel"</button>
                </div>
            </form>
        </div>
    }
}

/// The plaintext key, once, with a copy button.
#[component]
fn NewKey(created: ApiKeyCreated, on_close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let copied = RwSignal::new(false);
    let key = created.key.clone();
    let copy = move |_| {
        copy_to_clipboard(&key);
        copied.set(true);
    };
    view! {
        <div class="reveal" role="status" data-testid="new-key">
            <strong>{format!("New key \u{201c}{}\u{201d}", created.api_key.name)}</strong>
            <p class="warning">"Copy it now: this key will not be shown again."</p>
            <div class="toolbar">
                <input type="text" readonly class="key" data-testid="new-key-value" prop:value=created.key.clone()/>
                <button on:click=copy>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                <button class="secondary" on:click=move |_| on_close()>"Done"</button>
            </div>
        </div>
    }
}
