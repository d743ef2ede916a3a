#pragma once
// A background loop: runs a function on its own thread right away and then every interval,
// until stopped. Stop wakes the wait at once and returns after the current run ends.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace hangar::core {

class Periodic {
public:
    enum class Cadence {
        kAfterEach,  // the next run starts an interval after this one ended
        kFixedRate,  // runs start every interval (as Prometheus's rule groups); a late run starts
                     // at once
    };
    Periodic(
        std::chrono::milliseconds interval,
        std::function<void()> fn,
        Cadence cadence = Cadence::kAfterEach
    )
        : interval_(interval), fn_(std::move(fn)), cadence_(cadence) {}
    ~Periodic() { Stop(); }
    Periodic(const Periodic&) = delete;
    Periodic& operator=(const Periodic&) = delete;

    void Start();
    void Stop();

private:
    std::chrono::milliseconds interval_;
    std::function<void()> fn_;
    Cadence cadence_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace hangar::core
