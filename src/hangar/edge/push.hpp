#pragma once
// The push gateway (protocols/workspace-cloud.md §4): POST /push/apn/send and /push/gcm/send
// from a workspace, relayed to APNs or FCM with the credentials of a PushApp, answered with the
// statuses the server acts on: 2xx delivered, 406 dead device token (only when the provider
// said so), 422 do not retry (bad payload, spent monthly quota, no credentials), 401 bad
// workspace token, anything else retried later. Provider 429/5xx are retried with back-off
// inside the gateway's deadline first.
//
// Usage is counted per workspace and month in memory and written to the Workspace's status
// every few seconds (so a notification costs no store write); the monthly quota comes from the
// plan (entitlements.monthly_push_notifications).

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/entitlement_gate.hpp"
#include "hangar/core/error.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/core/periodic.hpp"
#include "hangar/core/rate_limit.hpp"
#include "hangar/core/usage.hpp"
#include "hangar/edge/keys.hpp"
#include "hangar/edge/push_providers.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/store/store.hpp"

namespace hangar::metrics {
class Tsdb;
}

namespace hangar::edge {

struct PushOptions {
    std::string apns_url = "https://api.push.apple.com";  // an app's own url wins
    std::string fcm_url = "https://fcm.googleapis.com";
    std::string ca_file;  // extra trusted roots for provider connections
    std::chrono::milliseconds deadline{
        5000};          // a notification's time in the gateway, retries included
    double rate = 100;  // notifications a second per workspace, bursts of twice that
    std::string
        operator_tenant;  // tenant (by name) whose PushApps serve every tenant without its own
    std::chrono::milliseconds flush_every{5000};
};

// The PushApp kind's spec reader: exactly one of `apns` or `fcm`; the .p8 key or the
// service-account JSON is sealed with the master key before it is stored, and only the sealed
// form is ever read back.
std::function<core::Result<json::object>(const json::object&)> PushAppValidator(
    const CloudKeys& keys
);

struct PushAnswer {
    int status = 200;
    json::object body;
    int retry_after = 0;  // seconds; 0: no header
};

class PushGateway {
public:
    PushGateway(
        store::Store& store,
        Workspaces& workspaces,
        const CloudKeys& keys,
        const core::Clock& clock,
        core::MetricsRegistry* metrics,
        metrics::Tsdb* tsdb,
        PushOptions opts
    );
    ~PushGateway();
    // Each delivered notification is reported as usage ("hangar.push.sent").
    void SetUsageSink(core::UsageSink& sink) { usage_sink_ = &sink; }
    // A tenant whose entitlement to "push_notifications" is used up is refused (quota spent).
    void SetEntitlementGate(core::EntitlementGate& gate) { gate_ = &gate; }

    PushAnswer Send(
        std::string_view service,
        std::string_view authorization,
        std::string_view body,
        const std::string& request_id
    );
    // The same without holding the caller: answers only from memory and hands the notification
    // to the provider connection; `done` runs later on another thread (a retry moves it to the
    // gateway's retry thread). False when something had to be read first: call Send instead.
    bool SendAsync(
        std::string_view service,
        std::string_view authorization,
        std::string_view body,
        const std::string& request_id,
        const std::function<void(PushAnswer)>& done
    );
    // Writes counted usage to the workspaces' status (and series); runs every flush_every.
    void Flush();
    // Provider connections run on `io` (the HTTP server's I/O threads) rather than threads of
    // their own. Call before the first notification; Stop() must come before `io` is destroyed.
    void RunOn(boost::asio::io_context& io) { io_ = &io; }
    void Start() { flusher_.Start(); }
    // Stops the retry threads and closes the provider connections.
    void Stop();

private:
    struct App;
    struct Prepared;
    // Everything before the provider: nullopt with `early` set when the answer is already known,
    // nullopt with `would_block` set when !may_block and something is not in memory.
    std::optional<Prepared> Prepare(
        std::string_view service,
        std::string_view authorization,
        std::string_view body,
        const std::string& request_id,
        bool may_block,
        PushAnswer& early,
        bool& would_block
    );
    ProviderOutcome Deliver(const Prepared& p, ProviderOutcome last, int& attempts);
    PushAnswer Finish(const Prepared& p, const ProviderOutcome& out, int attempts);
    void RetryLoop();
    core::NullUsageSink no_usage_;
    core::UsageSink* usage_sink_ = &no_usage_;
    core::OpenGate open_gate_;
    core::EntitlementGate* gate_ = &open_gate_;
    struct Usage {
        std::string month;
        int64_t stored = 0;    // in the store when loaded or last flushed
        int64_t pending = 0;   // delivered since, not yet written
        int64_t inflight = 0;  // reserved by sends in progress
        bool loaded = false;
        int64_t quota = 0;  // 0: none
        std::chrono::steady_clock::time_point quota_at{};
        std::string tenant;
    };
    // nullptr with `why` empty when !may_block and the app is not in memory yet.
    std::shared_ptr<App> FindApp(
        const std::string& tenant,
        std::string_view service,
        const std::string& topic,
        bool may_block,
        std::string& why
    );
    int64_t QuotaOf(const store::Object& ws);

    store::Store& store_;
    Workspaces& workspaces_;
    const CloudKeys& keys_;
    const core::Clock& clock_;
    metrics::Tsdb* tsdb_;
    PushOptions opts_;
    boost::asio::io_context* io_ = nullptr;
    core::RateLimiter limiter_;
    core::CounterFamily* sent_ = nullptr;
    core::HistogramFamily* seconds_ = nullptr;
    std::mutex apps_mu_;
    struct TenantApps {
        std::chrono::steady_clock::time_point at;
        std::vector<store::Object> apps;
    };
    std::unordered_map<std::string, TenantApps> tenant_apps_;
    std::unordered_map<std::string, std::shared_ptr<App>> senders_;  // by app id@revision
    std::mutex usage_mu_;
    std::unordered_map<std::string, Usage> usage_;  // by workspace id
    core::Periodic flusher_;
    // Notifications whose first attempt asked for a retry (async path), with their answer.
    std::mutex retry_mu_;
    std::condition_variable retry_cv_;
    std::deque<std::function<void()>> retries_;
    bool stopping_ = false;
    std::vector<std::thread> retry_threads_;
};

}  // namespace hangar::edge
