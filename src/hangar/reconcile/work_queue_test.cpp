#include "hangar/reconcile/work_queue.hpp"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace hangar::reconcile {

TEST(Backoff, DoublesFromTheBaseUpToTheCap) {
    EXPECT_EQ(Backoff(0).count(), 0);
    EXPECT_EQ(Backoff(1).count(), 100);
    EXPECT_EQ(Backoff(2).count(), 200);
    EXPECT_EQ(Backoff(5).count(), 1600);
    EXPECT_EQ(Backoff(40).count(), 60000);
}

TEST(WorkQueue, AKeyAddedTwiceIsProcessedOnce) {
    WorkQueue q;
    q.Add("a");
    q.Add("b");
    q.Add("a");
    EXPECT_EQ(q.Len(), 2U);
    EXPECT_EQ(q.Get(), "a");
    EXPECT_EQ(q.Get(), "b");
    EXPECT_EQ(q.Len(), 0U);
}

TEST(WorkQueue, AKeyAddedWhileProcessingRunsAgainAfterDoneNotConcurrently) {
    WorkQueue q;
    q.Add("a");
    auto first = q.Get();
    ASSERT_EQ(first, "a");
    q.Add("a");  // changed again while a worker has it
    EXPECT_EQ(q.Len(), 0U) << "no second worker may take it now";
    q.Done("a");
    EXPECT_EQ(q.Len(), 1U);
    EXPECT_EQ(q.Get(), "a");
    q.Done("a");
    EXPECT_EQ(q.Len(), 0U);
}

TEST(WorkQueue, RetriesCountFailuresAndForgetResetsThem) {
    WorkQueue q;
    q.Add("a");
    q.Get();
    EXPECT_EQ(q.Retry("a").count(), 100);
    EXPECT_EQ(q.Failures("a"), 1);
    EXPECT_EQ(q.Retry("a").count(), 200);
    q.Forget("a");
    EXPECT_EQ(q.Failures("a"), 0);
    q.Done("a");
}

TEST(WorkQueue, DelayedKeysBecomeReadyAndShutdownReleasesWaiters) {
    WorkQueue q;
    q.AddAfter("later", std::chrono::milliseconds(20));
    EXPECT_EQ(q.Len(), 0U);
    EXPECT_EQ(q.Get(), "later");  // blocks until due
    std::atomic<bool> returned{false};
    std::thread waiter([&] {
        EXPECT_FALSE(q.Get().has_value());
        returned = true;
    });
    q.ShutDown();
    waiter.join();
    EXPECT_TRUE(returned);
}

TEST(WorkQueue, ManyWorkersNeverShareAKey) {
    WorkQueue q;
    std::mutex mu;
    std::set<std::string> busy;
    std::atomic<int> overlaps{0}, handled{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&] {
            while (auto k = q.Get()) {
                {
                    std::lock_guard lock(mu);
                    if (!busy.insert(*k).second) {
                        overlaps++;
                    }
                }
                std::this_thread::yield();
                {
                    std::lock_guard lock(mu);
                    busy.erase(*k);
                }
                handled++;
                q.Done(*k);
            }
        });
    }
    for (int i = 0; i < 2000; ++i) {
        q.Add("k" + std::to_string(i % 7));
    }
    for (int i = 0; i < 500 && q.Len() > 0; ++i) {  // bounded
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    q.ShutDown();
    for (auto& t : workers) {
        t.join();
    }
    EXPECT_EQ(overlaps.load(), 0);
    EXPECT_GE(handled.load(), 7);
}

}  // namespace hangar::reconcile
