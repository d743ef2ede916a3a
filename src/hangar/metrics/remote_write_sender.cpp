#include "hangar/metrics/remote_write_sender.hpp"

#include <map>

#include <curl/curl.h>
#include <fmt/format.h>

#include "hangar/core/log.hpp"
#include "hangar/metrics/remote_write.hpp"

namespace hangar::metrics {

namespace {

size_t Discard(char*, size_t size, size_t n, void*) {
    return size * n;
}

}  // namespace

RemoteWriteSender::RemoteWriteSender(RemoteWriteOptions opts) : opts_(std::move(opts)) {}

RemoteWriteSender::~RemoteWriteSender() {
    Stop();
}

void RemoteWriteSender::Start() {
    thread_ = std::thread([this] { Run(); });
}

void RemoteWriteSender::Stop() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void RemoteWriteSender::Enqueue(
    std::string_view tenant,
    std::span<const LabelView> labels,
    std::span<const Sample> samples
) {
    if (samples.empty()) {
        return;
    }
    std::lock_guard lock(mu_);
    queue_.push_back({std::string(tenant), ToLabels(labels), {samples.begin(), samples.end()}});
    queued_samples_ += samples.size();
    while (queued_samples_ > opts_.max_queued_samples && !queue_.empty()) {
        queued_samples_ -= queue_.front().samples.size();
        dropped_ += queue_.front().samples.size();
        queue_.pop_front();
    }
    if (queued_samples_ >= opts_.max_samples_per_send) {
        cv_.notify_one();
    }
}

RemoteWriteStats RemoteWriteSender::Stats() const {
    std::lock_guard lock(mu_);
    return {sent_.load(), dropped_.load(), failed_.load(), retried_.load(), queued_samples_};
}

bool RemoteWriteSender::Send(const std::string& tenant, const std::vector<SeriesData>& series) {
    std::string body = EncodeWriteRequest(series);
    size_t samples = 0;
    for (const auto& s : series) {
        samples += s.samples.size();
    }
    auto backoff = std::chrono::milliseconds(100);
    for (int attempt = 0; attempt < 20; ++attempt) {  // bounded: about 5 minutes of retries
        CURL* curl = curl_easy_init();
        if (curl == nullptr) {
            return false;
        }
        curl_slist* headers = nullptr;
        headers = curl_slist_append(headers, "Content-Type: application/x-protobuf");
        headers = curl_slist_append(headers, "Content-Encoding: snappy");
        headers = curl_slist_append(headers, "X-Prometheus-Remote-Write-Version: 0.1.0");
        headers = curl_slist_append(headers, "User-Agent: hangar-remote-write");
        std::string scope = "X-Scope-OrgID: " + (tenant.empty() ? std::string("hangar") : tenant);
        headers = curl_slist_append(headers, scope.c_str());
        std::string auth;
        if (!opts_.bearer_token.empty()) {
            auth = "Authorization: Bearer " + opts_.bearer_token;
            headers = curl_slist_append(headers, auth.c_str());
        }
        curl_easy_setopt(curl, CURLOPT_URL, opts_.url.c_str());
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(opts_.timeout.count()));
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
        CURLcode rc = curl_easy_perform(curl);
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
        if (rc == CURLE_OK && status >= 200 && status < 300) {
            sent_ += samples;
            return true;
        }
        bool retry = rc != CURLE_OK || status == 429 || status >= 500;
        if (!retry) {
            failed_ += 1;
            dropped_ += samples;
            core::LogWarn(
                "remote-write refused a batch; dropped",
                {{"url", std::string_view(opts_.url)}, {"status", static_cast<int64_t>(status)}}
            );
            return false;
        }
        retried_ += 1;
        {
            std::unique_lock lock(mu_);
            if (cv_.wait_for(lock, backoff, [this] { return stop_; })) {
                break;  // stopping: give up on this batch
            }
        }
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(30));
    }
    failed_ += 1;
    dropped_ += samples;
    core::LogWarn("remote-write failed; batch dropped", {{"url", std::string_view(opts_.url)}});
    return false;
}

void RemoteWriteSender::Run() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait_for(lock, opts_.batch_deadline, [this] {
            return stop_ || queued_samples_ >= opts_.max_samples_per_send;
        });
        if (queue_.empty()) {
            if (stop_) {
                return;
            }
            continue;
        }
        // Take up to max_samples_per_send, grouped per tenant in arrival order.
        std::map<std::string, std::vector<SeriesData>> by_tenant;
        size_t taken = 0;
        while (!queue_.empty() && taken < opts_.max_samples_per_send) {
            Item& it = queue_.front();
            taken += it.samples.size();
            queued_samples_ -= it.samples.size();
            by_tenant[it.tenant].push_back({std::move(it.labels), std::move(it.samples)});
            queue_.pop_front();
        }
        lock.unlock();
        for (const auto& [tenant, series] : by_tenant) {
            Send(tenant, series);
        }
        lock.lock();
    }
}

}  // namespace hangar::metrics
