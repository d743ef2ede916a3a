#pragma once
// PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/overview/), the
// intake that tools without Alertmanager speak: a trigger raises (or updates) the alert with
// the event's dedup key, a resolve ends it, an acknowledge acknowledges the open pages that
// carry it. The HTTP handler authenticates the routing key and picks the tenant; this is the
// rest.

#include <string>

#include <boost/json/object.hpp>

#include "hangar/alerting/dispatcher.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"
#include "hangar/oncall/pager.hpp"
#include "hangar/store/store.hpp"

namespace hangar::alerting {

enum class EventAction { kTrigger, kAcknowledge, kResolve };

struct Event {
    EventAction action = EventAction::kTrigger;
    std::string dedup_key;  // generated for a trigger without one
    // A trigger's payload.
    std::string summary, source, severity, event_class, component, group, details, client_url;
};

// Reads an event body. An error's message is PagerDuty's reason ("'payload.source' is missing or
// blank"); the answer's message is always "Event object is invalid".
core::Result<Event> ReadEvent(const boost::json::object& body);

class EventIntake {
public:
    EventIntake(Dispatcher& alerts, oncall::Pager& pager, const core::Clock& clock)
        : alerts_(alerts), pager_(pager), clock_(clock) {}

    // Applies `e` to `tenant`'s alerts; `actor` and `audit` stamp the acknowledgements.
    void Apply(
        const std::string& tenant,
        const Event& e,
        const std::string& actor,
        const store::AuditEvent& audit
    );

private:
    Dispatcher& alerts_;
    oncall::Pager& pager_;
    const core::Clock& clock_;
};

}  // namespace hangar::alerting
