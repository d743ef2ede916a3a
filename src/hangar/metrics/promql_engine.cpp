#include "hangar/metrics/promql_engine.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>

#include <fmt/format.h>

#include "hangar/metrics/exposition.hpp"

namespace hangar::metrics::promql {

using core::ErrorCode;
using core::Fail;
using core::Result;

namespace {

using LabelsPtr = std::shared_ptr<const Labels>;
// Elements point at label sets the evaluator owns (fetched series, memos, interned results),
// so passing them between steps and nodes copies no strings and counts no references.
using LabelsRef = const Labels*;
using Kind = Expr::Kind;

constexpr uint64_t kStaleNaN = 0x7ff0000000000002ull;  // Prometheus's staleness marker
bool IsStale(double v) {
    return std::bit_cast<uint64_t>(v) == kStaleNaN;
}
const double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Elem {
    LabelsRef labels = nullptr;
    double v = 0;
};
using Vec = std::vector<Elem>;

struct Range {
    LabelsRef labels = nullptr;
    std::span<const Sample> samples;
};

struct Val {
    ValueType type = ValueType::kScalar;
    double scalar = 0;
    Vec vec;
    std::vector<Range> mat;
    std::string str;
};

struct Fetched {
    std::vector<LabelsPtr> labels;
    std::vector<std::vector<Sample>> samples;  // stale markers removed for ranges
    std::vector<std::vector<Sample>> with_stale;
    // Steps move forward, so each series keeps where its window was and slides it on.
    std::vector<std::pair<size_t, size_t>> window;
    int64_t last_end = std::numeric_limits<int64_t>::max();
};

std::unexpected<core::Error> ExecError(std::string msg) {
    return Fail(ErrorCode::kUnprocessable, std::move(msg));
}

LabelsPtr Without(const Labels& l, std::span<const std::string> names, bool drop_name) {
    auto out = std::make_shared<Labels>();
    for (const auto& p : l) {
        if ((drop_name && p.name == kMetricName) ||
            std::find(names.begin(), names.end(), p.name) != names.end()) {
            continue;
        }
        out->push_back(p);
    }
    return out;
}

LabelsPtr Only(const Labels& l, std::span<const std::string> names) {
    auto out = std::make_shared<Labels>();
    for (const auto& p : l) {
        if (std::find(names.begin(), names.end(), p.name) != names.end()) {
            out->push_back(p);
        }
    }
    return out;
}

std::string Signature(const Labels& l) {
    std::string s;
    for (const auto& p : l) {
        s += p.name;
        s += '\xff';
        s += p.value;
        s += '\xff';
    }
    return s;
}

// Per aggregation node: each input label set's group, numbered in order of first sight.
struct GroupMemo {
    std::unordered_map<LabelsRef, size_t> group_of;
    std::unordered_map<std::string, size_t> by_signature;
    std::vector<LabelsPtr> labels;  // by group number

