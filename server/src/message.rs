//! What a receiver gets: the message body, and the name the hub sends as its `User-Agent`.
//! Shared by the webhook sender, the Slack connector and the transformation editor (which shows
//! a program what the sender would give it).

pub const USER_AGENT_VALUE: &str = concat!("IntegrationsHub/", env!("CARGO_PKG_VERSION"));

/// The message as a receiver gets it.
pub struct Message<'a> {
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub created_at_ms: i64,
    pub payload: &'a str,
    /// The W3C `traceparent` of the attempt's span, sent so the receiver can continue the
    /// trace (tracing on only).
    pub traceparent: Option<&'a str>,
}

impl Message<'_> {
    /// `{id, type, event, timestamp, data}`; the payload is spliced in as stored (it is JSON
    /// already). `event` repeats `type` for receivers written for `{event, timestamp, data}`.
    pub fn body(&self) -> String {
        let timestamp = crate::time::rfc3339(self.created_at_ms);
        let mut body = String::with_capacity(self.payload.len() + 160);
        body.push_str("{\"id\":\"");
        body.push_str(self.event_id);
        body.push_str("\",\"type\":\"");
        body.push_str(self.event_type); // event types are [a-z0-9_.-]: nothing to escape
        body.push_str("\",\"event\":\"");
        body.push_str(self.event_type);
        body.push_str("\",\"timestamp\":\"");
        body.push_str(&timestamp);
        body.push_str("\",\"data\":");
        body.push_str(self.payload);
        body.push('}');
        body
    }
}
