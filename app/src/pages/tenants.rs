use leptos::prelude::*;

use super::layout::{latest, FieldMessage, FormProblem, ProblemBox, Shell, SignedIn};
use crate::api::{find_tenants, CreateTenant, RenameTenant};
use crate::models::{Page, Problem, TenantIn, TenantOut};

/// The tenants a name search found; `None` while there is no search.
type Found = Result<Option<Page<TenantOut>>, Problem>;

/// The landing page: the tenants this session may manage, and for the operator a form to add
/// one (a fresh hub has none, and nothing else in the UI works without one) and a search by name
/// (the session lists the first 500 tenants; the search finds any).
#[component]
pub fn TenantsPage() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let found = LocalResource::new(move || {
        let name = search.get().trim().to_string();
        async move {
            match name.is_empty() {
                true => Ok(None),
                false => find_tenants(name).await.map(Some),
            }
        }
    });
    // Read through `latest`, outside Shell: see there.
    let found = latest(found);
    view! {
        <Shell>
            <h1>"Tenants"</h1>
            <Tenants search found/>
        </Shell>
    }
}

/// Inside `Shell`: the list is the session's, from its context, or what the search found.
#[component]
fn Tenants(search: RwSignal<String>, found: Memo<Option<Found>>) -> impl IntoView {
    let signed_in = expect_context::<SignedIn>();
    let operator = signed_in.operator;
    view! {
        {operator.then(|| view! {
            <CreateForm/>
            <div class="toolbar">
                <label for="tenant-search">"Find a tenant"</label>
                <input id="tenant-search" type="search" placeholder="part of its name" prop:value=move || search.get()
                    on:change=move |ev| search.set(event_target_value(&ev))/>
            </div>
        })}
        {move || match found.get().filter(|_| !search.with(|s| s.trim().is_empty())) {
            Some(Err(problem)) => view! { <ProblemBox problem/> }.into_any(),
            Some(Ok(Some(page))) if page.data.is_empty() => {
                view! { <p class="muted" data-testid="tenants-none">"No tenant's name contains that."</p> }.into_any()
            }
            Some(Ok(Some(page))) => view! {
                <TenantList tenants=page.data operator/>
                {page.next_cursor.map(|_| view! { <p class="muted">"More tenants match: add to the search."</p> })}
            }.into_any(),
            _ => view! { <TenantList tenants=signed_in.tenants.get() operator/> }.into_any(),
        }}
    }
}

#[component]
fn TenantList(tenants: Vec<TenantOut>, operator: bool) -> impl IntoView {
    if tenants.is_empty() {
        let hint = if operator { "No tenant yet: create the first one above." } else { "No tenant." };
        return view! { <p class="muted">{hint}</p> }.into_any();
    }
    view! {
        <ul class="cards" data-testid="tenants">
            {tenants.into_iter().map(|t| view! { <TenantCard tenant=t operator/> }).collect_view()}
        </ul>
    }
    .into_any()
}

/// A tenant's card; the operator may rename it in place (the name's error shows under it).
#[component]
fn TenantCard(tenant: TenantOut, operator: bool) -> impl IntoView {
    let rename = ServerAction::<RenameTenant>::new();
    let shown = RwSignal::new(tenant.name.clone());
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let tenants = expect_context::<SignedIn>().tenants;
    Effect::new(move |_| {
        if let Some(Ok(renamed)) = rename.value().get() {
            shown.set(renamed.name.clone());
            editing.set(false);
            // The top bar's switcher shows the new name at once.
            tenants.update(|list| {
                if let Some(t) = list.iter_mut().find(|t| t.id == renamed.id) {
                    t.name = renamed.name;
                }
            });
        }
    });
    let problem = Signal::derive(move || rename.value().get().and_then(|r| r.err()));
    let id = tenant.id.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = TenantIn { name: draft.get_untracked().trim().to_string() };
        rename.dispatch(RenameTenant { tenant_id: id.to_string(), input });
    };
    let start = move |_| {
        draft.set(shown.get_untracked());
        rename.value().set(None);
        editing.set(true);
    };
    let tid = tenant.id.clone();
    view! {
        <li class="card" data-id=tenant.id.clone()>
            {move || if editing.get() {
                view! {
                    <form class="form" on:submit=save.clone() aria-label="Rename tenant">
                        <div class="toolbar">
                            <input type="text" aria-label="Tenant name" prop:value=move || draft.get()
                                on:input=move |ev| draft.set(event_target_value(&ev))/>
                            <button type="submit" disabled=move || rename.pending().get()>"Save"</button>
                            <button type="button" class="secondary" on:click=move |_| editing.set(false)>"Cancel"</button>
                        </div>
                        <FieldMessage problem field="name"/>
                        <FormProblem problem fields=&["name"]/>
                    </form>
                }.into_any()
            } else {
                view! {
                    <strong data-testid="tenant-name">{move || shown.get()}</strong>
                    {operator.then(|| view! { <button type="button" class="link" on:click=start>"Rename"</button> })}
                }.into_any()
            }}
            <code class="muted">{tenant.id.clone()}</code>
            <a href=format!("/tenants/{tid}/webhooks")>"Webhooks"</a>
            <a href=format!("/tenants/{tid}/deliveries")>"Deliveries"</a>
            <a href=format!("/tenants/{tid}/api-keys")>"API keys"</a>
        </li>
    }
}

/// The operator's "new tenant" form; the server's message for the name appears under it.
#[component]
fn CreateForm() -> impl IntoView {
    let create = ServerAction::<CreateTenant>::new();
    let name = RwSignal::new(String::new());
    let tenants = expect_context::<SignedIn>().tenants;
    Effect::new(move |_| {
        if let Some(Ok(tenant)) = create.value().get() {
            name.set(String::new());
            // The list below and the top bar's switcher show it at once.
            tenants.update(|list| list.push(tenant));
        }
    });
    let problem = Signal::derive(move || create.value().get().and_then(|r| r.err()));
    let created = move || {
        create.value().get().and_then(|r| r.ok()).map(|t| {
            view! { <p class="muted" role="status">{format!("Created \u{201c}{}\u{201d}.", t.name)}</p> }
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateTenant { input: TenantIn { name: name.get_untracked().trim().to_string() } });
    };
    view! {
        <form class="panel form" on:submit=submit aria-label="New tenant">
            <label for="tenant-name">"New tenant"</label>
            <div class="toolbar">
                <input id="tenant-name" type="text" placeholder="Name" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
                <button type="submit" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating…" } else { "Create tenant" }}
                </button>
            </div>
            <FieldMessage problem field="name"/>
            <FormProblem problem fields=&["name"]/>
            {created}
        </form>
    }
}
