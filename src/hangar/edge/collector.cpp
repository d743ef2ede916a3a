#include "hangar/edge/collector.hpp"

#include <zstd.h>

#include <memory>

#include <algorithm>
#include <map>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/metrics/tsdb.hpp"

namespace hangar::edge {

namespace {

using core::ErrorCode;
using core::Fail;

constexpr std::string_view kKind = "StatisticsReport";

std::optional<double> NumberAt(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || !v->is_number()) {
        return std::nullopt;
    }
    return v->to_number<double>();
}

std::string Compress(std::string_view in) {
    // One context per thread: ZSTD_compress would allocate (and clear) a fresh one every call.
    thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    std::string out;
    out.resize_and_overwrite(ZSTD_compressBound(in.size()), [&](char* p, size_t cap) {
        size_t n = ZSTD_compressCCtx(ctx.get(), p, cap, in.data(), in.size(), 1);
        return ZSTD_isError(n) != 0U ? 0 : n;
    });
    return out;
}

std::optional<std::string> Decompress(std::string_view in, size_t limit) {
    unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > limit) {
        return std::nullopt;
    }
    std::string out(size, '\0');
    size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
    if (ZSTD_isError(n) != 0U || n != size) {
        return std::nullopt;
    }
    return out;
}

json::object Summary(const store::Object& report) {
    json::object s = report.spec;
    s.erase("document");
    s["id"] = report.id;
    return s;
}

}  // namespace

json::object IndexStatistics(const json::object& doc) {
    json::object out;
    for (auto [from, to] : {std::pair{"uniqueId", "unique_id"}, std::pair{"version", "version"}, std::pair{"installedAt", "installed_at"},
                            std::pair{"host", "host"}}) {
        if (const json::value* v = doc.if_contains(from); v != nullptr && v->is_string()) {
            out[to] = v->as_string().subview().substr(0, 256);
        }
    }
    for (auto [from, to] : {std::pair{"totalUsers", "total_users"}, std::pair{"activeUsers", "active_users"},
                            std::pair{"totalMessages", "total_messages"}, std::pair{"push", "push"},
                            std::pair{"pushQueue", "push_queue"}}) {
        if (auto n = NumberAt(doc, from)) {
            out[to] = static_cast<int64_t>(*n);
        }
    }
    if (const json::value* d = doc.if_contains("deploy"); d != nullptr && d->is_object()) {
        for (auto [from, to] : {std::pair{"method", "deploy_method"}, std::pair{"platform", "deploy_platform"}}) {
            if (const json::value* v = d->as_object().if_contains(from); v != nullptr && v->is_string()) {
                out[to] = v->as_string().subview().substr(0, 64);
            }
        }
    }
    return out;
}

void RecordWorkspaceSeries(metrics::Tsdb& tsdb, const store::Object& ws, int64_t time_ms) {
    metrics::WriteBatch batch;
    std::vector<metrics::LabelView> labels;
    std::vector<metrics::Sample> one(1);
    const json::object* stats = core::ObjectAt(ws.status, "statistics");
    auto add = [&](std::string_view name, double v, std::vector<metrics::LabelView> extra = {}) {
        labels.assign({{"__name__", name}});
        labels.insert(labels.end(), extra.begin(), extra.end());
        labels.push_back({"tenant", ws.tenant});
        labels.push_back({"workspace", ws.id});
        labels.push_back({"workspace_name", ws.name});
        one[0] = {time_ms, v};
        batch.Add(labels, one);
    };
    if (auto seats = NumberAt(ws.status, "seats")) {
        add("hangar_workspace_seats", *seats);
    }
    std::string version = core::StrAt(ws.status, "version");
    std::string method = core::StrAt(ws.status, "deployment_method");
    if (stats != nullptr) {
        for (auto [field, name] : {std::pair{"active_users", "hangar_workspace_active_users"}, std::pair{"total_users", "hangar_workspace_total_users"},
                                   std::pair{"total_messages", "hangar_workspace_total_messages"}}) {
            if (auto n = NumberAt(*stats, field)) {
                add(name, *n);
            }
        }
        if (!core::StrAt(*stats, "version").empty()) {
            version = core::StrAt(*stats, "version");
        }
        if (!core::StrAt(*stats, "deploy_method").empty()) {
            method = core::StrAt(*stats, "deploy_method");
        }
    }
    // Labels sort by name: deploy_method < tenant < version < workspace...; Add normalises order.
    add("hangar_workspace_info", 1, {{"deploy_method", method}, {"version", version}});
    if (auto r = tsdb.Append(ws.tenant, batch); !r) {
        core::LogWarn("storing workspace series failed", {{"workspace", std::string_view(ws.id)}, {"error", r.error().message}});
    }
}

Collector::Collector(store::Store& store, const CloudKeys& keys, const core::Clock& clock, metrics::Tsdb* tsdb, CollectorOptions opts)
    : store_(store), keys_(keys), clock_(clock), tsdb_(tsdb), opts_(opts), flusher_(opts.flush_every, [this] { Flush(); }) {}

