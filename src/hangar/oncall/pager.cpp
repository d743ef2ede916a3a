#include "hangar/oncall/pager.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/oncall/schedule.hpp"

namespace hangar::oncall {

namespace json = boost::json;
using core::ErrorCode;
using core::Fail;

namespace {

constexpr size_t kMaxHistory = 500;

std::string State(const store::Object& p) {
    return core::StrAt(p.status, "state");
}

void Event(store::Object& page, const std::string& now, json::object e) {
    json::array& h = page.status["history"].is_array() ? page.status["history"].as_array()
                                                       : page.status["history"].emplace_array();
    if (h.size() >= kMaxHistory) {
        return;  // a page that long has said all it will
    }
    e["at"] = now;
    h.push_back(std::move(e));
}

void SetState(store::Object& page, const std::string& state) {
    page.status["state"] = state;
    page.labels["state"] = state;
}

}  // namespace

Pager::Pager(
    store::Store& store,
    Notifier& notifier,
    const core::Clock& clock,
    std::string public_url
)
    : store_(store), notifier_(notifier), clock_(clock), public_url_(std::move(public_url)) {}

void Pager::Load() {
    std::lock_guard lock(mu_);
    auto open = store_.ListAll("Page", std::nullopt, [](const store::Object& o) {
        return core::StrAt(o.status, "state") != "resolved";
    });
    if (!open) {
        core::LogWarn("loading open pages failed", {{"error", open.error().message}});
        return;
    }
    for (const auto& o : *open) {
        open_[{o.tenant, core::StrAt(o.spec, "dedup_key")}] = o.id;
    }
}

std::optional<std::string>
Pager::OpenPage(const std::string& tenant, const std::string& dedup_key) {
    std::lock_guard lock(mu_);
    auto it = open_.find({tenant, dedup_key});
    return it == open_.end() ? std::nullopt : std::optional(it->second);
}

std::optional<json::object> Pager::Policy(const std::string& tenant, const std::string& name) {
    auto p = store_.FindByName("EscalationPolicy", tenant, name);
    if (!p) {
        return std::nullopt;
    }
    return p->spec;
}

void Pager::Send(store::Object& page, Message m, size_t step, const std::string& why) {
    std::string now = core::FormatRfc3339(clock_.Now());
    m.page_id = page.id;
    m.seq = page.status["history"].is_array()
                ? static_cast<int64_t>(page.status["history"].as_array().size())
                : 0;
    json::object e{
        {"event", "notified"},
        {"channel", m.channel == Message::Channel::kEmail ? "email" : "webhook"},
        {"target", m.target},
        {"step", static_cast<int64_t>(step)},
        {"reason", why},
        {"delivery", "queued"}};
    if (!m.recipient.empty()) {
        e["user"] = m.recipient;
    }
    Event(page, now, std::move(e));
    notifier_.Enqueue(std::move(m));
}

void Pager::NotifyUser(
    store::Object& page,
    const std::string& user,
    size_t step,
    const std::string& why
) {
    auto u = store_.FindByName("User", page.tenant, user);
    std::string now = core::FormatRfc3339(clock_.Now());
    if (!u) {
        Event(
            page,
            now,
            {{"event", "notify_failed"},
             {"user", user},
             {"detail", fmt::format("there is no user \"{}\"", user)}}
        );
        return;
    }
    std::string title = core::StrAt(page.spec, "title");
    std::string link = fmt::format("{}/v1/pages/{}", public_url_, page.id);
    std::string text = fmt::format(
        "{}\n\nPriority {} · page {}\nAcknowledge: POST {}:acknowledge (or `hangar page ack {}`)\n",
        core::StrAt(page.spec, "details"),
        core::StrAt(page.spec, "priority"),
        page.id,
        link,
        page.id
    );
    Message email{Message::Channel::kEmail, core::StrAt(u->spec, "email"), title, text, "", user};
    Send(page, std::move(email), step, why);
    if (auto hook = core::StrAt(u->spec, "webhook_url"); !hook.empty()) {
        Send(page, Message{Message::Channel::kWebhook, hook, title, text, "", user}, step, why);
    }
}

std::string Pager::NotifyStep(
    store::Object& page,
    const json::object& policy,
    size_t step,
    const std::string& why
) {
    const auto& steps = policy.at("steps").as_array();
    if (step >= steps.size()) {
        return "";
    }
    std::string first;
    std::string now = core::FormatRfc3339(clock_.Now());
    for (const auto& tv : steps[step].at("targets").as_array()) {
        const json::object& t = tv.as_object();
        if (auto hook = core::StrAt(t, "webhook_url"); !hook.empty()) {
            std::string text = fmt::format(
                "{}\n\nPriority {} · page {}",
                core::StrAt(page.spec, "details"),
                core::StrAt(page.spec, "priority"),
                page.id
            );
            Send(
                page,
                Message{
                    Message::Channel::kWebhook,
                    hook,
                    core::StrAt(page.spec, "title"),
                    text,
                    "",
                    ""},
                step,
                why
            );
            continue;
        }
        std::string user = core::StrAt(t, "user");
        if (auto sched = core::StrAt(t, "schedule"); !sched.empty()) {
            auto s = store_.FindByName("Schedule", page.tenant, sched);
            auto parsed = s ? ScheduleFromSpec(s->spec) : core::Result<Schedule>(Fail(s.error()));
            if (!parsed) {
                Event(
                    page,
                    now,
                    {{"event", "notify_failed"},
                     {"schedule", sched},
                     {"detail", fmt::format("schedule \"{}\": {}", sched, parsed.error().message)}}
                );
                continue;
            }
            user = WhoAt(*parsed, clock_.Now()).user;
            if (user.empty()) {
                Event(
                    page,
                    now,
                    {{"event", "notify_failed"},
                     {"schedule", sched},
                     {"detail", fmt::format("nobody is on call in schedule \"{}\"", sched)}}
                );
                continue;
            }
        }
        if (first.empty()) {
            first = user;
        }
        NotifyUser(page, user, step, why);
    }
    return first;
}

core::Result<std::string> Pager::Trigger(const PageRequest& req) {
    std::lock_guard lock(mu_);
    auto now_tp = clock_.Now();
    std::string now = core::FormatRfc3339(now_tp);
    if (auto it = open_.find({req.tenant, req.dedup_key}); it != open_.end()) {
        auto page = store_.Get(it->second);
        if (page) {
            if (page->spec.at("alerts") == json::value(req.alerts) &&
                core::StrAt(page->spec, "details") == req.details) {
                return page->id;
            }
            auto u = store_.Update(
                page->id,
                page->revision,
                now,
                [&](store::Object& o) -> core::Result<void> {
                    o.spec["alerts"] = req.alerts;
                    o.spec["details"] = req.details;
                    o.spec["title"] = req.title;
                    return {};
                },
                store::SystemAudit(now, "controller:pager", req.tenant, page->id)
            );
            if (!u) {
                return Fail(u.error());
            }
            return page->id;
        }
        open_.erase(it);
    }
    store::Object page = store::NewSystemObject("Page", "pag", req.tenant, now);
    page.labels["priority"] = req.priority;
    page.spec = json::object{
        {"dedup_key", req.dedup_key},
        {"title", req.title},
        {"details", req.details},
        {"priority", req.priority},
        {"escalation_policy", req.policy},
        {"alerts", req.alerts}};
    if (!req.incident.empty()) {
        page.spec["incident"] = req.incident;
    }
    SetState(page, "triggered");
    page.status["triggered_at"] = now;
    page.status["step"] = 0;
    page.status["cycle"] = 0;
    page.status["history"] = json::array();
    Event(page, now, {{"event", "triggered"}, {"detail", req.title}});
    auto policy = Policy(req.tenant, req.policy);
    if (!policy) {
        Event(
            page,
            now,
            {{"event", "notify_failed"},
             {"detail", fmt::format("there is no escalation policy \"{}\"", req.policy)}}
        );
        page.status["next_escalation_at"] = "";
    } else {
        page.status["assignee"] = NotifyStep(page, *policy, 0, "triggered");
        auto wait =
            core::ParseDuration(core::StrAt(policy->at("steps").as_array()[0].as_object(), "wait"));
        page.status["next_escalation_at"] =
            core::FormatRfc3339(now_tp + wait.value_or(std::chrono::minutes(10)));
    }
    auto created = store_.Create(
        page, std::nullopt, store::SystemAudit(now, "controller:pager", req.tenant, page.id)
    );
    if (!created) {
        return Fail(created.error());
    }
    open_[{req.tenant, req.dedup_key}] = page.id;
    if (on_opened_) {
        on_opened_(created->object);
    }
    return page.id;
}

void Pager::Renotify(const std::string& tenant, const std::string& dedup_key) {
    std::lock_guard lock(mu_);
    auto it = open_.find({tenant, dedup_key});
    if (it == open_.end()) {
        return;
    }
    auto page = store_.Get(it->second);
    if (!page || State(*page) != "triggered") {
        return;
    }
    std::string now = core::FormatRfc3339(clock_.Now());
    if (auto user = core::StrAt(page->status, "assignee"); !user.empty()) {
        NotifyUser(*page, user, static_cast<size_t>(core::IntAt(page->status, "step")), "repeat");
    }
    (void)store_.Update(
        page->id,
        page->revision,
        now,
        [&](store::Object& o) -> core::Result<void> {
            o.status = page->status;
            return {};
        },
        store::SystemAudit(now, "controller:pager", tenant, page->id)
    );
}

void Pager::Close(const std::string& tenant, const std::string& key, const std::string& id) {
    auto it = open_.find({tenant, key});
    if (it != open_.end() && it->second == id) {
        open_.erase(it);
    }
}

void Pager::ResolveKey(
    const std::string& tenant,
    const std::string& dedup_key,
    const std::string& why
) {
    std::unique_lock lock(mu_);
    auto it = open_.find({tenant, dedup_key});
    if (it == open_.end()) {
        return;
    }
    std::string id = it->second;
    lock.unlock();
    std::string now = core::FormatRfc3339(clock_.Now());
    (void)Change(
        id,
        store::SystemAudit(now, "controller:pager", tenant, id),
        [&](store::Object& page) -> core::Result<void> {
            if (State(page) == "resolved") {
                return {};
            }
            SetState(page, "resolved");
            page.status["resolved_at"] = now;
            page.status["resolved_by"] = "hangar";
            page.status["next_escalation_at"] = "";
            Event(page, now, {{"event", "resolved"}, {"by", "hangar"}, {"detail", why}});
            return {};
        }
    );
}

core::Result<store::Object> Pager::Change(
    const std::string& id,
    const store::AuditEvent& audit,
    const std::function<core::Result<void>(store::Object&)>& fn
) {
    std::lock_guard lock(mu_);
    core::Result<store::Object> updated = Fail(ErrorCode::kConflict, "unreachable");
    // Another writer (another replica, an incident linking the page) may get in between the
    // read and the write: read again and redo the change, a few times.
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto page = store_.Get(id);
        if (!page || page->kind != "Page") {
            return Fail(ErrorCode::kNotFound, fmt::format("there is no page {}", id));
        }
        if (auto r = fn(*page); !r) {
            return Fail(r.error());
        }
        std::string now = core::FormatRfc3339(clock_.Now());
        updated = store_.Update(
            id,
            page->revision,
            now,
            [&](store::Object& o) -> core::Result<void> {
                o.status = page->status;
                o.labels = page->labels;
                return {};
            },
            audit
        );
        if (updated || updated.error().code != ErrorCode::kConflict ||
            updated.error().details.empty()) {
            break;
        }
    }
    if (updated && State(*updated) == "resolved") {
        Close(updated->tenant, core::StrAt(updated->spec, "dedup_key"), id);
    }
    return updated;
}

