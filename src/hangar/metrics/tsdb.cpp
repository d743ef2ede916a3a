#include "hangar/metrics/tsdb.hpp"

#include <algorithm>
#include <bit>
#include <filesystem>
#include <limits>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "hangar/core/log.hpp"
#include "hangar/metrics/block.hpp"
#include "hangar/metrics/codec.hpp"
#include "hangar/metrics/wal.hpp"

namespace hangar::metrics {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::Fail;
using core::Result;

namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();
constexpr uint16_t kChunkSamples = 120;

// WAL record types (first byte).
constexpr char kSeriesRecord = 1;   // ref, tenant, labels, last value bits
constexpr char kSamplesRecord = 2;  // per sample: ref delta, time delta, value XOR the series' last

// A value XOR its predecessor: one byte saying how many leading and trailing bytes are zero,
// then the bytes between. Counters and slowly moving gauges take 2-4 bytes instead of 8.
void PutXor(std::string& out, uint64_t x) {
    if (x == 0) {
        out.push_back('\0');
        return;
    }
    int lead = std::countl_zero(x) / 8, trail = std::countr_zero(x) / 8;
    out.push_back(static_cast<char>((lead << 4) | (trail + 1)));
    for (int i = 7 - lead; i >= trail; --i) {
        out.push_back(static_cast<char>((x >> (i * 8)) & 0xff));
    }
}

bool GetXor(Decoder& d, uint64_t& x) {
    std::string_view head;
    if (!d.Bytes(1, head)) {
        return false;
    }
    auto h = static_cast<uint8_t>(head[0]);
    x = 0;
    if (h == 0) {
        return true;
    }
    int lead = h >> 4, trail = (h & 0x0f) - 1;
    if (trail < 0 || lead + trail > 7) {
        return false;
    }
    std::string_view bytes;
    if (!d.Bytes(static_cast<size_t>(8 - lead - trail), bytes)) {
        return false;
    }
    for (int i = 7 - lead, k = 0; i >= trail; --i, ++k) {
        x |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[k])) << (i * 8);
    }
    return true;
}

}  // namespace

void WriteBatch::Add(std::span<const LabelView> l, std::span<const Sample> s) {
    series.push_back(
        {static_cast<uint32_t>(labels.size()),
         static_cast<uint32_t>(l.size()),
         static_cast<uint32_t>(samples.size()),
         static_cast<uint32_t>(s.size())}
    );
    labels.insert(labels.end(), l.begin(), l.end());
    samples.insert(samples.end(), s.begin(), s.end());
}

struct Tsdb::HeadSeries {
    Labels labels;
    uint64_t hash = 0;
    uint32_t next_same = kNone;  // next series with the same hash
    uint64_t ref = 0;            // WAL reference
    bool in_wal = false;         // a series record for `ref` is in the current WAL
    uint64_t wal_bits = 0;       // last value written to the WAL (XOR base)
    std::vector<std::string> closed;
    std::vector<std::pair<int64_t, int64_t>> closed_ranges;
    ChunkWriter open;
    int64_t last_t = kNoTime;
    uint64_t last_bits = 0;
    uint32_t head_samples = 0;
    std::vector<std::pair<uint32_t, uint64_t>> blocks;  // (block number, handle)
};

struct Tsdb::Tenant {
    std::string name;
    mutable std::shared_mutex mu;
    std::vector<std::unique_ptr<HeadSeries>> series;
    std::unordered_map<uint64_t, uint32_t> by_hash;
    std::unordered_map<std::string, std::unordered_map<std::string, std::vector<uint32_t>>>
        postings;
    size_t active = 0;

    uint32_t Find(uint64_t hash, std::span<const LabelView> labels) const {
        auto it = by_hash.find(hash);
        for (uint32_t id = it == by_hash.end() ? kNone : it->second; id != kNone;
             id = series[id]->next_same) {
            if (SameLabels(series[id]->labels, labels)) {
                return id;
            }
        }
        return kNone;
    }
    uint32_t Add(uint64_t hash, std::span<const LabelView> labels, uint64_t ref) {
        auto id = static_cast<uint32_t>(series.size());
        auto s = std::make_unique<HeadSeries>();
        s->labels = ToLabels(labels);
        s->hash = hash;
        s->ref = ref;
        auto [it, fresh] = by_hash.try_emplace(hash, id);
        if (!fresh) {
            s->next_same = it->second;
            it->second = id;
        }
        for (const auto& l : s->labels) {
            postings[l.name][l.value].push_back(id);
        }
        series.push_back(std::move(s));
        return id;
    }
    void Rebuild() {  // after series were removed
        by_hash.clear();
        postings.clear();
        for (uint32_t id = 0; id < series.size(); ++id) {
            auto& s = *series[id];
            s.next_same = kNone;
            auto [it, fresh] = by_hash.try_emplace(s.hash, id);
            if (!fresh) {
                s.next_same = it->second;
                it->second = id;
            }
            for (const auto& l : s.labels) {
                postings[l.name][l.value].push_back(id);
            }
        }
    }
};

