use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::{current_session, SignOut};
use crate::models::{Problem, Retention, Session, TenantOut};

/// The tenant id from the route (`/tenants/:tid/...`).
pub fn tenant_param() -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get("tid").unwrap_or_default()
}

/// A `LocalResource`'s latest value, kept on screen while a reload is on its way (a new filter
/// or a save does not flash "Loading…").
///
/// What `Shell` renders on the server reads a LocalResource only through a page-owned Memo like
/// this one (or inside a `<Suspense>` of its own), never with `.get()` directly: the Memo belongs
/// to the page, outside Shell's `<Suspense>`, so on the server (where a LocalResource is always
/// pending) reading it does not make that Suspense give up. A direct read on the audit page did:
/// its frame was never server-rendered, and leptos 0.8.23 then raced its "a local resource was
/// read" signal against its own effect, so about 2 % of loads panicked ("…has already been
/// disposed") and the HTML came in three shapes. `server/tests/api/pages.rs` holds every page to it.
pub fn latest<T>(resource: LocalResource<T>) -> Memo<Option<T>>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    Memo::new(move |previous: Option<&Option<T>>| resource.get().or_else(|| previous.cloned().flatten()))
}

/// The signed-in session as `Shell` gives it to its page (context): whether it is the operator's,
/// and the tenants it may manage — one list for the top bar's switcher and the Tenants page, so a
/// tenant added there shows in both without a reload or a second fetch of the session.
#[derive(Clone, Copy)]
pub struct SignedIn {
    pub operator: bool,
    pub tenants: RwSignal<Vec<TenantOut>>,
    pub retention: Retention,
}

/// Frames a page: top navigation for the signed-in session, or a sign-in prompt.
#[component]
pub fn Shell(children: ChildrenFn) -> impl IntoView {
    let session = Resource::new(|| (), |_| current_session());
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || session.get().map(|result| match result {
                Ok(session) => {
                    let signed_in =
                        SignedIn {
                        operator: session.actor == "operator",
                        tenants: RwSignal::new(session.tenants.clone()),
                        retention: session.retention,
                    };
                    provide_context(signed_in);
                    view! {
                        <Nav session=session.clone() signed_in/>
                        <main class="page">{children.read_value()()}</main>
                    }.into_any()
                }
                Err(problem) => view! { <SignInPrompt problem/> }.into_any(),
            })}
        </Suspense>
    }
}

/// The rows a page lists, for its footnote on how long they are kept.
#[derive(Clone, Copy)]
pub enum Kept {
    Deliveries,
    DeadLetters,
    AuditEntries,
}

/// A list's footnote: how long its rows are kept before retention deletes them.
#[component]
pub fn KeptFor(rows: Kept) -> impl IntoView {
    let Retention { delivery_days, audit_days } = expect_context::<SignedIn>().retention;
    let text = match (rows, delivery_days, audit_days) {
        (Kept::Deliveries, Some(days), _) => format!(
            "A finished delivery is deleted with its event and attempts {days} days after it finished; \
             one still being tried is kept."
        ),
        (Kept::DeadLetters, Some(days), _) => {
            format!("A dead letter is deleted {days} days after it was dead-lettered: replay it before then.")
        }
        (Kept::AuditEntries, _, Some(days)) => format!("Entries are deleted after {days} days."),
        (Kept::Deliveries | Kept::DeadLetters, None, _) | (Kept::AuditEntries, _, None) => {
            "Kept for ever: this hub deletes none.".to_string()
        }
    };
    view! { <p class="muted footnote" data-testid="retention">{text}</p> }
}

