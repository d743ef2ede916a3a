#pragma once
// The statistics collector (protocols/workspace-cloud.md §5): a workspace posts its whole
// statistics document once a day. Each is kept whole, zstd-compressed, in a blob beside a
// StatisticsReport (outside the change log and the document cache) named by the SHA-256 of the
// document, so a resent document is stored once and gets the same
// answer; the fields the fleet needs are extracted beside it, copied onto the Workspace's status
// and written as metrics series (seats and active users over time). The answer is a statsToken
// signed with the cloud's Ed25519 key. The document is kept byte for byte as sent; "the same
// document" is the same bytes (a server resends what it stored).

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"
#include "hangar/core/periodic.hpp"
#include "hangar/core/usage.hpp"
#include "hangar/edge/keys.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/store/store.hpp"

namespace hangar::metrics {
class Tsdb;
}

namespace hangar::edge {

struct CollectorOptions {
    std::chrono::seconds retention{400LL * 24 * 3600};  // reports older than this are deleted
    size_t max_document = 4 << 20;                      // bytes, before compression
    // The newest report's fields reach the Workspace's status (and series) this often, so a
    // burst of reports costs one workspace write, not one each.
    std::chrono::milliseconds flush_every{2000};
};

class Collector {
public:
    Collector(
        store::Store& store,
        const CloudKeys& keys,
        const core::Clock& clock,
        metrics::Tsdb* tsdb,
        CollectorOptions opts
    );

    // Each new report is reported as usage ("hangar.statistics.report", its tenant billed).
    void SetUsageSink(core::UsageSink& sink) { usage_ = &sink; }
    // `who` is null for a server that has not registered: its reports are kept platform-wide,
    // under its uniqueId, for platform admins.
    EdgeResult<json::object> Receive(const WorkspaceAuth* who, std::string_view body);
    // The same without waiting: never blocks. `done` runs at once (refused, or a document this
    // process knows), or on the store's writer thread once the report is durable.
    void ReceiveAsync(
        const WorkspaceAuth* who,
        std::string_view body,
        std::function<void(EdgeResult<json::object>)> done
    );

    // The indexed fields of a workspace's reports, newest first (`tenant` as the caller sees it;
    // "" for unregistered servers, with `workspace` then being their uniqueId).
    core::Result<json::array>
    History(const std::string& tenant, const std::string& workspace, size_t limit);
    // A report's whole document, decompressed; NotFound outside `tenant` (nullopt: any tenant).
    core::Result<std::string>
    Document(const std::string& report_id, const std::optional<std::string>& tenant);
    // Versions in use, deployment methods and platforms, seats and active users per tenant,
    // from the latest report of each workspace (and each workspace's last sync).
    core::Result<json::object> Fleet(const std::optional<std::string>& tenant);
    // Deletes reports past retention; returns how many.
    size_t Sweep();
    // Writes the newest reports' fields to their workspaces; runs every flush_every.
    void Flush();
    void Start() { flusher_.Start(); }
    void Stop();

private:
    core::NullUsageSink no_usage_;
    core::UsageSink* usage_ = &no_usage_;
    struct Latest {
        std::string tenant, received_at;
        json::object index;
        std::string report;
        int64_t fresh = 0;  // reports since the last flush
    };
    // "<tenant>/<sha256>" → {report id, received_at}, for the newest documents.
    std::optional<std::pair<std::string, std::string>> Known(const std::string& key);
    void
    Remember(const std::string& key, const std::string& report, const std::string& received_at);
    std::mutex mu_;
    std::unordered_map<std::string, Latest> latest_;  // by workspace id
    std::unordered_map<std::string, std::pair<std::string, std::string>> known_;
    std::deque<std::string> known_order_;  // oldest first
    std::atomic<int> in_flight_{0};        // reports handed to the store, not yet answered
    store::Store& store_;
    const CloudKeys& keys_;
    const core::Clock& clock_;
    metrics::Tsdb* tsdb_;
    CollectorOptions opts_;
    core::Periodic flusher_;
};

// A workspace's figures as series at `time_ms`, in its tenant: hangar_workspace_seats (from
// sync), hangar_workspace_active_users, _total_users, _total_messages (from statistics) and
// hangar_workspace_info{version, deploy_method} = 1.
void RecordWorkspaceSeries(metrics::Tsdb& tsdb, const store::Object& ws, int64_t time_ms);

}  // namespace hangar::edge
