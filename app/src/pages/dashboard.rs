//! The dashboard: live counters, charts (volume, success rate, latency) and the health of every
//! endpoint, hour by hour over the last 24 hours or 7 days and day by day over 30 or 90 days
//! (those the retention keeps), with the replays made in the window; refreshed as deliveries
//! complete.

use leptos::prelude::*;

use super::charts::{Lines, Series, StackedBars};
use super::layout::{live_updates, tenant_param, LiveBadge, ProblemBox, Shell, SignedIn};
use crate::api::tenant_stats;
use crate::models::{CircuitState, EndpointStatsOut, ReplayStatsOut, StatsOut, StatsSummaryOut, StatsWindow};

/// The badge class of an endpoint's health: disabled, no attempts, ≥ 99 % delivered, or failing.
pub fn health_badge(e: &EndpointStatsOut) -> &'static str {
    match e.stats.success_rate {
        _ if !e.enabled => "badge dead_letter",
        _ if e.circuit != CircuitState::Closed => "badge failed",
        None => "badge pending",
        Some(r) if r >= 0.99 => "badge delivered",
        Some(_) => "badge failed",
    }
}

/// `0.953` → `95.3 %`; no attempts → `–`.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".to_string(), |r| format!("{:.1} %", r * 100.0))
}

fn millis(value: Option<i64>) -> String {
    value.map_or_else(|| "–".to_string(), |ms| format!("≤ {ms} ms"))
}

/// The most frequent error kind, as `timeout ×3`.
fn top_error(stats: &StatsSummaryOut) -> String {
    stats.errors.iter().max_by_key(|(_, n)| **n).map_or_else(String::new, |(kind, n)| format!("{kind} ×{n}"))
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let tenant = tenant_param();
    let live = live_updates(tenant.clone());
    let window = RwSignal::new(StatsWindow::Day);
    let stats = LocalResource::new(move || {
        live.tick.track();
        tenant_stats(tenant(), window.get())
    });
    // Keeps the last figures on screen while a refresh is on its way.
    let shown = Memo::new(move |previous: Option<&Option<StatsOut>>| match stats.get() {
        Some(Ok(s)) => Some(s),
        _ => previous.cloned().flatten(),
    });
    let failure = Memo::new(move |_| stats.get().and_then(|r| r.err()));
    let choose = move |w: StatsWindow| {
        view! {
            <button class="secondary" class:active=move || window.get() == w aria-pressed=move || (window.get() == w).to_string()
                on:click=move |_| window.set(w)>{w.label()}</button>
        }
    };
    view! {
        <Shell>
            <div class="toolbar">
                <h1>"Dashboard"</h1>
                <span class="spacer"></span>
                {move || {
                    // The windows the retention keeps data for (statistics stay 7 days at least).
                    let kept = use_context::<SignedIn>().and_then(|s| s.retention.delivery_days).map(|d| d.max(7));
                    StatsWindow::ALL.into_iter().filter(|w| kept.is_none_or(|d| w.days() <= d)).map(choose).collect_view()
                }}
                <LiveBadge live/>
            </div>
            {move || failure.get().map(|problem| view! { <ProblemBox problem/> })}
            {move || match shown.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(stats) => view! { <Figures stats/> }.into_any(),
            }}
        </Shell>
    }
}

