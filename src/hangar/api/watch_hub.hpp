#pragma once
// Fans the change log out to watchers. One tailer thread reads the log after every commit
// (local, or a NOTIFY from another replica; and once a second regardless) and hands each
// watcher the changes it asked for, in revision order. A new watcher that starts from an older
// revision is caught up by the same thread, so no change can slip between its backlog and the
// live stream.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hangar/http/message.hpp"
#include "hangar/store/store.hpp"

namespace hangar::api {

struct Watcher {
    std::shared_ptr<http::StreamSink> sink;
    int64_t cursor = 0;  // the last revision this watcher has seen
    // Decides whether a change is for this watcher (kind, tenant, selector).
    std::function<bool(const store::Change&)> wants;
};

class WatchHub {
public:
    explicit WatchHub(store::Store& store);
    ~WatchHub();
    WatchHub(const WatchHub&) = delete;
    WatchHub& operator=(const WatchHub&) = delete;

    void Start();
    // Closes every stream and drops the watchers; call before the HTTP server is destroyed.
    void Stop();
    void Wake();
    void Add(std::shared_ptr<Watcher> w);
    size_t size();

    static std::string FormatEvent(const store::Change& c);

private:
    void Loop();
    void Deliver(Watcher& w, const std::vector<store::Change>& changes);

    store::Store& store_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool woken_ = false;
    bool stop_ = false;
    int64_t cursor_ = 0;
    std::vector<std::shared_ptr<Watcher>> live_, joining_;
    std::thread thread_;
};

}  // namespace hangar::api