    template <typename KeyFn>
    size_t Group(LabelsRef in, KeyFn&& key) {
        auto it = group_of.find(in);
        if (it != group_of.end()) {
            return it->second;
        }
        LabelsPtr k = key(*in);
        auto [si, fresh] = by_signature.try_emplace(Signature(*k), labels.size());
        if (fresh) {
            labels.push_back(std::move(k));
        }
        group_of.emplace(in, si->second);
        return si->second;
    }
};

// Signature of the labels vector matching compares: on(...) keeps, ignoring(...) drops (and
// always the metric name).
std::string MatchSignature(const Labels& l, const VectorMatching* m) {
    std::string s;
    for (const auto& p : l) {
        bool listed = m != nullptr &&
                      std::find(m->labels.begin(), m->labels.end(), p.name) != m->labels.end();
        bool use = (m != nullptr && m->on) ? listed : (!listed && p.name != kMetricName);
        if (use) {
            s += p.name;
            s += '\xff';
            s += p.value;
            s += '\xff';
        }
    }
    return s;
}

double Quantile(double q, std::vector<double> values) {
    if (values.empty()) {
        return kNaN;
    }
    if (q < 0) {
        return -std::numeric_limits<double>::infinity();
    }
    if (q > 1) {
        return std::numeric_limits<double>::infinity();
    }
    // Go sorts NaN first (its Less says NaN < everything).
    std::sort(values.begin(), values.end(), [](double a, double b) {
        return std::isnan(a) ? !std::isnan(b) : a < b;
    });
    double n = static_cast<double>(values.size());
    double rank = q * (n - 1);
    double lower = std::max(0.0, std::floor(rank));
    double upper = std::min(n - 1, lower + 1);
    double weight = rank - std::floor(rank);
    return values[static_cast<size_t>(lower)] * (1 - weight) +
           values[static_cast<size_t>(upper)] * weight;
}

struct Bucket {
    double upper;
    double count;
};

double BucketQuantile(double q, std::vector<Bucket> b) {
    if (q < 0) {
        return -std::numeric_limits<double>::infinity();
    }
    if (q > 1) {
        return std::numeric_limits<double>::infinity();
    }
    std::sort(b.begin(), b.end(), [](const Bucket& x, const Bucket& y) {
        return x.upper < y.upper;
    });
    if (b.empty() || !std::isinf(b.back().upper) || b.back().upper < 0) {
        return kNaN;
    }
    // Coalesce equal bounds, then make the counts monotonic.
    std::vector<Bucket> c;
    for (const auto& x : b) {
        if (!c.empty() && c.back().upper == x.upper) {
            c.back().count += x.count;
        } else {
            c.push_back(x);
        }
    }
    double max = -std::numeric_limits<double>::infinity();
    for (auto& x : c) {
        if (x.count > max) {
            max = x.count;
        } else if (x.count < max) {
            x.count = max;
        }
    }
    if (c.size() < 2) {
        return kNaN;
    }
    double observations = c.back().count;
    if (observations == 0) {
        return kNaN;
    }
    double rank = q * observations;
    size_t i = 0;
    while (i < c.size() - 1 && !(c[i].count >= rank)) {
        ++i;
    }
    if (i == c.size() - 1) {
        return c[c.size() - 2].upper;
    }
    if (i == 0 && c[0].upper <= 0) {
        return c[0].upper;
    }
    double start = 0, end = c[i].upper, count = c[i].count;
    if (i > 0) {
        start = c[i - 1].upper;
        count -= c[i - 1].count;
        rank -= c[i - 1].count;
    }
    return start + (end - start) * (rank / count);
}

// Kahan-compensated running sum, as Prometheus's sum_over_time and avg_over_time.
void KahanAdd(double inc, double& sum, double& c) {
    double t = sum + inc;
    if (std::isinf(t)) {
        c = 0;
    } else if (std::abs(sum) >= std::abs(inc)) {
        c += (sum - t) + inc;
    } else {
        c += (inc - t) + sum;
    }
    sum = t;
}

double ArithOrCompare(std::string_view op, double l, double r, bool& keep) {
    keep = true;
    if (op == "+")
        return l + r;
    if (op == "-")
        return l - r;
    if (op == "*")
        return l * r;
    if (op == "/")
        return l / r;
    if (op == "%")
        return std::fmod(l, r);
    if (op == "^")
        return std::pow(l, r);
    if (op == "atan2")
        return std::atan2(l, r);
    if (op == "==")
        keep = l == r;
    else if (op == "!=")
        keep = l != r;
    else if (op == ">")
        keep = l > r;
    else if (op == "<")
        keep = l < r;
    else if (op == ">=")
        keep = l >= r;
    else if (op == "<=")
        keep = l <= r;
    return l;
}

bool DropsName(std::string_view op) {
    return op == "+" || op == "-" || op == "*" || op == "/" || op == "%" || op == "^" ||
           op == "atan2";
}

bool IsComparison(std::string_view op) {
    return op == "==" || op == "!=" || op == ">" || op == "<" || op == ">=" || op == "<=";
}

// Go's container/heap over Prometheus's vectorByValueHeap (topk) or vectorByReverseValueHeap
// (bottomk), fed in input order, so ties resolve exactly as Prometheus resolves them.
std::vector<Elem> TopK(const std::vector<Elem>& in, int64_t k, bool top) {
    std::vector<Elem> h;
    if (k < 1) {
        return h;
    }
    auto less = [top](const Elem& a, const Elem& b) {
        if (std::isnan(a.v)) {
            return true;
        }
        return top ? a.v < b.v : a.v > b.v;
    };
    auto up = [&](size_t j) {
        while (j > 0) {
            size_t i = (j - 1) / 2;
            if (!less(h[j], h[i])) {
                break;
            }
            std::swap(h[i], h[j]);
            j = i;
        }
    };
    auto down = [&](size_t i0) {
        size_t i = i0, n = h.size();
        for (;;) {
            size_t j = 2 * i + 1;
            if (j >= n) {
                break;
            }
            if (j + 1 < n && less(h[j + 1], h[j])) {
                ++j;
            }
            if (!less(h[j], h[i])) {
                break;
            }
            std::swap(h[i], h[j]);
            i = j;
        }
        return i > i0;
    };
    for (const Elem& x : in) {
        if (static_cast<int64_t>(h.size()) < k) {
            h.push_back(x);
            up(h.size() - 1);
        } else if ((top ? h[0].v < x.v : h[0].v > x.v) || (std::isnan(h[0].v) && !std::isnan(x.v))) {
            h[0] = x;
            if (k > 1 && !down(0)) {
                up(0);
            }
        }
    }
    std::sort(h.begin(), h.end(), [&](const Elem& a, const Elem& b) { return less(b, a); });
    return h;
}

class Evaluator {
public:
    Evaluator(const Tsdb& db, std::string_view tenant, const QueryOptions& o)
        : db_(db),
          tenant_(tenant),
          opts_(o),
          deadline_(std::chrono::steady_clock::now() + o.timeout) {}

