#pragma once
// The embedded metrics store. Series live per tenant; recent samples sit in an in-memory head
// of compressed chunks, covered by a write-ahead log; when the head spans 1.5 block ranges its
// oldest range is cut into an on-disk block. Blocks past retention are deleted whole.
//
// Appends are serialised (one WAL, in order), which is also what keeps replay identical to
// what was acknowledged; queries run beside them under per-tenant read locks.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/error.hpp"
#include "hangar/metrics/chunk.hpp"
#include "hangar/metrics/labels.hpp"

namespace hangar::metrics {

class Block;
class Wal;

inline constexpr int64_t kMinute = 60'000;
inline constexpr int64_t kHour = 60 * kMinute;
inline constexpr int64_t kDay = 24 * kHour;

struct TsdbOptions {
    std::string dir;
    int64_t retention_ms = 15 * kDay;
    int64_t block_range_ms = 2 * kHour;
    // Each cut also writes a rollup block (the last sample of every 5 minutes, and the sample
    // before each counter reset), kept this long; queries read it where raw blocks are gone.
    int64_t rollup_retention_ms = 400 * kDay;
    int64_t rollup_step_ms = 5 * kMinute;
    // Series with samples in the head, per tenant. Past it new series are refused.
    size_t max_series_per_tenant = 100'000;
    // Samples one series may hold in the head (3 h at 4 per second); bounds memory per series.
    uint32_t max_head_samples_per_series = 43'200;
};

// One request's series. Label strings are borrowed from the request's buffer, so ingest
// allocates only for series it has not seen.
struct WriteBatch {
    struct Series {
        uint32_t label_begin = 0, label_count = 0, sample_begin = 0, sample_count = 0;
    };
    std::vector<LabelView> labels;
    std::vector<Sample> samples;
    std::vector<Series> series;

    void Clear() {
        labels.clear();
        samples.clear();
        series.clear();
    }
    void Add(std::span<const LabelView> l, std::span<const Sample> s);
    size_t sample_count() const { return samples.size(); }
};

struct AppendResult {
    uint64_t samples = 0, series_created = 0;
    uint64_t out_of_order = 0, duplicates = 0, too_old = 0, over_series_limit = 0,
             over_head_limit = 0, invalid = 0;
    std::string first_error;  // what was wrong with the first refused sample
    uint64_t Refused() const {
        return out_of_order + duplicates + too_old + over_series_limit + over_head_limit + invalid;
    }
};

struct SeriesData {
    Labels labels;
    std::vector<Sample> samples;
};

struct TsdbStats {
    uint64_t tenants = 0, series = 0, active_series = 0, head_samples = 0, head_bytes = 0;
    uint64_t blocks = 0, block_bytes = 0, block_samples = 0, wal_bytes = 0;  // raw blocks
    uint64_t rollup_blocks = 0, rollup_bytes = 0, rollup_samples = 0;
    uint64_t appended_total = 0, refused_total = 0;
    int64_t head_min_t = 0, head_max_t = 0;
};

class Tsdb {
public:
    ~Tsdb();
    Tsdb(const Tsdb&) = delete;
    Tsdb& operator=(const Tsdb&) = delete;

    // Opens (or creates) the store in `opts.dir`, loading blocks and replaying the WAL.
    static core::Result<std::unique_ptr<Tsdb>> Open(TsdbOptions opts);

    // Appends and writes the WAL before returning: what it reports as appended survives a
    // crash. Refused samples are counted in the result; the rest of the batch still lands.
    // Sorts each series' labels in place.
    core::Result<AppendResult> Append(std::string_view tenant, WriteBatch& batch);

    // Series of `tenant` matching every matcher, with their samples in [mint, maxt]; series
    // without samples there are left out.
    std::vector<SeriesData> Select(
        std::string_view tenant,
        std::span<const Matcher> matchers,
        int64_t mint,
        int64_t maxt
    ) const;
    std::vector<Labels> SelectSeries(
        std::string_view tenant,
        std::span<const Matcher> matchers,
        int64_t mint,
        int64_t maxt
    ) const;
    std::vector<std::string> LabelNames(
        std::string_view tenant,
        std::span<const Matcher> matchers,
        int64_t mint,
        int64_t maxt
    ) const;
    std::vector<std::string> LabelValues(
        std::string_view tenant,
        std::string_view name,
        std::span<const Matcher> matchers,
        int64_t mint,
        int64_t maxt
    ) const;

    // Cuts the head into blocks when it spans 1.5 block ranges, and deletes blocks older than
    // retention relative to `now_ms`. Run it every minute or so.
    core::Result<void> Maintain(int64_t now_ms);
    // Cuts everything in the head up to `before_ms` into a block now (tests, benchmarks).
    core::Result<void> CutHead(int64_t before_ms);

    TsdbStats Stats() const;
    // Whether the tenant has stored any series (that retention has not yet dropped).
    bool HasTenant(std::string_view tenant) const { return FindTenant(tenant) != nullptr; }
    const TsdbOptions& options() const { return opts_; }

    // Called after each append's WAL write with every accepted sample, series by series (the
    // remote-write sender). Set before the first append.
    using AppendObserver = std::function<
        void(std::string_view tenant, std::span<const LabelView>, std::span<const Sample>)>;
    void SetAppendObserver(AppendObserver fn) { observer_ = std::move(fn); }

    struct Tenant;
    struct HeadSeries;

private:
    explicit Tsdb(TsdbOptions opts);
    core::Result<void> Load();
    core::Result<void> Checkpoint();
    void DropExpiredBlocks(int64_t now_ms);
    Tenant& TenantFor(std::string_view name);
    const Tenant* FindTenant(std::string_view name) const;
    template <typename Fn>
    void ForMatching(const Tenant& t, std::span<const Matcher> matchers, Fn&& fn) const;
    // Where raw data begins: rollups answer only for earlier times.
    int64_t RawFloor(const std::map<uint32_t, std::shared_ptr<Block>>& blocks) const;
    void Collect(
        const HeadSeries& s,
        int64_t mint,
        int64_t maxt,
        int64_t raw_floor,
        std::vector<Sample>& out,
        const std::map<uint32_t, std::shared_ptr<Block>>& blocks
    ) const;
    bool HasData(
        const HeadSeries& s,
        int64_t mint,
        int64_t maxt,
        const std::map<uint32_t, std::shared_ptr<Block>>& blocks
    ) const;
    std::map<uint32_t, std::shared_ptr<Block>> BlocksSnapshot() const;

    TsdbOptions opts_;
    std::mutex append_mu_;  // appends, head cuts, WAL
    mutable std::shared_mutex tenants_mu_;
    std::map<std::string, std::unique_ptr<Tenant>, std::less<>> tenants_;
    mutable std::shared_mutex blocks_mu_;
    std::map<uint32_t, std::shared_ptr<Block>> blocks_;
    uint32_t next_block_ = 1;
    std::unique_ptr<Wal> wal_;
    uint64_t next_ref_ = 1;
    std::atomic<int64_t> head_min_t_, head_max_t_, min_valid_t_;
    std::atomic<uint64_t> appended_total_{0}, refused_total_{0};
    std::string series_rec_, samples_rec_;
    AppendObserver observer_;
    std::vector<std::pair<const HeadSeries*, Sample>> accepted_;  // for the observer
};

}  // namespace hangar::metrics