namespace {

// Appends one sample to a head series, closing the chunk at 120 samples.
void AppendHead(Tsdb::HeadSeries& s, int64_t t, double v) {
    s.open.Append(t, v);
    s.last_t = t;
    s.last_bits = std::bit_cast<uint64_t>(v);
    ++s.head_samples;
    if (s.open.count() >= kChunkSamples) {
        s.closed_ranges.emplace_back(s.open.min_time(), s.open.max_time());
        s.closed.push_back(s.open.Take());
    }
}

template <typename Fn>
void ForEachHeadSample(const Tsdb::HeadSeries& s, Fn&& fn) {
    for (const auto& c : s.closed) {
        ChunkIterator it(c);
        while (it.Next()) {
            fn(it.t(), it.v());
        }
    }
    if (s.open.count() > 0) {
        ChunkIterator it(s.open.bytes());
        while (it.Next()) {
            fn(it.t(), it.v());
        }
    }
}

}  // namespace

Tsdb::Tsdb(TsdbOptions opts)
    : opts_(std::move(opts)),
      head_min_t_(std::numeric_limits<int64_t>::max()),
      head_max_t_(kNoTime),
      min_valid_t_(kNoTime) {}

Tsdb::~Tsdb() = default;

Result<std::unique_ptr<Tsdb>> Tsdb::Open(TsdbOptions opts) {
    if (opts.block_range_ms < kMinute || opts.retention_ms < opts.block_range_ms) {
        return Fail(
            ErrorCode::kInvalidArgument,
            "metrics retention must be at least one block range (>= 1 minute)"
        );
    }
    std::unique_ptr<Tsdb> db(new Tsdb(std::move(opts)));
    if (auto r = db->Load(); !r) {
        return Fail(r.error());
    }
    return db;
}

Tsdb::Tenant& Tsdb::TenantFor(std::string_view name) {
    {
        std::shared_lock lock(tenants_mu_);
        if (auto it = tenants_.find(name); it != tenants_.end()) {
            return *it->second;
        }
    }
    std::unique_lock lock(tenants_mu_);
    auto& slot = tenants_[std::string(name)];
    if (!slot) {
        slot = std::make_unique<Tenant>();
        slot->name = std::string(name);
    }
    return *slot;
}

const Tsdb::Tenant* Tsdb::FindTenant(std::string_view name) const {
    std::shared_lock lock(tenants_mu_);
    auto it = tenants_.find(name);
    return it == tenants_.end() ? nullptr : it->second.get();
}