void Pager::AcknowledgeTenantPagesCarrying(
    const std::string& tenant,
    const std::string& fingerprint,
    const std::string& by,
    const store::AuditEvent& audit
) {
    auto pages = store_.ListAll("Page", std::nullopt, [&](const store::Object& o) {
        if (core::StrAt(o.status, "state") != "triggered") {
            return false;
        }
        const json::value* alerts = o.spec.if_contains("alerts");
        if (alerts == nullptr || !alerts->is_array()) {
            return false;
        }
        bool carries = false;
        for (const auto& a : alerts->as_array()) {
            if (!a.is_object() || core::StrAt(a.as_object(), "tenant") != tenant) {
                return false;
            }
            carries = carries || core::StrAt(a.as_object(), "fingerprint") == fingerprint;
        }
        return carries;
    });
    if (!pages) {
        return;
    }
    for (const auto& p : *pages) {
        store::AuditEvent a = audit;
        a.action = "page.acknowledge";
        a.object = p.id;
        a.tenant = p.tenant;
        (void)Acknowledge(p.id, by, a);
    }
}

core::Result<store::Object>
Pager::Acknowledge(const std::string& id, const std::string& by, const store::AuditEvent& audit) {
    std::string now = core::FormatRfc3339(clock_.Now());
    return Change(id, audit, [&](store::Object& page) -> core::Result<void> {
        if (State(page) != "triggered") {
            return Fail(
                ErrorCode::kConflict,
                fmt::format(
                    "page {} is {}: only a triggered page can be acknowledged", id, State(page)
                )
            );
        }
        SetState(page, "acknowledged");
        page.status["acknowledged_at"] = now;
        page.status["acknowledged_by"] = by;
        page.status["next_escalation_at"] = "";
        Event(page, now, {{"event", "acknowledged"}, {"by", by}});
        return {};
    });
}