#[component]
fn Nav(session: Session, signed_in: SignedIn) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let tenant = tenant_param();
    let links = {
        let tenant = tenant.clone();
        move || {
            let tid = tenant();
            (!tid.is_empty()).then(|| {
                view! {
                    <a href=format!("/tenants/{tid}/dashboard")>"Dashboard"</a>
                    <a href=format!("/tenants/{tid}/webhooks")>"Webhooks"</a>
                    <a href=format!("/tenants/{tid}/event-types")>"Event types"</a>
                    <a href=format!("/tenants/{tid}/deliveries")>"Deliveries"</a>
                    <a href=format!("/tenants/{tid}/dead-letters")>"Dead letters"</a>
                    <a href=format!("/tenants/{tid}/echo")>"Echo inspector"</a>
                    <a href=format!("/tenants/{tid}/slack")>"Slack"</a>
                    <a href=format!("/tenants/{tid}/api-keys")>"API keys"</a>
                    <a href=format!("/tenants/{tid}/audit")>"Audit log"</a>
                }
            })
        }
    };
    // The operator may switch tenants; the page's section is kept.
    let navigate = leptos_router::hooks::use_navigate();
    let location = leptos_router::hooks::use_location();
    let switch = move |ev| {
        let next = event_target_value(&ev);
        let path = location.pathname.get_untracked();
        let section = path
            .rsplit('/')
            .next()
            .filter(|s| {
                ["dashboard", "webhooks", "deliveries", "dead-letters", "echo", "slack", "api-keys", "audit"]
                    .contains(s)
            })
            .unwrap_or("webhooks");
        navigate(&format!("/tenants/{next}/{section}"), Default::default());
    };
    // Marks the document once this signed-in frame runs in the browser: end-to-end tests wait for
    // it before they use controls (such as the switcher) that only work after hydration.
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "");
        }
    });
    let current = tenant.clone();
    let switcher = move || {
        let (tenants, tid, switch) = (signed_in.tenants.get(), current(), switch.clone());
        if tenants.len() < 2 {
            // Nothing to switch to (a tenant's key, or an operator with one tenant): the bar still
            // says whose pages these are.
            let name = tenants.into_iter().find(|t| t.id == tid).map(|t| t.name).unwrap_or(tid);
            return (!name.is_empty())
                .then(|| view! { <span class="tenant-name" data-testid="tenant-name">{name}</span> }.into_any());
        }
        // A tenant past the session's first 500 (reached through the Tenants page's search) is
        // shown by its id, rather than "Choose a tenant" standing selected on its pages.
        let unlisted = (!tid.is_empty() && !tenants.iter().any(|t| t.id == tid)).then(|| tid.clone());
        Some({
            view! {
                <select aria-label="Tenant" data-testid="tenant-switcher" on:change=switch>
                    <option value="" selected=tid.is_empty()>"Choose a tenant"</option>
                    {unlisted.map(|id| {
                        let label = id.clone();
                        view! { <option value=id selected=true>{label}</option> }
                    })}
                    {tenants.into_iter().map(|t| {
                        let selected = tid == t.id;
                        view! { <option value=t.id selected=selected>{t.name}</option> }
                    }).collect_view()}
                </select>
            }
            .into_any()
        })
    };
    view! {
        <nav class="topbar">
            <a class="brand" href="/">"Integrations Hub"</a>
            {switcher}
            {links}
            <span class="spacer"></span>
            <span class="muted" data-testid="actor">{session.actor.clone()}</span>
            <ActionForm action=sign_out>
                <button type="submit" class="secondary">"Sign out"</button>
            </ActionForm>
        </nav>
    }
}

#[component]
fn SignInPrompt(problem: Problem) -> impl IntoView {
    view! {
        <main class="page narrow">
            <h1>"Integrations Hub"</h1>
            <p class="muted">{problem.detail}</p>
            <a class="button" href=sign_in_here()>"Sign in"</a>
        </main>
    }
}

/// Shows a server error in place of the content that failed to load.
#[component]
pub fn ProblemBox(problem: Problem) -> impl IntoView {
    // An ended session is the one error the admin can mend from here.
    let sign_in = (problem.status == 401).then(|| view! { " " <SignInAgain/> });
    view! { <p class="error" role="alert">{problem.title}": "{problem.detail}{sign_in}</p> }
}

