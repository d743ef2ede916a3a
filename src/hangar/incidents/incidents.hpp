#pragma once
// Incidents: declared by hand (POST /v1/incidents) or from a P1 page; a status that moves
// investigating → identified → monitoring → resolved; roles (lead, communications, responders)
// handed over with a record; affected tenants and instances; notes and follow-up items.
//
// The timeline is assembled when read: the incident's own entries (declared, status and role
// changes, notes) plus, from the rest of Hangar, the pages it links (notifications,
// escalations, acknowledgements), the alerts on its instances (firing, resolved, remediation
// actions) and audit events on its instances (rollouts, resizes, restarts). The post-mortem is
// Markdown generated from the same, with its review state Draft → Reviewed → Published.

#include <optional>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/metrics/tsdb.hpp"
#include "hangar/store/store.hpp"

namespace hangar::incidents {

core::Result<boost::json::object> ValidateIncidentSpec(const boost::json::object& spec);

class Incidents {
public:
    // `operator_tenant` (a name, may be empty) is the cloud team's tenant: only its incidents
    // look into other tenants (their alerts, changes and downtime) and reach the status page.
    Incidents(
        store::Store& store,
        const metrics::Tsdb* tsdb,
        const core::Clock& clock,
        std::string operator_tenant = ""
    )
        : store_(store), tsdb_(tsdb), clock_(clock), operator_tenant_(std::move(operator_tenant)) {}

    // A P1 page opened: declare an incident for it (once per page) with the on-call user as lead.
    void DeclareFromPage(const store::Object& page);

    // Actions; `by` is the actor's name; `audit` is the caller's event, written with the change.
    core::Result<store::Object> SetStatus(
        const std::string& id,
        const std::string& status,
        const std::string& note,
        const std::string& by,
        store::AuditEvent audit
    );
    core::Result<store::Object> Assign(
        const std::string& id,
        const std::string& role,
        const std::string& user,
        const std::string& by,
        store::AuditEvent audit
    );
    core::Result<store::Object> Note(
        const std::string& id,
        const std::string& text,
        bool is_public,
        const std::string& by,
        store::AuditEvent audit
    );
    core::Result<store::Object> SetPostmortemState(
        const std::string& id,
        const std::string& state,
        const std::string& by,
        store::AuditEvent audit
    );

    // Every entry, oldest first: {at, type, text, by?, source?}.
    boost::json::array Timeline(const store::Object& incident);
    std::string PostmortemMarkdown(const store::Object& incident);
    // The public status page: open and recent public incidents, no private detail.
    std::string StatusPageHtml();
    // The shift hand-off report for a tenant over [from, to).
    boost::json::object
    Handoff(const std::string& tenant, core::TimePoint from, core::TimePoint to);

private:
    core::Result<store::Object> Change(
        const std::string& id,
        store::AuditEvent audit,
        const std::function<core::Result<void>(store::Object&, const std::string& now)>& fn
    );
    // The affected tenants an incident may look into: all it names if it is the operator
    // tenant's, else only its own (a customer cannot read another's alerts through one).
    std::vector<std::string> VisibleTenants(const store::Object& incident);
    std::string OperatorId();
    store::Store& store_;
    const metrics::Tsdb* tsdb_;
    const core::Clock& clock_;
    std::string operator_tenant_;
};

// Appends an entry to an incident's own timeline (status.timeline).
void AddEntry(
    store::Object& incident,
    const std::string& now,
    std::string type,
    std::string text,
    const std::string& by,
    bool is_public = false
);

}  // namespace hangar::incidents