    // Checked every node and every series: a query is cut off at its deadline, whatever its
    // shape, and the clock is read once every 256 checks.
    Result<void> InTime() {
        if ((++checks_ & 255U) == 0 && std::chrono::steady_clock::now() > deadline_) {
            return Fail(
                ErrorCode::kRequestTimeout,
                fmt::format(
                    "query timed out in expression evaluation (the limit is {} ms)",
                    opts_.timeout.count()
                )
            );
        }
        return {};
    }

    Result<void> Prefetch(const Expr& e, int64_t start, int64_t end) {
        if (e.kind == Kind::kVectorSelector || e.kind == Kind::kMatrixSelector) {
            int64_t back = e.kind == Kind::kMatrixSelector ? e.range_ms : opts_.lookback_ms;
            auto data =
                db_.Select(tenant_, e.matchers, start - e.offset_ms - back, end - e.offset_ms);
            // Series arrive in creation order, as Prometheus's head hands them to its engine
            // (unsorted select); topk's ties depend on it.
            Fetched f;
            for (auto& s : data) {
                if (auto t = InTime(); !t) {
                    return t;
                }
                loaded_ += s.samples.size();
                if (loaded_ > opts_.max_samples) {
                    return ExecError(
                        "query processing would load too many samples into memory in query "
                        "execution"
                    );
                }
                f.labels.push_back(std::make_shared<const Labels>(std::move(s.labels)));
                std::vector<Sample> clean;
                bool stale = std::any_of(s.samples.begin(), s.samples.end(), [](const Sample& x) {
                    return IsStale(x.v);
                });
                if (stale) {
                    std::copy_if(
                        s.samples.begin(),
                        s.samples.end(),
                        std::back_inserter(clean),
                        [](const Sample& x) { return !IsStale(x.v); }
                    );
                    f.samples.push_back(std::move(clean));
                    f.with_stale.push_back(std::move(s.samples));
                } else {
                    f.samples.push_back(std::move(s.samples));
                    f.with_stale.emplace_back();
                }
            }
            fetched_[&e] = std::move(f);
        }
        for (const auto& a : e.args) {
            if (auto r = Prefetch(*a, start, end); !r) {
                return r;
            }
        }
        if (e.param) {
            return Prefetch(*e.param, start, end);
        }
        return {};
    }

    Result<Val> Eval(const Expr& e, int64_t ts) {
        if (auto t = InTime(); !t) {
            return Fail(t.error());
        }
        switch (e.kind) {
            case Kind::kNumber:
                return Val{ValueType::kScalar, e.number, {}, {}, {}};
            case Kind::kString:
                return Val{ValueType::kString, 0, {}, {}, e.text};
            case Kind::kParen:
                return Eval(*e.args[0], ts);
            case Kind::kVectorSelector:
                return Selector(e, ts);
            case Kind::kMatrixSelector:
                return Matrix(e, ts);
            case Kind::kUnary: {
                auto v = Eval(*e.args[0], ts);
                if (!v) {
                    return v;
                }
                if (v->type == ValueType::kScalar) {
                    v->scalar = -v->scalar;
                } else {
                    for (auto& x : v->vec) {
                        x.v = -x.v;
                        x.labels = DropName(&e, x.labels);
                    }
                }
                return v;
            }
            case Kind::kCall:
                return Call(e, ts);
            case Kind::kAggregate:
                return Aggregate(e, ts);
            case Kind::kBinary:
                return Binary(e, ts);
        }
        return ExecError("unknown expression");
    }

private:
    // `pos`, the element's place in its vector, lets the common case (the same series in the
    // same order at every step) skip the hash lookup.
    LabelsRef DropName(const Expr* node, LabelsRef in, size_t pos = SIZE_MAX) {
        auto& cache = drop_memo_[node];
        if (pos < cache.seq.size() && cache.seq[pos].first == in) {
            return cache.seq[pos].second;
        }
        LabelsRef result = in;
        auto it = cache.memo.find(in);
        if (it != cache.memo.end()) {
            result = it->second ? it->second.get() : in;
        } else {
            LabelsPtr out;
            if (!Get(*in, kMetricName).empty()) {
                out = Without(*in, {}, true);
                result = out.get();
            }
            cache.memo.emplace(in, std::move(out));
        }
        if (pos != SIZE_MAX && pos < (1u << 24)) {
            if (cache.seq.size() <= pos) {
                cache.seq.resize(pos + 1, {nullptr, nullptr});
            }
            cache.seq[pos] = {in, result};
        }
        return result;
    }