Result<void> Tsdb::Load() {
    std::error_code ec;
    std::string blocks_dir = opts_.dir + "/blocks", wal_dir = opts_.dir + "/wal";
    fs::create_directories(blocks_dir, ec);
    if (ec) {
        return Fail(
            ErrorCode::kInternal, fmt::format("cannot create {}: {}", blocks_dir, ec.message())
        );
    }
    // Blocks first (their end bounds what the WAL may still add), then the WAL, then the
    // blocks' series (so WAL references keep their numbers).
    std::vector<std::shared_ptr<Block>> loaded;
    for (const auto& e : fs::directory_iterator(blocks_dir, ec)) {
        std::string name = e.path().filename().string();
        if (name.starts_with(".tmp-")) {
            fs::remove_all(e.path(), ec);  // an interrupted write
            continue;
        }
        auto b = Block::Open(e.path().string());
        if (!b) {
            core::LogWarn(
                "skipping unreadable metrics block",
                {{"path", e.path().string()}, {"error", b.error().message}}
            );
            continue;
        }
        loaded.push_back(*b);
    }
    std::sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) {
        return a->meta().mint < b->meta().mint;
    });
    for (const auto& b : loaded) {
        if (b->meta().resolution == 0) {
            min_valid_t_ = std::max(min_valid_t_.load(), b->meta().maxt);
        }
    }

    std::unordered_map<uint64_t, std::pair<Tenant*, uint32_t>> refs;
    uint64_t replayed = 0;
    std::vector<LabelView> labels;
    auto replay = Wal::Replay(wal_dir, [&](std::string_view rec) {
        if (rec.empty()) {
            return;
        }
        Decoder d(rec.substr(1));
        if (rec[0] == kSeriesRecord) {
            while (!d.empty()) {
                uint64_t ref = 0, bits = 0;
                std::string_view tenant;
                if (!d.Uvarint(ref) || !d.String(tenant) || !d.Labels(labels) || !d.Fixed64(bits)) {
                    return;
                }
                Tenant& t = TenantFor(tenant);
                uint64_t h = HashLabels(labels);
                uint32_t id = t.Find(h, labels);
                if (id == kNone) {
                    id = t.Add(h, labels, ref);
                }
                t.series[id]->in_wal = true;
                t.series[id]->wal_bits = bits;
                refs[ref] = {&t, id};
                next_ref_ = std::max(next_ref_, ref + 1);
            }
        } else if (rec[0] == kSamplesRecord) {
            uint64_t ref = 0;
            int64_t t = 0;
            while (!d.empty()) {
                int64_t dref = 0, dt = 0;
                uint64_t x = 0;
                bool ok = d.Varint(dref) && d.Varint(dt) && GetXor(d, x);
                if (!ok) {
                    return;
                }
                ref += static_cast<uint64_t>(dref);
                t += dt;
                auto it = refs.find(ref);
                if (it == refs.end()) {
                    continue;
                }
                auto& [tenant, id] = it->second;
                HeadSeries& s = *tenant->series[id];
                s.wal_bits ^= x;
                if (t < min_valid_t_.load() || (s.last_t != kNoTime && t <= s.last_t)) {
                    continue;  // already in a block, or a checkpoint repeating what we have
                }
                if (s.head_samples == 0) {
                    ++tenant->active;
                }
                AppendHead(s, t, std::bit_cast<double>(s.wal_bits));
                head_min_t_ = std::min(head_min_t_.load(), t);
                head_max_t_ = std::max(head_max_t_.load(), t);
                ++replayed;
            }
        }
    });
    if (!replay) {
        return Fail(replay.error());
    }
    if (replay->torn) {
        core::LogWarn(
            "metrics WAL ended in a torn record; replayed up to it",
            {{"records", static_cast<int64_t>(replay->records)}}
        );
    }

    {
        std::unique_lock lock(blocks_mu_);
        for (const auto& b : loaded) {
            uint32_t no = next_block_++;
            blocks_[no] = b;
            b->ForEachSeries([&](std::string_view tenant, std::vector<LabelView>& l, uint64_t handle
                             ) {
                Tenant& t = TenantFor(tenant);
                uint64_t h = HashLabels(l);
                uint32_t id = t.Find(h, l);
                if (id == kNone) {
                    id = t.Add(h, l, next_ref_++);
                }
                t.series[id]->blocks.emplace_back(no, handle);
            });
        }
    }
    auto wal = Wal::Open(wal_dir);
    if (!wal) {
        return Fail(wal.error());
    }
    wal_ = std::move(*wal);
    core::LogInfo(
        "metrics store opened",
        {{"dir", opts_.dir},
         {"blocks", static_cast<int64_t>(loaded.size())},
         {"wal_samples", static_cast<int64_t>(replayed)}}
    );
    return {};
}

namespace {
constexpr int64_t kMaxSampleTime = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
}  // namespace

