#include "hangar/metering/usage_db.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <set>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/store/backend.hpp"
#include "hangar/store/sqlite/sqlite_db.hpp"

namespace hangar::metering {

namespace {

constexpr int kWidths[] = {60, 900};

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY,
  source TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, subject TEXT NOT NULL,
  time_ms INTEGER NOT NULL, ingested_ms INTEGER NOT NULL, data TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS events_key ON events(source, id);
CREATE TABLE IF NOT EXISTS rollup(
  meter TEXT NOT NULL, width INTEGER NOT NULL, subject TEXT NOT NULL, grp TEXT NOT NULL,
  bucket INTEGER NOT NULL, cnt INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL,
  max REAL NOT NULL, latest REAL NOT NULL, latest_ms INTEGER NOT NULL,
  PRIMARY KEY(meter, width, subject, grp, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uniq(
  meter TEXT NOT NULL, width INTEGER NOT NULL, subject TEXT NOT NULL, grp TEXT NOT NULL,
  bucket INTEGER NOT NULL, val TEXT NOT NULL,
  PRIMARY KEY(meter, width, subject, grp, bucket, val)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meters(slug TEXT PRIMARY KEY, id TEXT NOT NULL, generation INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state(k TEXT PRIMARY KEY, v INTEGER NOT NULL);
)sql";

struct Agg {
    int64_t count = 0;
    double sum = 0, min = 0, max = 0, latest = 0;
    int64_t latest_ms = -1;
};
// Buckets are held per (meter, subject): a "cell", keyed meter '\x1f' subject, so an event
// costs one hash lookup, and a query for one subject reads one cell.
using AggKey = std::tuple<int, std::string, int64_t>;                // width, group, bucket
using UniqKey = std::tuple<int, std::string, int64_t, std::string>;  // ..., value
struct Cell {
    std::map<AggKey, Agg> aggs;
    std::set<UniqKey> uniq;
};

std::string CellKey(std::string_view meter, std::string_view subject) {
    std::string k;
    k.reserve(meter.size() + subject.size() + 1);
    k.append(meter).push_back('\x1f');
    k.append(subject);
    return k;
}

}  // namespace

struct UsageDb::Deltas {
    std::unordered_map<std::string, Cell> cells;
    size_t aggs = 0;  // buckets held, all cells
    bool Empty() const { return cells.empty(); }
};

namespace {

using Deltas = UsageDb::Deltas;

void Fold(Agg& into, const Agg& a) {
    if (into.count == 0) {
        into.min = a.min;
        into.max = a.max;
    } else {
        into.min = std::min(into.min, a.min);
        into.max = std::max(into.max, a.max);
    }
    into.count += a.count;
    into.sum += a.sum;
    if (a.latest_ms >= into.latest_ms) {
        into.latest = a.latest;
        into.latest_ms = a.latest_ms;
    }
}

void Merge(Deltas& into, Deltas& from) {
    for (auto& [key, cell] : from.cells) {
        Cell& c = into.cells[key];
        for (const auto& [k, a] : cell.aggs) {
            auto [it, added] = c.aggs.try_emplace(k);
            into.aggs += added ? 1 : 0;
            Fold(it->second, a);
        }
        c.uniq.merge(cell.uniq);
    }
}

// A JSON string literal of `s` (the group values' spelling in the group key).
void AppendJsonString(std::string& out, std::string_view s) {
    out.push_back('"');
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20) {
            out += fmt::format("\\u{:04x}", u);
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
}

// The group values as a JSON object, keys in order (as boost::json writes a std::map's).
std::string GroupOf(const MeterDef& m, const json::object& data) {
    if (m.group_paths.empty()) {
        return "{}";
    }
    std::string g = "{";
    bool first = true;
    for (const auto& [name, path] : m.group_paths) {
        if (!first) {
            g.push_back(',');
        }
        first = false;
        AppendJsonString(g, name);
        g.push_back(':');
        if (auto v = TextAt(data, path)) {
            AppendJsonString(g, core::ToValidUtf8(*v));
        } else {
            g += "null";
        }
    }
    g.push_back('}');
    return g;
}

void Contribute(const MeterDef& m, const UsageEvent& e, Deltas& d) {
    if (e.type != m.event_type) {
        return;
    }
    double value = 1;
    std::string unique;
    if (m.aggregation == Aggregation::kUniqueCount) {
        auto t = TextAt(e.data, m.value_path);
        if (!t) {
            return;
        }
        unique = std::move(*t);
    } else if (m.aggregation != Aggregation::kCount) {
        auto v = ValueAt(e.data, m.value_path);
        if (!v) {
            return;  // no number where the meter reads one: the event does not count here
        }
        value = *v;
    }
    std::string group = GroupOf(m, e.data);
    Cell& cell = d.cells[CellKey(m.slug, e.subject)];
    int64_t t = e.time_ms / 1000;
    for (int width : kWidths) {
        int64_t bucket = t - (t % width);
        if (m.aggregation == Aggregation::kUniqueCount) {
            cell.uniq.emplace(width, group, bucket, unique);
        }
        auto [it, added] = cell.aggs.try_emplace(AggKey{width, group, bucket});
        d.aggs += added ? 1 : 0;
        Fold(it->second, Agg{1, value, value, value, value, e.time_ms});
    }
}

void Apply(store::sqlite::Db& db, const Deltas& d) {
    for (const auto& [key, cell] : d.cells) {
        size_t sep = key.find('\x1f');
        std::string meter = key.substr(0, sep);
        std::string subject = key.substr(sep + 1);
        for (const auto& [k, a] : cell.aggs) {
            db.Prepare(
                  "INSERT INTO rollup(meter,width,subject,grp,bucket,cnt,sum,min,max,latest,"
                  "latest_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(meter,width,subject,grp,"
                  "bucket) DO UPDATE SET cnt=cnt+excluded.cnt, sum=sum+excluded.sum, "
                  "min=MIN(min,excluded.min), max=MAX(max,excluded.max), latest=CASE WHEN "
                  "excluded.latest_ms>=latest_ms THEN excluded.latest ELSE latest END, "
                  "latest_ms=MAX(latest_ms,excluded.latest_ms)"
            )
                .Bind(1, meter)
                .Bind(2, static_cast<int64_t>(std::get<0>(k)))
                .Bind(3, subject)
                .Bind(4, std::get<1>(k))
                .Bind(5, std::get<2>(k))
                .Bind(6, a.count)
                .BindReal(7, a.sum)
                .BindReal(8, a.min)
                .BindReal(9, a.max)
                .BindReal(10, a.latest)
                .Bind(11, a.latest_ms)
                .Run();
        }
        for (const auto& [width, group, bucket, val] : cell.uniq) {
            db.Prepare(
                  "INSERT OR IGNORE INTO uniq(meter,width,subject,grp,bucket,val) "
                  "VALUES(?,?,?,?,?,?)"
            )
                .Bind(1, meter)
                .Bind(2, static_cast<int64_t>(width))
                .Bind(3, subject)
                .Bind(4, group)
                .Bind(5, bucket)
                .Bind(6, val)
                .Run();
        }
    }
}

// The subjects a read asks for, one at a time (nullptr: every subject; the statements are cached
// by their text's address, so each shape is its own static text): `read(subject)` reads the
// file, then `cell(subject, cell)` each bucket cell still in memory for it.
template <typename Read, typename OnCell>
void EachSubject(
    const std::vector<std::string>& subjects,
    const Deltas& pending,
    const std::string& slug,
    Read&& read,
    OnCell&& cell
) {
    std::vector<const std::string*> each;
    for (const auto& s : subjects) {
        each.push_back(&s);
    }
    if (each.empty()) {
        each.push_back(nullptr);
    }
    for (const std::string* subject : each) {
        read(subject);
        if (subject != nullptr) {
            if (auto c = pending.cells.find(CellKey(slug, *subject)); c != pending.cells.end()) {
                cell(*subject, c->second);
            }
        } else {
            std::string prefix = CellKey(slug, "");
            for (const auto& [key, c] : pending.cells) {
                if (key.starts_with(prefix)) {
                    cell(key.substr(prefix.size()), c);
                }
            }
        }
    }
}

int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()
    )
        .count();
}

}  // namespace

UsageDb::UsageDb(const std::string& path) {
    write_ = std::make_unique<store::sqlite::Db>(path, false);
    write_->Exec("PRAGMA journal_mode=WAL");
    write_->Exec("PRAGMA synchronous=FULL");
    write_->Exec("PRAGMA cache_size=-65536");
    // Fewer, larger checkpoints: a burst's pages are copied into the file once, not per commit.
    write_->Exec("PRAGMA wal_autocheckpoint=20000");
    write_->Exec(kSchema);
    auto& q = write_->Prepare("SELECT v FROM state WHERE k='written_seq'");
    if (q.Step()) {
        written_seq_ = q.Int(0);
    }
    pending_seq_ = written_seq_;
    pending_ = std::make_unique<Deltas>();
    flushed_at_ = std::chrono::steady_clock::now();
    read_ = std::make_unique<store::sqlite::Db>(path, true);
    read_->Exec("PRAGMA cache_size=-32768");
    writer_ = std::thread([this] { WriterLoop(); });
}

UsageDb::~UsageDb() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    writer_.join();
    try {
        Flush();  // a clean stop leaves nothing to aggregate again
    } catch (const std::exception& e) {
        core::LogError(
            "usage: the aggregated usage was not written", {{"error", std::string_view(e.what())}}
        );
    }
}

void UsageDb::Submit(
    std::vector<UsageEvent> events,
    std::function<void(core::Result<IngestCounts>)> done
) {
    {
        std::lock_guard lock(mu_);
        queue_.push_back(Pending{std::move(events), std::move(done)});
    }
    cv_.notify_one();
}

core::Result<IngestCounts> UsageDb::Ingest(std::vector<UsageEvent> events) {
    auto promise = std::make_shared<std::promise<core::Result<IngestCounts>>>();
    auto future = promise->get_future();
    Submit(std::move(events), [promise](core::Result<IngestCounts> r) {
        promise->set_value(std::move(r));
    });
    return future.get();
}

void UsageDb::SetMeters(std::vector<MeterDef> meters) {
    std::unique_lock lock(mu_);
    next_meters_ = std::move(meters);
    uint64_t mine = ++meters_asked_;
    cv_.notify_one();
    idle_cv_.wait(lock, [&] { return stop_ || meters_done_ >= mine; });
}

void UsageDb::WaitIdle() {
    std::unique_lock lock(mu_);
    // Batches wait for the first meters: without them nothing drains, and nothing is waited for.
    idle_cv_.wait(lock, [&] {
        return stop_ || ((queue_.empty() || !meters_known_) && !next_meters_ && !busy_);
    });
}

void UsageDb::WriterLoop() {
    for (;;) {
        std::vector<Pending> batch;
        std::optional<std::vector<MeterDef>> meters;
        uint64_t meters_taken = 0;
        {
            std::unique_lock lock(mu_);
            busy_ = false;
            idle_cv_.notify_all();
            // Events wait for the first meters: aggregated by none, they would count nowhere.
            cv_.wait(lock, [&] {
                return stop_ || next_meters_ || (meters_known_ && !queue_.empty());
            });
            if (stop_ && (queue_.empty() || !meters_known_) && !next_meters_) {
                return;
            }
            busy_ = true;
            meters.swap(next_meters_);
            meters_taken = meters_asked_;
            // Everything waiting, up to ~50,000 events: one transaction, one fsync.
            size_t n = 0;
            while (meters_known_ && !queue_.empty() && n < 50000) {
                n += queue_.front().events.size();
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        if (meters) {
            try {
                // What each meter was last aggregated as: a new or changed one is recomputed.
                std::map<std::string, std::pair<std::string, int64_t>> had;
                auto& q = write_->Prepare("SELECT slug, id, generation FROM meters");
                while (q.Step()) {
                    had[q.Text(0)] = {q.Text(1), q.Int(2)};
                }
                if (!recovered_) {
                    // Events past the written view, aggregated again by the meters whose
                    // definition is unchanged (a changed one is recomputed whole below).
                    std::vector<MeterDef> same;
                    for (const auto& m : *meters) {
                        auto it = had.find(m.slug);
                        if (it != had.end() && it->second.first == m.id &&
                            it->second.second == m.generation) {
                            same.push_back(m);
                        }
                    }
                    Recover(same);
                    recovered_ = true;
                }
                Flush();  // a recomputed meter starts from a written view
                for (const auto& m : *meters) {
                    auto it = had.find(m.slug);
                    if (it == had.end() || it->second.first != m.id ||
                        it->second.second != m.generation) {
                        Rebuild(m);
                    }
                    if (it != had.end()) {
                        had.erase(it);
                    }
                }
                for (const auto& [slug, _] : had) {
                    Drop(slug);
                }
                meters_ = std::move(*meters);
            } catch (const std::exception& e) {
                core::LogError(
                    "usage: a meter could not be aggregated",
                    {{"error", std::string_view(e.what())}}
                );
            }
            std::lock_guard lock(mu_);
            meters_done_ = meters_taken;
            meters_known_ = true;
            idle_cv_.notify_all();
        }
        if (!batch.empty()) {
            Commit(batch);
        }
    }
}

void UsageDb::Commit(std::vector<Pending>& batch) {
    std::vector<IngestCounts> counts(batch.size());
    int64_t last_seq = 0;
    try {
        int64_t now = NowMs();
        write_->Exec("BEGIN IMMEDIATE");
        std::vector<const UsageEvent*> fresh;  // new events, aggregated once committed
        for (size_t i = 0; i < batch.size(); ++i) {
            for (const UsageEvent& e : batch[i].events) {
                write_
                    ->Prepare(
                        "INSERT INTO events(source,id,type,subject,time_ms,ingested_ms,data) "
                        "VALUES(?,?,?,?,?,?,?) ON CONFLICT(source,id) DO NOTHING"
                    )
                    .BindStatic(1, e.source)
                    .BindStatic(2, e.id)
                    .BindStatic(3, e.type)
                    .BindStatic(4, e.subject)
                    .Bind(5, e.time_ms)
                    .Bind(6, now)
                    .BindStatic(7, e.data_json)
                    .Run();
                if (write_->Changes() == 0) {
                    counts[i].duplicates += 1;
                    continue;
                }
                last_seq = write_->LastInsertRowid();
                counts[i].accepted += 1;
                fresh.push_back(&e);
            }
        }
        write_->Exec("COMMIT");
        {
            std::unique_lock view(view_mu_);
            for (const UsageEvent* e : fresh) {
                for (const MeterDef& m : meters_) {
                    Contribute(m, *e, *pending_);
                }
            }
            pending_seq_ = std::max(pending_seq_, last_seq);
        }
        if (pending_->aggs > 200000 ||
            std::chrono::steady_clock::now() - flushed_at_ >= std::chrono::seconds(1)) {
            Flush();
        }
    } catch (const std::exception& e) {
        try {
            write_->Exec("ROLLBACK");
        } catch (const std::exception&) {
        }
        core::LogError("usage: events were not stored", {{"error", std::string_view(e.what())}});
        for (auto& p : batch) {
            p.done(core::Fail(core::MakeError(
                core::ErrorCode::kUnavailable, "the usage store cannot take events now; retry"
            )));
        }
        return;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
        batch[i].done(counts[i]);
    }
}

void UsageDb::Flush() {
    flushed_at_ = std::chrono::steady_clock::now();
    if (pending_->Empty() && pending_seq_ == written_seq_) {
        return;
    }
    write_->Exec("BEGIN IMMEDIATE");
    try {
        Apply(*write_, *pending_);
        write_->Prepare("INSERT OR REPLACE INTO state(k, v) VALUES('written_seq', ?1)")
            .Bind(1, pending_seq_)
            .Run();
        // Readers see either the file before and the memory, or the file after and nothing.
        std::unique_lock view(view_mu_);
        write_->Exec("COMMIT");
        pending_ = std::make_unique<Deltas>();
        written_seq_ = pending_seq_;
    } catch (...) {
        write_->Exec("ROLLBACK");
        throw;
    }
}

void UsageDb::Recover(const std::vector<MeterDef>& meters) {
    auto& q =
        write_->Prepare("SELECT seq,type,subject,time_ms,data FROM events WHERE seq>?1 ORDER BY seq"
        );
    q.Bind(1, written_seq_);
    Deltas d;
    int64_t n = 0, last = written_seq_;
    while (q.Step()) {
        UsageEvent e;
        last = q.Int(0);
        e.type = q.Text(1);
        e.subject = q.Text(2);
        e.time_ms = q.Int(3);
        std::string data = q.Text(4);
        if (!data.empty()) {
            if (auto o = core::ParseJsonObject(data)) {
                e.data = std::move(*o);
            }
        }
        for (const MeterDef& m : meters) {
            Contribute(m, e, d);
        }
        ++n;
    }
    std::unique_lock view(view_mu_);
    Merge(*pending_, d);
    pending_seq_ = std::max(pending_seq_, last);
    if (n > 0) {
        core::LogInfo("usage: events past the written view aggregated again", {{"events", n}});
    }
}

void UsageDb::Rebuild(const MeterDef& m) {
    write_->Exec("BEGIN IMMEDIATE");
    try {
        for (const char* sql :
             {"DELETE FROM rollup WHERE meter=?1", "DELETE FROM uniq WHERE meter=?1"}) {
            write_->Prepare(sql).Bind(1, m.slug).Run();
        }
        auto& q = write_->Prepare(
            "SELECT source,id,subject,time_ms,data FROM events WHERE type=?1 ORDER BY seq"
        );
        q.Bind(1, m.event_type);
        Deltas d;
        size_t n = 0;
        while (q.Step()) {
            UsageEvent e;
            e.type = m.event_type;
            e.subject = q.Text(2);
            e.time_ms = q.Int(3);
            std::string data = q.Text(4);
            if (!data.empty()) {
                if (auto o = core::ParseJsonObject(data)) {
                    e.data = std::move(*o);
                }
            }
            Contribute(m, e, d);
            if (++n % 100000 == 0) {
                Apply(*write_, d);  // bounded memory for a long history
                d = Deltas{};
            }
        }
        Apply(*write_, d);
        write_->Prepare("INSERT OR REPLACE INTO meters(slug,id,generation) VALUES(?,?,?)")
            .Bind(1, m.slug)
            .Bind(2, m.id)
            .Bind(3, m.generation)
            .Run();
        write_->Exec("COMMIT");
        core::LogInfo(
            "usage: meter aggregated from the kept events",
            {{"meter", std::string_view(m.slug)}, {"events", static_cast<int64_t>(n)}}
        );
    } catch (...) {
        write_->Exec("ROLLBACK");
        throw;
    }
}

void UsageDb::Drop(const std::string& slug) {
    write_->Exec("BEGIN IMMEDIATE");
    for (const char* sql :
         {"DELETE FROM rollup WHERE meter=?1",
          "DELETE FROM uniq WHERE meter=?1",
          "DELETE FROM meters WHERE slug=?1"}) {
        write_->Prepare(sql).Bind(1, slug).Run();
    }
    write_->Exec("COMMIT");
}

core::Result<std::vector<RollupRow>> UsageDb::Rollups(
    const std::string& slug,
    int width,
    int64_t from_s,
    int64_t to_s,
    const std::vector<std::string>& subjects
) {
    std::vector<RollupRow> out;
    try {
        std::shared_lock view(view_mu_);
        std::lock_guard lock(read_mu_);
        EachSubject(
            subjects,
            *pending_,
            slug,
            [&](const std::string* subject) {
                // With a subject the primary key's prefix finds its rows; without, every one's.
                auto& q = read_->Prepare(
                    subject != nullptr
                        ? "SELECT subject,grp,bucket,cnt,sum,min,max,latest,latest_ms FROM rollup "
                          "WHERE meter=?1 AND width=?2 AND subject=?5 AND bucket>=?3 AND "
                          "bucket<?4"
                        : "SELECT subject,grp,bucket,cnt,sum,min,max,latest,latest_ms FROM rollup "
                          "WHERE meter=?1 AND width=?2 AND bucket>=?3 AND bucket<?4"
                );
                q.Bind(1, slug).Bind(2, static_cast<int64_t>(width)).Bind(3, from_s).Bind(4, to_s);
                if (subject != nullptr) {
                    q.Bind(5, *subject);
                }
                while (q.Step()) {
                    out.push_back(RollupRow{
                        q.Text(0),
                        q.Text(1),
                        q.Int(2),
                        q.Int(3),
                        q.Real(4),
                        q.Real(5),
                        q.Real(6),
                        q.Real(7),
                        q.Int(8)});
                }
            },
            // The buckets still in memory (rows of the same bucket add up in Aggregate).
            [&](const std::string& subj, const Cell& cell) {
                for (auto it = cell.aggs.lower_bound(AggKey{width, "", INT64_MIN});
                     it != cell.aggs.end() && std::get<0>(it->first) == width;
                     ++it) {
                    const auto& [w, grp, bucket] = it->first;
                    if (bucket >= from_s && bucket < to_s) {
                        const Agg& a = it->second;
                        out.push_back(RollupRow{
                            subj, grp, bucket, a.count, a.sum, a.min, a.max, a.latest, a.latest_ms}
                        );
                    }
                }
            }
        );
    } catch (const std::exception& e) {
        return core::Fail(core::MakeError(core::ErrorCode::kUnavailable, e.what()));
    }
    return out;
}

core::Result<std::vector<UniqueRow>> UsageDb::Uniques(
    const std::string& slug,
    int width,
    int64_t from_s,
    int64_t to_s,
    const std::vector<std::string>& subjects
) {
    std::vector<UniqueRow> out;
    try {
        std::shared_lock view(view_mu_);
        std::lock_guard lock(read_mu_);
        EachSubject(
            subjects,
            *pending_,
            slug,
            [&](const std::string* subject) {
                auto& q = read_->Prepare(
                    subject != nullptr
                        ? "SELECT subject,grp,bucket,val FROM uniq WHERE meter=?1 AND width=?2 AND "
                          "subject=?5 AND bucket>=?3 AND bucket<?4"
                        : "SELECT subject,grp,bucket,val FROM uniq WHERE meter=?1 AND width=?2 AND "
                          "bucket>=?3 AND bucket<?4"
                );
                q.Bind(1, slug).Bind(2, static_cast<int64_t>(width)).Bind(3, from_s).Bind(4, to_s);
                if (subject != nullptr) {
                    q.Bind(5, *subject);
                }
                while (q.Step()) {
                    out.push_back(UniqueRow{q.Text(0), q.Text(1), q.Int(2), q.Text(3)});
                }
            },
            [&](const std::string& subj, const Cell& cell) {
                for (const auto& [w, grp, bucket, val] : cell.uniq) {
                    if (w == width && bucket >= from_s && bucket < to_s) {
                        out.push_back(UniqueRow{subj, grp, bucket, val});
                    }
                }
            }
        );
    } catch (const std::exception& e) {
        return core::Fail(core::MakeError(core::ErrorCode::kUnavailable, e.what()));
    }
    return out;
}

core::Result<std::vector<std::string>>
UsageDb::Subjects(const std::string& slug, int64_t from_s, int64_t to_s) {
    std::vector<std::string> out;
    try {
        std::shared_lock view(view_mu_);
        std::lock_guard lock(read_mu_);
        auto& q = read_->Prepare(
            "SELECT DISTINCT subject FROM rollup WHERE meter=?1 AND width=900 AND bucket>=?2 AND "
            "bucket<?3 ORDER BY subject"
        );
        q.Bind(1, slug).Bind(2, from_s).Bind(3, to_s);
        std::set<std::string> seen;
        while (q.Step()) {
            seen.insert(q.Text(0));
        }
        std::string prefix = CellKey(slug, "");
        for (const auto& [key, cell] : pending_->cells) {
            if (key.starts_with(prefix)) {
                for (const auto& [k, a] : cell.aggs) {
                    if (std::get<0>(k) == 900 && std::get<2>(k) >= from_s &&
                        std::get<2>(k) < to_s) {
                        seen.insert(key.substr(prefix.size()));
                        break;
                    }
                }
            }
        }
        out.assign(seen.begin(), seen.end());
    } catch (const std::exception& e) {
        return core::Fail(core::MakeError(core::ErrorCode::kUnavailable, e.what()));
    }
    return out;
}

core::Result<std::vector<StoredEvent>> UsageDb::Events(const EventFilter& f) {
    std::vector<StoredEvent> out;
    try {
        std::lock_guard lock(read_mu_);
        auto& q = read_->Prepare(
            "SELECT source,id,type,subject,time_ms,ingested_ms,data FROM events WHERE "
            "time_ms>=?1 AND time_ms<?2 AND (?3='' OR subject=?3) AND (?4='' OR instr(id,?4)>0) "
            "ORDER BY seq DESC LIMIT ?5"
        );
        q.Bind(1, f.from_ms)
            .Bind(2, f.to_ms)
            .Bind(3, f.subject)
            .Bind(4, f.id)
            .Bind(5, static_cast<int64_t>(f.limit));
        while (q.Step()) {
            StoredEvent s;
            s.event.source = q.Text(0);
            s.event.id = q.Text(1);
            s.event.type = q.Text(2);
            s.event.subject = q.Text(3);
            s.event.time_ms = q.Int(4);
            s.ingested_ms = q.Int(5);
            s.event.data_json = q.Text(6);
            if (!s.event.data_json.empty()) {
                if (auto o = core::ParseJsonObject(s.event.data_json)) {
                    s.event.data = std::move(*o);
                }
            }
            out.push_back(std::move(s));
        }
    } catch (const std::exception& e) {
        return core::Fail(core::MakeError(core::ErrorCode::kUnavailable, e.what()));
    }
    return out;
}

core::Result<int64_t> UsageDb::Prune(int64_t before_ms) {
    // Through the writer: one connection writes.
    auto promise = std::make_shared<std::promise<core::Result<int64_t>>>();
    auto future = promise->get_future();
    std::vector<UsageEvent> none;
    // A zero-event batch runs its callback on the writer thread after the queue ahead of it.
    Submit(std::move(none), [this, before_ms, promise](core::Result<IngestCounts>) {
        try {
            int64_t gone = 0;
            for (;;) {
                write_
                    ->Prepare(
                        "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE "
                        "ingested_ms<?1 AND seq<=?2 ORDER BY seq LIMIT 10000)"
                    )
                    .Bind(1, before_ms)
                    .Bind(2, written_seq_)  // never an event the written view does not cover
                    .Run();
                int64_t n = write_->Changes();
                gone += n;
                if (n < 10000) {
                    break;
                }
            }
            promise->set_value(gone);
        } catch (const std::exception& e) {
            promise->set_value(core::Fail(core::MakeError(core::ErrorCode::kUnavailable, e.what()))
            );
        }
    });
    return future.get();
}

}  // namespace hangar::metering