    Result<Val> Selector(const Expr& e, int64_t ts) {
        Val v{ValueType::kVector, 0, {}, {}, {}};
        Fetched& f = fetched_[&e];
        int64_t ref = ts - e.offset_ms;
        bool slide = ref >= f.last_end && f.window.size() == f.labels.size();
        f.window.resize(f.labels.size());
        f.last_end = ref;
        v.vec.reserve(f.labels.size());
        for (size_t i = 0; i < f.labels.size(); ++i) {
            const auto& s = f.with_stale[i].empty() ? f.samples[i] : f.with_stale[i];
            size_t& next = f.window[i].second;  // first sample after `ref`
            if (!slide) {
                next = static_cast<size_t>(
                    std::upper_bound(
                        s.begin(), s.end(), ref, [](int64_t t, const Sample& x) { return t < x.t; }
                    ) -
                    s.begin()
                );
            }
            while (next < s.size() && s[next].t <= ref) {
                ++next;
            }
            if (next == 0) {
                continue;
            }
            const Sample& last = s[next - 1];
            if (last.t < ref - opts_.lookback_ms || IsStale(last.v)) {
                continue;
            }
            v.vec.push_back({f.labels[i].get(), last.v});
        }
        return v;
    }

    Result<Val> Matrix(const Expr& e, int64_t ts) {
        Val v{ValueType::kMatrix, 0, {}, {}, {}};
        Fetched& f = fetched_[&e];
        int64_t hi = ts - e.offset_ms, lo = hi - e.range_ms;
        bool slide = hi >= f.last_end && f.window.size() == f.labels.size();
        f.window.resize(f.labels.size());
        f.last_end = hi;
        v.mat.reserve(f.labels.size());
        for (size_t i = 0; i < f.labels.size(); ++i) {
            const auto& s = f.samples[i];
            auto& [a, b] = f.window[i];
            if (!slide) {
                a = static_cast<size_t>(
                    std::lower_bound(
                        s.begin(), s.end(), lo, [](const Sample& x, int64_t t) { return x.t < t; }
                    ) -
                    s.begin()
                );
                b = a;
            }
            while (a < s.size() && s[a].t < lo) {
                ++a;
            }
            b = std::max(a, b);
            while (b < s.size() && s[b].t <= hi) {
                ++b;
            }
            if (a != b) {
                v.mat.push_back({f.labels[i].get(), std::span<const Sample>(s.data() + a, b - a)});
            }
        }
        return v;
    }

    static double ExtrapolatedRate(
        const Expr& sel,
        std::span<const Sample> s,
        int64_t ts,
        bool counter,
        bool rate,
        bool& ok
    ) {
        ok = s.size() >= 2;
        if (!ok) {
            return 0;
        }
        double range_start = static_cast<double>(ts - (sel.range_ms + sel.offset_ms));
        double range_end = static_cast<double>(ts - sel.offset_ms);
        double result = s.back().v - s.front().v;
        if (counter) {
            double last = 0;
            for (const auto& x : s) {
                if (x.v < last) {
                    result += last;
                }
                last = x.v;
            }
        }
        double to_start = (static_cast<double>(s.front().t) - range_start) / 1000;
        double to_end = (range_end - static_cast<double>(s.back().t)) / 1000;
        double sampled = static_cast<double>(s.back().t - s.front().t) / 1000;
        double avg_gap = sampled / static_cast<double>(s.size() - 1);
        if (counter && result > 0 && s.front().v >= 0) {
            double to_zero = sampled * (s.front().v / result);
            if (to_zero < to_start) {
                to_start = to_zero;
            }
        }
        double threshold = avg_gap * 1.1;
        double interval = sampled;
        interval += to_start < threshold ? to_start : avg_gap / 2;
        interval += to_end < threshold ? to_end : avg_gap / 2;
        result = result * (interval / sampled);
        if (rate) {
            result /= static_cast<double>(sel.range_ms) / 1000;
        }
        return result;
    }

    static LabelsPtr AbsentLabels(const Expr& arg) {
        auto out = std::make_shared<Labels>();
        if (arg.kind != Kind::kVectorSelector && arg.kind != Kind::kMatrixSelector) {
            return out;
        }
        std::map<std::string, std::pair<std::string, int>> eq;
        for (const auto& m : arg.matchers) {
            if (m.name() == kMetricName) {
                continue;
            }
            auto& slot = eq[m.name()];
            if (m.op() == MatchOp::kEqual) {
                slot.first = m.value();
                ++slot.second;
            } else {
                slot.second += 2;  // any other matcher on the name makes it unknown
            }
        }
        for (const auto& [name, v] : eq) {
            if (v.second == 1 && !v.first.empty()) {
                out->push_back({name, v.first});
            }
        }
        return out;
    }

