//! Paging through a list the server answers a page at a time, newest first (the delivery log and
//! the audit log): "Older" follows the page's `next_cursor`; "Newer" and "Newest" go back along
//! the cursors already followed, so the server keeps no state and a page shown twice is the same
//! rows (a cursor is a position in the list, not an offset that new rows would shift).

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Pager {
    /// The `next_cursor` that led to each page after the first; the last one is the page shown.
    trail: RwSignal<Vec<String>>,
}

impl Default for Pager {
    fn default() -> Self {
        Self { trail: RwSignal::new(Vec::new()) }
    }
}

impl Pager {
    /// The cursor of the page shown, `None` on the first. Tracked: a resource that reads it
    /// fetches again when the page changes.
    pub fn cursor(&self) -> Option<String> {
        self.trail.with(|trail| trail.last().cloned())
    }

    /// Back to the first page, as when a filter changes: a cursor of another filter's list would
    /// start this one at an arbitrary place.
    pub fn reset(&self) {
        self.trail.maybe_update(|trail| !std::mem::take(trail).is_empty());
    }

    fn number(&self) -> usize {
        self.trail.with(Vec::len) + 1
    }

    fn older(&self, next: String) {
        // A second click before the older page has come would follow the same cursor again.
        self.trail.maybe_update(|trail| {
            let fresh = trail.last() != Some(&next);
            if fresh {
                trail.push(next);
            }
            fresh
        });
    }

    fn newer(&self) {
        self.trail.update(|trail| {
            trail.pop();
        });
    }
}

/// "Newest · Newer · Page N · Older" under a paged list; `next` is the shown page's
/// `next_cursor`. Hidden while the list fits on one page.
#[component]
pub fn PagerBar(pager: Pager, #[prop(into)] next: Signal<Option<String>>) -> impl IntoView {
    let first = move || pager.number() == 1;
    view! {
        <nav class="pager" aria-label="Pages" data-testid="pager" class:hidden=move || first() && next.with(Option::is_none)>
            <button class="secondary" disabled=first on:click=move |_| pager.reset()>"Newest"</button>
            <button class="secondary" disabled=first on:click=move |_| pager.newer()>"\u{2190} Newer"</button>
            <span class="muted" data-testid="page-number">{move || format!("Page {}", pager.number())}</span>
            <button class="secondary" disabled=move || next.with(Option::is_none)
                on:click=move |_| if let Some(cursor) = next.get_untracked() { pager.older(cursor) }>
                "Older \u{2192}"
            </button>
        </nav>
    }
}