Result<AppendResult> Tsdb::Append(std::string_view tenant_name, WriteBatch& batch) {
    AppendResult res;
    std::lock_guard append(append_mu_);
    Tenant& t = TenantFor(tenant_name);
    series_rec_.assign(1, kSeriesRecord);
    samples_rec_.assign(1, kSamplesRecord);
    accepted_.clear();
    uint64_t prev_ref = 0;
    int64_t prev_t = 0, lo = head_min_t_.load(), hi = head_max_t_.load();
    const int64_t min_valid = min_valid_t_.load();
    std::vector<LabelView> sorted;
    {
        std::unique_lock lock(t.mu);
        for (const auto& e : batch.series) {
            std::span<LabelView> labels(batch.labels.data() + e.label_begin, e.label_count);
            std::span<const Sample> samples(batch.samples.data() + e.sample_begin, e.sample_count);
            if (!std::is_sorted(
                    labels.begin(),
                    labels.end(),
                    [](const auto& a, const auto& b) { return a.name < b.name; }
                ) ||
                std::any_of(labels.begin(), labels.end(), [](const auto& l) {
                    return l.value.empty();
                })) {
                sorted.assign(labels.begin(), labels.end());
                if (auto r = NormalizeLabels(sorted); !r) {
                    res.invalid += samples.size();
                    if (res.first_error.empty()) {
                        res.first_error = r.error().message;
                    }
                    continue;
                }
                labels = std::span<LabelView>(sorted);
            }
            uint64_t h = HashLabels(labels);
            uint32_t id = t.Find(h, labels);
            if (id == kNone) {
                std::vector<LabelView> check(labels.begin(), labels.end());
                if (auto r = NormalizeLabels(check); !r) {
                    res.invalid += samples.size();
                    if (res.first_error.empty()) {
                        res.first_error = r.error().message;
                    }
                    continue;
                }
                if (t.active >= opts_.max_series_per_tenant) {
                    res.over_series_limit += samples.size();
                    if (res.first_error.empty()) {
                        res.first_error = fmt::format(
                            "tenant has {} active series, the limit; new series are refused",
                            t.active
                        );
                    }
                    continue;
                }
                id = t.Add(h, labels, next_ref_++);
                ++res.series_created;
            }
            HeadSeries& s = *t.series[id];
            for (const Sample& smp : samples) {
                uint64_t bits = std::bit_cast<uint64_t>(smp.v);
                // Years 1970 to 9999: chunks store deltas of deltas, which timestamps near the
                // ends of int64 would overflow.
                if (smp.t < 0 || smp.t > kMaxSampleTime) {
                    ++res.invalid;
                    if (res.first_error.empty()) {
                        res.first_error =
                            fmt::format("sample at {} ms is outside the years 1970 to 9999", smp.t);
                    }
                    continue;
                }
                if (smp.t < min_valid) {
                    ++res.too_old;
                    if (res.first_error.empty()) {
                        res.first_error =
                            fmt::format("sample at {} ms is older than the stored blocks", smp.t);
                    }
                    continue;
                }
                if (s.last_t != kNoTime && smp.t <= s.last_t) {
                    if (smp.t == s.last_t && bits == s.last_bits) {
                        continue;  // a resend of what we have: accepted, stored once
                    }
                    if (smp.t == s.last_t) {
                        ++res.duplicates;
                    } else {
                        ++res.out_of_order;
                    }
                    if (res.first_error.empty()) {
                        res.first_error = fmt::format(
                            "{} sample for {} at {} ms (the series is at {} ms)",
                            smp.t == s.last_t ? "duplicate" : "out-of-order",
                            FormatLabels(s.labels),
                            smp.t,
                            s.last_t
                        );
                    }
                    continue;
                }
                if (s.head_samples >= opts_.max_head_samples_per_series) {
                    ++res.over_head_limit;
                    if (res.first_error.empty()) {
                        res.first_error = fmt::format(
                            "series {} holds {} recent samples, the limit until the next block cut",
                            FormatLabels(s.labels),
                            s.head_samples
                        );
                    }
                    continue;
                }
                if (!s.in_wal) {
                    PutUvarint(series_rec_, s.ref);
                    PutString(series_rec_, tenant_name);
                    PutLabels(series_rec_, s.labels);
                    PutFixed64(series_rec_, s.wal_bits);
                    s.in_wal = true;
                }
                PutVarint(samples_rec_, static_cast<int64_t>(s.ref - prev_ref));
                PutVarint(samples_rec_, smp.t - prev_t);
                PutXor(samples_rec_, bits ^ s.wal_bits);
                s.wal_bits = bits;
                prev_ref = s.ref;
                prev_t = smp.t;
                if (s.head_samples == 0) {
                    ++t.active;
                }
                AppendHead(s, smp.t, smp.v);
                if (observer_) {
                    accepted_.emplace_back(&s, smp);
                }
                lo = std::min(lo, smp.t);
                hi = std::max(hi, smp.t);
                ++res.samples;
            }
        }
    }
    head_min_t_ = lo;
    head_max_t_ = hi;
    std::vector<std::string_view> records;
    if (series_rec_.size() > 1) {
        records.push_back(series_rec_);
    }
    if (samples_rec_.size() > 1) {
        records.push_back(samples_rec_);
    }
    if (!records.empty()) {
        if (auto w = wal_->Append(records); !w) {
            return Fail(w.error());
        }
    }
    appended_total_ += res.samples;
    refused_total_ += res.Refused();
    if (observer_ && !accepted_.empty()) {
        std::vector<LabelView> labels;
        std::vector<Sample> run;
        for (size_t i = 0; i < accepted_.size();) {
            const HeadSeries* s = accepted_[i].first;
            run.clear();
            for (; i < accepted_.size() && accepted_[i].first == s; ++i) {
                run.push_back(accepted_[i].second);
            }
            labels.clear();
            for (const auto& l : s->labels) {
                labels.push_back({l.name, l.value});
            }
            observer_(tenant_name, labels, run);
        }
    }
    return res;
}

std::map<uint32_t, std::shared_ptr<Block>> Tsdb::BlocksSnapshot() const {
    std::shared_lock lock(blocks_mu_);
    return blocks_;
}

