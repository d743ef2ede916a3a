#include "hangar/api/watch_hub.hpp"

#include <fmt/format.h>

#include "hangar/core/log.hpp"

namespace hangar::api {

namespace {
constexpr size_t kChunk = 1000;
}

WatchHub::WatchHub(store::Store& store) : store_(store) {}

WatchHub::~WatchHub() {
    Stop();
}

void WatchHub::Start() {
    auto rev = store_.CurrentRevision();
    cursor_ = rev ? *rev : 0;
    thread_ = std::thread([this] { Loop(); });
}

void WatchHub::Stop() {
    {
        std::lock_guard lock(mu_);
        if (stop_) {
            return;
        }
        stop_ = true;
        for (auto& w : live_) {
            w->sink->Close();
        }
        for (auto& w : joining_) {
            w->sink->Close();
        }
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    // Sinks belong to the HTTP server's I/O context: let go of them before it goes away.
    std::lock_guard lock(mu_);
    live_.clear();
    joining_.clear();
}

void WatchHub::Wake() {
    {
        std::lock_guard lock(mu_);
        woken_ = true;
    }
    cv_.notify_one();
}

void WatchHub::Add(std::shared_ptr<Watcher> w) {
    {
        std::lock_guard lock(mu_);
        joining_.push_back(std::move(w));
        woken_ = true;
    }
    cv_.notify_one();
}

size_t WatchHub::size() {
    std::lock_guard lock(mu_);
    return live_.size() + joining_.size();
}

std::string WatchHub::FormatEvent(const store::Change& c) {
    std::string_view type = store::ChangeTypeName(c.type);
    return fmt::format(
        "id: {}\nevent: {}\ndata: {{\"type\":\"{}\",\"revision\":{},\"object\":{}}}\n\n",
        c.revision,
        type,
        type,
        c.revision,
        c.doc
    );
}

void WatchHub::Deliver(Watcher& w, const std::vector<store::Change>& changes) {
    for (const auto& c : changes) {
        if (c.revision <= w.cursor) {
            continue;
        }
        w.cursor = c.revision;
        if (w.wants(c) && !w.sink->Send(FormatEvent(c))) {
            return;
        }
    }
}

void WatchHub::Loop() {
    while (true) {
        std::vector<std::shared_ptr<Watcher>> joining;
        {
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || woken_; });
            if (stop_) {
                return;
            }
            woken_ = false;
            joining.swap(joining_);
        }
        try {
            // Live watchers: everything after the hub's cursor.
            while (true) {
                auto changes = store_.ChangesAfter(cursor_, kChunk);
                if (!changes) {
                    if (changes.error().code == core::ErrorCode::kGone) {
                        auto rev = store_.CurrentRevision();  // fell behind compaction: skip
                        cursor_ = rev ? *rev : cursor_;
                    }
                    break;
                }
                if (changes->empty()) {
                    break;
                }
                std::vector<std::shared_ptr<Watcher>> live;
                {
                    std::lock_guard lock(mu_);
                    live = live_;
                }
                for (auto& w : live) {
                    Deliver(*w, *changes);
                }
                cursor_ = changes->back().revision;
                if (changes->size() < kChunk) {
                    break;
                }
            }
            // Newcomers: their backlog up to the hub's cursor, then they are live.
            for (auto& w : joining) {
                while (w->cursor < cursor_ && w->sink->IsOpen()) {
                    auto changes = store_.ChangesAfter(w->cursor, kChunk);
                    if (!changes) {
                        w->sink->Send(fmt::format(
                            "event: error\ndata: {{\"code\":\"{}\",\"message\":\"{}\"}}\n\n",
                            core::CodeString(changes.error().code),
                            changes.error().message
                        ));
                        w->sink->Close();
                        break;
                    }
                    if (changes->empty()) {
                        break;
                    }
                    std::vector<store::Change> upto;
                    for (auto& c : *changes) {
                        if (c.revision <= cursor_) {
                            upto.push_back(std::move(c));
                        }
                    }
                    int64_t before = w->cursor;
                    Deliver(*w, upto);
                    if (w->cursor == before) {
                        break;
                    }
                }
                w->cursor = std::max(w->cursor, cursor_);
            }
            std::lock_guard lock(mu_);
            for (auto& w : joining) {
                if (w->sink->IsOpen()) {
                    live_.push_back(std::move(w));
                }
            }
            std::erase_if(live_, [](const auto& w) { return !w->sink->IsOpen(); });
        } catch (const std::exception& e) {
            core::LogError("watch hub", {{"error", std::string_view(e.what())}});
        }
    }
}

}  // namespace hangar::api
