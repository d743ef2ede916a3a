// The Prometheus-compatible metrics API: remote-write in, and the query, series and label
// endpoints Grafana's Prometheus data source calls. Answers use Prometheus's envelope
// ({"status":"success","data":...} / {"status":"error","errorType":...,"error":...}).
// A tenant token reads and writes its own tenant; a platform admin picks one with the
// X-Scope-OrgID header (the Cortex/Mimir convention) or, without it, sees Hangar's own series.

#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/api/routes.hpp"
#include "hangar/metrics/promql_engine.hpp"
#include "hangar/metrics/remote_write.hpp"

namespace hangar::api {

using core::ErrorCode;
using core::Fail;
namespace promql = metrics::promql;

namespace {

void AppendJsonString(std::string& out, std::string_view s) {
    out += json::serialize(json::string_view(s.data(), s.size()));
}

// Go's strconv.FormatFloat(v, 'f', -1, 64), as Prometheus writes sample values.
void AppendValue(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "\"NaN\"";
        return;
    }
    if (std::isinf(v)) {
        out += v > 0 ? "\"+Inf\"" : "\"-Inf\"";
        return;
    }
    char buf[400];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    out += '"';
    out.append(buf, end);
    out += '"';
}

// Milliseconds as the seconds Prometheus writes: 1435781451.781.
void AppendTime(std::string& out, int64_t ms) {
    if (ms < 0) {
        out += '-';
        ms = -ms;
    }
    out += std::to_string(ms / 1000);
    if (int64_t frac = ms % 1000; frac != 0) {
        std::string f = fmt::format("{:03d}", frac);
        while (f.back() == '0') {
            f.pop_back();
        }
        out += '.';
        out += f;
    }
}

void AppendLabels(std::string& out, const metrics::Labels& l) {
    out += '{';
    for (size_t i = 0; i < l.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        AppendJsonString(out, l[i].name);
        out += ':';
        AppendJsonString(out, l[i].value);
    }
    out += '}';
}

void AppendPoint(std::string& out, const metrics::Sample& s) {
    out += '[';
    AppendTime(out, s.t);
    out += ',';
    AppendValue(out, s.v);
    out += ']';
}

http::Response PromSuccess(const std::string& data) {
    return RawJsonResponse(200, R"({"status":"success","data":)" + data + "}");
}

http::Response PromError(const core::Error& e) {
    std::string type = "bad_data";
    int status = 400;
    switch (e.code) {
        case ErrorCode::kInvalidArgument:
            break;
        case ErrorCode::kUnprocessable:
            type = "execution";
            status = 422;
            break;
        case ErrorCode::kTooManyRequests:
            type = "execution";
            status = 429;
            break;
        case ErrorCode::kUnauthenticated:
        case ErrorCode::kForbidden:
            return ErrorResponse(e);
        case ErrorCode::kInternal:
            type = "internal";
            status = 500;
            break;
        case ErrorCode::kUnavailable:
            type = "unavailable";
            status = 503;
            break;
        // The query's own cost, not the server's state: 422, so that no query a client sends
        // is answered 5xx (Prometheus says 503 here).
        case ErrorCode::kRequestTimeout:
            type = "timeout";
            status = 422;
            break;
        // Everything else is the client's to fix (a wrong Content-Type, say): Prometheus
        // answers those 400 bad_data.
        default:
            break;
    }
    std::string body = R"({"status":"error","errorType":")" + type + R"(","error":)";
    AppendJsonString(body, e.message);
    body += '}';
    return RawJsonResponse(status, body);
}

// Query parameters, and the form body of a POST (Grafana posts queries).
struct Params {
    std::vector<std::pair<std::string, std::string>> all;
    std::optional<std::string> Get(std::string_view name) const {
        for (const auto& [k, v] : all) {
            if (k == name) {
                return v;
            }
        }
        return std::nullopt;
    }
    std::vector<std::string> GetAll(std::string_view name) const {
        std::vector<std::string> out;
        for (const auto& [k, v] : all) {
            if (k == name) {
                out.push_back(v);
            }
        }
        return out;
    }
};

// application/x-www-form-urlencoded: '+' is a space, %XX a byte.
std::optional<std::string> FormDecode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%') {
            int v = 0;
            if (i + 2 >= s.size()) {
                return std::nullopt;
            }
            auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
            if (ec != std::errc() || p != s.data() + i + 3) {
                return std::nullopt;
            }
            out += static_cast<char>(v);
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

Result<Params> ReadParams(const http::Request& req) {
    Params p;
    p.all = req.query;
    if (req.method == "POST") {
        std::string_view ct = req.Header("content-type");
        if (!ct.starts_with("application/x-www-form-urlencoded")) {
            return Fail(
                ErrorCode::kUnsupportedMediaType,
                "POST the parameters as application/x-www-form-urlencoded"
            );
        }
        std::string_view body = req.body;
        while (!body.empty()) {
            size_t amp = body.find('&');
            std::string_view pair = body.substr(0, amp);
            body.remove_prefix(amp == std::string_view::npos ? body.size() : amp + 1);
            if (pair.empty()) {
                continue;
            }
            size_t eq = pair.find('=');
            auto key = FormDecode(pair.substr(0, eq));
            auto value = FormDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
            if (!key || !value) {
                return Fail(
                    ErrorCode::kInvalidArgument,
                    "the form body is not valid application/x-www-form-urlencoded"
                );
            }
            p.all.emplace_back(std::move(*key), std::move(*value));
        }
    }
    return p;
}

// RFC 3339 or Unix seconds with a fraction, as Prometheus accepts.
Result<int64_t> ParseTime(std::string_view name, const std::string& s) {
    double secs = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), secs);
    if (ec == std::errc() && p == s.data() + s.size() && std::isfinite(secs)) {
        return static_cast<int64_t>(std::llround(secs * 1000));
    }
    if (auto t = core::ParseRfc3339(s)) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
    }
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format(R"(invalid parameter "{}": cannot parse "{}" to a valid timestamp)", name, s)
    );
}