template <typename Fn>
void Tsdb::ForMatching(const Tenant& t, std::span<const Matcher> matchers, Fn&& fn) const {
    // Start from the shortest posting list among equality matchers and literal-set regexes
    // (a|b|c: the union of each literal's list); check the rest per series.
    const std::vector<uint32_t>* best = nullptr;
    std::vector<uint32_t> set_union;  // owns a union that became `best`
    for (const auto& m : matchers) {
        bool set = m.op() == MatchOp::kRegex && m.Literals() != nullptr &&
                   std::find(m.Literals()->begin(), m.Literals()->end(), "") == m.Literals()->end();
        if ((m.op() != MatchOp::kEqual || m.value().empty()) && !set) {
            continue;
        }
        auto n = t.postings.find(m.name());
        if (n == t.postings.end()) {
            return;
        }
        if (set) {
            std::vector<uint32_t> ids;
            for (const auto& lit : *m.Literals()) {
                if (auto v = n->second.find(lit); v != n->second.end()) {
                    ids.insert(ids.end(), v->second.begin(), v->second.end());
                }
            }
            if (ids.empty()) {
                return;
            }
            if (best == nullptr || ids.size() < best->size()) {
                std::sort(ids.begin(), ids.end());  // series order, as a posting list
                set_union = std::move(ids);
                best = &set_union;
            }
            continue;
        }
        auto v = n->second.find(m.value());
        if (v == n->second.end()) {
            return;
        }
        if (best == nullptr || v->second.size() < best->size()) {
            best = &v->second;
        }
    }
    auto visit = [&](uint32_t id) {
        const HeadSeries& s = *t.series[id];
        if (MatchesAll(s.labels, matchers)) {
            fn(s);
        }
    };
    if (best != nullptr) {
        for (uint32_t id : *best) {
            visit(id);
        }
    } else {
        for (uint32_t id = 0; id < t.series.size(); ++id) {
            visit(id);
        }
    }
}

int64_t Tsdb::RawFloor(const std::map<uint32_t, std::shared_ptr<Block>>& blocks) const {
    int64_t floor = std::numeric_limits<int64_t>::max();
    for (const auto& [no, b] : blocks) {
        if (b->meta().resolution == 0) {
            floor = std::min(floor, b->meta().mint);
        }
    }
    if (floor == std::numeric_limits<int64_t>::max()) {
        floor = std::min(
            head_min_t_.load(), min_valid_t_.load() == kNoTime ? floor : min_valid_t_.load()
        );
    }
    return floor;
}

void Tsdb::Collect(
    const HeadSeries& s,
    int64_t mint,
    int64_t maxt,
    int64_t raw_floor,
    std::vector<Sample>& out,
    const std::map<uint32_t, std::shared_ptr<Block>>& blocks
) const {
    int64_t last = kNoTime;
    auto take = [&](int64_t t, double v) {
        if (t >= mint && t <= maxt && t > last) {
            out.push_back({t, v});
            last = t;
        }
    };
    // Rollups first (they are older than any raw data they answer for), then raw blocks.
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& [no, handle] : s.blocks) {
            auto it = blocks.find(no);
            if (it == blocks.end() || it->second->meta().maxt <= mint ||
                it->second->meta().mint > maxt) {
                continue;
            }
            bool rollup = it->second->meta().resolution > 0;
            if (rollup != (pass == 0)) {
                continue;
            }
            for (const auto& m : it->second->Chunks(handle)) {
                if (m.maxt < mint || m.mint > maxt || (rollup && m.mint >= raw_floor)) {
                    continue;
                }
                ChunkIterator ci(it->second->ChunkBytes(m));
                while (ci.Next()) {
                    if (!rollup || ci.t() < raw_floor) {
                        take(ci.t(), ci.v());
                    }
                }
            }
        }
    }
    for (size_t i = 0; i < s.closed.size(); ++i) {
        if (s.closed_ranges[i].second < mint || s.closed_ranges[i].first > maxt) {
            continue;
        }
        ChunkIterator ci(s.closed[i]);
        while (ci.Next()) {
            take(ci.t(), ci.v());
        }
    }
    if (s.open.count() > 0 && s.open.max_time() >= mint && s.open.min_time() <= maxt) {
        ChunkIterator ci(s.open.bytes());
        while (ci.Next()) {
            take(ci.t(), ci.v());
        }
    }
}

