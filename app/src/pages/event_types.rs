//! The Event types page: the catalogue with its schemas and examples, built-in and the tenant's
//! own; register, edit, archive or restore a type; choose which types publishing validates. The
//! server checks a schema as a JSON Schema (each problem named by its path) and the example
//! against it; this page first checks that both are JSON.

use leptos::prelude::*;

use super::layout::{latest, tenant_param, ProblemBox, ProblemWithFields, Shell};
use crate::api::{event_type_catalogue, ArchiveEventType, SaveEventType};
use crate::models::{EventTypeIn, EventTypeOut, FieldError, Problem};

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[component]
pub fn EventTypesPage() -> impl IntoView {
    // A memo is `Copy`: every row's buttons read it.
    let tenant = {
        let param = tenant_param();
        Memo::new(move |_| param())
    };
    let save = ServerAction::<SaveEventType>::new();
    let archive = ServerAction::<ArchiveEventType>::new();
    let catalogue = LocalResource::new(move || {
        save.version().track();
        archive.version().track();
        event_type_catalogue(tenant.get())
    });
    let listed = latest(catalogue);
    // `Some(None)`: a new type; `Some(Some(t))`: editing `t`.
    let editing = RwSignal::new(None::<Option<EventTypeOut>>);
    let shown = RwSignal::new(None::<String>);
    view! {
        <Shell>
            <div class="toolbar">
                <h1>"Event types"</h1>
                <span class="spacer"></span>
                <button on:click=move |_| editing.set(Some(None))>"New event type"</button>
            </div>
            <p class="muted">"Each type can carry a JSON Schema (draft 2020-12) for its data and an example. With “validate”, a publish whose payload fails the schema is refused (422) with every failing path."</p>
            {move || archive.value().get().and_then(|r| r.err()).map(|problem| view! { <ProblemBox problem/> })}
            // No <Suspense>: around a LocalResource in server-rendered content it keeps its
            // fallback after hydration (see `latest`); the page-owned memo updates reliably.
            {move || match listed.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(problem)) => view! { <ProblemBox problem/> }.into_any(),
                    Some(Ok(types)) => {
                        view! {
                            <table class="table" data-testid="event-types">
                                <thead><tr><th>"Name"</th><th>"Description"</th><th>"Schema"</th><th>"Validate"</th><th></th></tr></thead>
                                <tbody>
                                    {types.into_iter().map(|t| {
                                        let name = t.name.clone();
                                        let open = {
                                            let name = name.clone();
                                            move || shown.get().as_deref() == Some(name.as_str())
                                        };
                                        let (toggle_name, edit_type) = (name.clone(), t.clone());
                                        let (schema, example) = (t.schema.clone(), t.example.clone());
                                        let archive_name = name.clone();
                                        let (archived, built_in) = (t.archived, t.built_in);
                                        view! {
                                            <tr data-type=name.clone() class:muted=archived>
                                                <td class="mono">{name.clone()}
                                                    {built_in.then(|| view! { " " <span class="badge pending">"built-in"</span> })}
                                                    {archived.then(|| view! { " " <span class="badge dead_letter">"archived"</span> })}
                                                </td>
                                                <td>{t.description.clone().unwrap_or_default()}</td>
                                                <td>
                                                    {if t.schema.is_some() {
                                                        view! { <button class="link" on:click=move |_| shown.update(|s| {
                                                            *s = if s.as_deref() == Some(toggle_name.as_str()) { None } else { Some(toggle_name.clone()) };
                                                        })>{let open = open.clone(); move || if open() { "Hide" } else { "View" }}</button> }.into_any()
                                                    } else {
                                                        view! { <span class="muted">"none"</span> }.into_any()
                                                    }}
                                                </td>
                                                <td data-testid="validate">{if t.validate { "on" } else { "off" }}</td>
                                                <td class="actions">
                                                    <button class="secondary" on:click=move |_| editing.set(Some(Some(edit_type.clone())))>"Edit"</button>
                                                    {(!built_in).then(|| view! {
                                                        <button class="secondary" on:click=move |_| {
                                                            archive.dispatch(ArchiveEventType { tenant_id: tenant.get_untracked(), name: archive_name.clone(), archived: !archived });
                                                        }>{if archived { "Restore" } else { "Archive" }}</button>
                                                    })}
                                                </td>
                                            </tr>
                                            {move || open().then(|| view! {
                                                <tr class="details"><td colspan="5">
                                                    <div class="row">
                                                        <div><h3>"Schema"</h3><pre class="body" data-testid="schema-view">{schema.as_ref().map(pretty).unwrap_or_default()}</pre></div>
                                                        <div><h3>"Example"</h3><pre class="body" data-testid="example-view">{example.as_ref().map(pretty).unwrap_or_else(|| "none".into())}</pre></div>
                                                    </div>
                                                </td></tr>
                                            })}
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
            }}
            {move || editing.get().map(|existing| view! { <EventTypeForm existing save on_close=move || editing.set(None)/> })}
        </Shell>
    }
}

/// Register a type or edit one: name (new only), description, schema and example as JSON,
/// validate. A built-in type keeps its schema: only "validate" can change.
#[component]
fn EventTypeForm(
    existing: Option<EventTypeOut>,
    save: ServerAction<SaveEventType>,
    on_close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let tenant = tenant_param();
    let is_new = existing.is_none();
    let built_in = existing.as_ref().is_some_and(|t| t.built_in);
    let name = RwSignal::new(existing.as_ref().map(|t| t.name.clone()).unwrap_or_default());
    let description = RwSignal::new(existing.as_ref().and_then(|t| t.description.clone()).unwrap_or_default());
    let schema = RwSignal::new(existing.as_ref().and_then(|t| t.schema.as_ref()).map(pretty).unwrap_or_default());
    let example = RwSignal::new(existing.as_ref().and_then(|t| t.example.as_ref()).map(pretty).unwrap_or_default());
    let validate = RwSignal::new(existing.as_ref().is_some_and(|t| t.validate));
    let local = RwSignal::new(None::<Problem>);
    let dispatched = RwSignal::new(false);
    Effect::new(move |_| {
        if dispatched.get() && matches!(save.value().get(), Some(Ok(_))) {
            on_close();
        }
    });
    let problem =
        move || local.get().or_else(|| dispatched.get().then(|| save.value().get().and_then(|r| r.err())).flatten());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut bad = Problem::new(422, "Unprocessable Entity", "check the fields");
        let mut json = |field: &str, text: String| match text.trim() {
            "" => None,
            t => serde_json::from_str::<serde_json::Value>(t)
                .map_err(|e| {
                    bad.errors.push(FieldError { field: field.into(), message: format!("not valid JSON: {e}") })
                })
                .ok(),
        };
        let schema = json("schema", schema.get_untracked());
        let example = json("example", example.get_untracked());
        if !bad.errors.is_empty() {
            local.set(Some(bad));
            return;
        }
        local.set(None);
        let input = EventTypeIn {
            name: name.get_untracked().trim().to_string(),
            description: Some(description.get_untracked()).filter(|d| !d.trim().is_empty()),
            schema,
            example,
            validate: Some(validate.get_untracked()),
        };
        dispatched.set(true);
        save.dispatch(SaveEventType { tenant_id: tenant(), input, existing: !is_new });
    };
    view! {
        <div class="modal-backdrop">
            <form class="modal wide" on:submit=submit aria-label=if is_new { "New event type" } else { "Edit event type" }>
                <h2>{if is_new { "New event type".to_string() } else { format!("Edit {}", name.get_untracked()) }}</h2>
                {is_new.then(|| view! {
                    <label for="et-name">"Name (lowercase letters, digits, _ . -)"</label>
                    <input id="et-name" type="text" placeholder="order.paid" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                })}
                {(!built_in).then(|| view! {
                    <label for="et-description">"Description (optional)"</label>
                    <input id="et-description" type="text" prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))/>
                    <label for="et-schema">"JSON Schema for the data (optional, draft 2020-12)"</label>
                    <textarea id="et-schema" rows="10" spellcheck="false" class="mono" placeholder="{\"type\": \"object\", \"required\": [\"order_id\"]}"
                        prop:value=move || schema.get() on:input=move |ev| schema.set(event_target_value(&ev))></textarea>
                    <label for="et-example">"Example data (optional; must satisfy the schema)"</label>
                    <textarea id="et-example" rows="5" spellcheck="false" class="mono" prop:value=move || example.get()
                        on:input=move |ev| example.set(event_target_value(&ev))></textarea>
                })}
                {built_in.then(|| view! { <p class="muted">"A built-in type keeps the hub's schema; you choose whether your publishes of it are validated."</p> })}
                <label class="inline">
                    <input id="et-validate" type="checkbox" prop:checked=move || validate.get() on:change=move |ev| validate.set(event_target_checked(&ev))/>
                    "Validate published payloads against the schema (refuse those that fail)"
                </label>
                {move || problem().map(|problem| view! { <ProblemWithFields problem/> })}
                <div class="toolbar">
                    <button type="submit" disabled=move || save.pending().get()>{move || if save.pending().get() { "Saving…" } else { "Save" }}</button>
                    <button type="button" class="secondary" on:click=move |_| on_close()>"Cancel"</button>
                </div>
            </form>
        </div>
    }
}
