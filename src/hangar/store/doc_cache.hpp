#pragma once
// Stored documents kept in memory, for a store that is the only writer of its database (the
// embedded SQLite default). Coherence without version bookkeeping: the writer applies each
// commit's changes and bumps a generation under the lock; a reader that missed caches what it
// read only if no commit happened while it was reading, so a stale document is never cached.

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hangar::store {

struct CachedDoc {
    std::string doc;
    std::string kind, tenant;
    int64_t revision = 0;
};

class DocCache {
public:
    explicit DocCache(size_t max_entries) : max_(max_entries) {}

    std::shared_ptr<const CachedDoc> Find(std::string_view id) const {
        std::shared_lock lock(mu_);
        auto it = map_.find(std::string(id));
        return it == map_.end() ? nullptr : it->second;
    }
    uint64_t Generation() const { return generation_.load(std::memory_order_acquire); }
    void InsertIfUnchanged(std::string id, std::shared_ptr<const CachedDoc> doc, uint64_t seen) {
        std::unique_lock lock(mu_);
        if (generation_.load(std::memory_order_relaxed) != seen || map_.size() >= max_) {
            return;
        }
        map_.emplace(std::move(id), std::move(doc));
    }
    // After a commit: nullptr erases.
    void Apply(std::vector<std::pair<std::string, std::shared_ptr<const CachedDoc>>>& updates) {
        std::unique_lock lock(mu_);
        for (auto& [id, doc] : updates) {
            if (doc == nullptr) {
                map_.erase(id);
            } else if (map_.size() < max_ || map_.contains(id)) {
                map_[id] = std::move(doc);
            }
        }
        generation_.fetch_add(1, std::memory_order_release);
    }
    size_t size() const {
        std::shared_lock lock(mu_);
        return map_.size();
    }

private:
    size_t max_;
    mutable std::shared_mutex mu_;
    std::unordered_map<std::string, std::shared_ptr<const CachedDoc>> map_;
    std::atomic<uint64_t> generation_{0};
};

}  // namespace hangar::store