/// A refusal with every field it names (a schema's problems are many, each at its own path).
#[component]
pub fn ProblemWithFields(problem: Problem) -> impl IntoView {
    let errors = problem.errors.clone();
    view! {
        <div class="error" role="alert" data-testid="problem-fields">
            <p>{problem.title}": "{problem.detail}</p>
            {(!errors.is_empty()).then(|| view! {
                <ul>{errors.into_iter().map(|e| view! { <li><code>{e.field}</code>" "{e.message}</li> }).collect_view()}</ul>
            })}
        </div>
    }
}

/// A datetime-local input's value (`2026-11-22T10:00`, read as UTC) as RFC 3339; empty → none.
pub fn local_input_to_utc(value: String) -> Option<String> {
    Some(value).filter(|s| !s.is_empty()).map(|s| format!("{s}:00Z"))
}

/// A `Date` rendering that reads well in a table: `2026-11-22 08:15:02`.
pub fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
}

/// The server's message for one field of a form, shown under that field.
#[component]
pub fn FieldMessage(problem: Signal<Option<Problem>>, field: &'static str) -> impl IntoView {
    move || {
        problem
            .get()
            .and_then(|p| p.field(field).map(str::to_string))
            .map(|message| view! { <p class="field-error" data-field=field>{message}</p> })
    }
}

/// A form's refusal that names none of the form's `fields` (the session ended, a rule across
/// fields), in a box: the field messages alone would show it nowhere.
#[component]
pub fn FormProblem(problem: Signal<Option<Problem>>, fields: &'static [&'static str]) -> impl IntoView {
    move || {
        problem
            .get()
            .filter(|p| fields.iter().all(|field| p.field(field).is_none()))
            .map(|problem| view! { <ProblemBox problem/> })
    }
}

/// Copies text to the clipboard (browser only; a no-op while rendering on the server).
pub fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// Live updates from the server (`/ui-api/live`, server-sent events) about one tenant: `tick`
/// grows on every change, `connected` tells whether the stream is open, `ended` why it stopped
/// for good (the session ended: the server says so and closes; or the browser gave up
/// reconnecting). Pages refetch when `tick` moves.
#[derive(Clone, Copy)]
pub struct Live {
    pub tick: RwSignal<u64>,
    pub connected: RwSignal<bool>,
    pub ended: RwSignal<Option<String>>,
}

pub fn live_updates(tenant: impl Fn() -> String + Send + Sync + 'static) -> Live {
    let live = Live { tick: RwSignal::new(0), connected: RwSignal::new(false), ended: RwSignal::new(None) };
    // Effects run only in the browser, so the stream opens once the page is hydrated. It follows
    // the tenant of the route: switching tenants keeps the page and opens a stream for the new
    // one (the old one is closed by the cleanup below).
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let query: leptos_router::params::ParamsMap = [("tenant", tenant())].into_iter().collect();
        let Ok(source) = web_sys::EventSource::new(&format!("/ui-api/live{}", query.to_query_string())) else {
            return;
        };
        let on_change = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_| live.tick.update(|t| *t += 1));
        let on_ended = {
            let source = source.clone();
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                // Closed here, or the browser would reconnect and be refused.
                source.close();
                live.connected.set(false);
                live.ended.set(Some(event.data().as_string().unwrap_or_default()));
            })
        };
        let on_open = Closure::<dyn Fn(web_sys::Event)>::new(move |_| live.connected.set(true));
        // The browser reconnects by itself after a dropped connection, and meanwhile the page says
        // it is not live; after a refusal (a non-200 answer) it gives up, and the page says so.
        let on_error = {
            let source = source.clone();
            Closure::<dyn Fn(web_sys::Event)>::new(move |_| {
                live.connected.set(false);
                if source.ready_state() == web_sys::EventSource::CLOSED && live.ended.get_untracked().is_none() {
                    live.ended.set(Some("live updates were refused".into()));
                }
            })
        };
        let _ = source.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("ended", on_ended.as_ref().unchecked_ref());
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let kept = StoredValue::new_local((source, on_change, on_ended, on_open, on_error));
        on_cleanup(move || {
            kept.try_with_value(|(source, ..)| source.close());
        });
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = tenant;
    live
}

