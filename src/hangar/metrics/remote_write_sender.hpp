#pragma once
// Forwards every sample the store accepts to a Prometheus-compatible remote-write endpoint
// (a larger Prometheus, Mimir, Thanos receive...), one request per tenant batch with the
// tenant in X-Scope-OrgID (the platform's own series as "hangar"). A bounded queue
// decouples ingest from the network: when the endpoint is slower than ingest for long, the
// oldest samples are dropped and counted, never ingest slowed. 5xx and 429 are retried with
// back-off (up to 30 s); other 4xx are dropped, as Prometheus's sender does.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "hangar/metrics/tsdb.hpp"

namespace hangar::metrics {

struct RemoteWriteOptions {
    std::string url;           // http(s)://host:port/api/v1/write
    std::string bearer_token;  // sent as Authorization: Bearer, if set
    size_t max_queued_samples = 500'000;
    size_t max_samples_per_send = 2'000;
    std::chrono::milliseconds batch_deadline{1000};
    std::chrono::milliseconds timeout{10'000};
};

struct RemoteWriteStats {
    uint64_t sent = 0, dropped = 0, failed_requests = 0, retried_requests = 0, queued = 0;
};

class RemoteWriteSender {
public:
    explicit RemoteWriteSender(RemoteWriteOptions opts);
    ~RemoteWriteSender();
    void Start();
    void Stop();  // sends what is queued (bounded by one timeout per request), then stops
    // Queues what the store accepted; never blocks on the network.
    void Enqueue(
        std::string_view tenant,
        std::span<const LabelView> labels,
        std::span<const Sample> samples
    );
    RemoteWriteStats Stats() const;

private:
    struct Item {
        std::string tenant;
        Labels labels;
        std::vector<Sample> samples;
    };
    void Run();
    bool Send(const std::string& tenant, const std::vector<SeriesData>& series);

    RemoteWriteOptions opts_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Item> queue_;
    size_t queued_samples_ = 0;
    bool stop_ = false;
    std::thread thread_;
    std::atomic<uint64_t> sent_{0}, dropped_{0}, failed_{0}, retried_{0};
};

}  // namespace hangar::metrics
