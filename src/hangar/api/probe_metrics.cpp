#include "hangar/api/probe_metrics.hpp"

#include <algorithm>
#include <deque>

#include "hangar/core/log.hpp"
#include "hangar/metrics/exposition.hpp"

namespace hangar::api {

namespace {

constexpr std::string_view kTargetLabels[] =
    {"instance", "instance_name", "job", "product", "tenant"};

}  // namespace

std::function<void(const fleet::ProbeReport&)> ProbeMetricsSink(metrics::Tsdb& db) {
    return [&db](const fleet::ProbeReport& r) {
        metrics::WriteBatch batch;
        std::vector<metrics::LabelView> target = {
            {"instance", r.instance},
            {"instance_name", r.name},
            {"job", "hangar-probe"},
            {"product", r.product},
            {"tenant", r.tenant},
        };
        std::vector<metrics::LabelView> labels;
        std::vector<metrics::Sample> one(1);
        auto add = [&](std::string_view name, double v) {
            labels.assign({{"__name__", name}});
            labels.insert(labels.end(), target.begin(), target.end());
            one[0] = {r.time_ms, v};
            batch.Add(labels, one);
        };
        add("up", r.result.healthy ? 1 : 0);
        add("probe_duration_seconds", r.result.seconds);
        if (r.result.process) {
            add("instance_memory_rss_bytes", r.result.rss_bytes);
            add("instance_cpu_seconds_total", r.result.cpu_seconds);
            add("instance_open_fds", r.result.open_fds);
            if (r.memory_limit_bytes > 0) {
                add("instance_memory_limit_bytes", static_cast<double>(r.memory_limit_bytes));
            }
        }
        add("instance_restarts_total", static_cast<double>(r.restarts));
        add("instance_oom_kills_total", static_cast<double>(r.oom_kills));
        // The instance's own metrics, with the target's labels; clashing ones are kept as
        // exported_*.
        std::deque<std::string>
            renamed;  // owns exported_* names while the batch points at them (stable addresses)
        metrics::Exposition scraped;
        if (!r.result.metrics.empty()) {
            auto parsed = metrics::ParseExposition(r.result.metrics);
            if (!parsed) {
                core::LogWarn(
                    "instance metrics do not parse",
                    {{"instance", std::string_view(r.instance)}, {"error", parsed.error().message}}
                );
            } else {
                scraped = std::move(*parsed);
            }
        }
        for (const auto& s : scraped.samples) {
            labels.clear();
            for (const auto& l : s.labels) {
                bool clash =
                    std::find(std::begin(kTargetLabels), std::end(kTargetLabels), l.name) !=
                    std::end(kTargetLabels);
                if (clash) {
                    renamed.push_back("exported_" + l.name);
                    labels.push_back({renamed.back(), l.value});
                } else {
                    labels.push_back({l.name, l.value});
                }
            }
            labels.insert(labels.end(), target.begin(), target.end());
            one[0] = {s.timestamp_ms.value_or(r.time_ms), s.value};
            batch.Add(labels, one);
        }
        auto res = db.Append(r.tenant, batch);
        if (!res) {
            core::LogWarn(
                "storing probe results failed",
                {{"instance", std::string_view(r.instance)}, {"error", res.error().message}}
            );
        } else if (res->Refused() > 0) {
            core::LogWarn(
                "some instance samples were refused",
                {{"instance", std::string_view(r.instance)},
                 {"error", std::string_view(res->first_error)}}
            );
        }
    };
}

}  // namespace hangar::api
