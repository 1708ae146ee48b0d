//! The delivery log and the dead letters: filters (status, endpoint, event type, time), status
//! badges, rows that expand into their attempts and replay chain, replay buttons, bulk replay of
//! dead letters, a page at a time, and live updates over server-sent events.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;

use super::layout::{
    live_updates, local_input_to_utc, short_time, tenant_param, Kept, KeptFor, LiveBadge, ProblemBox, Shell,
};
use super::pager::{Pager, PagerBar};
use super::url_filters::{keep_in_url, opened_with};
use crate::api::{
    event_types, get_delivery, get_event, list_deliveries, list_webhooks, BulkReplay, ReplayDelivery, RetryDelivery,
};
use crate::models::*;

#[component]
pub fn DeliveriesPage() -> impl IntoView {
    view! { <DeliveryLog dead_letters=false/> }
}

#[component]
pub fn DeadLettersPage() -> impl IntoView {
    view! { <DeliveryLog dead_letters=true/> }
}

#[component]
fn DeliveryLog(dead_letters: bool) -> impl IntoView {
    let tenant = tenant_param();
    let live = live_updates(tenant.clone());
    // The filters start from the URL's query and are written back to it, so a filtered log can
    // be linked to (the Webhooks page, the Dashboard and Slack messages do).
    let given = opened_with();
    let status = RwSignal::new(if dead_letters {
        Some(DeliveryStatus::DeadLetter)
    } else {
        given("status").and_then(|s| DeliveryStatus::parse(&s))
    });
    let webhook_id = RwSignal::new(given("webhook_id"));
    let event_type = RwSignal::new(given("event_type"));
    let event_id = RwSignal::new(given("event_id"));
    let since = RwSignal::new(given("since").unwrap_or_default());
    let until = RwSignal::new(given("until").unwrap_or_default());
    keep_in_url(move || {
        vec![
            ("status", status.get().filter(|_| !dead_letters).map_or_else(String::new, |s| s.as_str().to_string())),
            ("webhook_id", webhook_id.get().unwrap_or_default()),
            ("event_type", event_type.get().unwrap_or_default()),
            ("event_id", event_id.get().unwrap_or_default()),
            ("since", since.get()),
            ("until", until.get()),
        ]
    });
    let pager = Pager::default();
    let filter = Memo::new(move |_| DeliveryFilter {
        status: status.get(),
        webhook_id: webhook_id.get(),
        event_type: event_type.get(),
        event_id: event_id.get(),
        since: local_input_to_utc(since.get()),
        until: local_input_to_utc(until.get()),
    });
    // Fetched in the browser only: the log is live, and its rows are keyed so that a refresh
    // keeps the rows that did not change (with their open details and messages). A live update
    // fetches the page shown again: on an older page, the same deliveries with their news.
    let deliveries = LocalResource::new({
        let tenant = tenant.clone();
        move || {
            live.tick.track();
            list_deliveries(tenant(), filter.get(), pager.cursor())
        }
    });
    let page = Memo::new(move |previous: Option<&Page<DeliveryOut>>| match deliveries.get() {
        Some(Ok(page)) => page,
        _ => previous.cloned().unwrap_or(Page { data: Vec::new(), next_cursor: None }),
    });
    let rows = Memo::new(move |_| page.with(|p| p.data.clone()));
    let next = Signal::derive(move || page.with(|p| p.next_cursor.clone()));
    let failure = Memo::new(move |_| deliveries.get().and_then(|r| r.err()));
    let loaded = Memo::new(move |_| deliveries.get().is_some());
    let expanded = RwSignal::new(HashSet::<String>::new());
    // The outcome of the last replay, kept here because the replayed row may be redrawn.
    let notice = RwSignal::new(None::<Result<String, Problem>>);
    let endpoints = LocalResource::new({
        let tenant = tenant.clone();
        move || list_webhooks(tenant())
    });
    // Each row names its endpoint by URL, from the list the endpoint filter shows (nothing until
    // it has loaded); an endpoint deleted since is named by its id.
    let endpoint_urls = Memo::new(move |_| {
        endpoints.get().and_then(Result::ok).map(|list| {
            list.into_iter().map(|w| (w.id.into_string(), w.name.unwrap_or(w.url))).collect::<HashMap<_, _>>()
        })
    });
    let catalogue = LocalResource::new({
        let tenant = tenant.clone();
        move || event_types(tenant())
    });
    // A new filter starts again from its newest deliveries.
    let choose = move |signal: RwSignal<Option<String>>| {
        move |ev| {
            pager.reset();
            signal.set(Some(event_target_value(&ev).trim().to_string()).filter(|v| !v.is_empty()))
        }
    };
    let time = move |signal: RwSignal<String>| {
        move |ev| {
            pager.reset();
            signal.set(event_target_value(&ev))
        }
    };
    view! {
        <Shell>
            <div class="toolbar">
                <h1>{if dead_letters { "Dead letters" } else { "Deliveries" }}</h1>
                <span class="spacer"></span>
                <LiveBadge live/>
            </div>
            <div class="toolbar filters">
                {(!dead_letters).then(|| view! {
                    <span class="filter"><label for="status-filter">"Status"</label>
                    <select id="status-filter" on:change=move |ev| {
                        pager.reset();
                        status.set(DeliveryStatus::parse(&event_target_value(&ev)))
                    }>
                        <option value="">"all"</option>
                        {DeliveryStatus::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=move || status.get() == Some(s)>{s.as_str()}</option>
                        }).collect_view()}
                    </select></span>
                })}
                <span class="filter"><label for="endpoint-filter">"Endpoint"</label>
                <select id="endpoint-filter" on:change=choose(webhook_id)>
                    <option value="">"all"</option>
                    <Suspense fallback=|| ()>
                        {move || endpoints.get().map(|r| r.unwrap_or_default().into_iter().map(|w| {
                            let chosen = Some(w.id.to_string()) == webhook_id.get_untracked();
                            view! { <option value=w.id.clone() selected=chosen>{w.name.unwrap_or(w.url)}</option> }
                        }).collect_view())}
                    </Suspense>
                </select></span>
                <span class="filter"><label for="type-filter">"Event type"</label>
                <select id="type-filter" on:change=choose(event_type)>
                    <option value="">"all"</option>
                    <Suspense fallback=|| ()>
                        {move || catalogue.get().map(|r| r.unwrap_or_default().into_iter().map(|t| {
                            let chosen = Some(&t) == event_type.get_untracked().as_ref();
                            let label = t.clone();
                            view! { <option value=t selected=chosen>{label}</option> }
                        }).collect_view())}
                    </Suspense>
                </select></span>
                <span class="filter"><label for="event-filter">"Event id"</label>
                <input id="event-filter" type="search" placeholder="evt_…" prop:value=move || event_id.get().unwrap_or_default()
                    on:change=choose(event_id)/></span>
                <span class="filter"><label for="since-filter">"Since (UTC)"</label>
                <input id="since-filter" type="datetime-local" prop:value=move || since.get() on:change=time(since)/></span>
                <span class="filter"><label for="until-filter">"Until (UTC)"</label>
                <input id="until-filter" type="datetime-local" prop:value=move || until.get() on:change=time(until)/></span>
            </div>
            {dead_letters.then(|| view! {
                <BulkReplayBar filter none_listed=Signal::derive(move || rows.with(Vec::is_empty))
                    on_done=move || live.tick.update(|t| *t += 1)/>
            })}
            {move || notice.get().map(|n| match n {
                Ok(message) => view! { <p role="status" data-testid="replay-notice">{message}</p> }.into_any(),
                Err(problem) => view! { <ProblemBox problem/> }.into_any(),
            })}
            {move || failure.get().map(|problem| view! { <ProblemBox problem/> })}
            {move || (!loaded.get()).then(|| view! { <p class="muted">"Loading…"</p> })}
            // Not under a refusal: its box says why nothing is listed.
            {move || (loaded.get() && failure.with(Option::is_none) && rows.with(Vec::is_empty)).then(|| {
                let f = filter.get();
                let filtered = f.webhook_id.is_some() || f.event_type.is_some() || f.event_id.is_some()
                    || f.since.is_some() || f.until.is_some() || (!dead_letters && f.status.is_some());
                let message = match (dead_letters, filtered) {
                    (true, true) => "No dead letter matches these filters.",
                    (true, false) => "No dead letter: everything accepted was delivered or is still being tried.",
                    (false, true) => "No delivery matches these filters.",
                    (false, false) => "No delivery yet: publish an event of a type an endpoint subscribes to.",
                };
                view! { <p class="muted" data-testid="deliveries-empty">{message}</p> }
            })}
            <table class="table" data-testid="deliveries" class:hidden=move || !loaded.get() || rows.with(Vec::is_empty)>
                <thead><tr>
                    <th>"Delivery"</th><th>"Event, endpoint"</th><th>"Status"</th>
                    <th>"Attempts"</th><th>"Last response"</th><th>"Created"</th><th></th>
                </tr></thead>
                <tbody>
                    <For each=move || rows.get() key=|d| (d.id.clone(), d.status, d.attempt_count) let:delivery>
                        <DeliveryRow delivery endpoint_urls expanded on_acted=move |outcome| {
                            notice.set(Some(outcome));
                            live.tick.update(|t| *t += 1);
                        }/>
                    </For>
                </tbody>
            </table>
            <PagerBar pager next/>
            <KeptFor rows=if dead_letters { Kept::DeadLetters } else { Kept::Deliveries }/>
        </Shell>
    }
}