    Result<Val> Call(const Expr& e, int64_t ts) {
        const std::string& f = e.text;
        Val out{ValueType::kVector, 0, {}, {}, {}};
        if (f == "time") {
            return Val{ValueType::kScalar, static_cast<double>(ts) / 1000, {}, {}, {}};
        }
        if (f == "vector") {
            auto s = Eval(*e.args[0], ts);
            if (!s) {
                return s;
            }
            out.vec.push_back({empty_labels_.get(), s->scalar});
            return out;
        }
        if (f == "scalar") {
            auto v = Eval(*e.args[0], ts);
            if (!v) {
                return v;
            }
            return Val{ValueType::kScalar, v->vec.size() == 1 ? v->vec[0].v : kNaN, {}, {}, {}};
        }
        if (f == "absent" || f == "absent_over_time") {
            auto v = Eval(*e.args[0], ts);
            if (!v) {
                return v;
            }
            if (v->vec.empty() && v->mat.empty()) {
                auto& memo = absent_memo_[&e];
                if (!memo) {
                    memo = AbsentLabels(*e.args[0]);
                }
                out.vec.push_back({memo.get(), 1});
            }
            return out;
        }
        if (f == "histogram_quantile") {
            auto q = Eval(*e.args[0], ts);
            auto v = q ? Eval(*e.args[1], ts) : q;
            if (!v) {
                return v;
            }
            auto& memo = group_memo_[&e];
            std::map<size_t, std::vector<Bucket>>
                groups;  // by group number: Prometheus's output order is not ours to keep
            static const std::vector<std::string> kLe = {"le"};
            for (const auto& x : v->vec) {
                auto le = ParsePromFloatView(Get(*x.labels, "le"));
                if (!le) {
                    continue;  // a series without a valid le is ignored
                }
                size_t g =
                    memo.Group(x.labels, [](const Labels& l) { return Without(l, kLe, true); });
                groups[g].push_back({*le, x.v});
            }
            for (auto& [g, buckets] : groups) {
                out.vec.push_back(
                    {memo.labels[g].get(), BucketQuantile(q->scalar, std::move(buckets))}
                );
            }
            return out;
        }
        if (f == "quantile_over_time") {
            auto q = Eval(*e.args[0], ts);
            auto m = q ? Eval(*e.args[1], ts) : q;
            if (!m) {
                return m;
            }
            for (const auto& r : m->mat) {
                std::vector<double> vals;
                vals.reserve(r.samples.size());
                for (const auto& s : r.samples) {
                    vals.push_back(s.v);
                }
                out.vec.push_back({DropName(&e, r.labels), Quantile(q->scalar, std::move(vals))});
            }
            return out;
        }
        if (f == "clamp_min" || f == "clamp_max" || f == "round") {
            auto v = Eval(*e.args[0], ts);
            if (!v) {
                return v;
            }
            double p = 1;
            if (e.args.size() > 1) {
                auto s = Eval(*e.args[1], ts);
                if (!s) {
                    return s;
                }
                p = s->scalar;
            }
            for (const auto& x : v->vec) {
                double r = f == "clamp_min"   ? std::max(p, x.v)
                           : f == "clamp_max" ? std::min(p, x.v)
                                              : std::floor(x.v * (1 / p) + 0.5) / (1 / p);
                if (f != "round" && (std::isnan(x.v) || std::isnan(p))) {
                    r = kNaN;
                }
                out.vec.push_back({DropName(&e, x.labels), r});
            }
            return out;
        }
        auto arg = Eval(*e.args[0], ts);
        if (!arg) {
            return arg;
        }
        if (arg->type == ValueType::kVector) {  // abs, ceil, floor
            for (const auto& x : arg->vec) {
                double r = f == "abs"    ? std::abs(x.v)
                           : f == "ceil" ? std::ceil(x.v)
                                         : std::floor(x.v);
                out.vec.push_back({DropName(&e, x.labels), r});
            }
            return out;
        }
        const Expr& sel = *e.args[0];
        out.vec.reserve(arg->mat.size());
        for (size_t pos = 0; pos < arg->mat.size(); ++pos) {
            const Range& r = arg->mat[pos];
            std::span<const Sample> s = r.samples;
            bool ok = true;
            double v = 0;
            if (f == "rate" || f == "increase" || f == "delta") {
                v = ExtrapolatedRate(sel, s, ts, f != "delta", f == "rate", ok);
            } else if (f == "irate" || f == "idelta") {
                ok = s.size() >= 2;
                if (ok) {
                    const Sample& last = s[s.size() - 1];
                    const Sample& prev = s[s.size() - 2];
                    v = (f == "irate" && last.v < prev.v) ? last.v : last.v - prev.v;
                    int64_t gap = last.t - prev.t;
                    ok = gap != 0;
                    if (f == "irate" && ok) {
                        v /= static_cast<double>(gap) / 1000;
                    }
                }
            } else if (f == "avg_over_time") {
                double mean = 0, c = 0, count = 0;
                for (const auto& x : s) {
                    ++count;
                    if (std::isinf(mean)) {
                        if (std::isinf(x.v) && (mean > 0) == (x.v > 0)) {
                            continue;
                        }
                        if (!std::isinf(x.v) && !std::isnan(x.v)) {
                            continue;
                        }
                    }
                    KahanAdd(x.v / count - mean / count, mean, c);
                }
                v = std::isinf(mean) ? mean : mean + c;
            } else if (f == "sum_over_time") {
                double sum = 0, c = 0;
                for (const auto& x : s) {
                    KahanAdd(x.v, sum, c);
                }
                v = std::isinf(sum) ? sum : sum + c;
            } else if (f == "min_over_time" || f == "max_over_time") {
                v = s[0].v;
                for (const auto& x : s) {
                    bool better = f == "min_over_time" ? x.v < v : x.v > v;
                    if (better || std::isnan(v)) {
                        v = x.v;
                    }
                }
            } else if (f == "count_over_time") {
                v = static_cast<double>(s.size());
            } else if (f == "last_over_time") {
                v = s.back().v;
            } else {
                return ExecError(fmt::format("function {} is not implemented", f));
            }
            if (ok) {
                out.vec.push_back(
                    {f == "last_over_time" ? r.labels : DropName(&e, r.labels, pos), v}
                );
            }
        }
        return out;
    }

