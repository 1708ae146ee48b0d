//! Pausing an endpoint: by hand (now, until a time or until resumed) or in maintenance windows
//! (from a start to an end, once or every week). While an endpoint is paused the worker gives its
//! claimed deliveries back, due when the pause ends, without an attempt: no failure is counted, no
//! retry used up, the circuit untouched. When the pause ends they go out as any due deliveries do
//! (in publish order for a FIFO endpoint).

use serde::{Deserialize, Serialize};

use app::models::{limits, MaintenanceIn, MaintenanceOut, MaintenanceWindow, PauseIn, TenantId, WebhookId, WebhookOut};

use super::auth::{Actor, Scope};
use super::tenants::audit_row;
use super::Hub;
use crate::error::{Error, Result};
use crate::store::{self, webhooks::WebhookRow};
use crate::time;

const WEEK_MS: i64 = 7 * 86_400_000;

/// A paused endpoint's deliveries are put off by at most this much at a time, so that a pause
/// until resumed does not park them forever if a resume were missed.
pub const LONGEST_DEFERRAL_MS: i64 = 3_600_000;

/// A maintenance window as stored (Unix ms).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub end: i64,
    #[serde(default)]
    pub weekly: bool,
}

impl Window {
    /// The end of the occurrence of this window that `now` falls in, if any.
    fn end_if_inside(&self, now: i64) -> Option<i64> {
        if now < self.start {
            return None;
        }
        let shift = if self.weekly { (now - self.start) / WEEK_MS * WEEK_MS } else { 0 };
        (now < self.end + shift).then_some(self.end + shift)
    }
}

pub fn windows_of(row: &WebhookRow) -> Vec<Window> {
    row.maintenance_windows.as_deref().and_then(|json| serde_json::from_str(json).ok()).unwrap_or_default()
}

/// Why and until when the endpoint's deliveries wait at `now`: `(reason, until)`, `until` being
/// `i64::MAX` for a pause by hand until resumed. Windows that touch or overlap are followed to
/// the end of the last.
pub fn paused(row: &WebhookRow, now: i64) -> Option<(&'static str, i64)> {
    if let Some(until) = row.paused_until.filter(|until| *until > now) {
        return Some(("manual", until));
    }
    let windows = windows_of(row);
    let mut end = windows.iter().filter_map(|w| w.end_if_inside(now)).max()?;
    while let Some(later) = windows.iter().filter_map(|w| w.end_if_inside(end)).max().filter(|e| *e > end) {
        end = later;
    }
    Some(("window", end))
}

pub fn maintenance_out(row: &WebhookRow, now: i64) -> MaintenanceOut {
    let state = paused(row, now);
    MaintenanceOut {
        paused: state.is_some(),
        reason: state.map(|(reason, _)| reason.to_string()),
        until: state.and_then(|(_, until)| (until != i64::MAX).then(|| time::rfc3339(until))),
        windows: windows_of(row)
            .into_iter()
            .map(|w| MaintenanceWindow { start: time::rfc3339(w.start), end: time::rfc3339(w.end), weekly: w.weekly })
            .collect(),
    }
}

/// The windows of a request, checked: each a valid start before its end, a weekly one at most a
/// week long, at most [`limits::MAINTENANCE_WINDOWS`]. Errors name the window (`windows[2].end`).
fn check_windows(input: &MaintenanceIn) -> Result<Vec<Window>> {
    let mut errors = Vec::new();
    if input.windows.len() > limits::MAINTENANCE_WINDOWS {
        errors.push(app::models::FieldError {
            field: "windows".into(),
            message: format!("at most {} windows", limits::MAINTENANCE_WINDOWS),
        });
    }
    let mut windows = Vec::new();
    for (i, w) in input.windows.iter().enumerate() {
        let mut fail = |field: &str, message: String| {
            errors.push(app::models::FieldError { field: format!("windows[{i}].{field}"), message })
        };
        let start = time::parse_rfc3339(&w.start);
        let end = time::parse_rfc3339(&w.end);
        if start.is_none() {
            fail("start", "must be an RFC 3339 time, such as 2026-12-24T22:00:00Z".into());
        }
        if end.is_none() {
            fail("end", "must be an RFC 3339 time, such as 2026-12-25T02:00:00Z".into());
        }
        let (Some(start), Some(end)) = (start, end) else { continue };
        if end <= start {
            fail("end", "must be after start".into());
        } else if w.weekly && end - start > WEEK_MS {
            fail("end", "a weekly window lasts at most 7 days".into());
        }
        windows.push(Window { start, end, weekly: w.weekly });
    }
    if errors.is_empty() {
        Ok(windows)
    } else {
        Err(Error::Validation(errors))
    }
}

/// A change to an endpoint's pause or windows.
enum Change<'a> {
    /// Paused until then (`i64::MAX`: until resumed), or resumed (`None`).
    Pause(Option<i64>),
    /// The windows as stored (`None`: none).
    Windows(Option<&'a str>),
}

