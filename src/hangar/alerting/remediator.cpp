#include "hangar/alerting/remediator.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/alerting/specs.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"

namespace hangar::alerting {

namespace json = boost::json;
using core::ErrorCode;
using core::Fail;

namespace {

struct RunbookRef {
    std::string id, tenant, name;  // id "" for the built-in
    json::object spec;
};

const RunbookRef& BuiltinRunbook() {
    static const RunbookRef r{
        "",
        "",
        "oom-resize-up",
        *ValidateRunbookSpec(json::object{
            {"matchers", json::array{"alertname=~\"InstanceOOMKilled|InstanceMemoryNearLimit\""}},
            {"action", "resize_up"},
            {"max_per_hour", 1},
            {"description",
             "An instance killed at, or living near, its memory limit moves to the next larger "
             "plan."}})};
    return r;
}

std::vector<RunbookRef> RunbooksFor(store::Store& store, const std::vector<std::string>& tenants) {
    std::vector<RunbookRef> out;
    bool builtin_overridden = false;
    for (const auto& t : tenants) {
        for (auto& o : store.ListAll("Runbook", t).value_or(std::vector<store::Object>{})) {
            builtin_overridden = builtin_overridden || o.name == BuiltinRunbook().name;
            if (!core::BoolAt(o.spec, "disabled")) {
                out.push_back({o.id, o.tenant, o.name, std::move(o.spec)});
            }
        }
    }
    if (!builtin_overridden) {
        out.push_back(BuiltinRunbook());
    }
    return out;
}

std::vector<metrics::Matcher> MatchersOf(const json::object& spec) {
    std::vector<std::string> texts;
    for (const auto& m : spec.at("matchers").as_array()) {
        texts.emplace_back(m.as_string());
    }
    auto parsed = ParseMatchers(texts);
    return parsed ? *parsed : std::vector<metrics::Matcher>{};
}

}  // namespace

Remediator::Remediator(store::Store& store, const core::Clock& clock, ExecFn exec)
    : store_(store), clock_(clock), exec_(std::move(exec)) {}

Remediator::~Remediator() {
    Stop();
}

void Remediator::Start() {
    thread_ = std::thread([this] {
        std::unique_lock lock(mu_);
        while (!stop_) {
            cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
            lock.unlock();
            Drain();
            lock.lock();
        }
    });
}

void Remediator::Stop() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void Remediator::Enqueue(const Alert& a, std::vector<std::string> tenants) {
    std::lock_guard lock(mu_);
    if (queue_.size() >= 10000) {
        core::LogWarn(
            "remediation dropped: the queue is full", {{"tenant", std::string_view(a.tenant)}}
        );
        return;
    }
    queue_.push_back({a, std::move(tenants)});
    cv_.notify_one();
}

void Remediator::Drain() {
    for (int guard = 0; guard < 100000; ++guard) {
        Work w;
        {
            std::lock_guard lock(mu_);
            if (queue_.empty()) {
                return;
            }
            w = std::move(queue_.front());
            queue_.pop_front();
        }
        Handle(w);
    }
}

void Remediator::Record(const Alert& a, json::object entry) {
    auto obj = store_.FindByName("Alert", a.tenant, Fingerprint(a.labels));
    if (!obj) {
        return;
    }
    std::string now = core::FormatRfc3339(clock_.Now());
    entry["at"] = now;
    (void)store_.Update(
        obj->id,
        std::nullopt,
        now,
        [&](store::Object& o) -> core::Result<void> {
            json::array& list = o.status["remediations"].is_array()
                                    ? o.status["remediations"].as_array()
                                    : o.status["remediations"].emplace_array();
            if (list.size() >= 100) {
                list.erase(list.begin());
            }
            list.push_back(entry);
            return {};
        },
        store::SystemAudit(now, "controller:runbooks", a.tenant, obj->id)
    );
}

core::Result<std::string> Remediator::Act(
    const json::object& runbook,
    const std::string& runbook_name,
    store::Object instance,
    const std::string& actor
) {
    std::string action = core::StrAt(runbook, "action");
    std::string now = core::FormatRfc3339(clock_.Now());
    store::AuditEvent audit{
        0, now, actor, instance.tenant, "runbook." + action, instance.id, "", "local", ""};
    if (action == "exec") {
        std::vector<std::string> argv;
        for (const auto& a : runbook.at("command").as_array()) {
            argv.emplace_back(a.as_string());
        }
        auto out = exec_ ? exec_(instance, argv)
                         : core::Result<std::string>(
                               Fail(ErrorCode::kUnavailable, "no provisioner can run commands")
                           );
        audit.outcome = out ? "success" : std::string(core::CodeString(out.error().code));
        (void)store_.AppendAudit(audit);
        if (!out) {
            return Fail(out.error());
        }
        return fmt::format("ran {} for {}: {}", argv[0], instance.name, *out);
    }
    std::string detail;
    // resize_up: the smallest plan with more memory than the instance's (read before the write:
    // nothing reads the store inside a write).
    std::string current = core::StrAt(instance.spec, "plan");
    std::optional<store::Object> next;
    int64_t memory = 0;
    if (action == "resize_up") {
        auto plan = store_.FindByName("Plan", "", current);
        memory = plan ? core::IntAt(plan->spec, "memory_mb") : 0;
        if (auto plans = store_.ListAll("Plan")) {
            for (auto& p : *plans) {
                int64_t m = core::IntAt(p.spec, "memory_mb");
                if (m > memory && (!next || m < core::IntAt(next->spec, "memory_mb"))) {
                    next = std::move(p);
                }
            }
        }
        if (!next) {
            audit.outcome = "conflict";
            (void)store_.AppendAudit(audit);
            return Fail(
                ErrorCode::kConflict,
                fmt::format(
                    "{} is on the largest plan ({}, {} MiB)", instance.name, current, memory
                )
            );
        }
    }
    auto updated = store_.Update(
        instance.id,
        std::nullopt,
        now,
        [&](store::Object& o) -> core::Result<void> {
            if (!o.deletion_requested_at.empty()) {
                return Fail(
                    ErrorCode::kConflict, fmt::format("instance {} is being deleted", o.name)
                );
            }
            if (action == "restart") {
                o.spec["restart_nonce"] = core::IntAt(o.spec, "restart_nonce") + 1;
                detail = fmt::format("restarted {}", o.name);
                return {};
            }
            if (core::StrAt(o.spec, "plan") != current) {
                return Fail(ErrorCode::kConflict, fmt::format("{} changed plan meanwhile", o.name));
            }
            o.spec["plan"] = next->name;
            detail = fmt::format(
                "resized {} from plan {} ({} MiB) to {} ({} MiB)",
                o.name,
                current,
                memory,
                next->name,
                core::IntAt(next->spec, "memory_mb")
            );
            return {};
        },
        audit
    );
    if (!updated) {
        return Fail(updated.error());
    }
    (void)runbook_name;
    return detail;
}

void Remediator::Handle(const Work& w) {
    const Alert& a = w.alert;
    std::string instance_id(metrics::Get(a.labels, "instance"));
    if (instance_id.empty()) {
        return;  // runbooks act on instances
    }
    auto instance = store_.Get(instance_id);
    if (!instance || instance->kind != "Instance" || instance->tenant != a.tenant) {
        return;
    }
    auto now = clock_.Now();
    for (const auto& rb : RunbooksFor(store_, w.tenants)) {
        if (!Matches(a.labels, MatchersOf(rb.spec))) {
            continue;
        }
        std::string action = core::StrAt(rb.spec, "action");
        json::object entry{{"runbook", rb.name}, {"action", action}, {"instance", instance_id}};
        // Rate limit: at most max_per_hour per runbook and instance.
        std::string key = rb.id.empty() ? "builtin:" + rb.name : rb.id;
        auto& times = recent_[{key, instance_id}];
        while (!times.empty() && now - times.front() >= std::chrono::hours(1)) {
            times.pop_front();
        }
        if (static_cast<int64_t>(times.size()) >= core::IntAt(rb.spec, "max_per_hour")) {
            entry["result"] = "rate_limited";
            entry["detail"] = fmt::format(
                "runbook {} already acted {} time(s) on this instance in the last hour",
                rb.name,
                times.size()
            );
            Record(a, entry);
            continue;
        }
        if (core::BoolAt(rb.spec, "requires_approval") && !rb.id.empty()) {
            std::string t = core::FormatRfc3339(now);
            (void)store_.Update(
                rb.id,
                std::nullopt,
                t,
                [&](store::Object& o) -> core::Result<void> {
                    json::array& pending = o.status["pending"].is_array()
                                               ? o.status["pending"].as_array()
                                               : o.status["pending"].emplace_array();
                    for (const auto& p : pending) {
                        if (core::StrAt(p.as_object(), "instance") == instance_id) {
                            return {};
                        }
                    }
                    pending.push_back(json::object{
                        {"instance", instance_id},
                        {"alert", Fingerprint(a.labels)},
                        {"alert_tenant", a.tenant},
                        {"requested_at", t}});
                    return {};
                },
                store::SystemAudit(t, "controller:runbooks", rb.tenant, rb.id)
            );
            entry["result"] = "awaiting_approval";
            entry["detail"] = fmt::format(
                "POST /v1/runbooks/{}:approve with {{\"instance\": \"{}\"}}", rb.id, instance_id
            );
            Record(a, entry);
            continue;
        }
        times.push_back(now);
        auto r = Act(rb.spec, rb.name, *instance, "controller:runbooks");
        entry["result"] = r ? "done" : "failed";
        entry["detail"] = r ? *r : r.error().message;
        core::LogInfo(
            "runbook acted",
            {{"runbook", std::string_view(rb.name)},
             {"instance", std::string_view(instance_id)},
             {"result", entry["detail"].as_string()}}
        );
        Record(a, entry);
    }
}

core::Result<store::Object> Remediator::Approve(
    const std::string& runbook_id,
    const std::string& instance,
    const std::string& by,
    store::AuditEvent audit
) {
    auto rb = store_.Get(runbook_id);
    if (!rb || rb->kind != "Runbook") {
        return Fail(ErrorCode::kNotFound, fmt::format("there is no runbook {}", runbook_id));
    }
    json::object pending;
    if (const auto* p = rb->status.if_contains("pending"); p != nullptr && p->is_array()) {
        for (const auto& e : p->as_array()) {
            if (core::StrAt(e.as_object(), "instance") == instance) {
                pending = e.as_object();
            }
        }
    }
    if (pending.empty()) {
        return Fail(core::FieldError(
            "instance",
            fmt::format("runbook {} has no action waiting for instance \"{}\"", rb->name, instance)
        ));
    }
    auto target = store_.Get(instance);
    if (!target || target->kind != "Instance") {
        return Fail(core::FieldError("instance", fmt::format("instance {} is gone", instance)));
    }
    auto r = Act(rb->spec, rb->name, *target, "approved-by:" + by);
    std::string now = core::FormatRfc3339(clock_.Now());
    auto updated = store_.Update(
        runbook_id,
        std::nullopt,
        now,
        [&](store::Object& o) -> core::Result<void> {
            json::array& list = o.status["pending"].as_array();
            for (auto it = list.begin(); it != list.end(); ++it) {
                if (core::StrAt(it->as_object(), "instance") == instance) {
                    list.erase(it);
                    break;
                }
            }
            return {};
        },
        std::move(audit)
    );
    Alert a;
    a.tenant = core::StrAt(pending, "alert_tenant");
    if (auto alert = store_.FindByName("Alert", a.tenant, core::StrAt(pending, "alert"))) {
        for (const auto& [k, v] : alert->spec.at("labels").as_object()) {
            a.labels.push_back({std::string(k), std::string(v.as_string())});
        }
        (void)metrics::NormalizeLabelSet(a.labels);
        Record(
            a,
            json::object{
                {"runbook", rb->name},
                {"action", core::StrAt(rb->spec, "action")},
                {"instance", instance},
                {"result", r ? "done" : "failed"},
                {"detail", r ? *r : r.error().message},
                {"approved_by", by}}
        );
    }
    if (!r) {
        return Fail(r.error());
    }
    return updated;
}

}  // namespace hangar::alerting
