#pragma once
// A fixed set of connections handed out one caller at a time.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace hangar::store {

template <typename Conn>
class Pool {
public:
    void Add(std::unique_ptr<Conn> c) {
        std::lock_guard lock(mu_);
        free_.push_back(std::move(c));
    }

    class Lease {
    public:
        Lease(Pool& p, std::unique_ptr<Conn> c) : pool_(p), conn_(std::move(c)) {}
        ~Lease() { pool_.Return(std::move(conn_)); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Conn* operator->() { return conn_.get(); }
        Conn& operator*() { return *conn_; }

    private:
        Pool& pool_;
        std::unique_ptr<Conn> conn_;
    };

    Lease Acquire() {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !free_.empty(); });
        auto c = std::move(free_.back());
        free_.pop_back();
        return Lease(*this, std::move(c));
    }

private:
    void Return(std::unique_ptr<Conn> c) {
        {
            std::lock_guard lock(mu_);
            free_.push_back(std::move(c));
        }
        cv_.notify_one();
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<Conn>> free_;
};

}  // namespace hangar::store
