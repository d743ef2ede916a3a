#pragma once
// Prometheus HTTP API answers reduced to {labels → [(time, value)]} and compared, so tests and
// bench/metrics can check Hangar's answers against a real Prometheus's.

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <boost/json.hpp>

namespace hangar::testing {

namespace json = boost::json;

// {labels → [(time, value)]} from a Prometheus API answer, whatever its result type.
using Answer = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;

inline Answer Normalize(const json::value& doc) {
    Answer out;
    const auto& data = doc.at("data").as_object();
    std::string type(data.at("resultType").as_string());
    auto point = [](const json::value& p) {
        return std::make_pair(
            json::serialize(p.as_array()[0]), std::string(p.as_array()[1].as_string())
        );
    };
    if (type == "scalar") {
        out["scalar"].push_back(point(data.at("result")));
        return out;
    }
    for (const auto& s : data.at("result").as_array()) {
        std::string key = json::serialize(s.at("metric"));
        auto& points = out[key];
        if (s.as_object().contains("value")) {
            points.push_back(point(s.at("value")));
        } else {
            for (const auto& p : s.at("values").as_array()) {
                points.push_back(point(p));
            }
        }
    }
    return out;
}

inline bool Close(const std::string& a, const std::string& b) {
    if (a == b) {
        return true;
    }
    double x = std::stod(a), y = std::stod(b);
    if (std::isnan(x) || std::isnan(y) || std::isinf(x) || std::isinf(y)) {
        return false;
    }
    return std::abs(x - y) <= 1e-9 * std::max(std::abs(x), std::abs(y)) + 1e-12;
}

// "" when they agree; otherwise what differs.
inline std::string Diff(const Answer& hangar, const Answer& prom) {
    for (const auto& [k, pts] : prom) {
        auto it = hangar.find(k);
        if (it == hangar.end()) {
            return "Hangar lacks series " + k;
        }
        if (it->second.size() != pts.size()) {
            return fmt::format(
                "{}: Hangar has {} points, Prometheus {}", k, it->second.size(), pts.size()
            );
        }
        for (size_t i = 0; i < pts.size(); ++i) {
            if (it->second[i].first != pts[i].first ||
                !Close(it->second[i].second, pts[i].second)) {
                return fmt::format(
                    "{} point {}: Hangar [{}, {}], Prometheus [{}, {}]",
                    k,
                    i,
                    it->second[i].first,
                    it->second[i].second,
                    pts[i].first,
                    pts[i].second
                );
            }
        }
    }
    for (const auto& [k, pts] : hangar) {
        if (!prom.contains(k)) {
            return "Prometheus lacks series " + k;
        }
    }
    return "";
}

}  // namespace hangar::testing