Result<int64_t> ParseStep(const std::string& s) {
    double secs = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), secs);
    if (ec == std::errc() && p == s.data() + s.size() && std::isfinite(secs)) {
        return static_cast<int64_t>(std::llround(secs * 1000));
    }
    if (auto d = promql::ParseDuration(s)) {
        return *d;
    }
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format(R"(invalid parameter "step": cannot parse "{}" to a valid duration)", s)
    );
}

Result<int64_t> OptionalTime(const Params& p, std::string_view name, int64_t fallback) {
    auto v = p.Get(name);
    if (!v || v->empty()) {
        return fallback;
    }
    return ParseTime(name, *v);
}

// The tenant whose series the caller reads or writes.
Result<std::string> MetricsTenant(const Call& c) {
    std::string_view scope = c.req.Header("x-scope-orgid");
    if (c.who.IsAdmin()) {
        return std::string(scope);  // "" is the platform's own series
    }
    if (!scope.empty() && scope != c.who.tenant) {
        return Fail(
            ErrorCode::kForbidden,
            "X-Scope-OrgID names another tenant; a tenant token reaches only its own metrics"
        );
    }
    return c.who.tenant;
}

Result<std::vector<std::vector<metrics::Matcher>>> ParseMatches(const Params& p, bool required) {
    std::vector<std::vector<metrics::Matcher>> out;
    auto all = p.GetAll("match[]");
    if (all.empty() && required) {
        return Fail(ErrorCode::kInvalidArgument, "no match[] parameter provided");
    }
    for (const auto& m : all) {
        auto e = promql::Parse(m);
        if (!e) {
            return Fail(e.error());
        }
        if ((*e)->kind != promql::Expr::Kind::kVectorSelector) {
            return Fail(
                ErrorCode::kInvalidArgument,
                fmt::format("match[] \"{}\" must be a series selector", m)
            );
        }
        out.push_back(std::move((*e)->matchers));
    }
    return out;
}

// match[] (none: every series, unless `required`), start and end of a metadata endpoint.
struct SeriesQuery {
    std::vector<std::vector<metrics::Matcher>> matches;
    int64_t start = 0, end = 0;
};

Result<SeriesQuery> ReadSeriesQuery(const Params& p, bool required);

std::string MatrixJson(const std::vector<metrics::SeriesData>& series) {
    std::string out = R"({"resultType":"matrix","result":[)";
    for (size_t i = 0; i < series.size(); ++i) {
        out += i ? ",{\"metric\":" : "{\"metric\":";
        AppendLabels(out, series[i].labels);
        out += ",\"values\":[";
        for (size_t k = 0; k < series[i].samples.size(); ++k) {
            if (k > 0) {
                out += ',';
            }
            AppendPoint(out, series[i].samples[k]);
        }
        out += "]}";
    }
    return out + "]}";
}