#[component]
fn Figures(stats: StatsOut) -> impl IntoView {
    let tenant = untrack(tenant_param());
    let overall = stats.overall.clone();
    // Hours (`MM-DD HH:00`) over the short windows, days (`MM-DD`) over the long ones.
    let (volume_title, slots): (&'static str, Vec<(String, &StatsSummaryOut)>) = if stats.window.hourly() {
        let hours = stats.hours.iter();
        (
            "Attempts per hour",
            hours.map(|h| (h.hour.get(5..13).unwrap_or(&h.hour).replace('T', " ") + ":00", &h.stats)).collect(),
        )
    } else {
        (
            "Attempts per day",
            stats.days.iter().map(|d| (d.day.get(5..10).unwrap_or(&d.day).to_string(), &d.stats)).collect(),
        )
    };
    let labels: Vec<String> = slots.iter().map(|(label, _)| label.clone()).collect();
    let good: Vec<i64> = slots.iter().map(|(_, s)| s.succeeded).collect();
    let bad: Vec<i64> = slots.iter().map(|(_, s)| s.failed).collect();
    let rate = Series {
        name: "success rate",
        class: "line-good",
        values: slots.iter().map(|(_, s)| s.success_rate.map(|r| r * 100.0)).collect(),
    };
    let latency = |name, class, pick: fn(&StatsSummaryOut) -> Option<i64>| Series {
        name,
        class,
        values: slots.iter().map(|(_, s)| pick(s).map(|v| v as f64)).collect(),
    };
    let latencies = vec![
        latency("p50", "line-p50", |s| s.latency_ms.p50),
        latency("p95", "line-p95", |s| s.latency_ms.p95),
        latency("p99", "line-p99", |s| s.latency_ms.p99),
    ];
    view! {
        <section class="counters" data-testid="counters">
            <div class="counter"><span class="label">"Attempts"</span><strong data-testid="counter-attempts">{overall.attempts}</strong></div>
            <div class="counter"><span class="label">"Delivered"</span><strong data-testid="counter-succeeded">{overall.succeeded}</strong></div>
            <div class="counter"><span class="label">"Failed"</span><strong data-testid="counter-failed">{overall.failed}</strong></div>
            <div class="counter"><span class="label">"Success rate"</span><strong data-testid="counter-rate">{percent(overall.success_rate)}</strong></div>
            <div class="counter"><span class="label">"Latency p50 / p95 / p99"</span>
                <strong data-testid="counter-latency">{format!("{} / {} / {}", millis(overall.latency_ms.p50), millis(overall.latency_ms.p95), millis(overall.latency_ms.p99))}</strong></div>
        </section>
        <div class="charts">
            <StackedBars title=volume_title labels=labels.clone() good bad testid="chart-volume"/>
            <Lines title="Success rate" labels=labels.clone() series=vec![rate] max=Some(100.0) unit=" %" testid="chart-success"/>
            <Lines title="Attempt latency" labels series=latencies max=None unit=" ms" testid="chart-latency"/>
        </div>
        <h2>"Endpoint health"</h2>
        <table class="table" data-testid="endpoint-health">
            <thead><tr><th>"Endpoint"</th><th>"State"</th><th>"Attempts"</th><th>"Success rate"</th><th>"p95"</th><th>"Most frequent error"</th></tr></thead>
            <tbody>
                {stats.endpoints.into_iter().map(|e| {
                    let health = health_badge(&e);
                    let url = if e.url.is_empty() { format!("{} (deleted)", e.webhook_id) } else { e.url.clone() };
                    let log = format!("/tenants/{}/deliveries?webhook_id={}", tenant, e.webhook_id);
                    view! {
                        <tr data-webhook=e.webhook_id.clone()>
                            <td class="mono"><a href=log title="Its deliveries">{url}</a></td>
                            <td data-testid="endpoint-state"><span class=health>{match (e.enabled, e.circuit) {
                                (false, _) => "disabled",
                                (true, _) if e.paused => "paused",
                                (true, CircuitState::Closed) => "enabled",
                                (true, CircuitState::Open) => "circuit open",
                                (true, CircuitState::HalfOpen) => "circuit half-open",
                            }}</span></td>
                            <td>{e.stats.attempts}</td>
                            <td>{percent(e.stats.success_rate)}</td>
                            <td>{millis(e.stats.latency_ms.p95)}</td>
                            <td>{top_error(&e.stats)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <Replays replays=stats.replays/>
    }
}

/// The replays made in the window: how many, how they ended, and who made them.
#[component]
fn Replays(replays: ReplayStatsOut) -> impl IntoView {
    let total = replays.tally.clone();
    view! {
        <h2>"Replays"</h2>
        <section class="counters" data-testid="replay-counters">
            <div class="counter"><span class="label">"Replays"</span><strong data-testid="replays-made">{total.replays}</strong></div>
            <div class="counter"><span class="label">"Delivered"</span><strong data-testid="replays-delivered">{total.delivered}</strong></div>
            <div class="counter"><span class="label">"Dead-lettered again"</span><strong data-testid="replays-dead">{total.dead_letter}</strong></div>
            <div class="counter"><span class="label">"On their way"</span><strong>{total.in_flight}</strong></div>
            <div class="counter"><span class="label">"Success rate"</span><strong data-testid="replays-rate">{percent(replays.success_rate)}</strong></div>
        </section>
        {(!replays.by_actor.is_empty()).then(|| view! {
            <table class="table" data-testid="replays-by-actor">
                <thead><tr><th>"Replayed by"</th><th>"Replays"</th><th>"Delivered"</th><th>"Dead-lettered"</th><th>"On their way"</th></tr></thead>
                <tbody>
                    {replays.by_actor.into_iter().map(|a| {
                        let who = match (a.actor, a.name) {
                            (Some(id), Some(name)) => format!("{name} ({id})"),
                            (Some(actor), None) => actor,
                            (None, _) => "unrecorded (before replays were attributed)".to_string(),
                        };
                        view! {
                            <tr>
                                <td class="mono">{who}</td>
                                <td>{a.tally.replays}</td>
                                <td>{a.tally.delivered}</td>
                                <td>{a.tally.dead_letter}</td>
                                <td>{a.tally.in_flight}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}