impl Hub {
    /// Pauses an endpoint now, until `until` or until resumed.
    pub async fn pause_webhook(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &WebhookId,
        input: PauseIn,
    ) -> Result<WebhookOut> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        let until = match input.until.as_deref() {
            None => i64::MAX,
            Some(text) => super::keys::parse_expiry(Some(text), time::now_ms())
                .map_err(|m| Error::field("until", m))?
                .expect("given"),
        };
        self.change_maintenance(who, tenant_id, id, "webhook.paused", Change::Pause(Some(until))).await
    }

    /// Ends a pause by hand; its deliveries are due at once (unless a window still holds them).
    pub async fn resume_webhook(&self, who: &Actor, tenant_id: &TenantId, id: &WebhookId) -> Result<WebhookOut> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        self.change_maintenance(who, tenant_id, id, "webhook.resumed", Change::Pause(None)).await
    }

    /// Replaces an endpoint's maintenance windows.
    pub async fn set_maintenance(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &WebhookId,
        input: MaintenanceIn,
    ) -> Result<WebhookOut> {
        who.authorize(tenant_id, Scope::WebhooksWrite)?;
        let windows = check_windows(&input)?;
        let json = (!windows.is_empty()).then(|| serde_json::to_string(&windows).expect("numbers serialise"));
        self.change_maintenance(who, tenant_id, id, "webhook.maintenance_changed", Change::Windows(json.as_deref()))
            .await
    }

    /// Writes a change of the pause or windows with its audit entry, makes the deliveries it put
    /// off due now (the worker puts them off again if the endpoint is still paused), and wakes
    /// the worker.
    async fn change_maintenance(
        &self,
        who: &Actor,
        tenant_id: &TenantId,
        id: &WebhookId,
        action: &str,
        change: Change<'_>,
    ) -> Result<WebhookOut> {
        let now = time::now_ms();
        let mut tx = self.db.begin().await?;
        let found = match change {
            Change::Pause(until) => store::webhooks::set_pause(&mut tx, tenant_id, id, until, now).await?,
            Change::Windows(json) => {
                store::webhooks::set_maintenance_windows(&mut tx, tenant_id, id, json, now).await?
            }
        };
        if !found {
            return Err(Error::NotFound("webhook"));
        }
        store::deliveries::due_now_for_webhook(&mut tx, id, now).await?;
        store::audit::insert(&mut tx, &audit_row(who, Some(tenant_id), action, Some(id))).await?;
        tx.commit().await?;
        self.wake.notify_one();
        self.get_webhook(who, tenant_id, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn row(paused_until: Option<i64>, windows: &[Window]) -> WebhookRow {
        WebhookRow {
            paused_until,
            maintenance_windows: Some(serde_json::to_string(windows).unwrap()),
            ..Default::default()
        }
    }

    #[test]
    fn a_pause_by_hand_holds_until_its_end() {
        assert_eq!(paused(&row(Some(10 * HOUR), &[]), 9 * HOUR), Some(("manual", 10 * HOUR)));
        assert_eq!(paused(&row(Some(10 * HOUR), &[]), 10 * HOUR), None, "over");
        assert_eq!(paused(&row(Some(i64::MAX), &[]), 10 * HOUR), Some(("manual", i64::MAX)));
    }

    #[test]
    fn a_window_holds_from_its_start_to_its_end_and_a_weekly_one_every_week() {
        let once = Window { start: 100 * HOUR, end: 102 * HOUR, weekly: false };
        assert_eq!(paused(&row(None, &[once]), 99 * HOUR), None);
        assert_eq!(paused(&row(None, &[once]), 101 * HOUR), Some(("window", 102 * HOUR)));
        assert_eq!(paused(&row(None, &[once]), 102 * HOUR), None);
        assert_eq!(paused(&row(None, &[once]), 101 * HOUR + WEEK_MS), None, "once only");
        let weekly = Window { weekly: true, ..once };
        assert_eq!(paused(&row(None, &[weekly]), 101 * HOUR + 3 * WEEK_MS), Some(("window", 102 * HOUR + 3 * WEEK_MS)));
        assert_eq!(paused(&row(None, &[weekly]), 103 * HOUR + 3 * WEEK_MS), None);
        assert_eq!(paused(&row(None, &[weekly]), 101 * HOUR - WEEK_MS), None, "not before its first start");
    }

    #[test]
    fn windows_that_meet_are_followed_to_the_last_end() {
        let first = Window { start: 0, end: 2 * HOUR, weekly: false };
        let second = Window { start: 2 * HOUR, end: 5 * HOUR, weekly: false };
        assert_eq!(paused(&row(None, &[first, second]), HOUR), Some(("window", 5 * HOUR)));
    }

    #[test]
    fn windows_are_checked_and_the_errors_name_the_window() {
        let window =
            |start: &str, end: &str, weekly| MaintenanceWindow { start: start.into(), end: end.into(), weekly };
        let good = MaintenanceIn { windows: vec![window("2026-12-24T22:00:00Z", "2026-12-25T02:00:00Z", true)] };
        assert_eq!(check_windows(&good).unwrap().len(), 1);
        let bad = MaintenanceIn {
            windows: vec![
                window("2026-12-24T22:00:00Z", "2026-12-25T02:00:00Z", false),
                window("tomorrow", "2026-12-25T02:00:00Z", false),
                window("2026-12-25T02:00:00Z", "2026-12-24T22:00:00Z", false),
                window("2026-12-01T00:00:00Z", "2026-12-09T00:00:00Z", true),
            ],
        };
        let Err(Error::Validation(errors)) = check_windows(&bad) else { panic!() };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["windows[1].start", "windows[2].end", "windows[3].end"]);
    }
}
