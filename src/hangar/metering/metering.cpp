#include "hangar/metering/metering.hpp"

#include <boost/json/serialize.hpp>

#include "hangar/core/ids.hpp"
#include "hangar/core/log.hpp"

namespace hangar::metering {

namespace {

// Hangar's own usage, billable without glue (core::UsageSink reports from the modules).
struct Builtin {
    const char* slug;
    const char* type;
    const char* aggregation;
    const char* value;
    std::vector<std::pair<const char*, const char*>> group;
    const char* description;
};
const std::vector<Builtin>& Builtins() {
    static const std::vector<Builtin> kBuiltins = {
        {"instance_hours",
         "hangar.instance.usage",
         "SUM",
         "$.hours",
         {{"plan", "$.plan"}, {"product", "$.product"}},
         "Hours instances ran, per plan and product"},
        {"memory_gib_hours",
         "hangar.instance.usage",
         "SUM",
         "$.memory_gib_hours",
         {{"plan", "$.plan"}, {"product", "$.product"}},
         "Memory instances held, in GiB-hours"},
        {"cpu_hours",
         "hangar.instance.usage",
         "SUM",
         "$.cpu_hours",
         {{"plan", "$.plan"}, {"product", "$.product"}},
         "CPU instances held, in CPU-hours (a plan's cpu_millis / 1000 per hour)"},
        {"push_notifications",
         "hangar.push.sent",
         "COUNT",
         "",
         {{"service", "$.service"}},
         "Push notifications delivered through the gateway"},
        {"statistics_reports",
         "hangar.statistics.report",
         "COUNT",
         "",
         {},
         "Statistics documents workspaces sent"},
        {"marketplace_downloads",
         "hangar.marketplace.download",
         "COUNT",
         "",
         {{"app", "$.app"}},
         "Marketplace app downloads"},
    };
    return kBuiltins;
}

}  // namespace

Metering::Metering(
    store::Store& store,
    const core::Clock& clock,
    const std::string& db_path,
    std::chrono::seconds retention
)
    : store_(store),
      clock_(clock),
      db_(std::make_unique<UsageDb>(db_path)),
      retention_(retention) {}

int64_t Metering::Sweep() {
    int64_t before = core::UnixMillis(clock_.Now()) -
                     std::chrono::duration_cast<std::chrono::milliseconds>(retention_).count();
    auto n = db_->Prune(before);
    if (!n) {
        core::LogWarn("usage retention failed", {{"error", std::string_view(n.error().message)}});
        return 0;
    }
    if (*n > 0) {
        core::LogInfo("usage retention", {{"deleted", *n}});
    }
    return *n;
}

Metering::~Metering() {
    Stop();
}

void Metering::Start() {
    EnsureBuiltins();
    Reload();
    watcher_ = std::make_unique<core::Periodic>(std::chrono::seconds(2), [this] {
        uint64_t e = epoch_.load(std::memory_order_relaxed);
        if (e != seen_epoch_) {
            seen_epoch_ = e;
            Reload();
        }
    });
    watcher_->Start();
    sweeper_ = std::make_unique<core::Periodic>(std::chrono::hours(1), [this] { Sweep(); });
    sweeper_->Start();
}

void Metering::Stop() {
    if (watcher_) {
        watcher_->Stop();
    }
    if (sweeper_) {
        sweeper_->Stop();
    }
    // Every batch taken is committed and answered before the servers go: an answer must not
    // outlive the connection it is for.
    db_->WaitIdle();
}

void Metering::EnsureBuiltins() {
    std::string now = core::FormatRfc3339(clock_.Now());
    for (const Builtin& b : Builtins()) {
        if (store_.FindByName("Meter", "", MeterObjectName(b.slug))) {
            continue;  // an operator may have changed it: theirs stays
        }
        json::object group;
        for (const auto& [k, v] : b.group) {
            group[k] = v;
        }
        json::object spec{
            {"slug", b.slug},
            {"event_type", b.type},
            {"aggregation", b.aggregation},
            {"group_by", std::move(group)},
            {"description", b.description}};
        if (*b.value != '\0') {
            spec["value_property"] = b.value;
        }
        auto valid = ValidateMeterSpec(spec);
        if (!valid) {
            core::LogError("a built-in meter is invalid", {{"meter", std::string_view(b.slug)}});
            continue;
        }
        store::Object o = store::NewSystemObject("Meter", "mtr", "", now);
        o.name = MeterObjectName(b.slug);
        o.spec = std::move(*valid);
        store::AuditEvent audit = store::SystemAudit(now, "system", "", o.id);
        audit.action = "meter.create";
        audit.outcome = "success";
        auto created = store_.Create(o, std::nullopt, audit);
        if (!created && created.error().code != core::ErrorCode::kAlreadyExists) {
            core::LogError(
                "a built-in meter was not created",
                {{"meter", std::string_view(b.slug)},
                 {"error", std::string_view(created.error().message)}}
            );
        }
    }
}

void Metering::Reload() {
    auto all = store_.ListAll("Meter");
    if (!all) {
        return;
    }
    std::vector<MeterDef> meters;
    for (const auto& o : *all) {
        meters.push_back(MeterFromObject(o));
    }
    {
        std::lock_guard lock(mu_);
        meters_ = meters;
    }
    db_->SetMeters(std::move(meters));
}

double
Metering::Total(const MeterDef& m, const std::string& subject, int64_t from_s, int64_t to_s) {
    if (to_s <= from_s) {
        return 0;
    }
    int width = from_s % 900 == 0 && to_s % 900 == 0 ? 900 : 60;
    auto rows = db_->Rollups(m.slug, width, from_s, to_s, {subject});
    if (!rows) {
        return 0;
    }
    double total = 0;
    for (const auto& r : *rows) {
        total += m.aggregation == Aggregation::kCount ? static_cast<double>(r.count) : r.sum;
    }
    return total;
}

std::vector<MeterDef> Metering::Meters() {
    std::lock_guard lock(mu_);
    return meters_;
}

std::optional<MeterDef> Metering::Find(std::string_view id_or_slug) {
    std::lock_guard lock(mu_);
    for (const auto& m : meters_) {
        if (m.id == id_or_slug || m.slug == id_or_slug) {
            return m;
        }
    }
    return std::nullopt;
}

void Metering::Record(
    std::string_view type,
    std::string_view subject,
    boost::json::object data,
    std::string_view id
) {
    if (subject.empty()) {
        return;
    }
    UsageEvent e;
    e.id = id.empty() ? core::NewId("evt") : std::string(id);
    e.source = "hangar";
    e.type = std::string(type);
    e.subject = std::string(subject);
    e.time_ms = core::UnixMillis(clock_.Now());
    e.data_json = boost::json::serialize(data);
    e.data = std::move(data);
    std::vector<UsageEvent> batch;
    batch.push_back(std::move(e));
    db_->Submit(std::move(batch), [](core::Result<IngestCounts> r) {
        if (!r) {
            core::LogWarn(
                "usage of Hangar itself was not recorded",
                {{"error", std::string_view(r.error().message)}}
            );
        }
    });
}

}  // namespace hangar::metering
