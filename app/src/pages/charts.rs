//! Small SVG charts drawn by the app itself (no chart library, nothing fetched): hourly bars
//! and lines over a fixed 600×160 canvas that CSS scales to the page.

use leptos::prelude::*;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 18.0;

fn plot_height() -> f64 {
    HEIGHT - TOP - BOTTOM
}

/// y of `value` on a scale from 0 to `max`.
fn y(value: f64, max: f64) -> f64 {
    TOP + plot_height() * (1.0 - (value / max).clamp(0.0, 1.0))
}

/// A round upper end for an axis, so the top label reads well (1, 2, 5, 10, 20, 50, ...).
pub fn nice_max(value: f64) -> f64 {
    if value <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|m| *m >= value).unwrap_or(10.0 * magnitude)
}

/// Labels under the first and last slot (hours, as `MM-DD HH:00`).
fn x_labels(labels: &[String]) -> impl IntoView {
    let first = labels.first().cloned().unwrap_or_default();
    let last = labels.last().cloned().unwrap_or_default();
    view! {
        <text x="0" y=HEIGHT - 4.0 class="axis">{first}</text>
        <text x=WIDTH y=HEIGHT - 4.0 class="axis" text-anchor="end">{last}</text>
    }
}

/// Stacked bars per slot: the good part below, the bad part on top.
#[component]
pub fn StackedBars(
    title: &'static str,
    labels: Vec<String>,
    good: Vec<i64>,
    bad: Vec<i64>,
    #[prop(into)] testid: String,
) -> impl IntoView {
    let max = nice_max(good.iter().zip(&bad).map(|(g, b)| (g + b) as f64).fold(0.0, f64::max));
    let slot = WIDTH / good.len().max(1) as f64;
    let bars = good
        .iter()
        .zip(&bad)
        .enumerate()
        .filter(|(_, (g, b))| **g + **b > 0)
        .map(|(i, (&g, &b))| {
            let x = i as f64 * slot + slot * 0.1;
            let w = slot * 0.8;
            let (g_top, b_top) = (y(g as f64, max), y((g + b) as f64, max));
            let tip = format!("{}: {} ok, {} failed", labels.get(i).cloned().unwrap_or_default(), g, b);
            view! {
                <g data-slot=i>
                    <title>{tip}</title>
                    <rect class="bar-good" x=x y=g_top width=w height=TOP + plot_height() - g_top/>
                    <rect class="bar-bad" x=x y=b_top width=w height=g_top - b_top/>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=title data-testid=testid>
                <line class="grid" x1="0" x2=WIDTH y1=TOP y2=TOP/>
                <line class="grid" x1="0" x2=WIDTH y1=TOP + plot_height() y2=TOP + plot_height()/>
                <text x="2" y=TOP - 2.0 class="axis">{max.to_string()}</text>
                {bars}
                {x_labels(&labels)}
            </svg>
        </figure>
    }
}

/// One line of a [`Lines`] chart; `None` leaves a gap (an hour without data).
#[derive(Clone)]
pub struct Series {
    pub name: &'static str,
    pub class: &'static str,
    pub values: Vec<Option<f64>>,
}

/// Lines per slot on one scale, with a legend; `unit` follows the top label.
#[component]
pub fn Lines(
    title: &'static str,
    labels: Vec<String>,
    series: Vec<Series>,
    /// The top of the scale; `None` fits the data.
    max: Option<f64>,
    unit: &'static str,
    #[prop(into)] testid: String,
) -> impl IntoView {
    let max = max.unwrap_or_else(|| {
        nice_max(series.iter().flat_map(|s| s.values.iter().flatten().copied()).fold(0.0, f64::max))
    });
    let slots = series.first().map_or(1, |s| s.values.len()).max(1);
    let slot = WIDTH / slots as f64;
    let x = move |i: usize| i as f64 * slot + slot / 2.0;
    let lines = series
        .iter()
        .map(|s| {
            // Consecutive hours with data form one segment; a lone point is drawn as a dot.
            let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for (i, value) in s.values.iter().enumerate() {
                match value {
                    Some(v) => segments.last_mut().expect("one").push((x(i), y(*v, max))),
                    None if !segments.last().expect("one").is_empty() => segments.push(Vec::new()),
                    None => {}
                }
            }
            let class = s.class;
            segments
                .into_iter()
                .filter(|points| !points.is_empty())
                .map(|points| {
                    if points.len() == 1 {
                        view! { <circle class=class cx=points[0].0 cy=points[0].1 r="3"/> }.into_any()
                    } else {
                        let d = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
                        view! { <polyline class=class points=d/> }.into_any()
                    }
                })
                .collect_view()
        })
        .collect_view();
    let legend =
        series.iter().map(|s| view! { <span class=format!("legend {}", s.class)>{s.name}</span> }).collect_view();
    view! {
        <figure class="chart">
            <figcaption>{title}" "{legend}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=title data-testid=testid>
                <line class="grid" x1="0" x2=WIDTH y1=TOP y2=TOP/>
                <line class="grid" x1="0" x2=WIDTH y1=TOP + plot_height() y2=TOP + plot_height()/>
                <text x="2" y=TOP - 2.0 class="axis">{format!("{max}{unit}")}</text>
                {lines}
                {x_labels(&labels)}
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::nice_max;

    #[test]
    fn axis_tops_are_round_numbers_at_or_above_the_data() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(3.0), 5.0);
        assert_eq!(nice_max(10.0), 10.0);
        assert_eq!(nice_max(11.0), 20.0);
        assert_eq!(nice_max(740.0), 1000.0);
    }
}