bool Tsdb::HasData(
    const HeadSeries& s,
    int64_t mint,
    int64_t maxt,
    const std::map<uint32_t, std::shared_ptr<Block>>& blocks
) const {
    if (s.head_samples > 0) {
        int64_t first = s.closed.empty() ? s.open.min_time() : s.closed_ranges.front().first;
        if (first <= maxt && s.last_t >= mint) {
            return true;
        }
    }
    for (const auto& [no, handle] : s.blocks) {
        auto it = blocks.find(no);
        if (it != blocks.end() && it->second->meta().maxt > mint &&
            it->second->meta().mint <= maxt) {
            return true;
        }
    }
    return false;
}

std::vector<SeriesData> Tsdb::Select(
    std::string_view tenant,
    std::span<const Matcher> matchers,
    int64_t mint,
    int64_t maxt
) const {
    std::vector<SeriesData> out;
    const Tenant* t = FindTenant(tenant);
    if (t == nullptr) {
        return out;
    }
    auto blocks = BlocksSnapshot();
    int64_t raw_floor = RawFloor(blocks);
    std::shared_lock lock(t->mu);
    ForMatching(*t, matchers, [&](const HeadSeries& s) {
        SeriesData d;
        d.samples.reserve(s.head_samples + s.blocks.size() * kChunkSamples);
        Collect(s, mint, maxt, raw_floor, d.samples, blocks);
        if (!d.samples.empty()) {
            d.labels = s.labels;
            out.push_back(std::move(d));
        }
    });
    return out;
}

std::vector<Labels> Tsdb::SelectSeries(
    std::string_view tenant,
    std::span<const Matcher> matchers,
    int64_t mint,
    int64_t maxt
) const {
    std::vector<Labels> out;
    const Tenant* t = FindTenant(tenant);
    if (t == nullptr) {
        return out;
    }
    auto blocks = BlocksSnapshot();
    std::shared_lock lock(t->mu);
    ForMatching(*t, matchers, [&](const HeadSeries& s) {
        if (HasData(s, mint, maxt, blocks)) {
            out.push_back(s.labels);
        }
    });
    return out;
}

std::vector<std::string> Tsdb::LabelNames(
    std::string_view tenant,
    std::span<const Matcher> matchers,
    int64_t mint,
    int64_t maxt
) const {
    std::set<std::string> names;
    for (const auto& l : SelectSeries(tenant, matchers, mint, maxt)) {
        for (const auto& p : l) {
            names.insert(p.name);
        }
    }
    return {names.begin(), names.end()};
}

std::vector<std::string> Tsdb::LabelValues(
    std::string_view tenant,
    std::string_view name,
    std::span<const Matcher> matchers,
    int64_t mint,
    int64_t maxt
) const {
    std::set<std::string> values;
    for (const auto& l : SelectSeries(tenant, matchers, mint, maxt)) {
        if (auto v = Get(l, name); !v.empty()) {
            values.insert(std::string(v));
        }
    }
    return {values.begin(), values.end()};
}

Result<void> Tsdb::Maintain(int64_t now_ms) {
    const int64_t range = opts_.block_range_ms;
    for (int i = 0; i < 64; ++i) {  // bounded: a long-idle head may hold several ranges
        int64_t lo = head_min_t_.load(), hi = head_max_t_.load();
        if (hi == kNoTime || hi - lo <= range * 3 / 2) {
            break;
        }
        int64_t boundary = (lo >= 0 ? lo / range : (lo - range + 1) / range) * range + range;
        if (auto r = CutHead(boundary); !r) {
            return r;
        }
    }
    DropExpiredBlocks(now_ms);
    return {};
}