    Result<Val> Aggregate(const Expr& e, int64_t ts) {
        auto in = Eval(*e.args[0], ts);
        if (!in) {
            return in;
        }
        double param = 0;
        if (e.param) {
            auto p = Eval(*e.param, ts);
            if (!p) {
                return p;
            }
            param = p->scalar;
        }
        const std::string& op = e.text;
        struct Group {
            LabelsRef labels = nullptr;
            double value = 0, mean = 0, count = 0;
            std::vector<Elem> members;
            std::vector<double> values;
        };
        std::vector<Group> groups;
        auto& memo = group_memo_[&e];
        auto& slot = group_slots_[&e];
        for (const auto& x : in->vec) {
            size_t gid = memo.Group(x.labels, [&e](const Labels& l) {
                return e.without ? Without(l, e.grouping, true) : Only(l, e.grouping);
            });
            if (slot.size() <= gid) {
                slot.resize(memo.labels.size(), -1);
            }
            if (slot[gid] < 0) {
                slot[gid] = static_cast<int32_t>(groups.size());
                Group g;
                g.labels = memo.labels[gid].get();
                g.value = x.v;
                g.mean = x.v;
                g.count = 1;
                if (op == "topk" || op == "bottomk") {
                    g.members.push_back(x);
                } else if (op == "quantile") {
                    g.values.push_back(x.v);
                }
                groups.push_back(std::move(g));
                continue;
            }
            Group& g = groups[static_cast<size_t>(slot[gid])];
            g.count += 1;
            if (op == "sum") {
                g.value += x.v;
            } else if (op == "avg") {
                if (std::isinf(g.mean)) {
                    if (std::isinf(x.v) && (g.mean > 0) == (x.v > 0)) {
                        continue;
                    }
                    if (!std::isinf(x.v) && !std::isnan(x.v)) {
                        continue;
                    }
                }
                g.mean += x.v / g.count - g.mean / g.count;
            } else if (op == "min") {
                if (g.value > x.v || std::isnan(g.value)) {
                    g.value = x.v;
                }
            } else if (op == "max") {
                if (g.value < x.v || std::isnan(g.value)) {
                    g.value = x.v;
                }
            } else if (op == "topk" || op == "bottomk") {
                g.members.push_back(x);
            } else if (op == "quantile") {
                g.values.push_back(x.v);
            }
        }
        std::fill(slot.begin(), slot.end(), -1);
        Val out{ValueType::kVector, 0, {}, {}, {}};
        for (auto& g : groups) {
            if (op == "topk" || op == "bottomk") {
                if (!(param >= 1)) {
                    continue;
                }
                // Which of several equal values make the cut is decided by Prometheus's heap;
                // run the same heap over the same (label-sorted) input to pick the same ones.
                auto selected = TopK(g.members, static_cast<int64_t>(param), op == "topk");
                out.vec.insert(out.vec.end(), selected.begin(), selected.end());
                continue;
            }
            double v = g.value;
            if (op == "avg") {
                v = g.mean;
            } else if (op == "count") {
                v = g.count;
            } else if (op == "group") {
                v = 1;
            } else if (op == "quantile") {
                v = Quantile(param, std::move(g.values));
            }
            out.vec.push_back({g.labels, v});
        }
        return out;
    }