std::string ResultJson(const promql::QueryResult& r) {
    switch (r.type) {
        case promql::ValueType::kScalar: {
            std::string out = R"({"resultType":"scalar","result":)";
            AppendPoint(out, r.scalar);
            return out + "}";
        }
        case promql::ValueType::kString: {
            std::string out = R"({"resultType":"string","result":[)";
            AppendTime(out, r.scalar.t);
            out += ',';
            AppendJsonString(out, r.str);
            return out + "]}";
        }
        case promql::ValueType::kVector: {
            std::string out = R"({"resultType":"vector","result":[)";
            for (size_t i = 0; i < r.series.size(); ++i) {
                out += i ? ",{\"metric\":" : "{\"metric\":";
                AppendLabels(out, r.series[i].labels);
                out += ",\"value\":";
                AppendPoint(out, r.series[i].samples.front());
                out += '}';
            }
            return out + "]}";
        }
        case promql::ValueType::kMatrix:
            return MatrixJson(r.series);
    }
    return "null";
}

constexpr int64_t kMinTimeMs = -9'223'372'036'854'775;  // Prometheus's min/max API times, in ms
constexpr int64_t kMaxTimeMs = 9'223'372'036'854'775;

Result<SeriesQuery> ReadSeriesQuery(const Params& p, bool required) {
    auto m = ParseMatches(p, required);
    if (!m) {
        return Fail(m.error());
    }
    auto start = OptionalTime(p, "start", kMinTimeMs);
    if (!start) {
        return Fail(start.error());
    }
    auto end = OptionalTime(p, "end", kMaxTimeMs);
    if (!end) {
        return Fail(end.error());
    }
    if (m->empty()) {
        m->emplace_back();  // no matcher: every series
    }
    return SeriesQuery{std::move(*m), *start, *end};
}

std::string StringList(const std::vector<std::string>& v) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        AppendJsonString(out, v[i]);
    }
    return out + "]";
}

using PromHandler =
    std::function<Result<std::string>(Call&, const Params&, const std::string& tenant)>;

// Wraps a read endpoint: parameters, tenant, Prometheus's envelope for answers and errors.
http::Handler PromRead(Deps& deps, PromHandler h) {
    return Wrap(deps, "", [h = std::move(h)](Call& c) -> Result<http::Response> {
        auto p = ReadParams(c.req);
        if (!p) {
            return PromError(p.error());
        }
        auto tenant = MetricsTenant(c);
        if (!tenant) {
            return Fail(tenant.error());
        }
        auto data = h(c, *p, *tenant);
        if (!data) {
            return PromError(data.error());
        }
        return PromSuccess(*data);
    });
}

int64_t NowMs(const Deps& deps) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deps.clock.Now().time_since_epoch()
    )
        .count();
}

}  // namespace