core::Result<store::Object>
Pager::Resolve(const std::string& id, const std::string& by, const store::AuditEvent& audit) {
    std::string now = core::FormatRfc3339(clock_.Now());
    return Change(id, audit, [&](store::Object& page) -> core::Result<void> {
        if (State(page) == "resolved") {
            return Fail(ErrorCode::kConflict, fmt::format("page {} is already resolved", id));
        }
        SetState(page, "resolved");
        page.status["resolved_at"] = now;
        page.status["resolved_by"] = by;
        page.status["next_escalation_at"] = "";
        Event(page, now, {{"event", "resolved"}, {"by", by}});
        return {};
    });
}

core::Result<store::Object> Pager::Reassign(
    const std::string& id,
    const std::string& user,
    const std::string& by,
    const store::AuditEvent& audit
) {
    std::string now = core::FormatRfc3339(clock_.Now());
    return Change(id, audit, [&](store::Object& page) -> core::Result<void> {
        if (State(page) == "resolved") {
            return Fail(
                ErrorCode::kConflict,
                fmt::format("page {} is resolved: it cannot be reassigned", id)
            );
        }
        if (!store_.FindByName("User", page.tenant, user)) {
            return Fail(core::FieldError(
                "user", fmt::format("there is no user \"{}\" in the page's tenant", user)
            ));
        }
        // A reassigned page waits for its new owner's acknowledgement; escalation goes on from
        // the current step if they do not answer.
        SetState(page, "triggered");
        page.status["assignee"] = user;
        Event(page, now, {{"event", "reassigned"}, {"by", by}, {"user", user}});
        NotifyUser(page, user, static_cast<size_t>(core::IntAt(page.status, "step")), "reassigned");
        auto policy = Policy(page.tenant, core::StrAt(page.spec, "escalation_policy"));
        if (policy) {
            const auto& steps = policy->at("steps").as_array();
            size_t step =
                std::min(static_cast<size_t>(core::IntAt(page.status, "step")), steps.size() - 1);
            auto wait = core::ParseDuration(core::StrAt(steps[step].as_object(), "wait"));
            page.status["next_escalation_at"] =
                core::FormatRfc3339(clock_.Now() + wait.value_or(std::chrono::minutes(10)));
        }
        return {};
    });
}

