#include "hangar/alerting/events.hpp"

#include <boost/json/serialize.hpp>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"

namespace hangar::alerting {

namespace json = boost::json;
using core::Fail;

namespace {

core::Error Invalid(std::string reason) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, std::move(reason));
}

}  // namespace

core::Result<Event> ReadEvent(const json::object& body) {
    Event e;
    std::string action = core::StrAt(body, "event_action");
    if (action == "trigger") {
        e.action = EventAction::kTrigger;
    } else if (action == "acknowledge") {
        e.action = EventAction::kAcknowledge;
    } else if (action == "resolve") {
        e.action = EventAction::kResolve;
    } else {
        return Fail(Invalid("'event_action' must be one of trigger, acknowledge, resolve"));
    }
    e.dedup_key = core::StrAt(body, "dedup_key");
    if (e.dedup_key.size() > 255) {
        return Fail(Invalid("'dedup_key' is longer than 255 characters"));
    }
    if (e.dedup_key.empty() && e.action != EventAction::kTrigger) {
        return Fail(Invalid("'dedup_key' is required to acknowledge or resolve"));
    }
    if (e.dedup_key.empty()) {
        e.dedup_key = core::NewRequestId().substr(4);
    }
    if (e.action != EventAction::kTrigger) {
        return e;
    }
    const json::value* pv = body.if_contains("payload");
    if (pv == nullptr || !pv->is_object()) {
        return Fail(Invalid("'payload' is missing or blank"));
    }
    const json::object& p = pv->as_object();
    e.summary = core::StrAt(p, "summary");
    e.source = core::StrAt(p, "source");
    e.severity = core::StrAt(p, "severity");
    if (e.summary.empty() || e.summary.size() > 1024) {
        return Fail(Invalid("'payload.summary' is missing or blank (at most 1024 characters)"));
    }
    if (e.source.empty()) {
        return Fail(Invalid("'payload.source' is missing or blank"));
    }
    if (e.severity != "critical" && e.severity != "error" && e.severity != "warning" &&
        e.severity != "info") {
        return Fail(Invalid("'payload.severity' must be one of critical, error, warning, info"));
    }
    e.event_class = core::StrAt(p, "class");
    e.component = core::StrAt(p, "component");
    e.group = core::StrAt(p, "group");
    if (const auto* d = p.if_contains("custom_details")) {
        e.details = d->is_string() ? std::string(d->as_string()) : json::serialize(*d);
    }
    e.client_url = core::StrAt(body, "client_url");
    return e;
}

void EventIntake::Apply(
    const std::string& tenant,
    const Event& e,
    const std::string& actor,
    const store::AuditEvent& audit
) {
    auto existing = alerts_.FindByLabel(tenant, "dedup_key", e.dedup_key);
    auto now = clock_.Now();
    switch (e.action) {
        case EventAction::kTrigger: {
            Alert a;
            if (existing) {
                a = *existing;  // same alert: its labels stay, its text follows the latest trigger
            } else {
                const std::string& cls = e.event_class;
                a.labels = {
                    {"alertname", cls.empty() || !metrics::ValidLabelName(cls) ? "Event" : cls},
                    {"dedup_key", e.dedup_key},
                    {"severity", e.severity}};
                (void)metrics::NormalizeLabelSet(a.labels);
                a.tenant = tenant;
                a.starts_at = now;
                a.source = "events";
            }
            a.annotations = {{"summary", e.summary}, {"source", e.source}};
            if (!e.component.empty()) {
                a.annotations["component"] = e.component;
            }
            if (!e.group.empty()) {
                a.annotations["group"] = e.group;
            }
            if (!e.details.empty()) {
                a.annotations["details"] = e.details;
            }
            a.generator_url = e.client_url;
            alerts_.Receive({a});
            return;
        }
        case EventAction::kResolve:
            if (existing) {
                existing->ends_at = now;
                alerts_.Receive({*existing});
            }
            return;
        case EventAction::kAcknowledge:
            if (existing) {
                pager_.AcknowledgeTenantPagesCarrying(
                    tenant, Fingerprint(existing->labels), actor, audit
                );
            }
            return;
    }
}

}  // namespace hangar::alerting