#[component]
fn DeliveryRow(
    delivery: DeliveryOut,
    endpoint_urls: Memo<Option<HashMap<String, String>>>,
    expanded: RwSignal<HashSet<String>>,
    on_acted: impl Fn(Result<String, Problem>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let replay = ServerAction::<ReplayDelivery>::new();
    let retry = ServerAction::<RetryDelivery>::new();
    let (replayed, retried) = (delivery.id.clone(), delivery.id.clone());
    Effect::new(move |_| {
        if let Some(result) = replay.value().get() {
            on_acted(result.map(|new| format!("Replayed {replayed} as {}", new.id)));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = retry.value().get() {
            on_acted(result.map(|_| format!("Retrying {retried} now")));
        }
    });
    let (row_id, toggle_id) = (StoredValue::new(delivery.id.to_string()), delivery.id.to_string());
    let is_open = move || row_id.with_value(|id| expanded.with(|e| e.contains(id)));
    let d = delivery.clone();
    // A failed delivery is still being retried: "Retry now" sends it at once, where a replay
    // would send the event a second time beside it. Finished ones are replayed.
    let replayable = matches!(d.status, DeliveryStatus::Delivered | DeliveryStatus::DeadLetter);
    let waiting = d.status == DeliveryStatus::Failed;
    let (tenant, id) = (d.tenant_id.clone(), d.id.clone());
    let (retry_tenant, retry_id) = (d.tenant_id.clone(), d.id.clone());
    let detail_id = d.id.clone();
    let detail_tenant = d.tenant_id.clone();
    let detail_event = d.event_id.clone();
    view! {
        <tr data-id=d.id.clone() data-event-id=d.event_id.clone() class="clickable" on:click=move |_| expanded.update(|e| {
            if !e.remove(&toggle_id) {
                e.insert(toggle_id.clone());
            }
        })>
            // The row opens on a click anywhere; this button (whose click reaches the row) is how
            // a keyboard or a screen reader opens it, and says whether it is open.
            <td><button type="button" class="link" aria-expanded=move || is_open().to_string()>
                <code>{d.id.clone()}</code>
            </button>{d.replay_of.clone().map(|of| view! { <div class="muted">"replay of "<code>{of}</code></div> })}</td>
            <td>{d.event_type.clone()}<div class="muted" data-testid="delivery-endpoint">{
                let webhook_id = d.webhook_id.to_string();
                move || endpoint_urls.with(|urls| match urls.as_ref().map(|urls| urls.get(&webhook_id)) {
                    None => ().into_any(),
                    Some(Some(url)) => view! { <code class="clip" title=url.clone()>{url.clone()}</code> }.into_any(),
                    Some(None) => view! { <code class="clip" title=webhook_id.clone()>{format!("deleted {webhook_id}")}</code> }.into_any(),
                })
            }</div></td>
            <td>
                <span class=format!("badge {}", d.status.as_str())>{d.status.as_str()}</span>
                {d.next_attempt_at.as_deref().filter(|_| waiting).map(|at| view! { <div class="muted">"next "{short_time(at)}</div> })}
            </td>
            <td data-testid="attempt-count">{d.attempt_count}</td>
            <td>{d.last_status_code.map(|c| c.to_string()).or(d.last_error.clone()).unwrap_or_default()}</td>
            <td>{short_time(&d.created_at)}</td>
            <td class="actions" on:click=|ev| ev.stop_propagation()>
                {replayable.then(|| view! {
                    <button class="secondary" disabled=move || replay.pending().get() on:click=move |_| {
                        replay.dispatch(ReplayDelivery { tenant_id: tenant.to_string(), id: id.to_string() });
                    }>"Replay"</button>
                })}
                {waiting.then(|| view! {
                    <button class="secondary" title="Send it now instead of at its next retry" disabled=move || retry.pending().get()
                        on:click=move |_| {
                            retry.dispatch(RetryDelivery { tenant_id: retry_tenant.to_string(), id: retry_id.to_string() });
                        }>"Retry now"</button>
                })}
            </td>
        </tr>
        {move || is_open().then(|| view! {
            <tr class="detail"><td colspan="7"><DeliveryDetail tenant=detail_tenant.to_string() id=detail_id.to_string() event_id=detail_event.to_string()/></td></tr>
        })}
    }
}

/// A delivery's attempts (status, duration, response headers and body, error), its chain, and
/// the event's payload (what the receiver got as `data`).
#[component]
fn DeliveryDetail(tenant: String, id: String, event_id: String) -> impl IntoView {
    let event = LocalResource::new({
        let tenant = tenant.clone();
        move || get_event(tenant.clone(), event_id.clone())
    });
    let detail = LocalResource::new(move || get_delivery(tenant.clone(), id.clone()));
    view! {
        <Suspense fallback=|| ()>
            {move || event.get().map(|r| match r {
                Err(problem) => view! { <ProblemBox problem/> }.into_any(),
                Ok(event) => view! {
                    <details class="attempt" data-testid="payload">
                        <summary>{format!("Payload \u{b7} {} \u{b7} {}", event.event_type, event.id)}</summary>
                        <pre class="body">{serde_json::to_string_pretty(&event.payload).unwrap_or_default()}</pre>
                    </details>
                }.into_any(),
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p class="muted">"Loading attempts…"</p> }>
            {move || detail.get().map(|r| match r {
                Err(problem) => view! { <ProblemBox problem/> }.into_any(),
                Ok(d) => view! {
                    <div class="attempts" data-testid="attempts">
                        {(!d.replayed_from.is_empty() || !d.replays.is_empty()).then(|| view! {
                            <p class="muted" data-testid="chain">
                                {(!d.replayed_from.is_empty()).then(|| format!("Replays {}. ", d.replayed_from.join(" \u{2192} ")))}
                                {(!d.replays.is_empty()).then(|| format!("Replayed by {}.", d.replays.join(", ")))}
                            </p>
                        })}
                        {if d.attempts.is_empty() {
                            view! { <p class="muted">"No attempt yet."</p> }.into_any()
                        } else {
                            let last = d.attempts.len();
                            d.attempts.into_iter().map(|a| view! {
                                // The newest attempt is open: it is the one usually looked for.
                                <details class="attempt" open=a.attempt_number as usize == last>
                                    <summary>
                                        {format!("#{} \u{b7} {} \u{b7} {} ms \u{b7} ", a.attempt_number, short_time(&a.started_at), a.duration_ms)}
                                        {a.status_code.map(|c| format!("HTTP {c}")).unwrap_or_else(|| a.error_kind.clone().unwrap_or_default())}
                                    </summary>
                                    {a.error_message.clone().map(|m| view! { <p class="error">{m}</p> })}
                                    {(!a.response_headers.is_empty()).then(|| view! {
                                        <pre class="headers">{a.response_headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect::<String>()}</pre>
                                    })}
                                    {a.response_body.clone().filter(|b| !b.is_empty()).map(|b| view! { <pre class="body">{b}</pre> })}
                                </details>
                            }).collect_view().into_any()
                        }}
                    </div>
                }.into_any(),
            })}
        </Suspense>
    }
}

/// Replays every dead letter the filters select, on every page, after a confirmation.
#[component]
fn BulkReplayBar(
    filter: Memo<DeliveryFilter>,
    /// The log shows no dead letter: with the same filters on its first page, there is none to replay.
    none_listed: Signal<bool>,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let tenant = tenant_param();
    let bulk = ServerAction::<BulkReplay>::new();
    let confirming = RwSignal::new(false);
    Effect::new(move |_| {
        if matches!(bulk.value().get(), Some(Ok(_))) {
            on_done();
        }
    });
    view! {
        <div class="toolbar">
            {move || if confirming.get() {
                let tenant = tenant.clone();
                view! {
                    <span>"Replay every dead letter these filters select, on every page? Each becomes a new delivery. "</span>
                    <button on:click=move |_| {
                        // Exactly what the log lists: before, only the endpoint was passed on, so
                        // a type or event chosen here was replayed with every other dead letter.
                        let f = filter.get_untracked();
                        let input = BulkReplayIn {
                            status: Some("dead_letter".into()),
                            webhook_id: f.webhook_id,
                            event_type: f.event_type,
                            event_id: f.event_id,
                            since: f.since,
                            until: f.until,
                        };
                        bulk.dispatch(BulkReplay { tenant_id: tenant(), input });
                        confirming.set(false);
                    }>"Yes, replay them"</button>
                    <button class="secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                }.into_any()
            } else {
                view! {
                    <button disabled=move || bulk.pending().get() || none_listed.get() on:click=move |_| confirming.set(true)>"Replay all"</button>
                }.into_any()
            }}
            {move || bulk.value().get().map(|r| match r {
                Ok(out) => view! { <span role="status" data-testid="bulk-result">{format!("{} replayed", out.replayed)}</span> }.into_any(),
                Err(problem) => view! { <ProblemBox problem/> }.into_any(),
            })}
        </div>
    }
}