void Pager::Tick() {
    std::vector<std::string> ids;
    {
        std::lock_guard lock(mu_);
        for (const auto& [key, id] : open_) {
            ids.push_back(id);
        }
    }
    auto now_tp = clock_.Now();
    std::string now = core::FormatRfc3339(now_tp);
    for (const auto& id : ids) {
        auto page = store_.Get(id);
        if (!page || State(*page) != "triggered") {
            continue;
        }
        auto due = core::ParseRfc3339(core::StrAt(page->status, "next_escalation_at"));
        if (!due || *due > now_tp) {
            continue;
        }
        (void)Change(
            id,
            store::SystemAudit(now, "controller:pager", page->tenant, id),
            [&](store::Object& p) -> core::Result<void> {
                if (State(p) != "triggered") {
                    return Fail(ErrorCode::kConflict, "no longer triggered");
                }
                auto policy = Policy(p.tenant, core::StrAt(p.spec, "escalation_policy"));
                if (!policy) {
                    p.status["next_escalation_at"] = "";
                    return {};
                }
                const auto& steps = policy->at("steps").as_array();
                auto step = static_cast<size_t>(core::IntAt(p.status, "step")) + 1;
                int64_t cycle = core::IntAt(p.status, "cycle");
                if (step >= steps.size()) {
                    if (cycle >= core::IntAt(*policy, "repeat")) {
                        p.status["next_escalation_at"] =
                            "";  // the policy is spent; the page stays open
                        Event(
                            p,
                            now,
                            {{"event", "escalation_exhausted"},
                             {"detail", "no one acknowledged; the policy has no more steps"}}
                        );
                        return {};
                    }
                    step = 0;
                    p.status["cycle"] = ++cycle;
                }
                p.status["step"] = static_cast<int64_t>(step);
                Event(
                    p,
                    now,
                    {{"event", "escalated"}, {"step", static_cast<int64_t>(step)}, {"cycle", cycle}}
                );
                std::string user = NotifyStep(p, *policy, step, "escalated");
                if (!user.empty()) {
                    p.status["assignee"] = user;
                }
                auto wait = core::ParseDuration(core::StrAt(steps[step].as_object(), "wait"));
                p.status["next_escalation_at"] =
                    core::FormatRfc3339(now_tp + wait.value_or(std::chrono::minutes(10)));
                return {};
            }
        );
    }
}

void Pager::RecordOutcome(const Message& m, bool delivered, const std::string& detail) {
    if (m.page_id.empty() || m.seq < 0) {
        return;
    }
    std::string now = core::FormatRfc3339(clock_.Now());
    (void)Change(
        m.page_id,
        store::SystemAudit(now, "controller:pager", "", m.page_id),
        [&](store::Object& p) -> core::Result<void> {
            auto* h = p.status.if_contains("history");
            if (h == nullptr || !h->is_array() ||
                static_cast<size_t>(m.seq) >= h->as_array().size()) {
                return Fail(ErrorCode::kNotFound, "no such notification");
            }
            json::object& e = h->as_array()[static_cast<size_t>(m.seq)].as_object();
            e["delivery"] = delivered ? "delivered" : "failed";
            // A webhook's failure detail ("connection refused", "HTTP 404") would tell a tenant
            // what listens where inside the operator's network: only the log has it.
            if (m.channel == Message::Channel::kEmail) {
                e["delivery_detail"] = detail;
            }
            e["delivered_at"] = now;
            return {};
        }
    );
}

}  // namespace hangar::oncall
