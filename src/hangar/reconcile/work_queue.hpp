#pragma once
// The work queue of a level-triggered controller (controller-runtime's contract):
// - a key added several times before it is processed is processed once;
// - a key is never handled by two workers at once; one added while it is being processed is
//   processed again once Done() is called;
// - failures back off exponentially (Backoff), successes reset the count.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace hangar::reconcile {

// base·2^(failures-1), capped at `max`.
std::chrono::milliseconds Backoff(
    int failures,
    std::chrono::milliseconds base = std::chrono::milliseconds(100),
    std::chrono::milliseconds max = std::chrono::seconds(60)
);

class WorkQueue {
public:
    using Clock = std::chrono::steady_clock;

    void Add(const std::string& key);
    void AddAfter(const std::string& key, std::chrono::milliseconds delay);
    // Blocks until a key is ready; nullopt once the queue is shut down.
    std::optional<std::string> Get();
    void Done(const std::string& key);
    // Records a failure and schedules a retry after the back-off; returns that delay.
    std::chrono::milliseconds Retry(const std::string& key);
    void Forget(const std::string& key);  // resets the failure count
    int Failures(const std::string& key);
    void ShutDown();
    size_t Len();

private:
    void PromoteDueLocked(Clock::time_point now);
    void EraseDelayedLocked(const std::string& key);

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::string> ready_;
    std::unordered_set<std::string> dirty_;  // queued (in ready_), or re-added while processing
    std::unordered_set<std::string> processing_;
    std::unordered_map<std::string, Clock::time_point> delayed_;  // earliest due time per key
    std::set<std::pair<Clock::time_point, std::string>> by_due_;  // the same, in due order
    std::unordered_map<std::string, int> failures_;
    bool shutdown_ = false;
};

}  // namespace hangar::reconcile
