#include "hangar/edge/collector.hpp"

#include <algorithm>
#include <future>
#include <map>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <zstd.h>

#include <boost/json/serialize.hpp>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/edge/statistics_index.hpp"
#include "hangar/metrics/tsdb.hpp"

namespace hangar::edge {

namespace {

using core::ErrorCode;
using core::Fail;

constexpr std::string_view kKind = "StatisticsReport";
// Documents remembered by hash (a resend is answered from memory): about 200 bytes each.
constexpr size_t kKnownDocuments = 65536;

std::optional<double> NumberAt(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || !v->is_number()) {
        return std::nullopt;
    }
    return v->to_number<double>();
}

std::string Compress(std::string_view in) {
    // One context per thread: ZSTD_compress would allocate (and clear) a fresh one every call.
    thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(
        ZSTD_createCCtx(), ZSTD_freeCCtx
    );
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
        for (auto [field, name] :
             {std::pair{"active_users", "hangar_workspace_active_users"},
              std::pair{"total_users", "hangar_workspace_total_users"},
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
        core::LogWarn(
            "storing workspace series failed",
            {{"workspace", std::string_view(ws.id)}, {"error", r.error().message}}
        );
    }
}

Collector::Collector(
    store::Store& store,
    const CloudKeys& keys,
    const core::Clock& clock,
    metrics::Tsdb* tsdb,
    CollectorOptions opts
)
    : store_(store),
      keys_(keys),
      clock_(clock),
      tsdb_(tsdb),
      opts_(opts),
      flusher_(opts.flush_every, [this] { Flush(); }) {}

void Collector::Stop() {
    flusher_.Stop();
    // Reports still being written call back into this object: wait for them (bounded).
    for (int i = 0; i < 1000 && in_flight_.load() > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Flush();
}

void Collector::Flush() {
    std::unordered_map<std::string, Latest> batch;
    {
        std::lock_guard lock(mu_);
        batch.swap(latest_);
    }
    int64_t now_ms = core::UnixMillis(clock_.Now());
    std::string now = core::FormatRfc3339(clock_.Now());
    for (auto& [id, l] : batch) {
        auto ws = store_.Update(
            id,
            std::nullopt,
            now,
            [&](store::Object& o) -> core::Result<void> {
                json::object s = l.index;
                s["last_report_at"] = l.received_at;
                s["last_report"] = l.report;
                const json::object* prev = core::ObjectAt(o.status, "statistics");
                s["reports"] = (prev != nullptr ? core::IntAt(*prev, "reports") : 0) + l.fresh;
                o.status["statistics"] = std::move(s);
                return {};
            },
            store::SystemAudit(now, "controller:collector", l.tenant, id)
        );
        if (ws && tsdb_ != nullptr) {
            RecordWorkspaceSeries(*tsdb_, *ws, now_ms);
        }
    }
}

EdgeResult<json::object> Collector::Receive(const WorkspaceAuth* who, std::string_view body) {
    std::promise<EdgeResult<json::object>> answered;
    auto fut = answered.get_future();
    ReceiveAsync(who, body, [&answered](EdgeResult<json::object> r) {
        answered.set_value(std::move(r));
    });
    return fut.get();
}

void Collector::ReceiveAsync(
    const WorkspaceAuth* who,
    std::string_view body,
    std::function<void(EdgeResult<json::object>)> done
) {
    if (body.size() > opts_.max_document) {
        return done(EdgeFail(
            413,
            "payload_too_large",
            fmt::format("a statistics document is limited to {} bytes", opts_.max_document)
        ));
    }
    // Read in one streaming pass, only to check it and to take the indexed fields; what is
    // stored is the document as sent.
    auto indexed = IndexStatistics(body);
    if (!indexed) {
        return done(EdgeFail(
            400,
            "invalid_request",
            "the body must be the statistics document, a JSON object: " + indexed.error().message
        ));
    }
    json::object index = std::move(*indexed);
    std::string unique_id = core::StrAt(index, "unique_id");
    if (unique_id.empty()) {
        return done(EdgeFail(
            400, "invalid_request", "the statistics document must carry uniqueId, a string"
        ));
    }
    std::string sha = core::Sha256Hex(body);
    std::string tenant = who != nullptr ? who->tenant : std::string();
    std::string workspace = who != nullptr ? who->workspace_id : unique_id;
    // The answer names the stored report: the same for a resend.
    auto answer = [this, workspace, unique_id, sha](
                      const std::string& report, const std::string& received_at
                  ) {
        json::object token{
            {"report", report},
            {"workspace", workspace},
            {"uniqueId", unique_id},
            {"sha256", sha},
            {"receivedAt", received_at}};
        return json::object{{"statsToken", keys_.Sign(json::serialize(token))}};
    };
    std::string key = tenant + "/" + sha;
    if (auto known = Known(key)) {
        return done(answer(known->first, known->second));  // a resend: nothing written
    }
    std::string compressed = Compress(body);
    if (compressed.empty()) {
        return done(EdgeFail(500, "server_error", "compressing the document failed"));
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
    // Signed here, not on the store's writer thread, which runs `done`.
    json::object signed_answer = answer(report.id, now);
    std::string id = report.id;
    store::AuditEvent audit = store::SystemAudit(now, "workspace:" + workspace, tenant, report.id);
    std::optional<std::string> from =
        who != nullptr ? std::optional(who->workspace_id) : std::nullopt;
    // The compressed document goes beside the report, not in it: the report (its index) is what
    // lists, watches and the change log carry. A document stored meanwhile (or before this
    // process knew it) is answered with the stored report.
    in_flight_.fetch_add(1);
    store_.CreateAsync(
        std::move(report),
        std::move(audit),
        std::move(compressed),
        /*or_existing=*/true,
        [this,
         done = std::move(done),
         answer,
         key,
         id,
         now,
         tenant,
         from,
         index = std::move(index),
         signed_answer =
             std::move(signed_answer)](core::Result<store::Store::CreateResult> r) mutable {
            struct Landed {
                std::atomic<int>& n;
                ~Landed() { n.fetch_sub(1); }
            } landed{in_flight_};
            if (!r) {
                return done(std::unexpected(StoreTrouble(r.error())));
            }
            if (r->existed) {
                std::string received_at = core::StrAt(r->object.spec, "received_at");
                Remember(key, r->object.id, received_at);
                return done(answer(r->object.id, received_at));
            }
            Remember(key, id, now);
            if (!tenant.empty()) {
                usage_->Record(
                    "hangar.statistics.report",
                    tenant,
                    json::object{{"workspace", from.value_or("")}, {"report", id}},
                    "statistics:" + id
                );
            }
            if (from) {
                std::lock_guard lock(mu_);
                Latest& l = latest_[*from];
                if (now >= l.received_at) {
                    l.tenant = tenant;
                    l.received_at = now;
                    l.index = std::move(index);
                    l.report = id;
                }
                l.fresh++;
            }
            done(std::move(signed_answer));
        }
    );
}

std::optional<std::pair<std::string, std::string>> Collector::Known(const std::string& key) {
    std::string cutoff = core::FormatRfc3339(clock_.Now() - opts_.retention);
    std::lock_guard lock(mu_);
    auto it = known_.find(key);
    if (it == known_.end() || it->second.second < cutoff) {
        return std::nullopt;  // unknown here, or deleted by retention by now
    }
    return it->second;
}

void Collector::Remember(
    const std::string& key,
    const std::string& report,
    const std::string& received_at
) {
    std::lock_guard lock(mu_);
    if (!known_.emplace(key, std::pair{report, received_at}).second) {
        return;
    }
    known_order_.push_back(key);
    if (known_order_.size() > kKnownDocuments) {
        known_.erase(known_order_.front());
        known_order_.pop_front();
    }
}

core::Result<json::array>
Collector::History(const std::string& tenant, const std::string& workspace, size_t limit) {
    auto all = store_.ListAll(std::string(kKind), tenant, [&](const store::Object& o) {
        return core::StrAt(o.spec, "workspace") == workspace;
    });
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

core::Result<std::string>
Collector::Document(const std::string& report_id, const std::optional<std::string>& tenant) {
    auto r = store_.Get(report_id);
    if (!r || r->kind != kKind || (tenant && r->tenant != *tenant)) {
        return Fail(ErrorCode::kNotFound, fmt::format("statistics report {} not found", report_id));
    }
    std::string raw;
    if (auto blob = store_.GetBlob(report_id)) {
        raw = std::move(*blob);
    } else if (!core::Base64UrlDecode(
                   core::StrAt(r->spec, "document"), raw
               )) {  // stored in the report before blobs
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
    // One server's row, counted in the distributions.
    struct Row {
        std::string id, name, tenant, registration, version, method, platform, last_sync_at,
            last_report_at;
        int64_t seats = 0, active_users = 0, total_users = 0;
    };
    auto add = [&](const Row& r) {
        for (auto [value, into] :
             {std::pair{&r.version, &versions}, {&r.method, &methods}, {&r.platform, &platforms}}) {
            if (!value->empty()) {
                (*into)[*value]++;
            }
        }
        rows.push_back(json::object{
            {"id", r.id},
            {"name", r.name},
            {"tenant", r.tenant},
            {"registration", r.registration},
            {"version", r.version},
            {"deploy_method", r.method},
            {"seats", r.seats},
            {"active_users", r.active_users},
            {"total_users", r.total_users},
            {"last_sync_at", r.last_sync_at},
            {"last_report_at", r.last_report_at},
        });
    };
    for (const auto& ws : *all) {
        const json::object* st = core::ObjectAt(ws.status, "statistics");
        json::object stats = st != nullptr ? *st : json::object();
        auto either = [&](const char* from_stats, const char* from_status) {
            std::string v = core::StrAt(stats, from_stats);
            return v.empty() ? core::StrAt(ws.status, from_status) : v;
        };
        Row r{
            .id = ws.id,
            .name = ws.name,
            .tenant = ws.tenant,
            .registration = core::StrAt(ws.status, "registration"),
            .version = either("version", "version"),
            .method = either("deploy_method", "deployment_method"),
            .platform = either("deploy_platform", "deployment_platform"),
            .last_sync_at = core::StrAt(ws.status, "last_sync_at"),
            .last_report_at = core::StrAt(stats, "last_report_at"),
            .seats = core::IntAt(ws.status, "seats"),
            .active_users = core::IntAt(stats, "active_users"),
            .total_users = core::IntAt(stats, "total_users")};
        PerTenant& t = tenants[ws.tenant];
        t.workspaces++;
        if (r.registration == "Registered") {
            t.registered++;
        }
        t.seats += r.seats;
        t.active_users += r.active_users;
        t.total_users += r.total_users;
        if (r.registration.empty()) {
            r.registration = "Unregistered";
        }
        add(r);
    }
    if (!tenant) {
        // Servers that report without registering (no workspace, no tenant): the newest report
        // of each, for the whole platform's view only.
        auto anonymous = store_.ListAll(std::string(kKind), std::string());
        if (!anonymous) {
            return Fail(anonymous.error());
        }
        std::map<std::string, const store::Object*> newest;
        for (const auto& r : *anonymous) {
            const store::Object*& slot = newest[core::StrAt(r.spec, "workspace")];
            if (slot == nullptr ||
                core::StrAt(r.spec, "received_at") > core::StrAt(slot->spec, "received_at")) {
                slot = &r;
            }
        }
        for (const auto& [server, report] : newest) {
            const json::object& st = report->spec;
            Row r;
            r.id = server;
            r.registration = "Anonymous";
            r.version = core::StrAt(st, "version");
            r.method = core::StrAt(st, "deploy_method");
            r.platform = core::StrAt(st, "deploy_platform");
            r.last_report_at = core::StrAt(st, "received_at");
            r.active_users = core::IntAt(st, "active_users");
            r.total_users = core::IntAt(st, "total_users");
            add(r);
        }
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
    auto old = store_.ListAll(std::string(kKind), std::nullopt, [&](const store::Object& o) {
        return core::StrAt(o.spec, "received_at") < cutoff;
    });
    if (!old) {
        core::LogWarn("statistics retention: listing failed", {{"error", old.error().message}});
        return 0;
    }
    size_t n = 0;
    std::string now = core::FormatRfc3339(clock_.Now());
    for (const auto& o : *old) {
        if (store_.Delete(
                o.id,
                std::nullopt,
                nullptr,
                store::SystemAudit(now, "controller:collector", o.tenant, o.id)
            )) {
            ++n;
        }
    }
    return n;
}

}  // namespace hangar::edge