void Collector::Flush() {
    std::unordered_map<std::string, Latest> batch;
    {
        std::lock_guard lock(mu_);
        batch.swap(latest_);
    }
    int64_t now_ms = core::UnixMillis(clock_.Now());
    std::string now = core::FormatRfc3339(clock_.Now());
    for (auto& [id, l] : batch) {
        auto ws = store_.Update(id, std::nullopt, now, [&](store::Object& o) -> core::Result<void> {
            json::object s = l.index;
            s["last_report_at"] = l.received_at;
            s["last_report"] = l.report;
            const json::object* prev = core::ObjectAt(o.status, "statistics");
            s["reports"] = (prev != nullptr ? core::IntAt(*prev, "reports") : 0) + l.fresh;
            o.status["statistics"] = std::move(s);
            return {};
        }, store::SystemAudit(now, "controller:collector", l.tenant, id));
        if (ws && tsdb_ != nullptr) {
            RecordWorkspaceSeries(*tsdb_, *ws, now_ms);
        }
    }
}

EdgeResult<json::object> Collector::Receive(const WorkspaceAuth* who, std::string_view body) {
    if (body.size() > opts_.max_document) {
        return EdgeFail(413, "payload_too_large", fmt::format("a statistics document is limited to {} bytes", opts_.max_document));
    }
    // Parsed into an arena (thousands of small values, freed at once), only to check it and to
    // read the indexed fields; what is stored is the document as sent.
    json::monotonic_resource arena;
    boost::system::error_code ec;
    json::value parsed = json::parse(body, ec, &arena);
    if (ec || !parsed.is_object()) {
        return EdgeFail(400, "invalid_request",
                        fmt::format("the body must be the statistics document, a JSON object{}", ec ? ": " + ec.message() : std::string()));
    }
    json::object index = IndexStatistics(parsed.as_object());
    std::string unique_id = core::StrAt(index, "unique_id");
    if (unique_id.empty()) {
        return EdgeFail(400, "invalid_request", "the statistics document must carry uniqueId, a string");
    }
    std::string sha = core::Sha256Hex(body);
    std::string tenant = who != nullptr ? who->tenant : std::string();
    std::string workspace = who != nullptr ? who->workspace_id : unique_id;
    // The answer names the stored report: the same for a resend.
    auto answer = [&](const store::Object& stored) {
        json::object token{{"report", stored.id}, {"workspace", workspace}, {"uniqueId", unique_id}, {"sha256", sha},
                           {"receivedAt", core::StrAt(stored.spec, "received_at")}};
        return json::object{{"statsToken", keys_.Sign(json::serialize(token))}};
    };
    if (auto existing = store_.FindByName(kKind, tenant, sha)) {
        return answer(*existing);  // a resend: nothing written
    }
    std::string compressed = Compress(body);
    if (compressed.empty()) {
        return EdgeFail(500, "server_error", "compressing the document failed");
    }
    std::string now = core::FormatRfc3339(clock_.Now());
    store::Object report = store::NewSystemObject(std::string(kKind), "sta", tenant, now);
    report.name = sha;
    report.labels["workspace"] = workspace;
    report.spec = index;
    report.spec["workspace"] = workspace;
    report.spec["sha256"] = sha;
    report.spec["received_at"] = now;
    report.spec["bytes"] = static_cast<int64_t>(body.size());
    report.spec["compressed_bytes"] = static_cast<int64_t>(compressed.size());
    report.spec["document"] = core::Base64UrlEncode(compressed);
    bool fresh = true;
    auto created = store_.Create(report, std::nullopt, store::SystemAudit(now, "workspace:" + workspace, tenant, report.id));
    if (!created) {
        if (created.error().code != ErrorCode::kAlreadyExists && created.error().code != ErrorCode::kConflict) {
            return std::unexpected(StoreTrouble(created.error()));
        }
        auto existing = store_.FindByName(kKind, tenant, sha);  // the same document, stored meanwhile
        if (!existing) {
            return std::unexpected(StoreTrouble(existing.error()));
        }
        report = std::move(*existing);
        fresh = false;
    } else {
        report = std::move(created->object);
    }
    if (fresh && who != nullptr) {
        std::lock_guard lock(mu_);
        Latest& l = latest_[who->workspace_id];
        if (now >= l.received_at) {
            l.tenant = tenant;
            l.received_at = now;
            l.index = index;
            l.report = report.id;
        }
        l.fresh++;
    }
    return answer(report);
}