Result<void> Tsdb::CutHead(int64_t before) {
    std::lock_guard append(append_mu_);
    int64_t lo = head_min_t_.load();
    if (head_max_t_.load() == kNoTime || lo >= before) {
        return {};
    }
    // 1. Encode the part of every series before `before` into a block (head unchanged).
    std::vector<std::pair<Tenant*, uint32_t>> owners;
    std::vector<BlockSeries> parts;
    BlockMeta meta;
    meta.mint = lo;
    meta.maxt = before;
    std::vector<Tenant*> tenants;
    {
        std::shared_lock lock(tenants_mu_);
        for (auto& [name, t] : tenants_) {
            tenants.push_back(t.get());
        }
    }
    for (Tenant* t : tenants) {
        std::shared_lock lock(t->mu);
        for (uint32_t id = 0; id < t->series.size(); ++id) {
            const HeadSeries& s = *t->series[id];
            if (s.head_samples == 0) {
                continue;
            }
            BlockSeries part;
            part.tenant = t->name;
            part.labels = &s.labels;
            ChunkWriter w;
            ForEachHeadSample(s, [&](int64_t ts, double v) {
                if (ts >= before) {
                    return;
                }
                w.Append(ts, v);
                ++meta.samples;
                if (w.count() >= kChunkSamples) {
                    part.ranges.emplace_back(w.min_time(), w.max_time());
                    part.chunks.push_back(w.Take());
                }
            });
            if (w.count() > 0) {
                part.ranges.emplace_back(w.min_time(), w.max_time());
                part.chunks.push_back(w.Take());
            }
            if (!part.chunks.empty()) {
                parts.push_back(std::move(part));
                owners.emplace_back(t, id);
            }
        }
    }
    if (parts.empty()) {
        return {};
    }
    auto path = Block::Write(opts_.dir + "/blocks", meta, parts);
    if (!path) {
        return Fail(path.error());
    }
    auto block = Block::Open(*path);
    if (!block) {
        return Fail(block.error());
    }
    // The same range at rollup resolution: the last sample of each step, and the sample before
    // each counter reset (so rate() over rollups still sees the reset).
    std::vector<BlockSeries> rollups;
    BlockMeta rmeta = meta;
    rmeta.resolution = opts_.rollup_step_ms;
    rmeta.samples = 0;
    for (const auto& part : parts) {
        std::vector<Sample> all;
        for (const auto& c : part.chunks) {
            ChunkIterator ci(c);
            while (ci.Next()) {
                all.push_back({ci.t(), ci.v()});
            }
        }
        BlockSeries r;
        r.tenant = part.tenant;
        r.labels = part.labels;
        ChunkWriter w;
        for (size_t i = 0; i < all.size(); ++i) {
            bool last_in_step = i + 1 == all.size() || all[i + 1].t / opts_.rollup_step_ms !=
                                                           all[i].t / opts_.rollup_step_ms;
            bool before_reset = i + 1 < all.size() && all[i + 1].v < all[i].v;
            if (!last_in_step && !before_reset) {
                continue;
            }
            w.Append(all[i].t, all[i].v);
            ++rmeta.samples;
            if (w.count() >= kChunkSamples) {
                r.ranges.emplace_back(w.min_time(), w.max_time());
                r.chunks.push_back(w.Take());
            }
        }
        if (w.count() > 0) {
            r.ranges.emplace_back(w.min_time(), w.max_time());
            r.chunks.push_back(w.Take());
        }
        rollups.push_back(std::move(r));
    }
    auto rpath = Block::Write(opts_.dir + "/blocks", rmeta, rollups);
    if (!rpath) {
        return Fail(rpath.error());
    }
    auto rblock = Block::Open(*rpath);
    if (!rblock) {
        return Fail(rblock.error());
    }
    // 2. Register the blocks, then trim the heads (queries skip the overlap meanwhile).
    uint32_t no = 0, rno = 0;
    {
        std::unique_lock lock(blocks_mu_);
        no = next_block_++;
        blocks_[no] = *block;
        rno = next_block_++;
        blocks_[rno] = *rblock;
    }
    size_t rk = 0;
    (*rblock)->ForEachSeries([&](std::string_view, std::vector<LabelView>&, uint64_t handle) {
        if (rk < owners.size()) {
            auto [t, id] = owners[rk++];
            std::unique_lock lock(t->mu);
            t->series[id]->blocks.emplace_back(rno, handle);
        }
    });
    size_t k = 0;  // the block lists series in the order they were written
    (*block)->ForEachSeries([&](std::string_view, std::vector<LabelView>&, uint64_t handle) {
        if (k < owners.size()) {
            auto [t, id] = owners[k++];
            std::unique_lock lock(t->mu);
            t->series[id]->blocks.emplace_back(no, handle);
        }
    });
    min_valid_t_ = before;
    int64_t new_lo = std::numeric_limits<int64_t>::max();
    for (Tenant* t : tenants) {
        std::unique_lock lock(t->mu);
        for (auto& sp : t->series) {
            HeadSeries& s = *sp;
            if (s.head_samples == 0) {
                continue;
            }
            std::vector<Sample> keep;
            ForEachHeadSample(s, [&](int64_t ts, double v) {
                if (ts >= before) {
                    keep.push_back({ts, v});
                }
            });
            int64_t last_t = s.last_t;
            uint64_t last_bits = s.last_bits;
            s.closed.clear();
            s.closed_ranges.clear();
            s.open = ChunkWriter();
            s.head_samples = 0;
            for (const auto& smp : keep) {
                AppendHead(s, smp.t, smp.v);
            }
            s.last_t = last_t;  // still rejects samples older than the newest it took
            s.last_bits = last_bits;
            if (keep.empty()) {
                --t->active;
            } else {
                new_lo = std::min(new_lo, keep.front().t);
            }
        }
    }
    head_min_t_ = new_lo;
    if (new_lo == std::numeric_limits<int64_t>::max()) {
        head_max_t_ = kNoTime;
    }
    core::LogInfo(
        "metrics head cut into a block",
        {{"block", *path},
         {"series", static_cast<int64_t>(parts.size())},
         {"samples", static_cast<int64_t>(meta.samples)}}
    );
    return Checkpoint();
}