    Result<Val> Binary(const Expr& e, int64_t ts) {
        auto l = Eval(*e.args[0], ts);
        if (!l) {
            return l;
        }
        auto r = Eval(*e.args[1], ts);
        if (!r) {
            return r;
        }
        const std::string& op = e.text;
        bool keep = true;
        if (l->type == ValueType::kScalar && r->type == ValueType::kScalar) {
            double v = ArithOrCompare(op, l->scalar, r->scalar, keep);
            if (IsComparison(op)) {
                v = keep ? 1 : 0;
            }
            return Val{ValueType::kScalar, v, {}, {}, {}};
        }
        Val out{ValueType::kVector, 0, {}, {}, {}};
        if (l->type == ValueType::kScalar || r->type == ValueType::kScalar) {
            bool scalar_left = l->type == ValueType::kScalar;
            const Vec& vec = scalar_left ? r->vec : l->vec;
            double s = scalar_left ? l->scalar : r->scalar;
            for (const auto& x : vec) {
                double lv = scalar_left ? s : x.v, rv = scalar_left ? x.v : s;
                double v = ArithOrCompare(op, lv, rv, keep);
                if (IsComparison(op)) {
                    v = x.v;  // the vector's value, whichever side it is on
                }
                if (e.return_bool) {
                    v = keep ? 1 : 0;
                    keep = true;
                }
                if (!keep) {
                    continue;
                }
                out.vec.push_back(
                    {(DropsName(op) || e.return_bool) ? DropName(&e, x.labels) : x.labels, v}
                );
            }
            return out;
        }
        const VectorMatching* m = e.matching ? &*e.matching : nullptr;
        if (op == "and" || op == "or" || op == "unless") {
            std::unordered_map<std::string, bool> rsig;
            for (const auto& x : r->vec) {
                rsig[MatchSignature(*x.labels, m)] = true;
            }
            if (op == "or") {
                std::unordered_map<std::string, bool> lsig;
                for (const auto& x : l->vec) {
                    lsig[MatchSignature(*x.labels, m)] = true;
                    out.vec.push_back(x);
                }
                for (const auto& x : r->vec) {
                    if (!lsig.contains(MatchSignature(*x.labels, m))) {
                        out.vec.push_back(x);
                    }
                }
                return out;
            }
            for (const auto& x : l->vec) {
                bool found = rsig.contains(MatchSignature(*x.labels, m));
                if (found == (op == "and")) {
                    out.vec.push_back(x);
                }
            }
            return out;
        }
        Card card = m != nullptr ? m->card : Card::kOneToOne;
        const Vec* many = &l->vec;
        const Vec* one = &r->vec;
        if (card == Card::kOneToMany) {
            std::swap(many, one);
        }
        std::unordered_map<std::string, const Elem*> ones;
        for (const auto& x : *one) {
            auto [it, fresh] = ones.try_emplace(MatchSignature(*x.labels, m), &x);
            if (!fresh) {
                return ExecError(fmt::format(
                    "found duplicate series for the match group {} on the {} hand-side of the "
                    "operation: [{}, {}];"
                    "many-to-many matching not allowed: matching labels must be unique on one side",
                    FormatLabels(*x.labels),
                    card == Card::kOneToMany ? "left" : "right",
                    FormatLabels(*it->second->labels),
                    FormatLabels(*x.labels)
                ));
            }
        }
        std::unordered_map<std::string, bool> seen;  // one-to-one: each match group once
        std::unordered_map<std::string, bool> result_sigs;
        for (const auto& x : *many) {
            std::string sig = MatchSignature(*x.labels, m);
            auto it = ones.find(sig);
            if (it == ones.end()) {
                continue;
            }
            const Elem& o = *it->second;
            double lv = x.v, rv = o.v;
            if (card == Card::kOneToMany) {
                std::swap(lv, rv);
            }
            double v = ArithOrCompare(op, lv, rv, keep);
            if (e.return_bool) {
                v = keep ? 1 : 0;
            } else if (!keep) {
                continue;
            }
            if (card == Card::kOneToOne) {
                if (!seen.try_emplace(sig, true).second) {
                    return ExecError(
                        "multiple matches for labels: many-to-one matching must be explicit "
                        "(group_left/group_right)"
                    );
                }
            }
            auto res = std::make_shared<Labels>();
            for (const auto& p : *x.labels) {
                if ((DropsName(op) || e.return_bool) && p.name == kMetricName) {
                    continue;
                }
                if (card == Card::kOneToOne && m != nullptr) {
                    bool listed =
                        std::find(m->labels.begin(), m->labels.end(), p.name) != m->labels.end();
                    if (m->on != listed) {
                        continue;
                    }
                }
                res->push_back(p);
            }
            if (m != nullptr) {
                for (const auto& inc : m->include) {
                    std::erase_if(*res, [&](const Label& p) { return p.name == inc; });
                    auto v2 = Get(*o.labels, inc);
                    if (!v2.empty()) {
                        res->push_back({inc, std::string(v2)});
                    }
                }
                std::sort(res->begin(), res->end(), [](const Label& a, const Label& b) {
                    return a.name < b.name;
                });
            }
            if (card != Card::kOneToOne && !result_sigs.try_emplace(Signature(*res), true).second) {
                return ExecError(
                    "multiple matches for labels: grouping labels must ensure unique matches"
                );
            }
            out.vec.push_back({Intern(&e, std::move(res)), v});
        }
        return out;
    }

    // Equal label sets built at different steps share one pointer, so a range query's
    // assembly and later memos see the same series.
    LabelsRef Intern(const Expr* node, std::shared_ptr<Labels> l) {
        auto& pool = intern_[node];
        std::string sig = Signature(*l);
        auto it = pool.find(sig);
        if (it != pool.end()) {
            return it->second.get();
        }
        LabelsPtr p = std::move(l);
        LabelsRef raw = p.get();
        pool.emplace(std::move(sig), std::move(p));
        return raw;
    }

    static std::optional<double> ParsePromFloatView(std::string_view s) {
        if (s.empty()) {
            return std::nullopt;
        }
        return ParsePromFloat(s);
    }