/// "● live" while the server's change stream is open; once it has ended for good, why, and a
/// way back (signing in again returns to this page).
#[component]
pub fn LiveBadge(live: Live) -> impl IntoView {
    move || match live.ended.get() {
        Some(reason) => view! {
            <span class="live ended" role="alert" data-testid="live">
                {format!("\u{25cb} not live: {reason}")}" "<SignInAgain/>
            </span>
        }
        .into_any(),
        None => view! {
            <span class="live" class:on=move || live.connected.get() data-testid="live">
                {move || if live.connected.get() { "\u{25cf} live" } else { "\u{25cb} connecting" }}
            </span>
        }
        .into_any(),
    }
}

/// A link to the sign-in page that brings the admin back to the page they are on.
#[component]
pub fn SignInAgain() -> impl IntoView {
    view! { <a href=sign_in_here() data-testid="sign-in-again">"Sign in again"</a> }
}

/// The sign-in page's address, with this page (path and query) as where to return after it.
fn sign_in_here() -> impl Fn() -> String + Send + Sync + 'static {
    let location = leptos_router::hooks::use_location();
    move || {
        let (path, search) = (location.pathname.get(), location.search.get());
        let here = if search.is_empty() { path } else { format!("{path}?{search}") };
        let query: leptos_router::params::ParamsMap = [("next", here)].into_iter().collect();
        format!("/login{}", query.to_query_string())
    }
}

/// Adds or removes an event type from a chosen set.
pub fn toggle_event(events: RwSignal<Vec<String>>, name: String, on: bool) {
    events.update(|list| {
        list.retain(|e| *e != name);
        if on {
            list.push(name);
        }
    })
}

/// A checkbox per event type of the tenant's catalogue and per other type or family already
/// chosen, kept in `events`; the hub's own operational types are marked "(alert)". A box below
/// adds a type not published yet, or a family such as `invoice.*`.
#[component]
pub fn EventChoices(tenant: String, events: RwSignal<Vec<String>>) -> impl IntoView {
    let catalogue = LocalResource::new(move || crate::api::event_types(tenant.clone()));
    let typed = RwSignal::new(String::new());
    let typed_error = RwSignal::new(None::<&'static str>);
    let add = move || {
        let name = typed.get_untracked().trim().to_string();
        if name == "*" || !crate::models::valid_event_filter(&name) {
            typed_error.set(Some("an event type (lowercase letters, digits, _ . -) or a family such as invoice.*"));
            return;
        }
        typed_error.set(None);
        typed.set(String::new());
        if !events.with_untracked(|e| e.contains(&name)) {
            toggle_event(events, name, true);
        }
    };
    // A plain closure, not <Suspense>: see the audit page.
    let choices = move || match catalogue.get() {
        None => view! { <span class="muted">"Loading the catalogue…"</span> }.into_any(),
        Some(Err(problem)) => view! { <ProblemBox problem/> }.into_any(),
        Some(Ok(mut types)) => {
            // Chosen but not in the catalogue: families, and types not published yet.
            let chosen = events.get();
            types.extend(chosen.into_iter().filter(|e| e != "*" && !types.contains(e)).collect::<Vec<_>>());
            types
                .into_iter()
                .map(|name| {
                    let (n1, n2) = (name.clone(), name.clone());
                    let label = if crate::models::OPERATIONAL_EVENT_TYPES.contains(&name.as_str()) {
                        format!("{name} (alert)")
                    } else {
                        name.clone()
                    };
                    view! {
                        <label class="inline">
                            <input type="checkbox" value=name
                                prop:checked=move || events.with(|e| e.contains(&n1))
                                on:change=move |ev| toggle_event(events, n2.clone(), event_target_checked(&ev))/>
                            {label}
                        </label>
                    }
                })
                .collect_view()
                .into_any()
        }
    };
    view! {
        {choices}
        <span class="add-event">
            <input type="text" aria-label="Another event type or family" placeholder="invoice.paid or invoice.*"
                prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))
                on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); add() }/>
            <button type="button" class="secondary" on:click=move |_| add()>"Add"</button>
        </span>
        {move || typed_error.get().map(|message| view! { <p class="field-error" data-testid="event-type-error">{message}</p> })}
    }
}