// Rewrites what the head still needs into a fresh WAL segment and drops the older segments.
// Runs under append_mu_.
Result<void> Tsdb::Checkpoint() {
    auto seg = wal_->Cut();
    if (!seg) {
        return Fail(seg.error());
    }
    std::vector<Tenant*> tenants;
    {
        std::shared_lock lock(tenants_mu_);
        for (auto& [name, t] : tenants_) {
            tenants.push_back(t.get());
        }
    }
    for (Tenant* t : tenants) {
        std::shared_lock lock(t->mu);
        std::string series(1, kSeriesRecord), samples(1, kSamplesRecord);
        uint64_t prev_ref = 0;
        int64_t prev_t = 0;
        for (auto& sp : t->series) {
            HeadSeries& s = *sp;
            PutUvarint(series, s.ref);
            PutString(series, t->name);
            PutLabels(series, s.labels);
            // The head's samples restart the XOR chain from zero; a series with none keeps
            // its base for the next append.
            PutFixed64(series, s.head_samples > 0 ? 0 : s.wal_bits);
            s.in_wal = true;
            uint64_t base = 0;
            ForEachHeadSample(s, [&](int64_t ts, double v) {
                PutVarint(samples, static_cast<int64_t>(s.ref - prev_ref));
                PutVarint(samples, ts - prev_t);
                PutXor(samples, std::bit_cast<uint64_t>(v) ^ base);
                base = std::bit_cast<uint64_t>(v);
                prev_ref = s.ref;
                prev_t = ts;
            });
        }
        if (auto w = wal_->Append({series, samples}); !w) {
            return w;
        }
    }
    if (auto s = wal_->Sync(); !s) {
        return s;
    }
    wal_->RemoveBefore(*seg);
    return {};
}

void Tsdb::DropExpiredBlocks(int64_t now_ms) {
    std::vector<uint32_t> expired;
    {
        std::unique_lock lock(blocks_mu_);
        for (auto it = blocks_.begin(); it != blocks_.end();) {
            int64_t keep =
                it->second->meta().resolution > 0 ? opts_.rollup_retention_ms : opts_.retention_ms;
            if (it->second->meta().maxt < now_ms - keep) {
                it->second->Delete();
                expired.push_back(it->first);
                it = blocks_.erase(it);
            } else {
                ++it;
            }
        }
    }
    if (expired.empty()) {
        return;
    }
    std::lock_guard append(append_mu_);  // series numbers change below
    std::shared_lock tl(tenants_mu_);
    for (auto& [name, t] : tenants_) {
        std::unique_lock lock(t->mu);
        bool removed = false;
        for (auto& sp : t->series) {
            std::erase_if(sp->blocks, [&](const auto& b) {
                return std::find(expired.begin(), expired.end(), b.first) != expired.end();
            });
            if (sp->blocks.empty() && sp->head_samples == 0) {
                sp.reset();
                removed = true;
            }
        }
        if (removed) {
            std::erase_if(t->series, [](const auto& p) { return p == nullptr; });
            t->Rebuild();
        }
    }
}

TsdbStats Tsdb::Stats() const {
    TsdbStats st;
    {
        std::shared_lock lock(tenants_mu_);
        st.tenants = tenants_.size();
        for (const auto& [name, t] : tenants_) {
            std::shared_lock tl(t->mu);
            st.series += t->series.size();
            st.active_series += t->active;
            for (const auto& s : t->series) {
                st.head_samples += s->head_samples;
                st.head_bytes += s->open.bytes().size();
                for (const auto& c : s->closed) {
                    st.head_bytes += c.size();
                }
            }
        }
    }
    {
        std::shared_lock lock(blocks_mu_);
        for (const auto& [no, b] : blocks_) {
            bool rollup = b->meta().resolution > 0;
            (rollup ? st.rollup_blocks : st.blocks) += 1;
            (rollup ? st.rollup_bytes : st.block_bytes) += b->disk_bytes();
            (rollup ? st.rollup_samples : st.block_samples) += b->meta().samples;
        }
    }
    st.wal_bytes = wal_ ? wal_->bytes() : 0;
    st.appended_total = appended_total_.load();
    st.refused_total = refused_total_.load();
    st.head_min_t = head_min_t_.load();
    st.head_max_t = head_max_t_.load();
    return st;
}

}  // namespace hangar::metrics