    const Tsdb& db_;
    std::string_view tenant_;
    const QueryOptions& opts_;
    std::chrono::steady_clock::time_point deadline_;
    uint32_t checks_ = 0;
    uint64_t loaded_ = 0;
    LabelsPtr empty_labels_ = std::make_shared<const Labels>();
    std::unordered_map<const Expr*, Fetched> fetched_;
    struct DropCache {
        std::unordered_map<LabelsRef, LabelsPtr> memo;  // null: unchanged
        std::vector<std::pair<LabelsRef, LabelsRef>> seq;
    };
    std::unordered_map<const Expr*, DropCache> drop_memo_;
    std::unordered_map<const Expr*, GroupMemo> group_memo_;
    std::unordered_map<const Expr*, std::vector<int32_t>> group_slots_;
    std::unordered_map<const Expr*, LabelsPtr> absent_memo_;
    std::unordered_map<const Expr*, std::unordered_map<std::string, LabelsPtr>> intern_;
};

}  // namespace

Result<QueryResult> Engine::Instant(std::string_view tenant, std::string_view query, int64_t t_ms)
    const {
    auto e = Parse(query);
    if (!e) {
        return Fail(e.error());
    }
    return Instant(tenant, **e, t_ms);
}

Result<QueryResult> Engine::Range(
    std::string_view tenant,
    std::string_view query,
    int64_t start_ms,
    int64_t end_ms,
    int64_t step_ms
) const {
    auto e = Parse(query);
    if (!e) {
        return Fail(e.error());
    }
    return Range(tenant, **e, start_ms, end_ms, step_ms);
}

Result<QueryResult> Engine::Instant(std::string_view tenant, const Expr& e, int64_t t_ms) const {
    Evaluator ev(db_, tenant, opts_);
    if (auto p = ev.Prefetch(e, t_ms, t_ms); !p) {
        return Fail(p.error());
    }
    auto v = ev.Eval(e, t_ms);
    if (!v) {
        return Fail(v.error());
    }
    QueryResult out;
    out.type = v->type;
    switch (v->type) {
        case ValueType::kScalar:
            out.scalar = {t_ms, v->scalar};
            break;
        case ValueType::kString:
            out.str = v->str;
            out.scalar.t = t_ms;
            break;
        case ValueType::kVector:
            for (const auto& x : v->vec) {
                out.series.push_back({*x.labels, {{t_ms, x.v}}});
            }
            break;
        case ValueType::kMatrix:
            for (const auto& r : v->mat) {
                out.series.push_back({*r.labels, {r.samples.begin(), r.samples.end()}});
            }
            break;
    }
    return out;
}

Result<QueryResult> Engine::Range(
    std::string_view tenant,
    const Expr& e,
    int64_t start_ms,
    int64_t end_ms,
    int64_t step_ms
) const {
    if (step_ms <= 0) {
        return Fail(
            ErrorCode::kInvalidArgument,
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
        );
    }
    if (end_ms < start_ms) {
        return Fail(ErrorCode::kInvalidArgument, "end timestamp must not be before start time");
    }
    if ((end_ms - start_ms) / step_ms + 1 > static_cast<int64_t>(opts_.max_points)) {
        return Fail(
            ErrorCode::kInvalidArgument,
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
            "resolution (?step=XX)"
        );
    }
    if (e.type != ValueType::kScalar && e.type != ValueType::kVector) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format(
                "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                ValueTypeName(e.type)
            )
        );
    }
    Evaluator ev(db_, tenant, opts_);
    if (auto p = ev.Prefetch(e, start_ms, end_ms); !p) {
        return Fail(p.error());
    }
    QueryResult out;
    out.type = ValueType::kMatrix;
    std::unordered_map<const Labels*, size_t> by_ptr;
    std::unordered_map<std::string, size_t> by_sig;
    for (int64_t t = start_ms; t <= end_ms; t += step_ms) {
        auto v = ev.Eval(e, t);
        if (!v) {
            return Fail(v.error());
        }
        if (v->type == ValueType::kScalar) {
            if (out.series.empty()) {
                out.series.push_back({{}, {}});
            }
            out.series[0].samples.push_back({t, v->scalar});
            continue;
        }
        for (const auto& x : v->vec) {
            auto it = by_ptr.find(x.labels);
            size_t idx = 0;
            if (it != by_ptr.end()) {
                idx = it->second;
            } else {
                std::string sig = Signature(*x.labels);
                auto [si, fresh] = by_sig.try_emplace(sig, out.series.size());
                if (fresh) {
                    out.series.push_back({*x.labels, {}});
                }
                idx = si->second;
                by_ptr.emplace(x.labels, idx);  // the evaluator owns every label set it hands out
            }
            auto& s = out.series[idx].samples;
            if (!s.empty() && s.back().t == t) {
                return Fail(
                    ErrorCode::kUnprocessable,
                    "vector cannot contain metrics with the same labelset"
                );
            }
            s.push_back({t, x.v});
        }
    }
    std::sort(out.series.begin(), out.series.end(), [](const SeriesData& a, const SeriesData& b) {
        return Signature(a.labels) < Signature(b.labels);
    });
    return out;
}

}  // namespace hangar::metrics::promql
