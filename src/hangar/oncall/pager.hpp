#pragma once
// Pages: a notification to the person on call that waits for acknowledgement. A page belongs to
// the tenant whose escalation policy it follows and is keyed by a dedup key (the alert group),
// so repeated triggers update one open page. Unacknowledged pages escalate step by step;
// acknowledging stops escalation; resolving closes the page. Each page's status keeps its
// history: every notification (to whom, by which channel, delivered or not), acknowledgement,
// reassignment and resolution, with times, for incident timelines.

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/oncall/notifier.hpp"
#include "hangar/store/store.hpp"

namespace hangar::oncall {

struct PageRequest {
    std::string tenant;  // whose escalation policy
    std::string dedup_key;
    std::string title;          // "[P1] InstanceOOMKilled shop"
    std::string details;        // plain text, one line per alert
    std::string priority;       // P1..P4
    std::string policy;         // EscalationPolicy name in tenant
    boost::json::array alerts;  // [{tenant, fingerprint, alertname, state}]
    std::string incident;       // an incident this page is about, if any
};

class Pager {
public:
    Pager(
        store::Store& store,
        Notifier& notifier,
        const core::Clock& clock,
        std::string public_url
    );
    // Called with each page that opens (P1 pages declare incidents).
    void SetOnOpened(std::function<void(const store::Object&)> fn) { on_opened_ = std::move(fn); }
    // Loads the open pages (after a restart).
    void Load();
    // Opens a page for the dedup key, or updates the open one (no new notification).
    core::Result<std::string> Trigger(const PageRequest& req);
    // Notifies the current assignee of the open page again (a group's repeat_interval).
    void Renotify(const std::string& tenant, const std::string& dedup_key);
    // The alerts behind an open page all resolved.
    void
    ResolveKey(const std::string& tenant, const std::string& dedup_key, const std::string& why);
    // API actions; `by` is who did it; each write carries the caller's audit event.
    core::Result<store::Object>
    Acknowledge(const std::string& id, const std::string& by, const store::AuditEvent& audit);
    core::Result<store::Object>
    Resolve(const std::string& id, const std::string& by, const store::AuditEvent& audit);
    // Acknowledges the triggered pages that carry the alert `fingerprint` and nothing but
    // `tenant`'s alerts: a page that groups other tenants' alerts too (an operator's policy
    // grouping by alertname) is acknowledged by its own responders, not by one tenant's intake.
    void AcknowledgeTenantPagesCarrying(
        const std::string& tenant,
        const std::string& fingerprint,
        const std::string& by,
        const store::AuditEvent& audit
    );
    core::Result<store::Object> Reassign(
        const std::string& id,
        const std::string& user,
        const std::string& by,
        const store::AuditEvent& audit
    );
    // Escalates the pages whose step timed out. Called about once a second.
    void Tick();
    // Records a delivery outcome in the page's notifications.
    void RecordOutcome(const Message& m, bool delivered, const std::string& detail);
    // The open page for a dedup key, if any.
    std::optional<std::string> OpenPage(const std::string& tenant, const std::string& dedup_key);

private:
    // Notifies every target of `step` of the page's policy; returns the first user notified.
    std::string NotifyStep(
        store::Object& page,
        const boost::json::object& policy,
        size_t step,
        const std::string& why
    );
    void
    NotifyUser(store::Object& page, const std::string& user, size_t step, const std::string& why);
    void Send(store::Object& page, Message m, size_t step, const std::string& why);
    std::optional<boost::json::object> Policy(const std::string& tenant, const std::string& name);
    core::Result<store::Object> Change(
        const std::string& id,
        const store::AuditEvent& audit,
        const std::function<core::Result<void>(store::Object&)>& fn
    );
    void Close(const std::string& tenant, const std::string& key, const std::string& id);
    store::Store& store_;
    Notifier& notifier_;
    const core::Clock& clock_;
    std::string public_url_;
    std::function<void(const store::Object&)> on_opened_;
    std::mutex mu_;  // one page change at a time (the store orders them; this keeps the index true)
    std::map<std::pair<std::string, std::string>, std::string>
        open_;  // (tenant, dedup key) → page id
};

}  // namespace hangar::oncall
