#pragma once
// What Alertmanager does, inside Hangar: it takes alerts from the rule evaluator and from
// outside (Alertmanager webhooks, PagerDuty-style events), keeps them as Alert objects, and
// routes them. Each alert is routed through its own tenant's NotificationPolicy and through the
// operator tenant's (the cloud team's, `--operator-tenant`), each a routing tree with
// matchers, `continue`, `group_by` and group timings. Before routing, an alert is muted by the
// routing tenant's silences and inhibition rules (built in: a down instance inhibits its other
// alerts) and by maintenance windows of the alert's own tenant. A group notifies its receiver
// `group_wait` after it forms, then at most every `group_interval` when it changes, and again
// every `repeat_interval` while it fires: an escalation policy gets a page (one per group,
// resolved when the group's alerts all resolve), a webhook or an address gets a message.

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/alerting/alert.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/periodic.hpp"
#include "hangar/oncall/notifier.hpp"
#include "hangar/oncall/pager.hpp"
#include "hangar/store/store.hpp"

namespace hangar::alerting {

class Remediator;

struct DispatcherOptions {
    std::string operator_tenant;  // a tenant's name; empty: none
    std::chrono::milliseconds tick{1000};
    // Timings of a route that sets none (Alertmanager's are 30s, 5m, 4h; a page should follow
    // a fault within 30 s).
    std::chrono::seconds group_wait{10}, group_interval{60}, repeat_interval{4 * 3600};
};

class Dispatcher {
public:
    Dispatcher(
        store::Store& store,
        oncall::Pager& pager,
        oncall::Notifier& notifier,
        const core::Clock& clock,
        DispatcherOptions opts
    );
    // Alerts that start firing (outside maintenance) go to the remediator's runbooks.
    void SetRemediator(Remediator* r) { remediator_ = r; }
    void Start() { loop_.Start(); }
    void Stop() { loop_.Stop(); }
    // Firing alerts (again and again) and resolved ones; thread-safe.
    void Receive(std::vector<Alert> alerts);
    // The active alert of a tenant carrying label name=value (PagerDuty dedup keys).
    std::optional<Alert>
    FindByLabel(const std::string& tenant, std::string_view name, std::string_view value);
    // One round: reload configuration, regroup, notify the groups that are due, escalate pages.
    void Tick();

    struct Route;  // a parsed routing-tree node

private:
    struct Entry {
        Alert alert;
        std::string fp;
        std::string suppressed;   // why, as last written to the Alert object ("" = not)
        bool remediated = false;  // handed to the runbooks this firing episode
    };
    struct Group {
        std::string tenant, key, receiver;
        boost::json::object receiver_spec;
        std::chrono::seconds wait{}, interval{}, repeat{};
        std::vector<std::pair<std::string, std::string>>
            members;  // (tenant, fingerprint), this round
        core::TimePoint created{}, last_flush{}, last_notify{};
        bool flushed = false;
        std::string last_firing;  // the firing fingerprints last notified
    };
    struct Config;
    void Persist(const Entry& e, bool new_firing);
    void PersistAll(const std::vector<std::pair<const Entry*, bool>>& writes);
    void
    Flush(Group& g, const std::vector<const Entry*>& members, bool repeat, core::TimePoint now);
    store::Store& store_;
    oncall::Pager& pager_;
    oncall::Notifier& notifier_;
    const core::Clock& clock_;
    DispatcherOptions opts_;
    Remediator* remediator_ = nullptr;
    std::mutex mu_;  // alerts_ and groups_
    std::map<std::pair<std::string, std::string>, Entry> alerts_;
    std::map<std::string, Group> groups_;
    core::Periodic loop_;  // last: stopped before the members it uses go
};

}  // namespace hangar::alerting