core::Result<json::array> Collector::History(const std::string& tenant, const std::string& workspace, size_t limit) {
    auto all = store_.ListAll(std::string(kKind), tenant, [&](const store::Object& o) { return core::StrAt(o.spec, "workspace") == workspace; });
    if (!all) {
        return Fail(all.error());
    }
    std::sort(all->begin(), all->end(), [](const store::Object& a, const store::Object& b) {
        return core::StrAt(a.spec, "received_at") > core::StrAt(b.spec, "received_at");
    });
    json::array out;
    for (const auto& o : *all) {
        if (out.size() >= limit) {
            break;
        }
        out.push_back(Summary(o));
    }
    return out;
}

core::Result<std::string> Collector::Document(const std::string& report_id, const std::optional<std::string>& tenant) {
    auto r = store_.Get(report_id);
    if (!r || r->kind != kKind || (tenant && r->tenant != *tenant)) {
        return Fail(ErrorCode::kNotFound, fmt::format("statistics report {} not found", report_id));
    }
    std::string raw;
    if (!core::Base64UrlDecode(core::StrAt(r->spec, "document"), raw)) {
        return Fail(ErrorCode::kInternal, "the stored document is damaged");
    }
    auto doc = Decompress(raw, opts_.max_document * 2);
    if (!doc) {
        return Fail(ErrorCode::kInternal, "the stored document is damaged");
    }
    return std::move(*doc);
}

core::Result<json::object> Collector::Fleet(const std::optional<std::string>& tenant) {
    auto all = store_.ListAll("Workspace", tenant);
    if (!all) {
        return Fail(all.error());
    }
    std::map<std::string, int64_t> versions, methods, platforms;
    struct PerTenant {
        int64_t workspaces = 0, registered = 0, seats = 0, active_users = 0, total_users = 0;
    };
    std::map<std::string, PerTenant> tenants;
    json::array rows;
    for (const auto& ws : *all) {
        const json::object* st = core::ObjectAt(ws.status, "statistics");
        json::object stats = st != nullptr ? *st : json::object();
        std::string version = core::StrAt(stats, "version");
        if (version.empty()) {
            version = core::StrAt(ws.status, "version");
        }
        std::string method = core::StrAt(stats, "deploy_method");
        if (method.empty()) {
            method = core::StrAt(ws.status, "deployment_method");
        }
        std::string platform = core::StrAt(stats, "deploy_platform");
        if (platform.empty()) {
            platform = core::StrAt(ws.status, "deployment_platform");
        }
        std::string registration = core::StrAt(ws.status, "registration");
        PerTenant& t = tenants[ws.tenant];
        t.workspaces++;
        if (registration == "Registered") {
            t.registered++;
        }
        t.seats += core::IntAt(ws.status, "seats");
        t.active_users += core::IntAt(stats, "active_users");
        t.total_users += core::IntAt(stats, "total_users");
        if (!version.empty()) {
            versions[version]++;
        }
        if (!method.empty()) {
            methods[method]++;
        }
        if (!platform.empty()) {
            platforms[platform]++;
        }
        rows.push_back(json::object{
            {"id", ws.id},
            {"name", ws.name},
            {"tenant", ws.tenant},
            {"registration", registration.empty() ? "Unregistered" : registration},
            {"version", version},
            {"deploy_method", method},
            {"seats", core::IntAt(ws.status, "seats")},
            {"active_users", core::IntAt(stats, "active_users")},
            {"total_users", core::IntAt(stats, "total_users")},
            {"last_sync_at", core::StrAt(ws.status, "last_sync_at")},
            {"last_report_at", core::StrAt(stats, "last_report_at")},
        });
    }
    auto counts = [](const std::map<std::string, int64_t>& m) {
        json::array a;
        for (const auto& [k, n] : m) {
            a.push_back(json::object{{"value", k}, {"workspaces", n}});
        }
        return a;
    };
    json::array per_tenant;
    for (const auto& [id, t] : tenants) {
        per_tenant.push_back(json::object{
            {"tenant", id},
            {"workspaces", t.workspaces},
            {"registered", t.registered},
            {"seats", t.seats},
            {"active_users", t.active_users},
            {"total_users", t.total_users},
        });
    }
    return json::object{
        {"versions", counts(versions)},
        {"deploy_methods", counts(methods)},
        {"deploy_platforms", counts(platforms)},
        {"tenants", std::move(per_tenant)},
        {"workspaces", std::move(rows)},
    };
}

size_t Collector::Sweep() {
    std::string cutoff = core::FormatRfc3339(clock_.Now() - opts_.retention);
    auto old = store_.ListAll(std::string(kKind), std::nullopt, [&](const store::Object& o) { return core::StrAt(o.spec, "received_at") < cutoff; });
    if (!old) {
        core::LogWarn("statistics retention: listing failed", {{"error", old.error().message}});
        return 0;
    }
    size_t n = 0;
    std::string now = core::FormatRfc3339(clock_.Now());
    for (const auto& o : *old) {
        if (store_.Delete(o.id, std::nullopt, nullptr, store::SystemAudit(now, "controller:collector", o.tenant, o.id))) {
            ++n;
        }
    }
    return n;
}

}  // namespace hangar::edge