void AddMetricsRoutes(
    http::Router& router,
    Deps& deps,
    metrics::Tsdb& tsdb,
    std::chrono::milliseconds query_timeout
) {
    router.Add("POST", "/api/v1/write", Wrap(deps, "", [&tsdb](Call& c) -> Result<http::Response> {
                   if (auto r = RequireRole(c.who, auth::Role::kOperator, "write metrics"); !r) {
                       return Fail(r.error());
                   }
                   auto tenant = MetricsTenant(c);
                   if (!tenant) {
                       return Fail(tenant.error());
                   }
                   std::string_view enc = c.req.Header("content-encoding");
                   if (!enc.empty() && enc != "snappy") {
                       return Fail(
                           ErrorCode::kUnsupportedMediaType,
                           fmt::format("Content-Encoding must be snappy, not \"{}\"", enc)
                       );
                   }
                   std::string_view ct = c.req.Header("content-type");
                   if (!ct.empty() && !ct.starts_with("application/x-protobuf")) {
                       return Fail(
                           ErrorCode::kUnsupportedMediaType,
                           fmt::format(
                               "Content-Type must be application/x-protobuf, not \"{}\"", ct
                           )
                       );
                   }
                   thread_local std::string raw;
                   thread_local metrics::WriteBatch batch;
                   if (auto d = metrics::DecodeWriteRequest(c.req.body, raw, batch); !d) {
                       return Fail(d.error());
                   }
                   auto r = tsdb.Append(*tenant, batch);
                   if (!r) {
                       return Fail(r.error());
                   }
                   if (r->Refused() > 0) {
                       // As Prometheus's receiver: the rest is stored, the sender is told (400: do
                       // not retry).
                       return Fail(
                           ErrorCode::kInvalidArgument,
                           fmt::format(
                               "stored {} samples, refused {}: {}",
                               r->samples,
                               r->Refused(),
                               r->first_error
                           )
                       );
                   }
                   return http::Response{204, "text/plain", {}, "", {}};
               }));

    auto query = PromRead(
        deps,
        [&deps,
         &tsdb,
         query_timeout](Call&, const Params& p, const std::string& tenant) -> Result<std::string> {
            auto q = p.Get("query");
            if (!q) {
                return Fail(ErrorCode::kInvalidArgument, "invalid parameter \"query\": missing");
            }
            auto t = OptionalTime(p, "time", NowMs(deps));
            if (!t) {
                return Fail(t.error());
            }
            promql::Engine engine(tsdb, promql::QueryOptions{.timeout = query_timeout});
            auto r = engine.Instant(tenant, *q, *t);
            if (!r) {
                return Fail(r.error());
            }
            return ResultJson(*r);
        }
    );
    router.Add("GET", "/api/v1/query", query);
    router.Add("POST", "/api/v1/query", query);

    auto range = PromRead(
        deps,
        [&tsdb,
         query_timeout](Call&, const Params& p, const std::string& tenant) -> Result<std::string> {
            auto q = p.Get("query");
            if (!q) {
                return Fail(ErrorCode::kInvalidArgument, "invalid parameter \"query\": missing");
            }
            for (const char* name : {"start", "end", "step"}) {
                if (!p.Get(name)) {
                    return Fail(
                        ErrorCode::kInvalidArgument,
                        fmt::format("invalid parameter \"{}\": missing", name)
                    );
                }
            }
            auto start = ParseTime("start", *p.Get("start"));
            if (!start) {
                return Fail(start.error());
            }
            auto end = ParseTime("end", *p.Get("end"));
            if (!end) {
                return Fail(end.error());
            }
            auto step = ParseStep(*p.Get("step"));
            if (!step) {
                return Fail(step.error());
            }
            promql::Engine engine(tsdb, promql::QueryOptions{.timeout = query_timeout});
            auto r = engine.Range(tenant, *q, *start, *end, *step);
            if (!r) {
                return Fail(r.error());
            }
            return ResultJson(*r);
        }
    );
    router.Add("GET", "/api/v1/query_range", range);
    router.Add("POST", "/api/v1/query_range", range);

    auto series = PromRead(
        deps,
        [&tsdb](Call&, const Params& p, const std::string& tenant) -> Result<std::string> {
            auto q = ReadSeriesQuery(p, true);
            if (!q) {
                return Fail(q.error());
            }
            std::map<std::string, metrics::Labels> found;
            for (const auto& ms : q->matches) {
                for (auto& l : tsdb.SelectSeries(tenant, ms, q->start, q->end)) {
                    found.emplace(metrics::FormatLabels(l), std::move(l));
                }
            }
            std::string out = "[";
            bool first = true;
            for (const auto& [k, l] : found) {
                out += first ? "" : ",";
                first = false;
                AppendLabels(out, l);
            }
            return out + "]";
        }
    );
    router.Add("GET", "/api/v1/series", series);
    router.Add("POST", "/api/v1/series", series);

    auto labels = PromRead(
        deps,
        [&tsdb](Call&, const Params& p, const std::string& tenant) -> Result<std::string> {
            auto q = ReadSeriesQuery(p, false);
            if (!q) {
                return Fail(q.error());
            }
            std::set<std::string> names;
            for (const auto& ms : q->matches) {
                for (auto& n : tsdb.LabelNames(tenant, ms, q->start, q->end)) {
                    names.insert(std::move(n));
                }
            }
            return StringList({names.begin(), names.end()});
        }
    );
    router.Add("GET", "/api/v1/labels", labels);
    router.Add("POST", "/api/v1/labels", labels);

    router.Add(
        "GET",
        "/api/v1/label/{name}/values",
        PromRead(
            deps,
            [&tsdb](Call& c, const Params& p, const std::string& tenant) -> Result<std::string> {
                std::string name(c.req.Param("name"));
                if (!metrics::ValidLabelName(name) && name != metrics::kMetricName) {
                    return Fail(
                        ErrorCode::kInvalidArgument, fmt::format("invalid label name: \"{}\"", name)
                    );
                }
                auto q = ReadSeriesQuery(p, false);
                if (!q) {
                    return Fail(q.error());
                }
                std::set<std::string> values;
                for (const auto& ms : q->matches) {
                    for (auto& v : tsdb.LabelValues(tenant, name, ms, q->start, q->end)) {
                        values.insert(std::move(v));
                    }
                }
                return StringList({values.begin(), values.end()});
            }
        )
    );
}

}  // namespace hangar::api
