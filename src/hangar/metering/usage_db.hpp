#pragma once
// Where usage lives: an SQLite file of its own beside the store's (<data>/usage.db), so that
// event ingestion neither waits for nor slows the control plane's writes. It holds
// - the events as received (their (source, id) unique: a resent event is recognised while it
//   is kept: Prune forgets events past --usage-retention, hourly), and
// - each meter's usage pre-aggregated per subject, group and bucket, in minute and
//   quarter-hour buckets (count, sum, min, max, latest; distinct values for UNIQUE_COUNT), so a
//   month of one subject is a few thousand rows.
// One writer thread commits what has been submitted since its last commit in one transaction
// (group commit, synchronous=FULL): an event is acknowledged only once durable, and counted
// exactly once. The events are the log; the buckets are a view of it kept in memory and written
// out at most every second (with the sequence number they cover), so that a burst does not
// rewrite the same bucket pages once per commit. Queries read both; after a crash the events
// past the written sequence are aggregated again. A new or changed meter is recomputed from the
// kept events.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "hangar/core/error.hpp"
#include "hangar/metering/events.hpp"
#include "hangar/metering/meter.hpp"

namespace hangar::store::sqlite {
class Db;
}  // namespace hangar::store::sqlite

namespace hangar::metering {

struct IngestCounts {
    int64_t accepted = 0;    // new events
    int64_t duplicates = 0;  // already received (same source and id)
};

// One bucket of one meter for one subject and group.
struct RollupRow {
    std::string subject;
    std::string group;   // the group values as a JSON object, keys sorted ("{}" for none)
    int64_t bucket = 0;  // unix seconds
    int64_t count = 0;
    double sum = 0, min = 0, max = 0, latest = 0;
    int64_t latest_ms = 0;
};
struct UniqueRow {
    std::string subject, group;
    int64_t bucket = 0;
    std::string value;
};

struct EventFilter {
    int64_t from_ms = 0, to_ms = 0;
    std::string subject;  // "" : any
    std::string id;       // "" : any (substring)
    size_t limit = 100;
};
struct StoredEvent {
    UsageEvent event;
    int64_t ingested_ms = 0;
};

class UsageDb {
public:
    explicit UsageDb(const std::string& path);
    ~UsageDb();
    UsageDb(const UsageDb&) = delete;
    UsageDb& operator=(const UsageDb&) = delete;

    // Takes a batch; `done` runs on the writer thread once it is durable (or failed).
    void
    Submit(std::vector<UsageEvent> events, std::function<void(core::Result<IngestCounts>)> done);
    // Submit and wait.
    core::Result<IngestCounts> Ingest(std::vector<UsageEvent> events);
    // The meters events are aggregated by; a meter that is new or whose generation changed is
    // recomputed from the kept events before the next batch, a gone one's usage dropped.
    // Returns once the writer has taken them (and recomputed what changed).
    void SetMeters(std::vector<MeterDef> meters);

    // Bucket width 60 or 900 seconds; [from_s, to_s); subjects empty: every subject.
    core::Result<std::vector<RollupRow>> Rollups(
        const std::string& slug,
        int width,
        int64_t from_s,
        int64_t to_s,
        const std::vector<std::string>& subjects
    );
    core::Result<std::vector<UniqueRow>> Uniques(
        const std::string& slug,
        int width,
        int64_t from_s,
        int64_t to_s,
        const std::vector<std::string>& subjects
    );
    core::Result<std::vector<std::string>>
    Subjects(const std::string& slug, int64_t from_s, int64_t to_s);
    core::Result<std::vector<StoredEvent>> Events(const EventFilter& f);
    // Forgets kept events received before `before_ms` (their usage stays).
    core::Result<int64_t> Prune(int64_t before_ms);
    // Waits until every meter handed to SetMeters is aggregated (tests, backfills).
    void WaitIdle();

    struct Deltas;

private:
    struct Pending {
        std::vector<UsageEvent> events;
        std::function<void(core::Result<IngestCounts>)> done;
    };
    void WriterLoop();
    void Commit(std::vector<Pending>& batch);
    void Rebuild(const MeterDef& m);
    void Drop(const std::string& slug);
    // Writes the buckets held in memory and the sequence they cover.
    void Flush();
    // The events past the written sequence, aggregated again for `meters` (after a restart).
    void Recover(const std::vector<MeterDef>& meters);
    std::unique_ptr<store::sqlite::Db> write_;
    std::unique_ptr<store::sqlite::Db> read_;
    std::mutex read_mu_;
    std::mutex mu_;
    std::condition_variable cv_, idle_cv_;
    std::deque<Pending> queue_;
    bool stop_ = false;
    bool busy_ = false;
    std::vector<MeterDef> meters_;                      // writer's view
    std::optional<std::vector<MeterDef>> next_meters_;  // handed over by SetMeters
    uint64_t meters_asked_ = 0, meters_done_ = 0;
    // The buckets not yet written (guarded by view_mu_: a reader holds it shared across its
    // read of the file and of these, the writer exclusively while it commits a flush).
    std::shared_mutex view_mu_;
    std::unique_ptr<Deltas> pending_;
    int64_t pending_seq_ = 0;  // the last event the view covers (in memory or written)
    int64_t written_seq_ = 0;  // ... and written
    std::chrono::steady_clock::time_point flushed_at_;
    bool recovered_ = false;
    bool meters_known_ = false;
    std::thread writer_;
};

}  // namespace hangar::metering
